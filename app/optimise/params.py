"""The scenario (parameter) optimiser: buffers, servers, release rates and transport speeds chosen by
simulation, the best one proven by ranking and selection.

1. **Search** (pymoo): each candidate is a setting of the decision variables, simulated as a scenario of the
   factory with n replications, the **same seeds for every candidate** (common random numbers: replication r
   of every candidate sees the same arrivals, cycle times and failures, so differences between candidates
   are not drowned by noise). One objective: a genetic algorithm (pymoo ``GA``); several: NSGA-II. Whole
   numbers (buffer places, servers) and stepped values are kept on their grid by a repair after crossover
   and mutation; the budget (buffer places, cost of added servers) is a pymoo constraint, and a candidate
   outside it is not simulated. Evaluated candidates are cached: one the search proposes again costs
   nothing.
2. **Selection** (`app.optimise.selection.kn_select`): the finalists — the best few (one objective) or the
   Pareto front cut to a few (several; ranked by the first objective) — plus the current settings when
   they lie in the search space, get **fresh** replications (numbers n, n+1, … so that the luck that made
   them finalists does not carry into the claim) until the KN procedure has screened out all but one, or
   the replication cap says what it could not tell apart.

Examples
--------
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> from app.optimise.params_problem import ParamsRequest, Variable
>>> from app.optimise.params_runs import simulations
>>> f = load_factory(DEMO_FACTORY)
>>> req = ParamsRequest(variables=(Variable("servers", "CNC-01", 1, 2),), replications=2, horizon_s=7200.0,
...                     warmup_s=0.0, max_evaluations=2, max_selection_replications=4, delta=1.0)
>>> with simulations(in_process=True) as sims:
...     result = optimise_params(f, req, sims)
>>> len(result.candidates), result.selection is not None
(2, True)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.model.factory import Factory
from app.optimise.params_claims import CURRENT, WORST, current_note, default_delta, dominance_notes, selection_record
from app.optimise.params_problem import OBJECTIVES, ParamsRequest, Variable, budget_use, check_request, current_value
from app.optimise.params_result import (
    BudgetSpec,
    DominatedRecord,
    KpiEstimate,
    ParamsCandidate,
    ParamsResult,
    SelectionRecord,
    VariableSpec,
)
from app.optimise.params_runs import KPI_KEYS, Simulations, kpi_values
from app.optimise.selection import kn_select
from app.sim.engine import Cancelled
from app.sim.kpis import estimate
from app.sim.model import SimModel, compile_model
from app.sim.numbers import format_estimate, format_number
from app.sim.scenario import Scenario, ScenarioError, apply

__all__ = ["ParamsProgress", "optimise_params"]

#: Values of the decision variables, in the request's order (None: no WIP cap, only the current settings).
Setting = tuple[float | None, ...]
#: Generations in a row without a new candidate before the search counts as converged.
_STALE_GENERATIONS = 4


@dataclass(frozen=True)
class ParamsProgress:
    """A report while the optimiser works: phase ("search" or "selection"), share done (0…1), distinct
    candidates simulated, replications run, and the best so far in words."""

    phase: str
    fraction: float
    evaluations: int
    simulations: int
    best: str


class _Evaluator:
    """Simulates settings (value tuples) with the same seeds, caching every replication value by setting."""

    def __init__(self, factory: Factory, request: ParamsRequest, sims: Simulations, cancel: Callable[[], bool] | None):
        self.factory = factory
        self.request = request
        self.sims = sims
        self.cancel = cancel
        sim = factory.simulation
        self.replications = request.replications or max(2, sim.replications)
        self.horizon_s = sim.horizon_s if request.horizon_s is None else request.horizon_s
        self.warmup_s = sim.warmup_s if request.warmup_s is None else request.warmup_s
        self.seed = sim.seed if request.seed is None else request.seed
        self.values: dict[Setting, dict[int, np.ndarray]] = {}  # setting → replication → KPI values
        self.models: dict[Setting, SimModel] = {}
        self.order: list[Setting] = []  # settings in the order they were first simulated
        self.simulations = 0

    def model(self, setting: Setting) -> SimModel:
        if setting not in self.models:
            changes = [v.change(x) for v, x in zip(self.request.variables, setting, strict=True)]
            scenario = Scenario(name="candidate", factory=self.factory, changes=changes)
            try:
                factory = apply(scenario)
            except ScenarioError as e:
                raise ValueError(f"the setting {setting} cannot be simulated: {e}") from None
            # sample_s = horizon: the optimiser reads totals only, so no time series travels back from workers
            self.models[setting] = compile_model(
                factory, self.horizon_s, self.warmup_s, self.replications, self.seed, sample_s=self.horizon_s
            )
        return self.models[setting]

    def run(self, settings: list[Setting], reps: range) -> None:
        """Simulate every setting for these replication numbers (those not done yet), as one batch."""
        tasks = []
        for s in dict.fromkeys(settings):
            done = self.values.get(s, {})
            model = self.model(s)
            # a model without randomness has one replication: it is the exact value of every one
            tasks += [(s, r, model) for r in reps if r not in done and not (model.deterministic and r > 0)]
        if not tasks:
            return
        # Cancelled here: nothing of this batch is recorded (a setting without values is no candidate)
        results = self.sims.run([(m, r) for _s, r, m in tasks], self.cancel)
        self.simulations += len(results)
        for (s, r, _m), res in zip(tasks, results, strict=True):
            self.values.setdefault(s, {})[r] = np.asarray(kpi_values(res), dtype=float)
            if s not in self.order:
                self.order.append(s)

    def matrix(self, setting: Setting, reps: range) -> np.ndarray:
        """(replications, KPIs) of a simulated setting (a deterministic model repeats its one value)."""
        done = self.values[setting]
        return np.array([done.get(r, done.get(0)) for r in reps])


def _encode_bounds(variables: tuple[Variable, ...]) -> tuple[np.ndarray, np.ndarray]:
    """pymoo's search space: a stepped variable as its grid index 0 … levels − 1, a continuous one as its value."""
    lows, highs = [], []
    for v in variables:
        n = v.levels()
        lows.append(0.0 if n is not None else v.low)
        highs.append(float(n - 1) if n is not None else v.high)
    return np.array(lows), np.array(highs)


def _decode(variables: tuple[Variable, ...], x: np.ndarray) -> Setting:
    return tuple(
        v.snap(v.low + round(float(xi)) * v.step) if v.step is not None else v.snap(float(xi))
        for v, xi in zip(variables, x, strict=True)
    )


def _encode(variables: tuple[Variable, ...], setting: Setting) -> np.ndarray:
    """The pymoo point of a setting that lies in the search space (no None in it)."""
    out = []
    for v, x in zip(variables, setting, strict=True):
        value = float(x) if x is not None else v.low
        out.append(round((value - v.low) / v.step) if v.step is not None else value)
    return np.array(out, dtype=float)


def optimise_params(
    factory: Factory,
    request: ParamsRequest,
    sims: Simulations,
    progress: Callable[[ParamsProgress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    factory_path: str | None = None,
) -> ParamsResult:
    """Search the decision variables of ``request`` on ``factory`` (a snapshot; never changed), then select
    the best finalist with the KN procedure. Replications run on ``sims`` (`app.optimise.params_runs`).

    Raises ``ParamsInputError`` for a request that cannot be searched and ``SimInputError`` for a factory the
    simulation cannot run, both before any simulation. A cancelled search returns what it found
    (``stopped_by = "cancelled"``, nothing selected or recommended); cancelled during the selection raises
    ``app.sim.engine.Cancelled``.
    """
    check_request(factory, request)
    t0 = time.perf_counter()
    ev = _Evaluator(factory, request, sims, cancel)
    compile_model(factory, ev.horizon_s, ev.warmup_s, ev.replications, ev.seed)  # SimInputError before searching
    variables = request.variables
    objectives = [OBJECTIVES[o] for o in request.objectives]
    search_reps = range(ev.replications)
    cols = [KPI_KEYS.index(o.key) for o in objectives]
    signs = np.array([-1.0 if o.maximise else 1.0 for o in objectives])

    def within_budget(setting: Setting) -> bool:
        return bool(np.all(_constraints(request, factory, setting) <= 0))

    def objective_means(setting: Setting) -> np.ndarray:
        m = ev.matrix(setting, search_reps)[:, cols]
        ok = np.isfinite(m)
        count = ok.sum(axis=0)
        means = np.where(ok, m, 0.0).sum(axis=0) / np.maximum(count, 1)  # NaN (nothing left the line) left out
        return np.where(count > 0, signs * means, WORST)

    def report(phase: str, fraction: float) -> None:
        if progress is None:
            return
        simulated = [s for s in ev.values if within_budget(s)]
        best = min(simulated, key=lambda s: objective_means(s)[0]) if simulated else None
        text = ""
        if best is not None:
            text = f"best {objectives[0].words} {format_number(float(signs[0] * objective_means(best)[0]), objectives[0].unit)}"
        progress(ParamsProgress(phase, max(0.0, min(1.0, fraction)), len(ev.values), ev.simulations, text))

    current = tuple(current_value(factory, v) for v in variables)
    in_space = all(x is not None and v.snap(x) == x for v, x in zip(variables, current, strict=True)) and within_budget(current)
    ev.run([current], search_reps)
    stopped_by = _search(request, ev, objective_means, within_budget, current if in_space else None, t0, report, cancel)
    # candidates: every setting simulated (the current one first when it lies in the search space)
    settings = [s for s in ev.order if s != current or in_space]
    ids = {s: k for k, s in enumerate(settings)}
    feasible = [s for s in settings if within_budget(s)]
    scores = {s: objective_means(s) for s in feasible}
    front = _pareto(feasible, scores)
    ranked = front if len(objectives) > 1 else sorted(feasible, key=lambda s: scores[s][0])
    finalists = _finalists(ranked, scores, request.finalists)
    if in_space and current not in finalists:
        finalists.append(current)  # "change nothing" is always an option to beat
    notes: list[str] = []
    selection = None
    if stopped_by == "cancelled":
        notes.append("the search was cancelled: nothing was selected or recommended")
    elif finalists:
        selection = _select(request, ev, finalists, ids, current, objectives, cols, scores, report, cancel)
        notes += [d.text for d in selection.dominated]
    recommended = selection.best if selection is not None and selection.proven else None
    if selection is not None and not selection.proven:
        notes.append(selection.text)
    if selection is not None and selection.proven and in_space and recommended != ids.get(current):
        close = current_note(selection, ids[current])
        if close:  # no change is shown to gain δ over today's settings: noise is not taken for improvement
            recommended = ids[current]
            notes += close
    if recommended is not None and recommended != ids.get(current) and _same_figures(ev, settings[recommended], current):
        notes.append(
            f"candidate {recommended} gives the same figures as the current settings in every replication: the change "
            "makes no difference to this model"
        )
    candidates = [
        _candidate(ids[s], s, ev, request, factory, within_budget(s), s in front, s in finalists, s == current)
        for s in settings
    ]
    return ParamsResult(
        factory=factory.name,
        factory_path=factory_path,
        variables=[VariableSpec.of(v) for v in variables],
        objectives=list(request.objectives),
        budget=BudgetSpec.of(request.budget),
        replications=ev.replications,
        horizon_s=ev.horizon_s,
        warmup_s=ev.warmup_s,
        seed=ev.seed,
        where=sims.where,
        current=_candidate(ids.get(current, -1), current, ev, request, factory, within_budget(current), False, False, True),
        candidates=candidates,
        selection=selection,
        recommended=recommended,
        stopped_by=stopped_by,
        seconds=round(time.perf_counter() - t0, 3),
        evaluations=len(ev.values),
        simulations=ev.simulations,
        notes=notes,
    )


def _constraints(request: ParamsRequest, factory: Factory, setting: Setting) -> np.ndarray:
    """pymoo constraints (≤ 0 is within the budget): buffer places over the limit, cost over the limit."""
    b = request.budget
    use = budget_use(request, factory, setting)
    g = []
    if b.buffer_places is not None:
        g.append(use["buffer_places"] - b.buffer_places)
    if b.max_cost is not None:
        g.append(use["cost"] - b.max_cost)
    return np.array(g, dtype=float)


def _search(request, ev: _Evaluator, objective_means, within_budget, current, t0, report, cancel) -> str:
    """The pymoo loop (ask → simulate the new candidates as one batch → tell) until time, evaluations or no
    new candidates; returns why it stopped."""
    from pymoo.config import Config

    Config.warnings["not_compiled"] = False  # pymoo prints this hint on standard output otherwise
    from pymoo.core.evaluator import Evaluator
    from pymoo.core.problem import Problem
    from pymoo.core.repair import Repair
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.problems.static import StaticProblem

    variables = request.variables
    xl, xu = _encode_bounds(variables)
    n_obj = len(request.objectives)
    n_constr = len(_constraints(request, ev.factory, tuple(v.low for v in variables)))
    problem = Problem(n_var=len(variables), n_obj=n_obj, n_ieq_constr=n_constr, xl=xl, xu=xu)
    stepped = np.array([v.step is not None for v in variables])

    class _Grid(Repair):
        def _do(self, problem, X, **kwargs):
            X = np.asarray(X, dtype=float).copy()
            X[:, stepped] = np.clip(np.round(X[:, stepped]), xl[stepped], xu[stepped])
            return X

    rng = np.random.default_rng(ev.seed)
    start = rng.uniform(xl, xu, size=(request.population, len(variables)))
    start[:, stepped] = np.round(start[:, stepped])
    if current is not None:
        start[0] = _encode(variables, current)
    ops = {
        "pop_size": request.population,
        "sampling": start,
        "crossover": SBX(prob=0.9, eta=15, repair=_Grid()),
        "mutation": PM(eta=20, repair=_Grid()),
        "eliminate_duplicates": True,
    }
    if n_obj > 1:
        from pymoo.algorithms.moo.nsga2 import NSGA2

        algorithm = NSGA2(**ops)
    else:
        from pymoo.algorithms.soo.nonconvex.ga import GA

        algorithm = GA(**ops)
    algorithm.setup(problem, seed=ev.seed, verbose=False)
    reps = range(ev.replications)
    stale = 0
    while True:
        if cancel is not None and cancel():
            return "cancelled"
        elapsed = time.perf_counter() - t0
        if elapsed >= request.seconds:
            return "time"
        if len(ev.values) >= request.max_evaluations:
            return "evaluations"
        if stale >= _STALE_GENERATIONS or not algorithm.has_next():
            return "converged"
        pop = algorithm.ask()
        if pop is None or len(pop) == 0:
            return "converged"
        settings = [_decode(variables, x) for x in pop.get("X")]
        room = request.max_evaluations - len(ev.values)
        new = [s for s in dict.fromkeys(settings) if s not in ev.values and within_budget(s)]
        try:
            ev.run(new[: max(0, room)], reps)
        except Cancelled:
            return "cancelled"
        stale = 0 if new else stale + 1
        F = np.array([objective_means(s) if s in ev.values else np.full(n_obj, WORST) for s in settings])
        G = np.array([_constraints(request, ev.factory, s) for s in settings]).reshape(len(settings), n_constr)
        Evaluator().eval(StaticProblem(problem, F=F, G=G) if n_constr else StaticProblem(problem, F=F), pop)
        algorithm.tell(infills=pop)
        report("search", max((time.perf_counter() - t0) / request.seconds, len(ev.values) / request.max_evaluations))


def _same_figures(ev: _Evaluator, a: Setting, b: Setting) -> bool:
    """True when two settings measured the same KPIs in every replication both have."""
    reps = sorted(set(ev.values.get(a, {})) & set(ev.values.get(b, {})))
    return bool(reps) and all(np.array_equal(ev.values[a][r], ev.values[b][r], equal_nan=True) for r in reps)


def _pareto(settings: list[Setting], scores: dict) -> list[Setting]:
    """The settings no other beats in every objective (all minimised here); of settings with equal scores
    (a WIP cap that never binds, say) only the first is kept."""
    out = []
    for k, s in enumerate(settings):
        a = scores[s]
        beaten = any(np.all(scores[t] <= a) and np.any(scores[t] < a) for t in settings if t != s)
        if not beaten and not any(np.array_equal(scores[t], a) for t in settings[:k]):
            out.append(s)
    return out


def _finalists(ranked: list[Setting], scores: dict, k: int) -> list[Setting]:
    """Up to k settings: the best k of a ranked list, or k spread along a front (by the first objective)."""
    if len(ranked) <= k:
        return list(ranked)
    ordered = sorted(ranked, key=lambda s: scores[s][0])
    picks = np.unique(np.round(np.linspace(0, len(ordered) - 1, k)).astype(int)) if len(scores[ordered[0]]) > 1 else range(k)
    return [ordered[int(i)] for i in picks]


def _select(request, ev: _Evaluator, finalists, ids, current, objectives, cols, scores, report, cancel) -> SelectionRecord:
    """KN on the first objective over the finalists, on fresh replication numbers; with several objectives,
    also which finalists another beats in every objective (on the first-stage replications all share)."""
    objective, col = objectives[0], cols[0]
    first = ev.replications
    sign = 1.0 if objective.maximise else -1.0
    names = [(CURRENT if s == current else f"candidate {ids[s]}") for s in finalists]
    best_search = min(scores[s][0] for s in finalists)
    delta = request.delta if request.delta is not None else default_delta(abs(best_search))

    def draw(systems: list[int], reps: range) -> np.ndarray:
        chosen = [finalists[i] for i in systems]
        ev.run(chosen, reps)
        out = np.array([ev.matrix(s, reps)[:, col] for s in chosen], dtype=float)
        return sign * np.where(np.isfinite(out), out, -sign * WORST)  # larger is better for the procedure

    n0 = min(max(ev.replications, 10), request.max_selection_replications)
    batch = max(1, math.ceil(ev.sims.workers / max(1, len(finalists))))
    try:
        sel = kn_select(
            names,
            draw,
            delta,
            alpha=request.alpha,
            n0=n0,
            max_replications=request.max_selection_replications,
            batch=batch,
            first=first,
            progress=lambda f: report("selection", f),
            cancel=cancel,
        )
    except InterruptedError:
        raise Cancelled() from None
    deterministic = all(ev.model(s).deterministic for s in finalists)
    record = selection_record(sel, finalists, ids, names, objective, sign, first, deterministic)
    if len(objectives) < 2 or len(finalists) < 2 or deterministic:
        return record
    shared = range(first, first + sel.n0)
    values = np.array([ev.matrix(s, shared)[:, cols] for s in finalists], dtype=float)
    dominated = [
        DominatedRecord(id=ids.get(finalists[i], -1), by=ids.get(finalists[j], -1), text=text)
        for i, j, text in dominance_notes(names, values, objectives, request.alpha)
    ]
    return record.model_copy(update={"dominated": dominated})


def _candidate(cid, setting, ev: _Evaluator, request, factory, feasible, pareto, finalist, is_current) -> ParamsCandidate:
    kpis = {}
    if setting in ev.values:
        m = ev.matrix(setting, range(ev.replications))
        deterministic = ev.model(setting).deterministic
        for k, key in enumerate(KPI_KEYS):
            spec = OBJECTIVES[key]
            vals = m[:, k][np.isfinite(m[:, k])]
            if deterministic and len(vals):
                vals = vals[:1]
            e = estimate(vals)
            hw = 0.0 if deterministic and e.n else (e.half_width if math.isfinite(e.half_width) else None)
            mean = e.mean if math.isfinite(e.mean) else None
            kpis[key] = KpiEstimate(
                mean=mean, half_width=hw, n=e.n, text=format_estimate(e.mean, hw if hw is not None else math.inf, spec.unit, e.n)
            )
    values = {v.key: x for v, x in zip(request.variables, setting, strict=True)}
    return ParamsCandidate(
        id=cid,
        values=values,
        kpis=kpis,
        feasible=feasible,
        budget_use=budget_use(request, factory, setting),
        pareto=pareto,
        finalist=finalist,
        current=is_current,
    )
