"""The layouts no other found layout beats in every objective (a Pareto archive), kept while searching.

>>> import numpy as np
>>> a = Archive()
>>> a.add(State(np.array([10.0, 0, 0, 5]), np.zeros((1, 2))))
True
>>> a.add(State(np.array([8.0, 1, 2, 5]), np.ones((1, 2))))  # less effort, more moving: both kept
True
>>> a.add(State(np.array([9.0, 1, 3, 6]), np.ones((1, 2)) * 2))  # beaten by the second in everything
False
>>> len(a), a.best_effort()
(2, 8.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class State:
    """One layout: its objectives (effort, machines moved, metres moved, area) and its units' positions."""

    objectives: np.ndarray
    pos: np.ndarray


class Archive:
    """Non-dominated layouts (all objectives minimised); a layout equal in every objective to one kept is
    not added twice."""

    def __init__(self, limit: int = 500):
        self._states: list[State] = []
        self._limit = limit

    def __len__(self) -> int:
        return len(self._states)

    def add(self, state: State) -> bool:
        """Keep ``state`` if nothing kept dominates or equals it (dropping those it dominates)."""
        obj = np.round(state.objectives, 9)
        for s in self._states:
            if np.all(s.objectives <= obj):
                return False
        self._states = [s for s in self._states if not np.all(obj <= s.objectives)]
        self._states.append(State(obj, state.pos.copy()))
        if len(self._states) > self._limit:  # keep the spread, drop the crowded middle
            self._states = self.spread(self._limit)
        return True

    def best_effort(self) -> float | None:
        return None if not self._states else float(min(s.objectives[0] for s in self._states))

    def least_effort(self) -> State:
        return min(self._states, key=lambda s: (s.objectives[0], s.objectives[1]))

    def spread(self, n: int) -> list[State]:
        """At most ``n`` kept layouts spread along the effort axis, the least effort always among them."""
        ordered = sorted(self._states, key=lambda s: (s.objectives[0], s.objectives[1], s.objectives[2]))
        if len(ordered) <= n:
            return ordered
        picks = np.unique(np.round(np.linspace(0, len(ordered) - 1, n)).astype(int))
        return [ordered[i] for i in picks]
