"""Where a part goes after each step of its route, as the engine reads it: one lookup on a line, one draw at a
branch (``SimModel.branches``), with the travel time to the next station found once, here.

Examples
--------
>>> from app.sim.model import compile_model
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> t = route_tables(compile_model(load_factory(DEMO_FACTORY)))
>>> t.next_step[0][-1] == OUT and not t.branches[0]
True
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from app.model.routing import OUT
from app.sim.model import SimModel

#: ``RouteTables.next_step`` of a step after which the next one is drawn.
BRANCH = -2

__all__ = ["BRANCH", "OUT", "RouteTables", "route_tables"]


@dataclass(frozen=True)
class Branch:
    """The options after one step: cumulative probabilities, the steps they lead to (``OUT``: leave the line)
    and the travel time to each."""

    cumulative: list[float]
    steps: list[int]
    travel_s: list[float]

    def draw(self, u: float) -> tuple[int, float]:
        """The step (and travel time) a uniform draw ``u`` in [0, 1) picks."""
        k = min(bisect.bisect_right(self.cumulative, u), len(self.steps) - 1)
        return self.steps[k], self.travel_s[k]


@dataclass(frozen=True)
class RouteTables:
    """Per source (part flow) and step of its route: the next step (``OUT``, or ``BRANCH`` to draw from
    ``branches``) and the travel time to it."""

    next_step: list[list[int]]
    next_travel_s: list[list[float]]
    branches: list[dict[int, Branch]]


def route_tables(model: SimModel) -> RouteTables:
    """The engine's tables of ``model``'s routes (travel: the transport path's length over its speed, 0 without
    one)."""
    travel = model.transport_s
    next_step, next_travel, branches = [], [], []
    for k, route in enumerate(model.routes):
        n = len(route)
        steps = [p + 1 if p + 1 < n else OUT for p in range(n)]
        times = [travel.get((route[p], route[p + 1]), 0.0) if p + 1 < n else 0.0 for p in range(n)]
        drawn: dict[int, Branch] = {}
        for at, options in (model.branches[k] if k < len(model.branches) else {}).items():
            cumulative, total = [], 0.0
            for q, _ in options:
                total += q
                cumulative.append(total)
            to = [j for _, j in options]
            to_travel = [travel.get((route[at], route[j]), 0.0) if j != OUT else 0.0 for j in to]
            if len(to) == 1:  # one way on (a jump): nothing to draw
                steps[at], times[at] = to[0], to_travel[0]
                continue
            drawn[at] = Branch(cumulative, to, to_travel)
            steps[at], times[at] = BRANCH, 0.0
        next_step.append(steps)
        next_travel.append(times)
        branches.append(drawn)
    return RouteTables(next_step, next_travel, branches)
