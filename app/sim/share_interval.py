"""A share of time (0–1) over replications, with a 95% interval that stays within 0–1, and how many
replications a share too uncertain to show would need (used by the shifting-bottleneck shares,
``app.sim.bottleneck``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from app.sim.kpis import Estimate, estimate
from app.sim.numbers import round_to_interval

#: A share's 95% interval wider than ± this (25 points) says too little to be shown: the share reads "not enough
#: data — needs ≥ N replications" instead, N from the spread seen (``replications_needed``).
MAX_HALF_WIDTH = 0.25


@dataclass(frozen=True)
class ShareEstimate(Estimate):
    """A share (0–1) over replications: the mean and the Student t 95% interval, its ends clipped to [0, 1].

    Why clipped t: the t interval is what every other figure of a run uses (and how they are rounded), and the
    part of it below 0 or above 1 holds only impossible values — cutting it off keeps every possible value
    the t interval covers, so its coverage is not lowered. A Wilson interval assumes Bernoulli counts, which a
    replication's share of time (autocorrelated, one value per replication) is not; a logit interval breaks
    on the shares of exactly 0 or 1 that replications often give (a machine never, or always, the
    bottleneck). ``needed``: 0 when the interval is at most ± ``MAX_HALF_WIDTH``; else the replications the
    observed spread would need to get there, and the share is not shown.

    >>> ShareEstimate(0.16, 0.2, 3).format("%", 100)
    '16% (0–36%)'
    >>> ShareEstimate(0.16, 0.58, 3, needed=6).format("%", 100)
    'not enough data — needs ≥ 6 replications'
    """

    needed: int = 0

    @property
    def low(self) -> float:
        return max(self.mean - self.half_width, 0.0)

    @property
    def high(self) -> float:
        return min(self.mean + self.half_width, 1.0)

    @property
    def enough(self) -> bool:
        """The share is known well enough to be shown (a finite interval within ± ``MAX_HALF_WIDTH``)."""
        return bool(self.n) and math.isfinite(self.mean) and not self.needed

    def short(self) -> str:
        """A table cell's text: the share in percent, or "needs ≥ N replications" (the table's note says why)."""
        return f"needs ≥ {self.needed} replications" if self.needed else self.format("%", 100.0)

    def format(self, unit: str = "", scale: float = 1.0) -> str:
        """``62 ± 5%``; ``16% (0–36%)`` when the interval reaches 0 or 100%; "not enough data — needs ≥ N
        replications" when it is wider than ± ``MAX_HALF_WIDTH``."""
        if self.needed:
            return f"not enough data — needs ≥ {self.needed} replications"
        clipped = self.mean - self.half_width < 0 or self.mean + self.half_width > 1
        if not (math.isfinite(self.half_width) and self.half_width > 0 and clipped):
            return super().format(unit, scale)
        m, _ = round_to_interval(self.mean * scale, self.half_width * scale)
        places = len(m.partition(".")[2])
        lo, hi = (f"{v * scale:g}" if v in (0.0, 1.0) else f"{v * scale:.{places}f}" for v in (self.low, self.high))
        return f"{m}% ({lo}–{hi}%)" if unit == "%" else f"{m} ({lo}–{hi})" + (f" {unit}" if unit else "")


def replications_needed(half_width: float, n: int, precision: float = MAX_HALF_WIDTH) -> int:
    """The replications that would bring a 95% t interval of ± ``half_width`` over ``n`` replications within
    ± ``precision``, if the spread between replications stays as observed.

    >>> replications_needed(0.58, 3)
    6
    """
    from scipy import stats  # imported on first use, as app.sim.kpis.estimate does

    if half_width <= precision:
        return 0
    if n < 2 or not math.isfinite(half_width):  # no spread seen yet: one more replication at least
        return max(n + 1, 2)
    spread = half_width * math.sqrt(n) / float(stats.t.ppf(0.975, n - 1))
    m = max(n + 1, math.ceil((1.959964 * spread / precision) ** 2))  # the normal bound: t only needs more
    while float(stats.t.ppf(0.975, m - 1)) * spread / math.sqrt(m) > precision:
        m += 1
    return m


def share_estimate(values: Sequence[float], exact: bool = False) -> ShareEstimate:
    """A share over replications (``exact``: one replication of a model without randomness, interval 0)."""
    e = estimate(values)
    half = 0.0 if exact and e.n == 1 else e.half_width
    needed = replications_needed(half, e.n) if e.n >= 2 and half > MAX_HALF_WIDTH else 0
    return ShareEstimate(e.mean, half, e.n, needed)
