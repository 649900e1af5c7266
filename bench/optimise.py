#!/usr/bin/env python3
"""Optimiser benchmark, QAP part: time to reach 1% of the best known value on QAPLIB instances n = 12…30.

The slot-assignment search (`app.optimise.qap.solve`, robust tabu search with restarts) against the peer
a Python user would pick, `scipy.optimize.quadratic_assignment`, in the same run and with the same wall-time
budget per instance:

- **2opt**: scipy's 2-exchange local search from a random start, restarted until the budget is spent;
- **faq**: scipy's Fast Approximate QAP (Frank–Wolfe on the relaxation) from a random doubly stochastic
  start (``P0="randomized"``), restarted likewise.

For each solver and instance: the seconds until a solution within 1% of the best known value was first
held (``None``: never within the budget) and the best value at the end of the budget (gap in % above the
best known). The target is *better or equal quality in no more time*: on every instance our search is at
least as close to the best known value as each peer at the end, and it reaches 1% no later than any peer
that reaches it.

Layout part (`app.optimise.layout`):

- **candidate evaluations per second** at 40, 200 and 2,000 machines (``bench/genfactory.py`` plants): one
  machine put at a random floor point, its transport-effort Δ (``EffortModel.moved``) *and* the full
  collision/clearance verdict of the layout editor's world as the search asks it (``LayoutChecker.is_clear``:
  the yes or no of ``first_problem``, a test holds them equal), against the bare objective alone (the
  limit). Target: ≥ 0.5× the limit;
- **the demo plant**: every machine may move, legs measured along their transport paths as the simulation
  carries parts (the shortest-way effort of the same layouts is reported beside it); the transport-effort
  reduction of the recommended layout
  (target ≥ 20 % with zero rule violations, rechecked in a world of its own) and the wall time of the whole
  optimise-and-validate job (search, then 3 finalists simulated against the current layout, 5 replications
  of the factory's horizon each, on 2 workers).

Scenario-optimiser part (`app.optimise.params`, ``--parts params``):

- **simulations per second** for the same 16 candidate settings of the demo plant (CNC-01 servers 1–2 ×
  CNC-02 input buffer 0–7, 3 replications of one simulated day each, common random numbers) run as one batch
  in this process, on the local worker pool and on a Dask ``LocalCluster`` with 2 single-threaded worker
  processes. Targets, as for what-if sweeps: the pool ≥ 1.7× one process on 2 cores, Dask ≥ 0.87× the pool
  (overhead ≤ 15%);
- **the optimiser itself** on the pool: a search of 24 candidates and the selection, its simulations per
  second (generations are batches; the selection's later rounds are small ones).

Usage: ``python bench/optimise.py [--seconds 3] [--seed 1] [--instances nug12,tai20a,…] [--parts qap,layout,params]
[--layout-seconds 20]``. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scipy.optimize import quadratic_assignment  # noqa: E402

from app.optimise.qap import read_qaplib, solve  # noqa: E402
from bench._harness import emit, ratio  # noqa: E402

QAPLIB = ROOT / "tests" / "optimise" / "qaplib"
DEFAULT = "nug12,chr12a,tai12a,nug20,had20,tai20a,chr25a,nug30,kra30a"


def best_known() -> dict[str, int]:
    out = {}
    for line in (QAPLIB / "best_known.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _n, value, *_ = line.split()
            out[name] = int(value)
    return out


def run_ours(a: np.ndarray, b: np.ndarray, seconds: float, seed: int, target: float) -> tuple[float, float | None]:
    reached: list[float] = []

    def report(value: float, seconds: float) -> None:
        if not reached and value <= target:
            reached.append(seconds)

    r = solve(a, b, seconds=seconds, seed=seed, on_best=report)
    if not reached and r.value <= target:
        reached.append(r.seconds)
    return float(r.value), (reached[0] if reached else None)


def run_scipy(
    method: str, a: np.ndarray, b: np.ndarray, seconds: float, seed: int, target: float
) -> tuple[float, float | None, int]:
    rng = np.random.default_rng(seed)
    options: dict[str, object] = {"P0": "randomized"} if method == "faq" else {}
    best, reached, runs = np.inf, None, 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        res = quadratic_assignment(a, b, method=method, options={**options, "rng": rng})
        runs += 1
        best = min(best, float(res.fun))
        if reached is None and best <= target:
            reached = time.perf_counter() - t0
    return best, reached, runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="budget per solver and instance (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--instances", default=DEFAULT)
    parser.add_argument("--parts", default="qap,layout,params", help="which parts to run (default qap,layout,params)")
    parser.add_argument("--layout-seconds", type=float, default=20.0, help="search time on the demo plant (default 20)")
    parser.add_argument(
        "--validate-replications", type=int, default=5, help="replications per validation run (default 5; the factory's horizon)"
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    figures: dict = {}
    targets: dict = {}
    if "qap" in parts:
        figures.update(qap_part(args))
        targets.update(figures.pop("_qap_targets"))
    if "layout" in parts:
        figures["layout"] = layout_part(args)
        targets.update(figures["layout"].pop("_layout_targets"))
    if "params" in parts:
        figures["params"] = params_part(args)
        targets.update(figures["params"].pop("_params_targets"))
    figures["targets"] = targets
    emit("optimise", figures)
    return 0


def qap_part(args: argparse.Namespace) -> dict:
    bks = best_known()
    rows = {}
    print(f"QAP: {args.seconds:g} s per solver and instance; time to 1% of the best known value, and the gap at the end")
    print(f"{'instance':9} {'n':>3} {'best known':>10}   {'ours':>16}   {'scipy 2opt':>16}   {'scipy faq':>16}")
    for name in args.instances.split(","):
        inst = read_qaplib(QAPLIB / f"{name}.dat")
        known = bks[name]
        target = known * 1.01
        a, b = inst.flow, inst.distance
        ours_v, ours_t = run_ours(a, b, args.seconds, args.seed, target)
        two_v, two_t, two_runs = run_scipy("2opt", a, b, args.seconds, args.seed, target)
        faq_v, faq_t, faq_runs = run_scipy("faq", a, b, args.seconds, args.seed, target)

        def gap(v: float, known: float = known) -> float:
            return round(100.0 * (v / known - 1.0), 3)

        peers_t = [t for t in (two_t, faq_t) if t is not None]
        row = {
            "n": inst.n,
            "best_known": known,
            "ours": {"value": ours_v, "gap_pct": gap(ours_v), "s_to_1pct": _r(ours_t)},
            "scipy_2opt": {"value": two_v, "gap_pct": gap(two_v), "s_to_1pct": _r(two_t), "restarts": two_runs},
            "scipy_faq": {"value": faq_v, "gap_pct": gap(faq_v), "s_to_1pct": _r(faq_t), "restarts": faq_runs},
            "time_ratio_vs_fastest_peer": ratio(ours_t, min(peers_t)) if peers_t and ours_t is not None else None,
            "quality_ok": ours_v <= min(two_v, faq_v),
            "time_ok": ours_t is not None and (not peers_t or ours_t <= min(peers_t)),
        }
        rows[name] = row

        def cell(v: float, t: float | None) -> str:
            return f"{gap(v):6.2f}% {'—' if t is None else f'{t:6.2f} s':>8}"

        print(f"{name:9} {inst.n:3d} {known:10d}   {cell(ours_v, ours_t)}   {cell(two_v, two_t)}   {cell(faq_v, faq_t)}")
    quality = all(r["quality_ok"] for r in rows.values())
    timing = all(r["time_ok"] for r in rows.values())
    reached = sum(r["ours"]["s_to_1pct"] is not None for r in rows.values())
    ratios = [r["time_ratio_vs_fastest_peer"] for r in rows.values() if r["time_ratio_vs_fastest_peer"] is not None]
    figures = {
        "seconds_per_solver": args.seconds,
        "seed": args.seed,
        "instances": rows,
        "ours_reached_1pct": reached,
        "scipy_2opt_reached_1pct": sum(r["scipy_2opt"]["s_to_1pct"] is not None for r in rows.values()),
        "scipy_faq_reached_1pct": sum(r["scipy_faq"]["s_to_1pct"] is not None for r in rows.values()),
        "median_time_ratio_vs_fastest_peer": float(np.median(ratios)) if ratios else None,
        "_qap_targets": {
            "better_or_equal_quality_on_every_instance": quality,
            "reaches_1pct_no_later_than_peers": timing,
            "better_or_equal_quality_in_no_more_time": quality and timing,
        },
    }
    print(
        f"within 1% in the budget: ours {reached}/{len(rows)}, scipy 2opt {figures['scipy_2opt_reached_1pct']}, "
        f"faq {figures['scipy_faq_reached_1pct']}; "
        f"target met: {figures['_qap_targets']['better_or_equal_quality_in_no_more_time']}"
    )
    return figures


def evaluation_rates(n: int, seconds: float, seed: int) -> dict:
    """Candidate evaluations per second on a generated plant of ``n`` machines: the objective alone, and
    the objective with the full collision/clearance verdict."""
    from app.model.factory import Pose
    from app.optimise.feasibility import LayoutChecker, factory_hulls
    from app.optimise.flow import EffortModel
    from bench.genfactory import generate

    factory = generate(n, seed)
    model = EffortModel(factory)
    rng = np.random.default_rng(seed)
    ms = factory.machines
    w, d = factory.floor.width_m, factory.floor.depth_m
    picks = [
        (ms[int(k)], float(x), float(y))
        for k, x, y in zip(rng.integers(0, len(ms), 4096), rng.uniform(3, w - 3, 4096), rng.uniform(3, d - 3, 4096), strict=True)
    ]

    def block(step, spent: list[float], done: list[int]) -> None:
        """One short run of ``step`` over the same points (both ways see the same points in turn)."""
        count, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds / 10:
            for _ in range(32):
                step(*picks[(done[0] + count) % len(picks)])
                count += 1
        spent[0] += time.perf_counter() - t0
        done[0] += count

    clear = [0]
    with LayoutChecker(factory, factory_hulls(factory, None)) as checker:

        def full(m, x, y) -> None:
            model.moved(m.id, x, y)
            clear[0] += checker.is_clear({m.id: Pose(x_m=x, y_m=y, yaw_deg=m.pose.yaw_deg)})

        # interleaved short blocks, so a busy spell of the shared machine falls on both ways alike
        bare_t, bare_n, full_t, full_n = [0.0], [0], [0.0], [0]
        for _ in range(10):
            block(lambda m, x, y: model.moved(m.id, x, y), bare_t, bare_n)
            block(full, full_t, full_n)
    bare, checked, count = bare_n[0] / bare_t[0], full_n[0] / full_t[0], full_n[0]
    return {
        "machines": n,
        "objective_only_per_s": round(bare),
        "with_verdict_per_s": round(checked),
        "ratio_to_limit": ratio(checked, bare),
        "share_clear": round(clear[0] / count, 3),
    }


def layout_part(args: argparse.Namespace) -> dict:
    from app.model.io import load_factory
    from app.optimise.feasibility import factory_hulls
    from app.optimise.flow import EffortModel
    from app.optimise.layout import LayoutRequest, optimise_layout
    from app.optimise.validate import validate_candidates
    from app.paths import DEMO_FACTORY
    from app.physics.world import check_layout

    print("Layout: candidate evaluations per second (transport-effort Δ + collision/clearance verdict vs Δ alone)")
    rates = []
    for n in (40, 200, 2000):
        r = evaluation_rates(n, 2.0, args.seed)
        rates.append(r)
        print(
            f"  {n:5d} machines: {r['with_verdict_per_s']:>8,} /s with the verdict, {r['objective_only_per_s']:>8,} /s "
            f"objective alone: {r['ratio_to_limit']}× the limit"
        )
    factory = load_factory(DEMO_FACTORY)
    t0 = time.perf_counter()
    hulls = factory_hulls(factory, DEMO_FACTORY)
    # legs measured along their transport paths, as the simulation carries parts: what the search lowers is
    # what the validation can see (the shortest-way effort of the same layouts is reported beside it)
    request = LayoutRequest(move_all=True, seconds=args.layout_seconds, seed=args.seed, follow_transports=True)
    result = optimise_layout(factory, request, hulls)
    searched = time.perf_counter() - t0
    result = validate_candidates(factory, result, 3, replications=args.validate_replications, workers=2)
    wall = time.perf_counter() - t0
    best = result.candidate(result.recommended) if result.recommended is not None else None
    reduction = 100.0 * (1 - best.objectives.effort / result.baseline.effort) if best else 0.0
    moved = result.changes(best.id).keys() if best else ()
    recheck = [v for v in check_layout(result.applied_to(factory, best.id), hulls) if v.machine in moved] if best else []
    violations = (len(best.problems) if best else 0) + sum(len(v.contacts) for v in recheck)
    shortest_before = EffortModel(factory).total_effort
    shortest_after = EffortModel(result.applied_to(factory, best.id)).total_effort if best else shortest_before
    verdicts = [k.text for k in best.validation.kpis] if best and best.validation else []
    print(
        f"Demo plant: effort {result.baseline.effort:,.0f} → {best.objectives.effort if best else result.baseline.effort:,.0f} "
        f"part·m/h ({reduction:.1f}% less), {violations} rule violations, {best.objectives.moved if best else 0} machines moved; "
        f"search {searched:.1f} s, search + validation {wall:.1f} s; {'; '.join(verdicts)}"
    )
    return {
        "evaluations": rates,
        "demo": {
            "baseline_effort": result.baseline.effort,
            "recommended_effort": best.objectives.effort if best else None,
            "effort_reduction_pct": round(reduction, 2),
            "rule_violations": violations,
            "effort_measure": "legs along their transport paths, as simulated",
            "shortest_way_effort_before_after": [round(shortest_before, 1), round(shortest_after, 1)],
            "machines_moved": best.objectives.moved if best else 0,
            "feasible_candidates": sum(c.feasible for c in result.candidates),
            "search_seconds": round(searched, 2),
            "optimise_and_validate_seconds": round(wall, 2),
            "validation": verdicts,
            "replications": best.validation.replications if best and best.validation else None,
        },
        "_layout_targets": {
            "evaluations_at_least_half_the_limit": all((r["ratio_to_limit"] or 0) >= 0.5 for r in rates),
            "demo_reduction_at_least_20pct_with_zero_violations": reduction >= 20.0 and violations == 0,
        },
    }


def params_part(args: argparse.Namespace) -> dict:
    import distributed

    from app.model.io import load_factory
    from app.optimise.params import optimise_params
    from app.optimise.params_problem import ParamsRequest, Variable
    from app.optimise.params_runs import DaskSimulations, InProcessSimulations, PoolSimulations
    from app.paths import DEMO_FACTORY
    from app.sim.model import compile_model
    from app.sim.scenario import Scenario, apply

    factory = load_factory(DEMO_FACTORY)
    variables = (Variable("servers", "CNC-01", 1, 2), Variable("input_buffer", "CNC-02", 0, 7))
    reps, horizon, warmup = 3, 86400.0, 3600.0
    tasks = []
    for servers in (1, 2):
        for places in range(8):
            changes = [variables[0].change(servers), variables[1].change(places)]
            f = apply(Scenario(name="bench", factory=factory, changes=changes))
            model = compile_model(f, horizon, warmup, reps, args.seed, sample_s=horizon)
            tasks += [(model, r) for r in range(reps)]
    n = len(tasks)
    print(f"Scenario optimiser: {n // reps} candidates × {reps} replications of one simulated day = {n} simulations")

    def rate(sims) -> float:
        t0 = time.perf_counter()
        sims.run(tasks)
        return n / (time.perf_counter() - t0)

    # nice 0 for the pool here (the application runs it at nice 5): on a shared machine a lower priority would
    # measure the neighbours' load, not the pool. Each way runs twice, interleaved, and its better run counts.
    best = {"one": 0.0, "pool": 0.0, "dask": 0.0}
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster, DaskSimulations(cluster.scheduler_address) as dask_sims, PoolSimulations(2, nice=0) as pool:
        pool.run(tasks[:2])  # the workers are up before the clock starts, as in a search
        dask_sims.run(tasks[:2])
        for _ in range(2):
            for name, sims in (("one", InProcessSimulations()), ("pool", pool), ("dask", dask_sims)):
                best[name] = max(best[name], rate(sims))
    one, local, dask = best["one"], best["pool"], best["dask"]
    print(f"  one process        {one:6.2f} simulations/s")
    print(f"  local pool (2)     {local:6.2f} simulations/s   {local / one:.2f}× one process (target ≥ 1.7)")
    print(f"  Dask LocalCluster  {dask:6.2f} simulations/s   {dask / local:.2f}× the pool (target ≥ 0.87)")
    request = ParamsRequest(
        variables=variables, replications=reps, horizon_s=horizon, warmup_s=warmup, seed=args.seed, seconds=60.0,
        max_evaluations=16, population=8, finalists=4, max_selection_replications=20,
    )
    t0 = time.perf_counter()
    with PoolSimulations(2) as pool:
        result = optimise_params(factory, request, pool)
    wall = time.perf_counter() - t0
    sel = result.selection
    print(
        f"  optimiser on the pool: {result.evaluations} candidates, {result.simulations} simulations in {wall:.1f} s "
        f"({result.simulations / wall:.2f}/s, worker start included); {sel.text if sel else 'no selection'}"
    )
    return {
        "load_average_1min": round(os.getloadavg()[0], 2),  # the machine is shared: how busy it was
        "candidates": n // reps,
        "replications": reps,
        "horizon_s": horizon,
        "one_process_per_s": round(one, 2),
        "pool_per_s": round(local, 2),
        "dask_per_s": round(dask, 2),
        "pool_speedup": ratio(local, one),
        "dask_vs_pool": ratio(dask, local),
        "optimiser": {
            "evaluations": result.evaluations,
            "simulations": result.simulations,
            "seconds": round(wall, 2),
            "simulations_per_s": round(result.simulations / wall, 2),
            "selection": sel.text if sel else None,
        },
        "_params_targets": {
            "params_pool_at_least_1_7x_one_process": local / one >= 1.7,
            "params_dask_overhead_at_most_15pct": dask / local >= 0.87,
        },
    }


def _r(t: float | None) -> float | None:
    return None if t is None else round(t, 3)


if __name__ == "__main__":
    sys.exit(main())
