"""What a deployment view shows, as text (Qt-free): a stage's row, a log entry's row, the default staging.

>>> from app.deploy.log import DeployEntry
>>> entry_row(DeployEntry(0.0, "d", 1, "write", "engineer", "Machines/CNC-02/CycleTimeSetpoint", 255.0, 200.0, "Good", "x"))[2:]
['write', 'Machines/CNC-02/CycleTimeSetpoint', '255', '200', 'Good', 'engineer', 'x']
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from itertools import pairwise

from app.deploy.log import DeployEntry
from app.deploy.plan import PlanError, SetpointChange, StageSpec, plan_deployment
from app.deploy.service import StageReport, StageState
from app.sim.numbers import format_number
from app.sim.scenario import Scenario

#: The columns of the stage table and of the log.
STAGE_COLUMNS = ["Stage", "Changes", "State", "Detail"]
LOG_COLUMNS = ["Time", "Stage", "What", "Node", "Old", "New", "Status", "By", "Note"]


def stage_row(report: StageReport, ended: bool = False) -> list[str]:
    """A stage's row: number and window, changes, state, detail (``ended``: the deployment is over, so a stage
    still pending was never started and says so)."""
    stage = report.stage
    never = ended and report.state is StageState.PENDING
    return [
        f"{stage.number} ({format_number(stage.window_s / 60)} min)",
        ", ".join(c.label for c in stage.changes),
        "not started" if never else state_text(report),
        "the deployment ended before this stage: nothing of it was written" if never else report.text,
    ]


def state_text(report: StageReport) -> str:
    """A stage's state in a few words; a stage that passed without testing a count says which (a bound of 0
    parts cannot fail: "passed — not tested: CNC-02 throughput").

    >>> from app.deploy.plan import Stage
    >>> state_text(StageReport(Stage(1, (), 1800.0), StageState.PASSED, untested=("CNC-02 throughput",)))
    'passed — not tested: CNC-02 throughput'
    """
    if report.state is StageState.PASSED and (report.untested or report.unseen):
        return f"passed — not tested: {', '.join((*report.untested, *report.unseen))}"
    return report.state.value


def entry_row(e: DeployEntry) -> list[str]:
    def num(x: float | None) -> str:
        return "" if x is None else format_number(x)

    return [
        time.strftime("%H:%M:%S", time.localtime(e.t)),
        "" if e.stage is None else str(e.stage),
        e.kind,
        e.node or "",
        num(e.old),
        num(e.new),
        e.status or "",
        e.user or "",
        e.text,
    ]


def first_stage_targets(scenario: Scenario) -> str:
    """The default first stage: the first change's machine or part (the rest follow in the second)."""
    from app.deploy.plan import setpoint_change

    for change in scenario.changes:
        w: SetpointChange | None = setpoint_change(change)
        if w is not None:
            return w.target
    return ""


def parse_targets(text: str) -> tuple[str, ...] | None:
    """``CNC-01, CNC-02`` → the names; empty → None (all in one stage)."""
    names = tuple(t.strip() for t in text.replace(";", ",").split(",") if t.strip())
    return names or None


def awaiting(reports: list[StageReport]) -> int | None:
    """The stage (index) that waits for the user's confirmation, if any."""
    return next((k for k, r in enumerate(reports) if r.state is StageState.AWAITING_CONFIRMATION), None)


#: What a scenario without a change the plant has a setpoint for is told, at once.
NOTHING_TO_WRITE = "This scenario changes nothing that can be written to the plant: cycle times and release rates can."


def deploy_blocker(scenario: Scenario) -> str:
    """Why ``scenario`` cannot be deployed however it is staged ("" when it can): nothing the plant has a
    setpoint for (``NOTHING_TO_WRITE``), or the changes it has no setpoint for.

    >>> from app.model.io import load_factory
    >>> from app.paths import DEMO_FACTORY
    >>> deploy_blocker(Scenario(name="s", factory=load_factory(DEMO_FACTORY), changes=[])) == NOTHING_TO_WRITE
    True
    """
    from app.deploy.plan import setpoint_change

    if not any(setpoint_change(c) is not None for c in scenario.changes):
        return NOTHING_TO_WRITE
    try:
        plan_deployment(scenario, [StageSpec(None, 60.0)])
    except PlanError as e:
        return f"Cannot deploy: {e}"
    return ""


def plant_logins(args: Sequence[str]) -> list[tuple[str, str]]:
    """The logins a plant simulator's command line grants (``--user NAME:PASSWORD[:ROLE]``; ``read`` without a
    role), as (name, role) — never the password.

    >>> plant_logins(["--seed", "7", "--user", "operator:operator:read", "--user", "engineer:engineer:write"])
    [('operator', 'read'), ('engineer', 'write')]
    """
    out = []
    for flag, value in pairwise(args):
        if flag == "--user":
            name, _password, *role = value.split(":", 2)
            out.append((name, role[0] if role else "read"))
    return out


def login_hint(logins: Sequence[tuple[str, str]], login: str = "") -> str:
    """What the form says under Login: the plant's own logins when known (writers first) —
    ``plant simulator logins: engineer (may write) / operator (read only)`` — else, with no login given, that
    writing needs one ("" once a login is given on an unknown plant).

    >>> login_hint([("operator", "read"), ("engineer", "write")])
    'plant simulator logins: engineer (may write) / operator (read only)'
    >>> login_hint([], "")
    'Writing setpoints needs a login the plant lets write: an anonymous session cannot.'
    """
    if logins:
        ordered = sorted(logins, key=lambda nr: nr[1] != "write")
        names = " / ".join(f"{n} ({'may write' if r == 'write' else 'read only'})" for n, r in ordered)
        return f"plant simulator logins: {names}"
    return "" if login.strip() else "Writing setpoints needs a login the plant lets write: an anonymous session cannot."
