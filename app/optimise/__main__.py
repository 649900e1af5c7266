"""``python -m app.optimise``: the optimiser from a shell.

``qap INSTANCE.dat [--seconds S] [--seed N]`` solves a QAPLIB-format instance and ends with one JSON line
``{"n": …, "value": …, "permutation": [1-based …], "seconds": …}``; the layout and scenario optimisers
(``layout``, ``params``) are planned and not yet available.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from app.optimise.qap import Progress, read_qaplib, solve

_NOT_YET = {
    "layout": "the layout optimiser (movable machines, region, slots, collision-checked candidates) is not available yet",
    "params": "the scenario-parameter optimiser (buffers, servers, WIP cap, proven by replications) is not available yet",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app.optimise",
        description="floortwin's optimiser, headless.",
        epilog="Planned, not yet available: 'layout FACTORY' (layout optimiser) and 'params FACTORY' (scenario "
        "parameters). Today only 'qap' runs.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{qap}")
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
    for name, text in _NOT_YET.items():
        sub.add_parser(name, help=f"(not yet available) {text}", add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args, rest = _parser().parse_known_args(argv)
    if args.command in _NOT_YET:
        print(f"python -m app.optimise {args.command}: {_NOT_YET[args.command]}.", file=sys.stderr)
        return 2
    if rest:
        _parser().error(f"unrecognized arguments: {' '.join(rest)}")
    if args.seconds <= 0:
        _parser().error("--seconds must be positive")
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
