"""``python -m app.sim run FACTORY|SCENARIO --horizon 7d --replications 20 --out RESULTS.sqlite``

Runs a production simulation (of a factory file, or of a what-if scenario file: its factory with its
changes and run settings) headless with a progress bar and prints the KPIs with 95% confidence
intervals. Exit codes: 0 done, 1 failed or interrupted (finished replications are kept), 2 bad input.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from app.model.io import load_factory
from app.model.problems import FactoryFileError
from app.sim.engine import Cancelled
from app.sim.kpis import format_summary, summarise
from app.sim.model import DEFAULT_SAMPLE_S, SimInputError, compile_model
from app.sim.results import ResultsWriter
from app.sim.runner import default_workers, run_replications
from app.sim.scenario import ScenarioError, apply, is_scenario_file, load_scenario

_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """Seconds in ``"7d"``, ``"8h"``, ``"30m"``, ``"45s"``, ``"1.5h"`` or a plain number of seconds.

    Examples
    --------
    >>> parse_duration("7d"), parse_duration("90"), parse_duration("1.5h")
    (604800.0, 90.0, 5400.0)
    """
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*(s|m|min|h|d|w)?\s*", text, re.IGNORECASE)
    if not m:
        raise argparse.ArgumentTypeError(f"expected a duration such as 7d, 8h, 30m or 45s, got {text!r}")
    return float(m.group(1)) * _UNITS[(m.group(2) or "s").lower()]


class ProgressBar:
    """A one-line terminal progress bar on stderr (a new line every 10% when not a terminal)."""

    def __init__(self, total_label: str):
        self.label = total_label
        self.tty = sys.stderr.isatty()
        self.t0 = time.perf_counter()
        self.last_decile = -1

    def __call__(self, frac: float) -> None:
        frac = min(max(frac, 0.0), 1.0)
        elapsed = time.perf_counter() - self.t0
        eta = elapsed / frac - elapsed if frac > 0.01 else float("nan")
        bar = "#" * int(frac * 30)
        text = f"[{bar:<30}] {frac:6.1%} {self.label}  {elapsed:5.1f} s" + (f", {eta:5.1f} s left" if eta == eta else "")
        if self.tty:
            sys.stderr.write("\r" + text)
            sys.stderr.flush()
        elif int(frac * 10) > self.last_decile:
            self.last_decile = int(frac * 10)
            print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app.sim", description="floortwin production simulation")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="simulate a factory and print its KPIs")
    run.add_argument("factory", metavar="FACTORY|SCENARIO", help="factory file or what-if scenario file (.json)")
    run.add_argument("--horizon", type=parse_duration, help="simulated time per replication (default: the file's, e.g. 7d)")
    run.add_argument("--warmup", type=parse_duration, help="warm-up discarded from statistics (default: the file's)")
    run.add_argument("--replications", type=int, help="independent replications (default: the file's)")
    run.add_argument("--seed", type=int, help="random seed (same seed → same results)")
    run.add_argument("--sample", type=parse_duration, default=DEFAULT_SAMPLE_S, help="time-series resolution (default 5m)")
    run.add_argument("--workers", type=int, default=default_workers(), help="worker processes (default: one per core)")
    run.add_argument("--out", metavar="RESULTS.sqlite", help="write results to this SQLite file")
    args = p.parse_args(argv)

    try:
        if is_scenario_file(args.factory):
            scenario = load_scenario(args.factory)
            factory = apply(scenario)
            factory = factory.model_copy(update={"name": f"{factory.name} — {scenario.name}"})

            def given(cli, own):
                return cli if cli is not None else own

            model = compile_model(
                factory,
                given(args.horizon, scenario.horizon_s),
                given(args.warmup, scenario.warmup_s),
                given(args.replications, scenario.replications),
                given(args.seed, scenario.seed),
                args.sample,
            )
        else:
            factory = load_factory(args.factory)
            model = compile_model(factory, args.horizon, args.warmup, args.replications, args.seed, args.sample)
    except FactoryFileError as e:
        print(f"app.sim: error: {e}", file=sys.stderr)
        return 2
    except ScenarioError as e:
        where = "" if e.source else f"{Path(args.factory).name}: "
        print(f"app.sim: error: {where}{e}", file=sys.stderr)
        return 2
    except SimInputError as e:
        print(f"app.sim: error: {Path(args.factory).name}: {e}", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("app.sim: error: --workers must be ≥ 1", file=sys.stderr)
        return 2

    writer = ResultsWriter(args.out) if args.out else None
    if writer:
        writer.begin(factory.name, model)
    bar = ProgressBar(f"{model.replications} replications × {model.horizon_s / 86400:g} d")
    status, code = "done", 0
    try:
        on_result = (lambda r: writer.add(model, r)) if writer else None
        results = run_replications(model, args.workers, on_result, bar)
    except (KeyboardInterrupt, Cancelled):
        status, code, results = "interrupted", 1, []
    except MemoryError:
        status, code, results = "failed: out of memory", 1, []
    finally:
        bar.close()
        if writer:
            writer.end(status)
            writer.close()
    if code:
        kept = f"; finished replications are kept in {args.out}" if args.out else ""
        print(f"app.sim: run {status}{kept}", file=sys.stderr)
        return code
    print(format_summary(summarise(model, results), model))
    if args.out:
        print(f"\nresults written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
