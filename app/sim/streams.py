"""Random durations drawn in batches from independent, seeded numpy streams.

Drawing one number at a time from numpy costs about a microsecond; drawing 4,096 at once costs a few
nanoseconds each, and handing them out through a generator's ``__next__`` is a C call. Every station and
every source gets its own stream spawned from the replication's seed, so changing one machine does not
shift the random numbers of the others (common random numbers for what-if comparisons).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator

import numpy as np

from app.model.distributions import PARAMETERS, natural_mean
from app.model.factory import Distribution

BATCH = 4096
#: The first batch: a short run (a forecast of an hour) draws a few dozen numbers per stream, not 4,096.
FIRST_BATCH = 64


def _batches(draw: Callable[[int], np.ndarray]) -> Iterator[float]:
    # Growing batches draw the very same numbers as fixed ones: numpy's generators fill arrays in sequence.
    n = FIRST_BATCH
    while True:
        yield from draw(n).tolist()
        n = min(2 * n, BATCH)


def sampler(dist: Distribution, rng: np.random.Generator) -> Callable[[], float]:
    """A zero-argument callable returning durations (seconds) drawn from ``dist`` with ``rng``.

    Examples
    --------
    >>> import numpy as np
    >>> from app.model.factory import Distribution
    >>> s = sampler(Distribution(kind="deterministic", mean_s=5.0), np.random.default_rng(0))
    >>> s(), s()
    (5.0, 5.0)
    >>> e = sampler(Distribution(kind="exponential", mean_s=2.0), np.random.default_rng(0))
    >>> round(sum(e() for _ in range(100_000)) / 100_000, 1)
    2.0
    """
    d = dist
    if d.kind == "deterministic" or (d.kind == "lognormal" and d.cv == 0):
        return itertools.repeat(float(d.mean_s)).__next__
    if d.kind == "exponential":
        return _batches(lambda n: rng.exponential(d.mean_s, n)).__next__
    if d.kind == "lognormal":
        sigma2 = math.log1p(d.cv * d.cv)
        mu, sigma = math.log(d.mean_s) - sigma2 / 2, math.sqrt(sigma2)
        return _batches(lambda n: rng.lognormal(mu, sigma, n)).__next__
    return _batches(lambda n: draw(d, rng, n)).__next__


def draw(dist: Distribution, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` durations (seconds) from ``dist`` drawn with ``rng``.

    A kind whose mean follows from its parameters (uniform, triangular, Weibull, empirical) is scaled to
    ``mean_s`` when that was changed afterwards (a what-if's new cycle time scales the whole distribution).

    Examples
    --------
    >>> import numpy as np
    >>> from app.model.factory import Distribution
    >>> x = draw(Distribution(kind="triangular", min_s=10.0, mode_s=20.0, max_s=60.0), np.random.default_rng(0), 100_000)
    >>> round(float(x.mean())), float(x.min()) >= 10.0, float(x.max()) <= 60.0
    (30, True, True)
    """
    d = dist
    if d.kind == "deterministic" or (d.kind == "lognormal" and d.cv == 0):
        return np.full(n, float(d.mean_s))
    if d.kind == "exponential":
        return rng.exponential(d.mean_s, n)
    if d.kind == "lognormal":
        sigma2 = math.log1p(d.cv * d.cv)
        return rng.lognormal(math.log(d.mean_s) - sigma2 / 2, math.sqrt(sigma2), n)
    if d.kind == "gamma":  # shape 1/cv², scale mean·cv²: mean and cv as given
        return rng.gamma(1.0 / (d.cv * d.cv), d.mean_s * d.cv * d.cv, n)
    if d.kind == "erlang":  # the sum of `phases` exponential phases of mean mean_s/phases
        assert d.phases is not None
        return rng.gamma(float(d.phases), d.mean_s / d.phases, n)
    if d.kind == "uniform":
        assert d.min_s is not None and d.max_s is not None
        x = rng.uniform(d.min_s, d.max_s, n)
    elif d.kind == "triangular":
        assert d.min_s is not None and d.mode_s is not None and d.max_s is not None
        x = rng.triangular(d.min_s, d.mode_s, d.max_s, n)
    elif d.kind == "weibull":
        assert d.shape is not None and d.scale_s is not None
        x = d.scale_s * rng.weibull(d.shape, n)
    else:
        x = rng.choice(np.asarray(d.samples_s, dtype=float), n)
    if d.kind != "empirical":
        mean = natural_mean(d.kind, {p: getattr(d, p) for p in PARAMETERS[d.kind]})
        if d.mean_s != mean:
            x *= d.mean_s / mean
    return x


def exponential(mean_s: float, rng: np.random.Generator) -> Callable[[], float]:
    """A sampler of exponential durations with this mean."""
    return sampler(Distribution(kind="exponential", mean_s=mean_s), rng)


def uniform(rng: np.random.Generator) -> Callable[[], float]:
    """A sampler of uniform numbers in [0, 1) (quality checks: scrap or rework)."""
    return _batches(lambda n: rng.random(n)).__next__
