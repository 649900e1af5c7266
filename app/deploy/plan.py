"""A deployment plan: a scenario's changes as setpoint writes, in the stages the user sets.

Only what the plant has a setpoint for can be deployed: a machine's cycle time (``MachineParam``
``cycle_mean_s`` → ``Machines/<machine>/CycleTimeSetpoint``) and a part's demand (``Demand`` → the
release rate ``Sources/<part>/ReleaseRate`` in parts/h). Each stage names the machines (or parts) it
changes — a subset first, then the rest (``None``: all not yet changed) — and how long it is watched.

A change is carried to the plant **as a ratio**, not as the model's figure: the model's value is what the
plant *does* (a recalibrated cycle time of 400 s on a worn tool), the setpoint is what the plant is *told*
(still 270 s). "20% faster" in the model (400 → 320 s) writes the setpoint 20% lower (270 → 216 s), so a
recalibrated model never writes a slower setpoint for a faster scenario (``SetpointChange.to_write``).

Examples
--------
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> from app.sim.scenario import MachineParam, Scenario
>>> s = Scenario(name="faster", factory=load_factory(DEMO_FACTORY), changes=[
...     MachineParam(machine="CNC-02", param="cycle_mean_s", value=200.0),
...     MachineParam(machine="CNC-01", param="cycle_mean_s", value=200.0)])
>>> plan = plan_deployment(s, [StageSpec(("CNC-02",), 3600.0), StageSpec(None, 3600.0)])
>>> [[c.label for c in stage.changes] for stage in plan.stages]
[['CNC-02 cycle time −22% (model 255 → 200 s)'], ['CNC-01 cycle time −17% (model 240 → 200 s)']]
>>> plan.stages[0].changes[0].to_write(270.0)  # the plant's setpoint now: it is told 22% less
211.76...
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from app.model.factory import Factory
from app.plant.setpoints import machine_setpoint_id, release_rate_of, source_setpoint_id
from app.sim.change_form import current_values
from app.sim.numbers import format_number
from app.sim.scenario import Change, Demand, MachineParam, Scenario, apply, describe


class PlanError(ValueError):
    """A scenario or a staging that cannot be deployed; the message names every reason."""


@dataclass(frozen=True)
class SetpointChange:
    """One write: ``node`` (a string node id in the plant's namespace) set to ``value``."""

    target: str  # the machine, or the part of a release rate
    node: str
    value: float
    label: str
    change: Change
    machine: bool  # a machine's setpoint (else a part flow's)
    model_old: float = math.nan  # the model's value before the change, in the setpoint's unit (NaN: unknown)

    @property
    def ratio(self) -> float:
        """The change as a factor of the model's value (1 when the model's old value is unknown)."""
        return self.value / self.model_old if math.isfinite(self.model_old) and self.model_old > 0 else math.nan

    def to_write(self, plant_now: float) -> float:
        """The setpoint to write, given the plant's setpoint now: scaled by the model's ratio (the model's
        own figure when its old value is unknown or the plant's setpoint is not a positive number)."""
        if not math.isfinite(self.ratio) or not math.isfinite(plant_now) or plant_now <= 0:
            return self.value
        if math.isclose(plant_now, self.model_old, rel_tol=1e-9):
            return self.value  # the plant is told what the model says: that figure exactly
        return plant_now * self.ratio


@dataclass(frozen=True)
class StageSpec:
    """What the user asks of a stage: the machines or parts it changes (None: all the rest) and how long
    the plant is watched after its writes (simulated seconds: the plant's own clock)."""

    targets: tuple[str, ...] | None
    window_s: float


@dataclass(frozen=True)
class Stage:
    number: int  # 1, 2, …
    changes: tuple[SetpointChange, ...]
    window_s: float


@dataclass(frozen=True)
class DeploymentPlan:
    scenario: Scenario
    stages: tuple[Stage, ...]

    def factory_after(self, k: int) -> Factory:
        """The plant as the twin sees it once stages 0..k are written (index k from 0)."""
        done = [c.change for stage in self.stages[: k + 1] for c in stage.changes]
        return apply(self.scenario.model_copy(update={"changes": done}))

    def factory_before(self, k: int) -> Factory:
        """The plant as it runs before stage k is written."""
        return self.scenario.factory if k == 0 else self.factory_after(k - 1)


def setpoint_change(change: Change, factory: Factory | None = None) -> SetpointChange | None:
    """The write that carries ``change`` to the plant, or None when the plant has no setpoint for it. With
    ``factory`` (the model before the change) the change is a ratio of the model's old value."""
    if isinstance(change, MachineParam) and change.param == "cycle_mean_s":
        old = _model_value(factory, "machine_param", change.machine)
        label = f"{change.machine} cycle time → {format_number(change.value)} s"
        if math.isfinite(old) and old > 0:
            model = f"model {format_number(old)} → {format_number(change.value)} s"
            label = f"{change.machine} cycle time {_ratio_words(old, change.value)} ({model})"
        return SetpointChange(change.machine, machine_setpoint_id(change.machine), float(change.value), label, change, True, old)
    if isinstance(change, Demand):
        rate = release_rate_of(change.interarrival_mean_s)
        interarrival = _model_value(factory, "demand", change.part)
        old = release_rate_of(interarrival) if math.isfinite(interarrival) and interarrival > 0 else math.nan
        label = f"{change.part} release rate → {format_number(rate)}/h"
        if math.isfinite(old) and old > 0:
            label = f"{change.part} release rate {_ratio_words(old, rate)} (model {format_number(old)} → {format_number(rate)}/h)"
        return SetpointChange(change.part, source_setpoint_id(change.part), rate, label, change, False, old)
    return None


def _model_value(factory: Factory | None, kind: str, target: str) -> float:
    if factory is None:
        return math.nan
    try:
        value = current_values(factory, kind, target).value
    except (KeyError, ValueError, StopIteration):
        return math.nan
    return float(value) if value is not None and math.isfinite(float(value)) else math.nan


def _ratio_words(old: float, new: float) -> str:
    """``−20%`` / ``+5%``: the change as a share of the model's old value (two significant digits)."""
    pct = 100.0 * (new / old - 1.0)
    return f"{'+' if pct >= 0 else '−'}{format_number(abs(pct), digits=2)}%"


def plan_deployment(scenario: Scenario, stages: Sequence[StageSpec]) -> DeploymentPlan:
    """The plan for ``scenario`` in ``stages``; ``PlanError`` naming every change that cannot be written,
    every unknown or repeated target, an empty stage and a change left out of all stages."""
    problems = []
    writes: list[SetpointChange] = []
    for k, change in enumerate(scenario.changes):
        w = setpoint_change(change, scenario.factory)
        if w is None:
            problems.append(
                f"changes[{k}] ({describe(change)}): the plant has no setpoint for it (cycle times and demand can be deployed)"
            )
        else:
            writes.append(w)
    if not writes and not problems:
        problems.append("the scenario changes nothing")
    if not stages:
        problems.append("no stages: give at least one (None as its targets: everything)")
    known = {w.target for w in writes}
    left = list(writes)
    out = []
    for n, spec in enumerate(stages, start=1):
        if not spec.window_s > 0:
            problems.append(f"stage {n}: its window must be > 0 s, got {spec.window_s:g}")
        if spec.targets is None:
            chosen = left
        else:
            unknown = [t for t in spec.targets if t not in known]
            if unknown:
                problems.append(f"stage {n}: the scenario changes no {', '.join(unknown)}")
            chosen = [w for w in left if w.target in spec.targets]
        if not chosen:
            problems.append(f"stage {n} writes nothing (its targets were changed by an earlier stage or are not changed)")
        left = [w for w in left if w not in chosen]
        out.append(Stage(n, tuple(chosen), float(spec.window_s)))
    if left and stages:
        problems.append(f"not in any stage: {', '.join(w.label for w in left)} (end with a stage of all the rest)")
    if problems:
        raise PlanError("; ".join(problems))
    return DeploymentPlan(scenario, tuple(out))
