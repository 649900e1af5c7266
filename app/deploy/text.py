"""What a deployment view shows, as text (Qt-free): a stage's row, a log entry's row, the default staging.

>>> from app.deploy.log import DeployEntry
>>> entry_row(DeployEntry(0.0, "d", 1, "write", "engineer", "Machines/CNC-02/CycleTimeSetpoint", 255.0, 200.0, "Good", "x"))[2:]
['write', 'Machines/CNC-02/CycleTimeSetpoint', '255', '200', 'Good', 'engineer', 'x']
"""

from __future__ import annotations

import time

from app.deploy.log import DeployEntry
from app.deploy.plan import SetpointChange
from app.deploy.service import StageReport, StageState
from app.sim.numbers import format_number
from app.sim.scenario import Scenario

#: The columns of the stage table and of the log.
STAGE_COLUMNS = ["Stage", "Changes", "State", "Detail"]
LOG_COLUMNS = ["Time", "Stage", "What", "Node", "Old", "New", "Status", "By", "Note"]


def stage_row(report: StageReport) -> list[str]:
    stage = report.stage
    return [
        f"{stage.number} ({format_number(stage.window_s / 60)} min)",
        ", ".join(c.label for c in stage.changes),
        report.state.value,
        report.text,
    ]


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
