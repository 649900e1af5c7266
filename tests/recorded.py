"""A recorded history for tests: rows written through the real recorder into a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from app.history.recorder import History, Recorder, Sample


def record(path: Path, rows) -> History:
    """Write (machine, signal, t, value) rows to the SQLite history at ``path`` (appending); a text value is
    stored as text, a number as a number."""
    rec = Recorder(path)
    samples = []
    for machine, signal, t, value in rows:
        text = value if isinstance(value, str) else None
        num = None if isinstance(value, str) else float(value)
        samples.append(Sample(machine, signal, f"ns=2;s={machine}/{signal}", t, t, num, text, 0))
    rec.record(samples)
    assert rec.flush()
    rec.close()
    return History(path)
