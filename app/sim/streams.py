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
    samples = np.asarray(d.samples_s, dtype=float)
    return _batches(lambda n: rng.choice(samples, n)).__next__


def exponential(mean_s: float, rng: np.random.Generator) -> Callable[[], float]:
    """A sampler of exponential durations with this mean."""
    return sampler(Distribution(kind="exponential", mean_s=mean_s), rng)
