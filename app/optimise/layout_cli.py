"""``python -m app.optimise layout``: the layout optimiser from a shell, for scripts and clusters.

Progress goes to standard error as one rewritten line; the result file is a `LayoutResult` (the GUI
reopens and applies it); standard output gets one JSON line at the end. Bad input: status 2, one line why.
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
from app.optimise.layout_problem import LayoutInputError, LayoutRequest
from app.optimise.layout_result import LayoutResult
from app.sim.engine import Cancelled
from app.sim.model import SimInputError

PROG = "python -m app.optimise layout"


def add_layout_parser(sub: Any) -> None:
    p = sub.add_parser(
        "layout",
        help="search layouts with less transport, collision- and clearance-checked, validated by simulation",
        description="Move machines so parts travel less: transport effort, rearrangement and floor area on a "
        "Pareto front; every feasible candidate passes the layout editor's collision and clearance check; "
        "the best K are simulated against the current layout (common random numbers). Ends with one JSON line.",
    )
    p.add_argument("factory", help="the factory file (.json)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--move", metavar="IDS", help="comma-separated ids of the machines that may move (the rest are pinned)")
    who.add_argument("--move-all", action="store_true", help="every machine may move")
    p.add_argument("--group", metavar="IDS", action="append", default=[], help="machines that move together (repeatable)")
    p.add_argument("--region", metavar="x0,y0,x1,y1", help="where moved machines may stand, in metres (default: the floor)")
    p.add_argument("--slots", metavar="x,y;x,y;…", help="candidate positions of machine centres (a slot assignment)")
    p.add_argument(
        "--follow-transport-paths",
        action="store_true",
        help="measure legs that have a transport path along it, as the simulation does (default: the shortest way)",
    )
    p.add_argument("--seconds", type=float, default=20.0, help="search time limit (default 20)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: a fresh one)")
    p.add_argument("--validate", type=int, default=0, metavar="K", help="simulate the best K candidates (default 0)")
    p.add_argument("--replications", type=int, default=None, help="replications per validation run (default: the factory's)")
    p.add_argument("--horizon", type=float, default=None, help="simulated seconds per replication (default: the factory's)")
    p.add_argument("--out", required=True, help="where to write the result (JSON)")
    p.add_argument("--quiet", action="store_true", help="no progress line on stderr")


def _floats(text: str, what: str, count: int | None = None) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise LayoutInputError(f"{what} must be numbers separated by commas, not {text!r}") from None
    if count is not None and len(values) != count:
        raise LayoutInputError(f"{what} needs {count} numbers, got {len(values)} ({text!r})")
    return values


def request_from(args: argparse.Namespace) -> LayoutRequest:
    if not (math.isfinite(args.seconds) and args.seconds > 0):
        raise LayoutInputError(f"--seconds must be a positive number, not {args.seconds:g}")
    if args.horizon is not None and not (math.isfinite(args.horizon) and args.horizon > 0):
        raise LayoutInputError(f"--horizon must be a positive number of simulated seconds, not {args.horizon:g}")
    folder = Path(args.out).resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise LayoutInputError(f"cannot write {args.out}: {folder} is not a folder this user may write to")
    if args.validate < 0:
        raise LayoutInputError("--validate must be 0 or more")
    region = _floats(args.region, "--region", 4) if args.region else None
    slots: tuple[tuple[float, float], ...] = ()
    if args.slots:
        slots = tuple(_floats(s, "each slot of --slots", 2) for s in args.slots.split(";") if s.strip())  # type: ignore[misc]
    return LayoutRequest(
        movable=tuple(i.strip() for i in (args.move or "").split(",") if i.strip()),
        move_all=args.move_all,
        groups=tuple(tuple(i.strip() for i in g.split(",") if i.strip()) for g in args.group),
        region=region,  # type: ignore[arg-type]
        slots=slots,
        seconds=args.seconds,
        seed=args.seed,
        follow_transports=args.follow_transport_paths,
    )


class _Bar:
    def __init__(self, quiet: bool):
        self.quiet = quiet

    def show(self, fraction: float, text: str) -> None:
        if self.quiet:
            return
        filled = round(24 * max(0.0, min(1.0, fraction)))
        line = f"\r[{'#' * filled}{'.' * (24 - filled)}] {100 * fraction:3.0f}%  {text}\033[K"
        print(line, end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if not self.quiet:
            print(file=sys.stderr)


def run_layout(args: argparse.Namespace) -> int:
    from app.model.io import load_factory
    from app.optimise.feasibility import factory_hulls
    from app.optimise.layout import optimise_layout
    from app.optimise.validate import validate_candidates

    t0 = time.perf_counter()
    bar = _Bar(args.quiet)
    try:
        request = request_from(args)
        factory = load_factory(args.factory)
        warmup = factory.simulation.warmup_s
        if args.validate and args.horizon is not None and args.horizon <= warmup:
            raise LayoutInputError(
                f"--horizon {args.horizon:g} s must be longer than the factory's warm-up ({warmup:g} s) to validate"
            )
        hulls = factory_hulls(factory, args.factory)
        result = optimise_layout(
            factory,
            request,
            hulls,
            progress=lambda p: bar.show(
                p.fraction, f"search: best {p.best_effort:,.0f} part·m/h, {p.feasible} on the front, {p.checks:,} checks"
            ),
            factory_path=str(args.factory),
        )
        bar.done()
        if args.validate:
            result = validate_candidates(
                factory,
                result,
                args.validate,
                replications=args.replications,
                horizon_s=args.horizon,
                workers=None,
                progress=lambda f: bar.show(f, "simulating the best candidates against the current layout"),
            )
            bar.done()
    except (LayoutInputError, FactoryFileError, SimInputError) as e:
        bar.done()
        print(f"{PROG}: {e}", file=sys.stderr)
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
    print(json.dumps(summary(result, args.out, time.perf_counter() - t0)))
    return 0


def summary(result: LayoutResult, out: str, seconds: float) -> dict[str, Any]:
    """The one JSON line that ends a run."""
    best = result.candidate(result.recommended) if result.recommended is not None else None
    base = result.baseline.effort
    line: dict[str, Any] = {
        "factory": result.factory,
        "movable": len(result.movable),
        "candidates": len(result.candidates),
        "feasible": sum(c.feasible for c in result.candidates),
        "recommended": result.recommended,
        "baseline_effort": base,
        "recommended_effort": best.objectives.effort if best else base,
        "effort_reduction_pct": round(100.0 * (1 - best.objectives.effort / base), 2) if best and base else 0.0,
        "recommended_moves": best.objectives.moved if best else 0,
        "recommended_violations": len(best.problems) if best else 0,
        "verdicts": [k.text for k in best.validation.kpis] if best and best.validation else [],
        "stopped_by": result.stopped_by,
        "search_seconds": result.seconds,
        "seconds": round(seconds, 3),
        "out": str(out),
    }
    return line
