"""What a view of a layout result shows, worked out without Qt: the Pareto points to plot and the words
beside the chosen candidate.

Examples
--------
>>> from app.optimise.layout_result import Candidate, LayoutResult, MachinePose, Objectives
>>> c = Candidate(id=0, objectives=Objectives(effort=80.0, moved=1, moved_m=4.0, area_m2=50.0),
...               poses=[MachinePose(machine="A", x_m=1.0, y_m=2.0)], feasible=True, pareto=True)
>>> r = LayoutResult(factory="demo", movable=["A"], baseline=Objectives(effort=100.0, area_m2=50.0), candidates=[c])
>>> front_points(r)[0].id, front_points(r)[0].effort
(0, 80.0)
>>> print(verdict_text(c))
not validated
"""

from __future__ import annotations

from dataclasses import dataclass

from app.model.factory import Factory
from app.optimise.layout_result import Candidate, LayoutResult
from app.sim.numbers import format_number
from app.sim.scenario import Change, MoveMachine, Scenario

__all__ = ["FrontPoint", "candidate_text", "front_points", "progress_text", "scenario_of", "verdict_text"]


@dataclass(frozen=True)
class FrontPoint:
    """One point of the scatter: transport effort against rearrangement (metres moved), sized by area."""

    id: int
    effort: float
    moved_m: float
    area_m2: float
    recommended: bool


def front_points(result: LayoutResult) -> list[FrontPoint]:
    """The feasible candidates on the Pareto front (all feasible ones when none is marked), by effort."""
    feasible = [c for c in result.candidates if c.feasible]
    chosen = [c for c in feasible if c.pareto] or feasible
    return sorted(
        (
            FrontPoint(c.id, c.objectives.effort, c.objectives.moved_m, c.objectives.area_m2, c.id == result.recommended)
            for c in chosen
        ),
        key=lambda p: p.effort,
    )


def verdict_text(candidate: Candidate) -> str:
    """The simulation's verdict in words ("lead time −0.8% ± 0.1%, significant"), or "not validated"."""
    v = candidate.validation
    if v is None:
        return "not validated"
    lines = [k.text for k in v.kpis] + list(v.notes)
    head = f"{v.replications} paired replications × {format_number(v.horizon_s / 3600)} h"
    return "\n".join([head, *lines]) if lines else head


def _change(value: float, base: float) -> str:
    if base <= 0:
        return ""
    return f" ({(value - base) / base * 100:+.1f}%)".replace("-", "−")


def candidate_text(result: LayoutResult, candidate_id: int) -> str:
    """The chosen candidate's figures against the current layout, the machines it moves and its verdict."""
    c = result.candidate(candidate_id)
    o, b = c.objectives, result.baseline
    lines = [
        f"Candidate {c.id}" + (" (recommended)" if c.id == result.recommended else ""),
        f"Transport effort: {format_number(o.effort)} part·m/h{_change(o.effort, b.effort)}",
        f"   now {format_number(b.effort)} part·m/h",
        f"Moves {o.moved} machine{'s' * (o.moved != 1)}, {format_number(o.moved_m)} m in total",
        f"Floor area used: {format_number(o.area_m2)} m²{_change(o.area_m2, b.area_m2)}",
        "Moved: " + ", ".join(p.machine for p in c.poses),
    ]
    if not c.feasible:
        lines += ["Breaks the layout rules:", *(p.text for p in c.problems)]
    lines += ["", "Simulation against the current layout:", verdict_text(c)]
    return "\n".join(lines)


def summary_text(result: LayoutResult) -> str:
    """One line under the plot: how the search ended and what it found."""
    n = len(front_points(result))
    ends = {"time": "time limit reached", "converged": "converged", "cancelled": "cancelled"}
    end = ends.get(result.stopped_by, result.stopped_by)
    text = f"{n} layout{'s' * (n != 1)} on the Pareto front — {format_number(result.evaluations)} evaluated, {end}"
    return "\n".join([text, *result.notes])


def scenario_of(result: LayoutResult, candidate_id: int, factory: Factory, base_path: str | None = None) -> Scenario:
    """Candidate ``candidate_id`` as a what-if scenario of ``factory``: one "move" change per moved machine
    (machines the factory does not have are left out)."""
    ids = {m.id for m in factory.machines}
    changes: list[Change] = [
        MoveMachine(machine=p.machine, x_m=p.x_m, y_m=p.y_m, yaw_deg=p.yaw_deg)
        for p in result.candidate(candidate_id).poses
        if p.machine in ids
    ]
    effort = format_number(result.candidate(candidate_id).objectives.effort)
    return Scenario(
        name=f"Optimised layout {candidate_id}",
        description=f"Layout optimiser candidate {candidate_id}: transport effort {effort} part·m/h "
        f"(now {format_number(result.baseline.effort)})",
        factory=factory,
        base_path=base_path,
        changes=changes,
    )


#: The search's phases in words (`app.optimise.layout`: slot assignment, local descent, perturbations).
PHASES = {"slots": "Assigning slots", "descent": "Improving", "kicks": "Trying bigger changes", "done": "Finishing"}


def follows_paths_by_default(factory: Factory) -> bool:
    """Measure legs along the transport paths unless none has waypoints: the simulation carries parts along
    a path's waypoints, so a layout shortened by the shortest way alone can come out slower there.

    >>> from app.model.io import load_factory
    >>> from app.paths import DEMO_FACTORY
    >>> follows_paths_by_default(load_factory(DEMO_FACTORY))
    True
    """
    return any(t.waypoints for t in factory.transports)


def progress_text(phase: str, best_effort: float, feasible: int, evaluations: int) -> str:
    """The progress bar's line: "Improving: best 8,498 part·m/h, 6 feasible layouts, 78,979 tried"."""
    word = PHASES.get(phase, phase.capitalize())
    return (
        f"{word}: best {format_number(best_effort)} part·m/h, {feasible} feasible layout{'s' * (feasible != 1)}, "
        f"{evaluations:,} tried"
    )
