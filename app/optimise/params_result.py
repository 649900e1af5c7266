"""The scenario optimiser's result: a file a script writes and a view reopens, then applies or hands to what-if.

Plain data (pydantic, frozen): the decision variables and budget asked, every candidate simulated (its
values, each KPI as a mean with its 95% interval over the search's replications, its budget use, on the
Pareto front or not), the current settings for reference, and the ranking-and-selection verdict with the
guarantee it states. ``ParamsResult.changes(id)`` is the list of scenario changes that makes a candidate the
factory's settings (``scenario(id)`` wraps them in a what-if scenario); nothing is applied by the optimiser.

Examples
--------
>>> r = ParamsResult(factory="line", variables=[VariableSpec(kind="input_buffer", target="M2", low=0, high=3, step=1)],
...                  objectives=["throughput"], replications=5, horizon_s=3600.0, warmup_s=0.0, seed=1)
>>> r.recommended is None, r.candidates
(True, [])
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.model.atomic import atomic_write_text
from app.model.factory import Factory
from app.optimise.params_problem import Budget, Variable
from app.sim.scenario import Change, Scenario, apply

FORMAT: Final = "floortwin-params-result"


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class VariableSpec(_Data):
    """A decision variable as asked (see `app.optimise.params_problem.Variable`)."""

    kind: Literal["input_buffer", "servers", "release_rate", "transport_speed", "wip_cap"]
    target: str
    low: float
    high: float
    step: float | None = None

    @property
    def key(self) -> str:
        return f"{self.target}:{self.kind}"

    def variable(self) -> Variable:
        return Variable(kind=self.kind, target=self.target, low=self.low, high=self.high, step=self.step)

    @classmethod
    def of(cls, v: Variable) -> VariableSpec:
        return cls(kind=v.kind, target=v.target, low=v.low, high=v.high, step=v.step)


class BudgetSpec(_Data):
    buffer_places: int | None = None
    server_cost: dict[str, float] = Field(default_factory=dict)
    max_cost: float | None = None

    @classmethod
    def of(cls, b: Budget) -> BudgetSpec:
        return cls(buffer_places=b.buffer_places, server_cost=dict(b.server_cost), max_cost=b.max_cost)


class KpiEstimate(_Data):
    """A KPI over replications: mean, half-width of its 95% interval (None with one value), how many, and
    the figure as text rounded as the interval allows ("36.2 ± 0.4 parts/h")."""

    mean: float | None
    half_width: float | None
    n: int
    text: str


class ParamsCandidate(_Data):
    id: int
    #: Variable key ("CNC-03:input_buffer") → value (None: no WIP cap, as a factory without one has).
    values: dict[str, float | None]
    kpis: dict[str, KpiEstimate] = Field(default_factory=dict)
    #: Within the budget (a candidate outside it is not simulated: its KPIs are empty).
    feasible: bool = True
    #: "buffer_places", "cost": what this setting spends.
    budget_use: dict[str, float] = Field(default_factory=dict)
    pareto: bool = False
    finalist: bool = False
    #: The factory's own settings (the "change nothing" option).
    current: bool = False


class FinalistRecord(_Data):
    id: int
    name: str
    replications: int
    #: Mean of the selection objective over the selection's own replications (fresh random numbers).
    mean: float
    #: Replications it had when the procedure screened it out (None: it survived).
    eliminated_at: int | None = None


class DominatedRecord(_Data):
    """A finalist another one beats in every objective (several objectives), with stated confidence."""

    id: int
    by: int
    text: str


class SelectionRecord(_Data):
    """The ranking-and-selection stage (Kim–Nelson KN procedure, common random numbers)."""

    method: str = "Kim–Nelson KN (fully sequential, indifference zone, common random numbers)"
    objective: str
    unit: str
    maximise: bool
    delta: float
    alpha: float
    n0: int
    #: The first replication number the selection used (the search used 0 … first − 1).
    first_replication: int
    finalists: list[FinalistRecord]
    best: int | None
    proven: bool
    survivors: list[int]
    needs_more: int = 0
    exact: bool = False
    #: The claim in words: "candidate 7 is the best … with ≥ 95% confidence, or within δ = 0.5 parts/h of it".
    text: str
    #: Several objectives: finalists worse than another in every objective (paired, Bonferroni, ≥ 1 − alpha).
    dominated: list[DominatedRecord] = Field(default_factory=list)


class ParamsResult(_Data):
    format: Literal["floortwin-params-result"] = FORMAT
    factory: str
    factory_path: str | None = None
    variables: list[VariableSpec]
    objectives: list[str]
    budget: BudgetSpec = Field(default_factory=BudgetSpec)
    replications: int
    horizon_s: float
    warmup_s: float
    seed: int
    #: Where the replications ran ("2 local worker processes", "Dask at tcp://…").
    where: str = ""
    #: The factory's own settings simulated the same way (also a candidate when it lies in the search space).
    current: ParamsCandidate | None = None
    candidates: list[ParamsCandidate] = Field(default_factory=list)
    selection: SelectionRecord | None = None
    #: The candidate to apply: the one the selection proved best; None when it could not tell (see notes).
    recommended: int | None = None
    #: "time", "evaluations", "converged" or "cancelled".
    stopped_by: str = "converged"
    seconds: float = 0.0
    #: Distinct candidates simulated by the search, and replications run in all (search and selection).
    evaluations: int = 0
    simulations: int = 0
    notes: list[str] = Field(default_factory=list)

    def candidate(self, candidate_id: int) -> ParamsCandidate:
        return next(c for c in self.candidates if c.id == candidate_id)

    def changes(self, candidate_id: int) -> list[Change]:
        """The scenario changes that give the factory candidate ``candidate_id``'s settings."""
        values = self.candidate(candidate_id).values
        return [spec.variable().change(values[spec.key]) for spec in self.variables if spec.key in values]

    def scenario(self, factory: Factory, candidate_id: int, name: str | None = None) -> Scenario:
        """A what-if scenario of ``factory`` with candidate ``candidate_id``'s settings and this run's settings."""
        return Scenario(
            name=name or f"Optimised parameters {candidate_id}",
            factory=factory,
            base_path=self.factory_path,
            changes=self.changes(candidate_id),
            horizon_s=self.horizon_s,
            warmup_s=self.warmup_s,
            replications=self.replications,
            seed=self.seed,
        )

    def applied_to(self, factory: Factory, candidate_id: int) -> Factory:
        """``factory`` with the candidate's settings (a new version; the given one is untouched)."""
        return apply(self.scenario(factory, candidate_id))

    def save(self, path: str | os.PathLike[str]) -> None:
        atomic_write_text(path, self.model_dump_json(indent=1) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ParamsResult:
        """Read a result file; ValueError naming the file when it is not one."""
        try:
            return cls.model_validate_json(Path(path).read_bytes())
        except ValidationError as e:
            raise ValueError(f"{path}: not a scenario optimiser result ({e.errors()[0]['msg']})") from None
