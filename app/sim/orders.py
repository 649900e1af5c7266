"""Orders still waiting at a source when a replication ends.

A source's backlog is not stored order by order: the engine keeps the arrival time of the next order to
admit, and the orders behind it are drawn from the source's stream when they are admitted. At the end,
the ones that arrived but were never admitted are counted here.
"""

from __future__ import annotations

from collections.abc import Callable

#: Orders past which the ones still waiting at the end are counted by their rate rather than one by one.
_COUNT_ONE_BY_ONE = 2_000_000


def _by_rate(first: float, end_t: float, warmup: float, mean: float) -> tuple[int, int, float]:
    """``waiting_orders`` for orders arriving at the mean rate from ``first``: those that arrived by the warm-up's
    end wait the whole measured window, the later ones half of what is left on average."""
    n = int((end_t - first) / mean) + 1
    n_w = min(n, int((warmup - first) / mean) + 1) if warmup >= first else 0
    lo = max(first, warmup)
    area = n_w * max(end_t - warmup, 0.0) + ((n - n_w) * (end_t - lo) / 2 if end_t > lo else 0.0)
    return n, n_w, area


def waiting_orders(first: float, end_t: float, warmup: float, draw: Callable[[], float], mean_s: float) -> tuple[int, int, float]:
    """Orders a source received from ``first`` (its next order) up to ``end_t`` that were not admitted:
    how many, how many by the warm-up's end, and ∫ of their waiting after the warm-up.

    Drawn one by one from the source's stream; a backlog of millions (demand far beyond capacity, or times
    too short to add to the clock) is counted from the mean rate instead, which the law of large numbers
    makes exact to a fraction of a percent.

    Examples
    --------
    Orders every 10 s from t = 5 s, none admitted, counted at t = 35 s after a 12 s warm-up: four orders
    (5, 15, 25, 35), one of them by the warm-up's end, waiting 23 + 20 + 10 + 0 s after it.

    >>> waiting_orders(5.0, 35.0, 12.0, lambda: 10.0, 10.0)
    (4, 1, 53.0)
    """
    if first > end_t:
        return 0, 0, 0.0
    mean = float(mean_s)
    if (end_t - first) / mean > _COUNT_ONE_BY_ONE:
        return _by_rate(first, end_t, warmup, mean)
    n = n_w = 0
    area = 0.0
    a = first
    while a <= end_t:
        n += 1
        if a <= warmup:
            n_w += 1
        area += end_t - max(a, warmup)
        nxt = a + draw()
        if nxt <= a:  # the time between orders is lost in the clock's precision: count the rest by rate
            more, more_w, more_area = _by_rate(a + mean, end_t, warmup, mean) if a + mean <= end_t else (0, 0, 0.0)
            return n + more, n_w + more_w, area + more_area
        a = nxt
    return n, n_w, area
