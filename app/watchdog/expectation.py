"""What the model expects of an observed duration, as a transform to a standard normal z-score.

While the plant matches its model, ``z = Φ⁻¹(F(x))`` — F the model's distribution function of the
duration — is standard normal whatever the distribution (the probability integral transform), so one
CUSUM threshold serves cycle times, times between failures and repair times alike. A lognormal time is
exactly a shifted and scaled normal in its logarithm; an exponential one (failures, repairs, arrivals)
goes through its closed-form F; gamma, Erlang, uniform, triangular and Weibull times through SciPy's
distribution of the same parameters; an empirical one through its samples' mid-rank distribution. A
deterministic time has no spread of its own: it gets a measurement tolerance (``DETERMINISTIC_CV``).

Examples
--------
>>> from app.model.factory import Distribution
>>> e = expectation_of(Distribution(kind="lognormal", mean_s=240.0, cv=0.1))
>>> round(e.z(240.0), 3), round(e.z(264.0), 2)  # the median is a little below the mean; +10% ≈ +1 σ
(0.05, 1.01)
>>> abs(round(expectation_of(Distribution(kind="exponential", mean_s=100.0)).z(100 * math.log(2)), 6))  # the median
0.0
>>> u = expectation_of(Distribution(kind="uniform", min_s=100.0, max_s=200.0))
>>> abs(round(u.z(150.0), 6)), round(u.cv, 4), [round(v, 3) for v in u.limits(0.02)]  # median; 1% in each tail
(0.0, 0.1925, [101.0, 199.0])
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any

from scipy import stats
from scipy.special import ndtri
from scipy.stats import poisson

from app.model.distributions import PARAMETERS, natural_mean
from app.model.factory import Distribution

#: The spread assumed for a time the model calls deterministic (a coefficient of variation): real
#: machines vary a little, and a CUSUM needs a scale. Documented in docs/closed-loop.md.
DETERMINISTIC_CV = 0.02
#: z-scores are clipped here: one absurd reading moves the sums by at most this much.
Z_LIMIT = 8.0


@dataclass(frozen=True)
class Expectation:
    """The model's distribution of one observed duration: its mean, its CV, and the z transform."""

    kind: str
    mean_s: float
    cv: float
    mu_log: float = 0.0  # lognormal: mean and standard deviation of ln x
    sigma_log: float = 1.0
    samples: tuple[float, ...] = ()
    rv: Any = field(default=None, compare=False)  # a SciPy frozen distribution (gamma, Erlang, uniform, …)

    def z(self, x: float) -> float:
        """The observation as a standard normal score under the model (clipped to ±``Z_LIMIT``)."""
        kind = self.kind
        if self.rv is not None:  # through whichever tail is the smaller, so both stay accurate
            low = float(self.rv.cdf(x))
            z = float(ndtri(low)) if low < 0.5 else -float(ndtri(float(self.rv.sf(x))))
            return max(-Z_LIMIT, min(Z_LIMIT, z))
        if kind == "poisson":  # a count: its mid-p score (a little under one standard deviation wide)
            p = float(poisson.cdf(x - 1, self.mean_s) + 0.5 * poisson.pmf(x, self.mean_s))
            return max(-Z_LIMIT, min(Z_LIMIT, float(ndtri(p))))
        if not x > 0.0:
            return -Z_LIMIT
        if kind == "lognormal":
            z = (math.log(x) - self.mu_log) / self.sigma_log
        elif kind == "exponential":
            z = -float(ndtri(math.exp(-x / self.mean_s)))  # Φ⁻¹(1 − e^(−x/m)), accurate in both tails
        elif kind == "empirical":
            s = self.samples
            rank = (bisect.bisect_left(s, x) + bisect.bisect_right(s, x)) / 2.0
            z = float(ndtri((rank + 0.5) / (len(s) + 1.0)))
        else:
            z = (x / self.mean_s - 1.0) / DETERMINISTIC_CV
        return max(-Z_LIMIT, min(Z_LIMIT, z))

    def limits(self, alpha: float) -> tuple[float, float]:
        """The single-observation limits ``(lower, upper)`` at false-alarm probability ``alpha``: a plant
        matching the model gives an observation ``≤ lower`` or ``≥ upper`` with probability at most
        ``alpha`` (``alpha / 2`` each side), from the exact tail of the distribution the simulation draws
        from — lognormal and exponential in closed form, a Poisson count from its exact tail (at most
        ``alpha / 2``: a count moves in whole steps), a deterministic time from its tolerance. An empirical
        time has none (``(-inf, inf)``): its samples say nothing of a tail beyond them.

        >>> lo, hi = Expectation("exponential", 100.0, 1.0).limits(2e-4)
        >>> round(lo, 4), round(hi, 1)  # e^(−x/100) = 1e-4 beyond hi, 1 − e^(−x/100) = 1e-4 below lo
        (0.01, 921.0)
        """
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"a false-alarm probability must lie between 0 and 1, got {alpha}")
        q = alpha / 2.0
        limit = -float(ndtri(q))  # the standard normal's upper q quantile
        kind = self.kind
        if self.rv is not None:
            return float(self.rv.ppf(q)), float(self.rv.isf(q))
        if kind == "lognormal":
            return math.exp(self.mu_log - limit * self.sigma_log), math.exp(self.mu_log + limit * self.sigma_log)
        if kind == "exponential":
            return -self.mean_s * math.log1p(-q), -self.mean_s * math.log(q)
        if kind == "poisson":
            # P(X ≥ upper) = sf(upper − 1) ≤ q; P(X ≤ lower) = cdf(lower) ≤ q (−1: a count never below)
            upper = float(poisson.isf(q, self.mean_s)) + 1.0
            lower = float(poisson.ppf(q, self.mean_s))
            return (lower - 1.0 if poisson.cdf(lower, self.mean_s) > q else lower), upper
        if kind == "empirical":
            return -math.inf, math.inf
        return self.mean_s * (1.0 - limit * self.cv), self.mean_s * (1.0 + limit * self.cv)


def expectation_of(dist: Distribution) -> Expectation:
    """The expectation of a duration the model draws from ``dist``."""
    mean = float(dist.mean_s)
    if dist.kind == "lognormal" and dist.cv > 0:
        sigma2 = math.log1p(dist.cv * dist.cv)
        return Expectation("lognormal", mean, float(dist.cv), math.log(mean) - sigma2 / 2, math.sqrt(sigma2))
    if dist.kind == "exponential":
        return Expectation("exponential", mean, 1.0)
    rv = _scipy(dist)
    if rv is not None:
        return Expectation(dist.kind, float(rv.mean()), float(rv.std() / rv.mean()), rv=rv)
    if dist.kind == "empirical" and len(set(dist.samples_s)) > 1:
        samples = tuple(sorted(float(v) for v in dist.samples_s))
        m = sum(samples) / len(samples)
        sd = math.sqrt(sum((v - m) ** 2 for v in samples) / (len(samples) - 1))
        return Expectation("empirical", m, sd / m if m > 0 else 0.0, samples=samples)
    return Expectation("deterministic", mean, DETERMINISTIC_CV)


def _scipy(d: Distribution) -> Any:
    """The distribution the simulation draws a gamma, Erlang, uniform, triangular or Weibull time from
    (``app.sim.streams.draw``: one whose mean follows from its parameters is scaled to ``mean_s``); None
    for the other kinds."""
    if d.kind == "gamma" and d.cv > 0:
        return stats.gamma(1.0 / (d.cv * d.cv), scale=d.mean_s * d.cv * d.cv)
    if d.kind == "erlang" and d.phases:
        return stats.gamma(float(d.phases), scale=d.mean_s / d.phases)
    if d.kind not in ("uniform", "triangular", "weibull"):
        return None
    f = d.mean_s / natural_mean(d.kind, {p: getattr(d, p) for p in PARAMETERS[d.kind]})
    if d.kind == "weibull":
        assert d.shape is not None and d.scale_s is not None
        return stats.weibull_min(d.shape, scale=d.scale_s * f)
    assert d.min_s is not None and d.max_s is not None
    lo, hi = d.min_s * f, d.max_s * f
    if d.kind == "uniform":
        return stats.uniform(lo, hi - lo)
    assert d.mode_s is not None
    return stats.triang((d.mode_s * f - lo) / (hi - lo), lo, hi - lo)


def poisson_count(mean: float) -> Expectation:
    """The expectation of a count of independent events (arrivals in a window) with this mean; its
    ``mean_s`` is the mean count."""
    return Expectation("poisson", float(mean), 1.0 / math.sqrt(mean))


def exponential(mean_s: float) -> Expectation:
    """The expectation of an exponential duration (times between failures, repair times)."""
    return Expectation("exponential", float(mean_s), 1.0)
