"""Where a change began, and the observations since: the maximum-likelihood change point of a mean shift.

A CUSUM's last zero is the change point's estimate only for the shift it is tuned to (``2k``, one standard
deviation): a larger step is preceded in its sum by a few pre-change observations that happened to lie
above ``k``, and a mean taken since that zero is diluted by them (a +50% step first read as +29 ± 11%).
Among the observations since the alarming sum's last zero, the change point is taken where a shift of the
standardised mean (0 before, unknown after) is most likely (Hinkley 1971; Montgomery §9.1)::

    τ̂ = argmax_m  (Σ_{i ≥ m} zᵢ)² / (n − m)        (the sum on the alarm's side)

and the size of the change is measured on the observations from ``τ̂`` on only. The estimate moves while
observations come in: ``ChangeWindow`` keeps them (up to ``MAX_WINDOW``, then the change point stays
where it was and later observations only add to the mean).

Examples
--------
>>> change_point([0.3, 1.4, 0.2, 4.1, 3.8, 4.3], side=1)  # the sum's last zero was before 0.3
3
>>> w = ChangeWindow(1, [(270.0, 0.3, 0.0), (290.0, 1.4, 1.0), (275.0, 0.2, 2.0), (405.0, 4.1, 3.0)])
>>> w.add(400.0, 3.8, 4.0)
>>> w.post()
(2, 805.0, 324025.0, 3.0)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

#: Observations a change's window keeps for its change point; later ones only add to the mean since it.
MAX_WINDOW = 4096


def change_point(z: Sequence[float], side: int) -> int:
    """The index of the first observation after the most likely change of ``z``'s mean in direction
    ``side`` (+1 up, −1 down) from 0; ``len(z) - 1`` when no part of ``z`` moved that way."""
    best, best_at, s = -1.0, len(z) - 1, 0.0
    for m in range(len(z) - 1, -1, -1):
        s += side * z[m]
        if s > 0.0:
            score = s * s / (len(z) - m)
            if score >= best:  # ties: the earlier start (more observations behind the size)
                best, best_at = score, m
    return max(best_at, 0)


class ChangeWindow:
    """The observations since an alarming CUSUM side's last zero (and every one after), with the change
    point re-estimated from all of them each time it is asked for."""

    __slots__ = ("_cache", "first", "side", "tail", "ts", "xs", "zs")

    def __init__(self, side: int, observations: Iterable[tuple[float, float, float]]):
        self.side = side
        self.xs: list[float] = []
        self.zs: list[float] = []
        self.ts: list[float] = []
        self.tail = [0, 0.0, 0.0]  # n, Σx, Σx² beyond MAX_WINDOW
        self._cache: tuple[int, tuple[int, float, float, float]] | None = None
        for x, z, t in observations:
            self.add(x, z, t)
        self.first = len(self.xs)  # how many were in when the change was found

    def later(self) -> tuple[int, float, float]:
        """(n, Σx, Σx²) of the observations made after the change was found."""
        xs = self.xs[self.first :]
        return len(xs) + int(self.tail[0]), sum(xs) + self.tail[1], sum(x * x for x in xs) + self.tail[2]

    def add(self, x: float, z: float, t: float) -> None:
        """One more observation (``x`` raw, ``z`` standardised, made at ``t``)."""
        if len(self.xs) < MAX_WINDOW:
            self.xs.append(x)
            self.zs.append(z)
            self.ts.append(t)
        else:
            self.tail[0] += 1
            self.tail[1] += x
            self.tail[2] += x * x

    def post(self) -> tuple[int, float, float, float]:
        """(n, Σx, Σx², time of the first) of the observations since the estimated change point."""
        size = len(self.xs) + int(self.tail[0])
        if self._cache is not None and self._cache[0] == size:
            return self._cache[1]
        m = change_point(self.zs, self.side)
        xs = self.xs[m:]
        n = len(xs) + int(self.tail[0])
        out = (n, sum(xs) + self.tail[1], sum(x * x for x in xs) + self.tail[2], self.ts[m])
        self._cache = (size, out)
        return out
