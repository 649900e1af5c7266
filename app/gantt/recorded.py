"""The state Gantt's bars from a recorded history: each machine's State samples through its state mapping,
each value held until the next one or until the link went down — never across a gap, which is "no data"."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from app.gantt.bars import NO_DATA, GanttBars, merged, tree_order
from app.history.recorder import History
from app.history.sessions import connected_periods
from app.history.state_samples import StateSample, state_samples
from app.model.factory import Factory
from app.state.machine_states import code_in, table_of


def held_intervals(
    samples: Sequence[StateSample],
    table: Mapping[str, str],
    periods: Sequence[tuple[float, float]],
    t0: float,
    t1: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends, codes) covering [t0, t1]: each sample's state from its time until the next sample or the
    end of the connected period it was received in, whichever is first (from the period's start for a value
    sent at the connection with the time it last changed); the rest is ``NO_DATA``. A bad status or no
    value is no data too; a value the mapping does not know is ``UNKNOWN``.

    >>> from app.state.machine_states import AUTO
    >>> s = [StateSample(0.0, "running", True, 0.0), StateSample(40.0, "down", True, 40.0)]
    >>> starts, ends, codes = held_intervals(s, AUTO, [(-1.0, 50.0), (70.0, math.inf)], 10.0, 100.0)
    >>> starts.tolist(), ends.tolist(), codes.tolist()
    ([10.0, 40.0, 50.0], [40.0, 50.0, 100.0], [0, 4, -2])
    """
    if not samples:
        return np.array([t0]), np.array([t1]), np.array([NO_DATA], dtype=np.int8)
    p_start = np.array([a for a, _b in periods] or [math.inf], dtype=float)
    p_end = np.array([b for _a, b in periods] or [math.inf], dtype=float)
    t = np.fromiter((x.t for x in samples), float, len(samples))
    received = np.fromiter((x.received for x in samples), float, len(samples))
    known: dict[object, float] = {}  # a machine reports few distinct values: map each once

    def code(x: StateSample) -> float:
        if not x.good:
            return math.nan
        if x.value not in known:
            known[x.value] = code_in(x.value, table)
        return known[x.value]

    codes = np.fromiter((code(x) for x in samples), float, len(samples))
    p = np.searchsorted(p_start, received, side="right") - 1
    inside = p >= 0
    p = np.maximum(p, 0)
    inside &= received <= p_end[p]  # received while the link was up: it vouches for it
    nxt = np.append(t[1:], math.inf)
    a = np.maximum(np.maximum(t, p_start[p]), t0)
    b = np.minimum(np.minimum(nxt, p_end[p]), t1)
    keep = inside & (b > a)
    a, b, c = a[keep], b[keep], np.where(np.isnan(codes[keep]), NO_DATA, codes[keep]).astype(np.int8)
    # the gaps between what was vouched for (before the first value, after a link went down) are no data
    gap_from = np.concatenate([[t0], b])
    gap_to = np.concatenate([a, [t1]])
    gaps = gap_to > gap_from
    starts = np.concatenate([a, gap_from[gaps]])
    ends = np.concatenate([b, gap_to[gaps]])
    all_codes = np.concatenate([c, np.full(int(gaps.sum()), NO_DATA, dtype=np.int8)])
    order = np.argsort(starts, kind="stable")
    return merged(starts[order], ends[order], all_codes[order])


def recorded_bars(history: History, factory: Factory, t0: float, t1: float) -> GanttBars:
    """Every machine's recorded states over [t0, t1] (UNIX s), one row each in the factory tree's order."""
    order = tree_order(factory)
    samples = state_samples(history, t0, t1)
    periods = connected_periods(history, t0, t1)
    rows = []
    for i in order:
        m = factory.machines[i]
        rows.append(held_intervals(samples.get(m.id, []), table_of(m.states.get("State")), periods, t0, t1))
    machines = [factory.machines[i] for i in order]
    return GanttBars.build([m.id for m in machines], [m.name for m in machines], rows, (t0, t1), True, "recorded history")
