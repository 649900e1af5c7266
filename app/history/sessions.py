"""When the history was recording: the link's connected periods, and lines broken where it was not."""

from __future__ import annotations

import math
import sqlite3

import numpy as np

from app.history.recorder import History, connect


def connected_periods(history: History, t0: float = -math.inf, t1: float = math.inf) -> list[tuple[float, float]]:
    """The periods (start, end) in which the link was up and values were recorded, overlapping [t0, t1], in
    time order. A period still open ends at ``math.inf``. A history without link events (recorded by an
    older version, or made by hand) is one period from the first sample on."""
    try:
        con = connect(history.path, readonly=True)
    except sqlite3.Error:
        return []
    with con:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'link'").fetchone():
            events = []
        else:
            events = con.execute("SELECT t, state FROM link ORDER BY t, rowid").fetchall()
    if not events:
        return [(-math.inf, math.inf)]
    periods: list[tuple[float, float]] = []
    start: float | None = None
    for t, state in events:
        if state == "connected" and start is None:
            start = t
        elif state != "connected" and start is not None:
            periods.append((start, t))
            start = None
    if start is not None:
        periods.append((start, math.inf))
    return [(a, b) for a, b in periods if b >= t0 and a <= t1]


def break_at_gaps(
    t: np.ndarray, v: np.ndarray, periods: list[tuple[float, float]], until: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Times and values for a line that stops where the recording stopped: the last value of a period holds
    until the link went down, then a NaN breaks the line until the next period's first value. With
    ``until`` the last value also holds up to then (or to its period's end, if sooner): a subscription only
    reports changes, so a value that has not changed is still the value.

    >>> x, y = break_at_gaps(np.array([1.0, 2.0, 12.0]), np.array([5.0, 6.0, 7.0]), [(0, 4), (10, math.inf)])
    >>> x.tolist(), y.tolist()
    ([1.0, 2.0, 4.0, 4.0, 12.0], [5.0, 6.0, 6.0, nan, 7.0])
    >>> break_at_gaps(np.array([1.0]), np.array([5.0]), [(0, math.inf)], until=9.0)[0].tolist()
    [1.0, 9.0]
    """
    if len(t) == 0 or not periods:
        return t, v
    ends = np.array([b for _a, b in periods[:-1]])
    starts = np.array([a for a, _b in periods[1:]])
    gaps = [(e, s) for e, s in zip(ends, starts, strict=True) if s > e]
    if periods[-1][1] != math.inf:
        gaps.append((periods[-1][1], math.inf))
    g0 = np.array([g for g, _ in gaps])
    after = np.searchsorted(t, g0, side="right")  # the first sample after each gap began
    keep = (after >= 1) & (after < len(t))
    after, g0 = after[keep], g0[keep]
    after, first = np.unique(after, return_index=True)  # several gaps between two samples: one break
    g0 = g0[first]
    x = np.insert(t.astype(float), np.repeat(after, 2), np.repeat(g0, 2))
    y = np.insert(v.astype(float), np.repeat(after, 2), np.column_stack([v[after - 1], np.full(len(after), np.nan)]).ravel())
    if until is not None:
        later_gaps = [g for g, _ in gaps if g >= t[-1]]
        hold = min([until, *later_gaps])
        if hold > t[-1]:
            x, y = np.append(x, hold), np.append(y, float(v[-1]))
    return x, y
