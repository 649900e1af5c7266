"""The two-sided CUSUM on standardised observations, and its alarm level from a false-alarm rate.

Each observation is first turned into a z-score that is standard normal while the plant matches its
model (:mod:`app.watchdog.expectation`). Two sums then watch for a shift of the mean up and down::

    S⁺ₙ = max(0, S⁺ₙ₋₁ + zₙ − k)        S⁻ₙ = max(0, S⁻ₙ₋₁ − zₙ − k)

and an alarm is raised when either reaches ``h``. ``k`` is half the shift (in standard deviations) the
chart is tuned to (``k = 0.5``: a one-sigma shift, e.g. +10% on a cycle time with a CV of 0.1). The last
time the alarming sum stood at 0 is the change point's estimate (Page 1954; Montgomery, *Introduction to
Statistical Quality Control*, §9.1).

``h`` comes from the wanted average run length under control ARL₀ (observations between false alarms)
through Siegmund's approximation (Siegmund 1985, *Sequential Analysis*, p. 27) of a one-sided chart's
ARL for a mean shift ``μ`` (Δ = μ − k, b = h + 1.166)::

    ARL(Δ) ≈ (exp(−2Δb) + 2Δb − 1) / (2Δ²)          (b² when Δ = 0)

and the two-sided chart's 1/ARL = 1/ARL⁺ + 1/ARL⁻. For standard normal data it is within a few per cent
of the exact run length (``tests/watchdog/test_cusum.py`` checks it by simulation).

Examples
--------
>>> h = threshold_for_arl(10_000, k=0.5)
>>> round(h, 2), round(arl_two_sided(h, 0.5))
(8.05, 10000)
>>> round(arl_two_sided(h, 0.5, shift=1.0), 1)  # a one-sigma shift is found after about 16 observations
16.4
"""

from __future__ import annotations

import math

from scipy.optimize import brentq

#: Siegmund's correction of the threshold for the overshoot of a normal random walk.
OVERSHOOT = 1.166


def arl_one_sided(h: float, k: float, shift: float = 0.0) -> float:
    """Siegmund's approximation of the average run length of the upper CUSUM ``max(0, S + z − k) ≥ h``
    on N(``shift``, 1) data."""
    delta = shift - k
    b = h + OVERSHOOT
    if abs(delta) < 1e-9:
        return b * b
    x = 2.0 * delta * b
    if x < -700:  # exp overflow: the run length is astronomically long
        return math.inf
    return (math.exp(-x) + x - 1.0) / (2.0 * delta * delta)


def arl_two_sided(h: float, k: float, shift: float = 0.0) -> float:
    """The average run length of the two-sided CUSUM (alarm when either sum reaches ``h``)."""
    up, down = arl_one_sided(h, k, shift), arl_one_sided(h, k, -shift)
    return 1.0 / (1.0 / up + 1.0 / down)


def threshold_for_arl(arl0: float, k: float = 0.5) -> float:
    """The alarm level ``h`` of a two-sided CUSUM whose in-control run length averages ``arl0`` observations."""
    if not (arl0 > 2 and math.isfinite(arl0)):
        raise ValueError(f"the average run length must be a finite number of observations > 2, got {arl0}")
    if k <= 0:
        raise ValueError(f"the reference value k must be > 0, got {k}")
    return float(brentq(lambda h: math.log(arl_two_sided(h, k)) - math.log(arl0), 1e-6, 200.0, xtol=1e-9))


def moments_of(n: int, sx: float, sxx: float) -> tuple[int, float, float]:
    """(n, mean, sample standard deviation) from n, Σx and Σx² (NaN where there are too few values)."""
    if n == 0:
        return 0, math.nan, math.nan
    mean = sx / n
    if n == 1:
        return 1, mean, math.nan
    return n, mean, math.sqrt(max((sxx - n * mean * mean) / (n - 1), 0.0))


class Cusum:
    """A two-sided CUSUM fed one z-score at a time, O(1) per observation.

    Besides the two sums it keeps, for each side, what happened since that sum last stood at 0: how many
    observations, when the first came, and the sum and sum of squares of their raw values — what a
    detection reports (the change point and the size of the change).

    Examples
    --------
    >>> c = Cusum(k=0.5, h=4.0)
    >>> [c.push(z, x=1.0 + z / 10, t=float(i)) for i, z in enumerate([0.1, -0.2, 2.0, 2.5, 1.8])]
    [0, 0, 0, 0, 1]
    >>> c.side_since(1)
    (3, 2.0)
    """

    __slots__ = ("h", "hi", "k", "lo", "n_hi", "n_lo", "sx_hi", "sx_lo", "sxx_hi", "sxx_lo", "t_hi", "t_lo")

    def __init__(self, k: float, h: float):
        self.k, self.h = k, h
        self.reset()

    def reset(self) -> None:
        """Start again from zero (after recalibration, or once a detection has been dealt with)."""
        self.hi = self.lo = 0.0
        self.n_hi = self.n_lo = 0
        self.t_hi = self.t_lo = math.nan
        self.sx_hi = self.sxx_hi = self.sx_lo = self.sxx_lo = 0.0

    def push(self, z: float, x: float, t: float) -> int:
        """Add observation ``x`` (standardised: ``z``) made at ``t``; +1 or −1 when the upper or lower sum
        reaches ``h`` with it, else 0."""
        k = self.k
        hi = self.hi + z - k
        if hi <= 0.0:
            self.hi, self.n_hi, self.sx_hi, self.sxx_hi = 0.0, 0, 0.0, 0.0
        else:
            if self.n_hi == 0:
                self.t_hi = t
            self.hi = hi
            self.n_hi += 1
            self.sx_hi += x
            self.sxx_hi += x * x
        lo = self.lo - z - k
        if lo <= 0.0:
            self.lo, self.n_lo, self.sx_lo, self.sxx_lo = 0.0, 0, 0.0, 0.0
        else:
            if self.n_lo == 0:
                self.t_lo = t
            self.lo = lo
            self.n_lo += 1
            self.sx_lo += x
            self.sxx_lo += x * x
        if self.hi >= self.h:
            return 1
        if self.lo >= self.h:
            return -1
        return 0

    def side_since(self, side: int) -> tuple[int, float]:
        """(observations, time of the first) since the ``side`` (+1 upper, −1 lower) sum last stood at 0."""
        return (self.n_hi, self.t_hi) if side > 0 else (self.n_lo, self.t_lo)

    def sums(self, side: int) -> tuple[int, float, float]:
        """(n, Σx, Σx²) of the raw values since the ``side`` sum last stood at 0."""
        return (self.n_hi, self.sx_hi, self.sxx_hi) if side > 0 else (self.n_lo, self.sx_lo, self.sxx_lo)

    def moments(self, side: int) -> tuple[int, float, float]:
        """(n, mean, sample standard deviation) of the raw values since that side's sum last stood at 0."""
        return moments_of(*self.sums(side))

    def statistic(self, side: int) -> float:
        return self.hi if side > 0 else self.lo
