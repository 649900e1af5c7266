"""A history file written through the real recorder, for the comparison's tests."""

from __future__ import annotations

from app.history.recorder import History, Recorder, Sample


def recorded_history(path, rows, links) -> History:
    """Rows ``(machine, signal, source time, value)`` — or ``(machine, signal, source time, received time,
    value)`` where the two differ — and link events ``(time, state)``, written by the recorder and opened."""
    rec = Recorder(path)
    samples = []
    for row in rows:
        machine, signal, t, *received, value = row
        text = value if isinstance(value, str) else None
        num = None if isinstance(value, str) else float(value)
        samples.append(Sample(machine, signal, f"ns=2;s={machine}/{signal}", t, received[0] if received else t, num, text, 0))
    rec.record(samples)
    for t, state in links:
        rec.record_link(state, t)
    assert rec.flush()
    rec.close()
    return History(path)
