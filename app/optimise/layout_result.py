"""The layout optimiser's result: a file a script writes and a view reopens, then applies in one step.

Everything in it is plain data (pydantic, frozen): the candidates with their objectives, the poses of the
machines each one moves, the rule each infeasible one breaks, and the simulation verdicts of the finalists.
``LayoutResult.changes(id)`` is the one list of pose changes a view applies as one undo step.

Examples
--------
>>> r = LayoutResult(factory="demo", movable=["A"], baseline=Objectives(effort=100.0, area_m2=50.0))
>>> r.recommended is None, r.changes(0) if r.candidates else {}
(True, {})
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.model.atomic import atomic_write_text
from app.model.edits import with_poses
from app.model.factory import Factory, Pose

FORMAT: Final = "floortwin-layout-result"


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Objectives(_Data):
    """What a layout costs: transport effort (part·m/h), rearrangement (machines moved, metres moved in
    total) and the floor area its machines span (bounding box, m²). Less is better for each."""

    effort: float
    moved: int = 0
    moved_m: float = 0.0
    area_m2: float


class MachinePose(_Data):
    machine: str
    x_m: float
    y_m: float
    yaw_deg: float = 0.0

    def pose(self) -> Pose:
        return Pose(x_m=self.x_m, y_m=self.y_m, yaw_deg=self.yaw_deg)


class RuleBreak(_Data):
    """A rule a layout breaks: ``rule`` is "collision" (overlap with a machine, wall, keep-out zone or the
    floor edge) or "clearance" (too near a machine, wall or emergency exit, or standing in an aisle)."""

    machine: str
    rule: Literal["collision", "clearance"]
    other: str
    text: str


class KpiVerdict(_Data):
    """One simulated KPI of a candidate against the current layout (same random numbers, paired)."""

    kpi: str
    unit: str
    baseline: str  # e.g. "4,400 ± 500 s"
    candidate: str
    #: candidate − baseline as a % of the baseline's mean, with the half-width of its 95% interval.
    change_pct: float | None
    half_width_pct: float | None
    significant: bool
    #: For a person: "lead time −12% ± 4%, significant" or "not enough data — needs ≥ 2 replications".
    text: str


class Validation(_Data):
    replications: int
    horizon_s: float
    seed: int
    kpis: list[KpiVerdict] = Field(default_factory=list)
    #: Why a figure is missing (too few replications, a failed run), in words.
    notes: list[str] = Field(default_factory=list)


class Candidate(_Data):
    id: int
    objectives: Objectives
    #: The machines this layout moves, where they go (machines not listed stay where they are).
    poses: list[MachinePose]
    feasible: bool
    #: Empty for a feasible candidate; otherwise every rule it breaks (from the collision world's check).
    problems: list[RuleBreak] = Field(default_factory=list)
    #: On the Pareto front of the feasible candidates (no other is at least as good in every objective).
    pareto: bool = False
    validation: Validation | None = None


class LayoutResult(_Data):
    format: Literal["floortwin-layout-result"] = FORMAT
    factory: str
    factory_path: str | None = None
    movable: list[str]
    region: tuple[float, float, float, float] | None = None
    slots: list[tuple[float, float]] = Field(default_factory=list)
    #: Effort measured with legs along their transport paths (as simulated), not the shortest way.
    follow_transports: bool = False
    baseline: Objectives
    candidates: list[Candidate] = Field(default_factory=list)
    #: Id of the candidate recommended (least effort among the feasible ones, validated when asked).
    recommended: int | None = None
    #: "time", "converged" or "cancelled".
    stopped_by: str = "converged"
    seconds: float = 0.0
    evaluations: int = 0
    notes: list[str] = Field(default_factory=list)

    def candidate(self, candidate_id: int) -> Candidate:
        return next(c for c in self.candidates if c.id == candidate_id)

    def changes(self, candidate_id: int) -> dict[str, Pose]:
        """The pose changes that make candidate ``candidate_id`` the layout: applied together, one undo step."""
        return {p.machine: p.pose() for p in self.candidate(candidate_id).poses}

    def applied_to(self, factory: Factory, candidate_id: int) -> Factory:
        """``factory`` with candidate ``candidate_id``'s poses (a new version; the given one is untouched)."""
        return with_poses(factory, self.changes(candidate_id))

    def save(self, path: str | os.PathLike[str]) -> None:
        atomic_write_text(path, self.model_dump_json(indent=1) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LayoutResult:
        """Read a result file; ValueError naming the file when it is not one."""
        try:
            return cls.model_validate_json(Path(path).read_bytes())
        except ValidationError as e:
            raise ValueError(f"{path}: not a layout optimiser result ({e.errors()[0]['msg']})") from None
