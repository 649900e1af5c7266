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
    p_start = np.array([a for a, _b in periods], dtype=float)
    p_end = np.array([b for _a, b in periods], dtype=float)
    bounds: list[float] = [t0]
    codes: list[int] = []
    at = t0  # where the intervals made so far end
    for k, sample in enumerate(samples):
        p = int(np.searchsorted(p_start, sample.received, side="right")) - 1
        if p < 0 or sample.received > p_end[p]:
            continue  # received while the link was down (it cannot vouch for it)
        nxt = samples[k + 1].t if k + 1 < len(samples) else math.inf
        a, b = max(sample.t, p_start[p], t0), min(nxt, p_end[p], t1)
        if b <= a:
            continue
        code = code_in(sample.value, table) if sample.good else math.nan
        if a > at:  # nothing vouched for the state between the last value's end and this one
            codes.append(NO_DATA)
            bounds.append(a)
        codes.append(NO_DATA if math.isnan(code) else int(code))
        bounds.append(b)
        at = b
    if at < t1:
        codes.append(NO_DATA)
        bounds.append(t1)
    edges = np.array(bounds)
    return merged(edges[:-1], edges[1:], np.array(codes, dtype=np.int8))


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
