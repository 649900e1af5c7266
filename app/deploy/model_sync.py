"""The twin's model follows what a deployment wrote to the plant (Qt-free).

A stage's changes enter the open document as soon as they are written, so that everything that compares the
plant with the model — the live drift watchdog, the shift forecast, the next what-if scenario — expects the
*changed* plant during the stage and after it: without this, the cycle time just deployed would be reported
as plant drift a few cycles later. A stage rolled back (or stopped after writes) takes its changes out again:
the parameters of those machines and part flows go back to what they were, whatever else was edited since.

The document is edited on the thread that calls ``on_stage`` (a view connects it on the GUI thread).
"""

from __future__ import annotations

import logging

from app.deploy.plan import DeploymentPlan
from app.deploy.service import StageReport, StageState
from app.model.document import FactoryDocument
from app.model.factory import Factory
from app.sim.scenario import Demand, MachineParam, Scenario, ScenarioError, apply

log = logging.getLogger(__name__)

#: States in which a stage's writes are on the plant.
WRITTEN = (StageState.WATCHING, StageState.PASSED)
#: States in which a written stage's writes were taken back.
UNDONE = (StageState.ROLLED_BACK, StageState.STOPPED)


class ModelFollower:
    """Apply a plan's written stages to ``document``, and take a rolled-back stage out again."""

    def __init__(self, document: FactoryDocument, plan: DeploymentPlan):
        self.document, self.plan = document, plan
        self.applied: dict[int, Factory] = {}  # stage index → the factory before its changes entered the model

    def on_stage(self, k: int, report: StageReport) -> None:
        if report.state in WRITTEN and k not in self.applied:
            self._apply(k)
        elif report.state in UNDONE and k in self.applied:
            self._revert(k)

    def _targets(self, k: int) -> tuple[list[str], list[str]]:
        changes = [c.change for c in self.plan.stages[k].changes]
        machines = [c.machine for c in changes if isinstance(c, MachineParam)]
        parts = [c.part for c in changes if isinstance(c, Demand)]
        return machines, parts

    def _apply(self, k: int) -> None:
        before = self.document.factory
        changes = [c.change for c in self.plan.stages[k].changes]
        try:
            after = apply(Scenario(name=f"deployed stage {k + 1}", factory=before, changes=changes))
        except ScenarioError as e:  # the open factory no longer has a machine the plan wrote to
            log.warning("the model cannot follow deployment stage %d: %s", k + 1, e)
            return
        self.applied[k] = before
        machines, _parts = self._targets(k)
        self.document.set_parameters(after, machines)
        log.info("the model now has what stage %d wrote: %s", k + 1, "; ".join(c.label for c in self.plan.stages[k].changes))

    def _revert(self, k: int) -> None:
        """Put back the stage's machines' simulation parameters and its part flows' arrivals as they were."""
        before = self.applied.pop(k)
        machines, parts = self._targets(k)
        now = self.document.factory
        old_sim = {m.id: m.sim for m in before.machines if m.id in machines}
        old_flows = {fl.part: fl.interarrival for fl in before.flows if fl.part in parts}
        machines_now = [m.model_copy(update={"sim": old_sim[m.id]}) if m.id in old_sim else m for m in now.machines]
        flows_now = [
            fl.model_copy(update={"interarrival": old_flows[fl.part]}) if fl.part in old_flows else fl for fl in now.flows
        ]
        reverted = now.model_copy(update={"machines": machines_now, "flows": flows_now})
        self.document.set_parameters(reverted, machines)
        log.info("the model is back to before stage %d (rolled back on the plant)", k + 1)
