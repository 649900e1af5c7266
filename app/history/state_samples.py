"""Every machine's recorded State samples in a window, with the last one before it: what the state Gantt
reads from a history (two queries for the whole plant, not one per machine)."""

from __future__ import annotations

from contextlib import closing
from typing import NamedTuple

from app.history.recorder import History, connect


class StateSample(NamedTuple):
    """One recorded State value: its source time (UNIX s), what was received (text, else number; None: no
    value), whether its status was good, and when it was received (an unchanged value comes with the time it
    last changed, which may be before the link was up)."""

    t: float
    value: str | float | None
    good: bool
    received: float


def state_samples(history: History, t0: float, t1: float, signal: str = "State") -> dict[str, list[StateSample]]:
    """Machine → its ``signal`` samples in (t0, t1], in time order, after the last sample at or before ``t0``
    (the state the window starts in, if the link still vouched for it then).

    >>> import tempfile
    >>> from pathlib import Path
    >>> from app.history.recorder import Recorder, sample_of
    >>> path = Path(tempfile.mkdtemp()) / "h.sqlite"
    >>> rec = Recorder(path)
    >>> rec.record([sample_of("M1", "State", "n", "running", 0, 5.0, 5.0), sample_of("M1", "State", "n", "down", 0, 15.0, 15.0)])
    >>> rec.close()
    >>> [s.value for s in state_samples(History(path), 10.0, 20.0)["M1"]]
    ['running', 'down']
    """
    with closing(connect(history.path, readonly=True)) as con:
        before = con.execute(
            "SELECT g.machine, s.t, s.value, s.text, s.status, s.received FROM signals g JOIN samples s ON s.rowid = "
            "(SELECT rowid FROM samples WHERE signal_id = g.id AND t <= ? ORDER BY t DESC LIMIT 1) WHERE g.signal = ?",
            (t0, signal),
        ).fetchall()
        inside = con.execute(
            "SELECT g.machine, s.t, s.value, s.text, s.status, s.received FROM samples s JOIN signals g ON g.id = s.signal_id "
            "WHERE g.signal = ? AND s.t > ? AND s.t <= ? ORDER BY s.t",
            (signal, t0, t1),
        ).fetchall()
    out: dict[str, list[StateSample]] = {}
    latest: dict[str, StateSample] = {}
    for machine, t, value, text, status, received in before:  # a machine bound to several nodes: its latest sample
        sample = StateSample(t, text if text is not None else value, (status >> 30) == 0, received)
        if machine not in latest or t > latest[machine].t:
            latest[machine] = sample
    for machine, sample in latest.items():
        out[machine] = [sample]
    for machine, t, value, text, status, received in inside:
        out.setdefault(machine, []).append(StateSample(t, text if text is not None else value, (status >> 30) == 0, received))
    return out
