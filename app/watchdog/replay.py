"""Recorded history as the watchdog reads it: the watched signals' samples in time order, in batches, with
the link's outages between them."""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from pathlib import Path

from app.history.recorder import History, Sample, connect
from app.history.sessions import connected_periods

#: Samples handed over at a time.
BATCH = 5_000


def recorded_samples(
    path: str | Path, t0: float, t1: float, signals: Sequence[str]
) -> Iterator[list[Sample] | None]:
    """Batches of the samples of ``signals`` recorded in [t0, t1], oldest first; ``None`` where the link
    was down in between (values before and after it do not make one duration)."""
    periods = connected_periods(History(path), t0, t1)
    starts = [a for a, _ in periods]
    marks = ",".join("?" for _ in signals)
    con = connect(path, readonly=True)
    try:
        rows = con.execute(
            "SELECT g.machine, g.signal, g.node_id, s.t, s.received, s.value, s.text, s.status FROM samples s "
            f"JOIN signals g ON g.id = s.signal_id WHERE g.signal IN ({marks}) AND s.t BETWEEN ? AND ? ORDER BY s.t, s.rowid",
            (*signals, max(t0, -1e18), min(t1, 1e18)),
        )
        period = -1
        batch: list[Sample] = []
        for row in rows:
            k = bisect.bisect_right(starts, row[3]) - 1
            if k != period:
                if batch:
                    yield batch
                    batch = []
                if period != -1 or k > 0:
                    yield None
                period = k
            batch.append(Sample(*row))
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch
    finally:
        con.close()


__all__ = ["recorded_samples"]
