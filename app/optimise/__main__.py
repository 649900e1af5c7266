"""``python -m app.optimise``: the optimiser from a shell.

``qap INSTANCE.dat [--seconds S] [--seed N]`` solves a QAPLIB-format instance and ends with one JSON line
``{"n": …, "value": …, "permutation": [1-based …], "seconds": …}``.

``layout FACTORY [--move IDS | --move-all] [--group IDS]… [--region x0,y0,x1,y1] [--slots x,y;x,y…]
[--seconds S] [--seed N] [--validate K] --out RESULT.json`` searches layouts (`app.optimise.layout`),
simulates the best K against the current one (`app.optimise.validate`), writes the result file a view
reopens and applies, and ends with one JSON line summing it up. Bad input exits with status 2 and one line
saying why.

``params FACTORY --var ID:KIND=LOW..HIGH[/STEP]… [--objective O]… [--budget buffers<=B|cost<=C]… [--seconds S]
[--replications N] [--dask ADDR] --out RESULT.json`` chooses buffer sizes, servers, release rates or transport
speeds by simulation (`app.optimise.params`) and proves the best by ranking and selection; same conventions.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence

from app.optimise.layout_cli import add_layout_parser, run_layout
from app.optimise.params_cli import add_params_parser, run_params
from app.optimise.qap import Progress, read_qaplib, solve


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app.optimise",
        description="floortwin's optimiser, headless.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{qap,layout,params}")
    qap = sub.add_parser(
        "qap",
        help="solve a QAPLIB-format quadratic assignment instance (the layout search's yardstick)",
        description="Solve a QAPLIB-format instance (n, then the flow and the distance matrix) by robust tabu "
        "search; ends by printing one JSON line {n, value, permutation (1-based), seconds}.",
    )
    qap.add_argument("instance", help="the .dat file: n, then two n×n matrices (spacing and line breaks free)")
    qap.add_argument("--seconds", type=float, default=10.0, help="time limit (default 10)")
    qap.add_argument("--seed", type=int, default=None, help="random seed (default: a fresh one)")
    qap.add_argument("--target", type=float, default=None, help="stop as soon as a cost ≤ TARGET is found")
    qap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    add_layout_parser(sub)
    add_params_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "layout":
        return run_layout(args)
    if args.command == "params":
        return run_params(args)
    if not (math.isfinite(args.seconds) and args.seconds > 0):
        _parser().error(f"--seconds must be a positive number, not {args.seconds:g}")
    try:
        instance = read_qaplib(args.instance)
    except (OSError, ValueError) as e:
        print(f"python -m app.optimise qap: {e}", file=sys.stderr)
        return 2  # a file that cannot be read is a bad argument, as for main.py

    def report(p: Progress) -> None:
        print(f"\r{p.seconds:6.1f} s  {p.iteration:9d} iterations  best {p.best_value:.12g}", end="", file=sys.stderr)

    result = solve(
        instance.flow,
        instance.distance,
        seconds=args.seconds,
        seed=args.seed,
        target=args.target,
        progress=None if args.quiet else report,
    )
    if not args.quiet:
        print(file=sys.stderr)
    line = {
        "n": instance.n,
        "value": result.value,
        "permutation": [int(i) + 1 for i in result.permutation],
        "seconds": round(result.seconds, 3),
    }
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
