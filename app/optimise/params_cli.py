"""``python -m app.optimise params``: the scenario optimiser from a shell, for scripts and clusters.

Progress goes to standard error as one rewritten line; the result file is a `ParamsResult` (the GUI reopens
it); standard output gets one JSON line at the end. Bad input: status 2 and one line why, before any
simulation.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from app.model.problems import FactoryFileError
from app.optimise.layout_cli import _Bar
from app.optimise.params_problem import (
    OBJECTIVES,
    ParamsInputError,
    ParamsRequest,
    check_request,
    parse_budget,
    parse_variable,
)
from app.optimise.params_result import ParamsResult
from app.sim.engine import Cancelled
from app.sim.model import SimInputError

PROG = "python -m app.optimise params"


def add_params_parser(sub: Any) -> None:
    p = sub.add_parser(
        "params",
        help="choose buffer sizes, servers, release rates or transport speeds by simulation, the best proven by "
        "ranking and selection",
        description="Search decision variables (pymoo: GA for one objective, NSGA-II for several) with every candidate "
        "simulated on the same random numbers, then select the best finalist by the Kim–Nelson procedure with a "
        "stated guarantee. Ends with one JSON line.",
    )
    p.add_argument("factory", help="the factory file (.json)")
    p.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="ID:KIND=LOW..HIGH[/STEP]",
        help="a decision variable (repeatable); KIND: input_buffer, servers (machine ids), release_rate (a part, "
        "parts/h), transport_speed (a transport path, m/s), wip_cap (ID 'line': CONWIP, parts in the line)",
    )
    p.add_argument(
        "--objective",
        action="append",
        default=[],
        choices=list(OBJECTIVES),
        help="throughput (max), lead_time, wip, energy (per part; min); repeat for a Pareto front (default throughput)",
    )
    p.add_argument("--budget", action="append", default=[], metavar="buffers<=B | cost<=C", help="a spending limit (repeatable)")
    p.add_argument("--server-cost", action="append", default=[], metavar="[ID=]PRICE", help="price of one added server")
    p.add_argument("--seconds", type=float, default=60.0, help="search time limit (default 60)")
    p.add_argument("--evaluations", type=int, default=200, help="at most this many candidates simulated (default 200)")
    p.add_argument("--population", type=int, default=16, help="candidates per generation (default 16)")
    p.add_argument("--replications", type=int, default=5, help="replications per candidate in the search (default 5)")
    p.add_argument("--horizon", type=float, default=None, help="simulated seconds per replication (default: the factory's)")
    p.add_argument("--warmup", type=float, default=None, help="warm-up seconds (default: the factory's)")
    p.add_argument("--seed", type=int, default=None, help="the common random numbers' seed (default: the factory's)")
    p.add_argument("--finalists", type=int, default=5, help="candidates that go to the selection (default 5)")
    p.add_argument("--delta", type=float, default=None, help="indifference zone in the first objective's unit (default 1%%)")
    p.add_argument("--alpha", type=float, default=0.05, help="error probability of the selection (default 0.05)")
    p.add_argument("--max-replications", type=int, default=100, help="cap per finalist in the selection (default 100)")
    p.add_argument("--workers", type=int, default=None, help="local worker processes (default: one per core)")
    p.add_argument("--dask", metavar="ADDR", default=None, help="run replications on this Dask scheduler (tcp://host:8786)")
    p.add_argument("--out", required=True, help="where to write the result (JSON)")
    p.add_argument("--quiet", action="store_true", help="no progress line on stderr")


def request_from(args: argparse.Namespace) -> ParamsRequest:
    """The request the options describe; ParamsInputError for a bad option (before any simulation)."""
    folder = Path(args.out).resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise ParamsInputError(f"cannot write {args.out}: {folder} is not a folder this user may write to")
    if args.workers is not None and args.workers < 1:
        raise ParamsInputError(f"--workers must be 1 or more, not {args.workers}")
    for name in ("seconds", "horizon", "warmup", "delta", "alpha"):
        value = getattr(args, name)
        if value is not None and not math.isfinite(value):
            raise ParamsInputError(f"--{name} must be a finite number, not {value:g}")
    return ParamsRequest(
        variables=tuple(parse_variable(v) for v in args.var),
        objectives=tuple(args.objective) or ("throughput",),
        budget=parse_budget(args.budget, args.server_cost),
        replications=args.replications,
        horizon_s=args.horizon,
        warmup_s=args.warmup,
        seed=args.seed,
        seconds=args.seconds,
        max_evaluations=args.evaluations,
        population=args.population,
        finalists=args.finalists,
        delta=args.delta,
        alpha=args.alpha,
        max_selection_replications=args.max_replications,
    )


def run_params(args: argparse.Namespace) -> int:
    from app.model.io import load_factory
    from app.optimise.params import ParamsProgress, optimise_params
    from app.optimise.params_runs import simulations
    from app.sim.model import compile_model

    t0 = time.perf_counter()
    bar = _Bar(args.quiet)

    def show(p: ParamsProgress) -> None:
        what = "search" if p.phase == "search" else "selecting the best finalist"
        bar.show(p.fraction, f"{what}: {p.evaluations} candidates, {p.simulations} replications, {p.best}")

    try:
        request = request_from(args)
        factory = load_factory(args.factory)
        check_request(factory, request)
        compile_model(factory, request.horizon_s, request.warmup_s, request.replications, request.seed)
        with simulations(args.workers, args.dask) as sims:
            result = optimise_params(factory, request, sims, show, factory_path=str(args.factory))
        bar.done()
    except (ParamsInputError, FactoryFileError, SimInputError) as e:
        bar.done()
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # the Dask scheduler cannot be reached
        bar.done()
        print(f"{PROG}: cannot run the simulations: {e}", file=sys.stderr)
        return 2
    except Cancelled:
        bar.done()
        print(f"{PROG}: cancelled; nothing written", file=sys.stderr)
        return 1
    try:
        result.save(args.out)
    except OSError as e:
        print(f"{PROG}: cannot write {args.out}: {e}", file=sys.stderr)
        return 2
    print(json.dumps(summary(result, args.out, time.perf_counter() - t0), ensure_ascii=False))
    return 0


def summary(result: ParamsResult, out: str, seconds: float) -> dict[str, Any]:
    """The one JSON line that ends a run."""
    best = result.candidate(result.recommended) if result.recommended is not None else None
    sel = result.selection
    return {
        "factory": result.factory,
        "variables": [v.key for v in result.variables],
        "objectives": result.objectives,
        "evaluations": result.evaluations,
        "simulations": result.simulations,
        "recommended": result.recommended,
        "values": best.values if best else None,
        "kpis": {k: e.text for k, e in best.kpis.items() if k in result.objectives} if best else None,
        "current": {k: e.text for k, e in result.current.kpis.items() if k in result.objectives} if result.current else None,
        "proven": bool(sel and sel.proven),
        "selection": sel.text if sel else None,
        "stopped_by": result.stopped_by,
        "where": result.where,
        "seconds": round(seconds, 3),
        "out": str(out),
    }
