"""``python -m app.sim run FACTORY|SCENARIO --horizon 7d --replications 20 --out RESULTS.sqlite``

Runs a production simulation (of a factory file, or of a what-if scenario file: its factory with its
changes and run settings) headless with a progress bar and prints the KPIs with 95% confidence
intervals. Exit codes: 0 done, 1 failed or interrupted (finished replications are kept), 2 bad input.
Output piped into a program that stops reading (``| head``) ends the run quietly.
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import sys
import time
from pathlib import Path

from app.model.io import load_factory
from app.model.problems import FactoryFileError
from app.sim.engine import Cancelled
from app.sim.kpis import format_summary, summarise
from app.sim.model import DEFAULT_SAMPLE_S, OPTION_NAMES, RUN_SETTING_NAMES, SimInputError, compile_model
from app.sim.numbers import format_duration
from app.sim.results import ResultsWriter
from app.sim.runner import default_workers, run_replications
from app.sim.scenario import ScenarioError, apply, describe, is_scenario_file, load_scenario

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


def _error(text: str) -> int:
    print(f"app.sim: error: {text}", file=sys.stderr)
    return 2


def _problems(e: SimInputError | ScenarioError, file_name: str) -> int:
    """Every problem on its own line: a command-line option's by the option, the file's by the file."""
    for problem in e.problems:
        source = e.source if isinstance(e, ScenarioError) and e.source else file_name
        where = "" if problem.path.startswith("--") else f"{source}: "
        _error(f"{where}{problem}")
    return 2


def _check_out(path: str) -> str | None:
    """Why results cannot be written to ``path`` (None: they can)."""
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        return f"--out {path}: folder {folder} does not exist"
    if Path(path).is_dir():
        return f"--out {path}: is a folder, not a file"
    if not os.access(folder, os.W_OK):
        return f"--out {path}: folder {folder} is not writable"
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the command line; output cut off by a closed pipe ends it quietly."""
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader (``| head``) has gone: say nothing more, and keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _main(argv: list[str] | None = None) -> int:
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
    # Every problem is listed, the options' first: one bad option does not hide the others.
    option_problems = [f"--workers: must be ≥ 1, got {args.workers}"] if args.workers < 1 else []
    if args.out and (why := _check_out(args.out)):
        option_problems.append(why)
    for text in option_problems:
        _error(text)

    heading = ""  # what was run, when it is a scenario: its name and every change
    try:
        if is_scenario_file(args.factory):
            scenario = load_scenario(args.factory)
            factory = apply(scenario)
            factory = factory.model_copy(update={"name": f"{factory.name} — {scenario.name}"})
            base = f" of {Path(scenario.base_path).name}" if scenario.base_path else ""
            changes = [f"  {describe(c)}" for c in scenario.changes] or ["  (no changes)"]
            heading = "\n".join([f'Scenario "{scenario.name}"{base}:', *changes, ""]) + "\n"

            def given(cli, own):
                return cli if cli is not None else own

            # a value from the command line is named by its option, one from the scenario by its own field
            names = {k: OPTION_NAMES[k] if getattr(args, k) is not None else RUN_SETTING_NAMES[k] for k in OPTION_NAMES}
            model = compile_model(
                factory,
                given(args.horizon, scenario.horizon_s),
                given(args.warmup, scenario.warmup_s),
                given(args.replications, scenario.replications),
                given(args.seed, scenario.seed),
                args.sample,
                names=names,
            )
        else:
            factory = load_factory(args.factory)
            model = compile_model(
                factory, args.horizon, args.warmup, args.replications, args.seed, args.sample, names=OPTION_NAMES
            )
    except FactoryFileError as e:
        for line in e.details().splitlines():  # every problem, not the first "and N more"
            _error(line)
        return 2
    except ScenarioError as e:
        return _problems(e, Path(args.factory).name)
    except SimInputError as e:
        return _problems(e, Path(args.factory).name)
    if option_problems:
        return 2

    try:
        writer = ResultsWriter(args.out) if args.out else None
    except sqlite3.Error as e:
        return _error(f"--out {args.out}: cannot write a results file there ({e})")
    if writer:
        writer.begin(factory.name, model)
    if model.replications < model.requested_replications:
        print(
            f"app.sim: the model has no randomness (fixed times, no failures): its {model.requested_replications} "
            "replications would be identical, so one is run",
            file=sys.stderr,
        )
    bar = ProgressBar(
        f"{model.replications} replication{'s' if model.replications != 1 else ''} × {format_duration(model.horizon_s)}"
    )
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
    print(heading + format_summary(summarise(model, results), model))
    if args.out:
        print(f"\nresults written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
