"""The state Gantt's bars from a recorded history (a real SQLite file written by the recorder): each
machine's window is covered without a gap or an overlap, values hold until the next or until the link
went down, and gaps, bad readings and the time before the first value are "no data", never a state."""

from __future__ import annotations

import numpy as np

from app.gantt import NO_DATA, UNKNOWN, state_label
from app.gantt.recorded import recorded_bars
from app.history.recorder import History, Recorder, Sample
from app.model.io import load_factory
from app.model.signals import MACHINE_STATES
from app.paths import DEMO_FACTORY

RUNNING, DOWN, STARVED = (MACHINE_STATES.index(n) for n in ("running", "down", "starved"))
T0 = 1_800_000_000.0


def _history(path, rows, links, bad=()) -> History:
    """``rows`` (machine, time, value) of State, ``bad`` the same with a bad status, ``links`` (time, state)."""
    rec = Recorder(path)
    samples = [
        Sample(m, "State", f"ns=2;s={m}/State", T0 + t, T0 + t, *((None, v) if isinstance(v, str) else (float(v), None)), 0)
        for m, t, v in rows
    ] + [Sample(m, "State", f"ns=2;s={m}/State", T0 + t, T0 + t, None, v, 0x80000000) for m, t, v in bad]
    rec.record(samples)
    for t, state in links:
        rec.record_link(state, T0 + t)
    assert rec.flush()
    rec.close()
    return History(path)


def _row(bars, machine):
    r = bars.row_of(machine)
    a, b = bars.first[r], bars.first[r + 1]
    return (bars.start[a:b] - T0).tolist(), (bars.end[a:b] - T0).tolist(), bars.code[a:b].tolist()


def test_values_hold_until_the_next_and_a_gap_in_the_link_is_no_data(tmp_path):
    factory = load_factory(DEMO_FACTORY)
    a, b, c = (m.id for m in factory.machines[:3])
    history = _history(
        tmp_path / "h.sqlite",
        rows=[
            (a, 5.0, "running"),  # before the window: the state the window starts in
            (a, 30.0, "down"),
            (a, 80.0, "running"),  # after the reconnection
            (b, 20.0, "starved"),
            (b, 90.0, "no such state"),
        ],
        bad=[(c, 25.0, "running")],
        links=[(0.0, "connected"), (50.0, "disconnected"), (70.0, "connected")],
    )
    bars = recorded_bars(history, factory, T0 + 10.0, T0 + 100.0)
    assert bars.clock and bars.window == (T0 + 10.0, T0 + 100.0)
    assert _row(bars, a) == ([10.0, 30.0, 50.0, 80.0], [30.0, 50.0, 80.0, 100.0], [RUNNING, DOWN, NO_DATA, RUNNING])
    assert _row(bars, b) == ([10.0, 20.0, 50.0, 90.0], [20.0, 50.0, 90.0, 100.0], [NO_DATA, STARVED, NO_DATA, UNKNOWN])
    assert _row(bars, c) == ([10.0], [100.0], [NO_DATA])  # a bad reading vouches for nothing
    # every machine of the plant has a row, covered without a gap or an overlap
    assert bars.n_rows == len(factory.machines)
    for r in range(bars.n_rows):
        lo, hi = bars.first[r], bars.first[r + 1]
        assert bars.start[lo] == T0 + 10.0 and bars.end[hi - 1] == T0 + 100.0
        assert (bars.start[lo + 1 : hi] == bars.end[lo : hi - 1]).all()
    assert bars.totals(bars.row_of(a)) == {"running": 40.0, "no data": 30.0, "down": 20.0}
    assert state_label(UNKNOWN) == "unknown state"


def test_hover_finds_the_bar_and_only_visible_rows_are_drawn(tmp_path):
    factory = load_factory(DEMO_FACTORY)
    a = factory.machines[0].id
    history = _history(tmp_path / "h.sqlite", rows=[(a, 0.0, "running"), (a, 40.0, "down")], links=[(0.0, "connected")])
    bars = recorded_bars(history, factory, T0, T0 + 60.0)
    r = bars.row_of(a)
    bar = bars.at(r, T0 + 45.0)
    assert bar is not None and (bar.code, bar.start, bar.end) == (DOWN, T0 + 40.0, T0 + 60.0)
    assert bars.describe(bar).startswith(f"{factory.machines[0].name} ({a}): down\n")
    assert bars.at(r, T0 + 61.0) is None
    shown = bars.visible(r, r, T0 + 41.0, T0 + 42.0)
    assert [int(bars.code[k]) for k in shown] == [DOWN]
    assert set(np.unique(bars.row[bars.visible(2, 4, T0, T0 + 60)]).tolist()) == {2, 3, 4}


def test_a_history_without_link_events_holds_values_from_the_first_sample(tmp_path):
    factory = load_factory(DEMO_FACTORY)
    a = factory.machines[0].id
    history = _history(tmp_path / "h.sqlite", rows=[(a, 20.0, 2.0)], links=[])  # a number: floortwin's state code
    bars = recorded_bars(history, factory, T0, T0 + 60.0)
    assert _row(bars, a) == ([0.0, 20.0], [20.0, 60.0], [NO_DATA, STARVED])


def test_a_value_sent_at_the_connection_with_an_older_time_counts_from_the_connection(tmp_path):
    # A subscription's first report of an unchanged state carries the time it last changed: before the link
    # was up. It is the state from the connection on (as the live view shows it), not dropped.
    factory = load_factory(DEMO_FACTORY)
    a = factory.machines[0].id
    rec = Recorder(tmp_path / "h.sqlite")
    rec.record_link("connected", T0 + 30.0)
    rec.record([Sample(a, "State", "ns=2;s=x", T0 + 5.0, T0 + 30.5, None, "down", 0)])
    assert rec.flush()
    rec.close()
    bars = recorded_bars(History(tmp_path / "h.sqlite"), factory, T0, T0 + 60.0)
    assert _row(bars, a) == ([0.0, 30.0], [30.0, 60.0], [NO_DATA, DOWN])
