"""The state store (staleness, snapshots) and the history recorder (SQLite WAL) without a GUI."""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import sqlite3
import time

import numpy as np
import pytest

from app.history.recorder import History, Recorder, Sample
from app.state.store import NO_DATA, StateStore, Update


def _store() -> tuple[StateStore, int, int]:
    s = StateStore(["M1", "M2"], ["State", "Temperature"])
    return s, s.bind("M1", "State", "n1"), s.bind("M2", "Temperature", "n2")


def test_unchanged_values_stay_fresh_while_the_link_vouches_for_them_and_age_after():
    s, b1, b2 = _store()
    s.ingest([Update(b1, "running", received_ts=100.0), Update(b2, 40.0, received_ts=100.0)])
    assert s.fresh("State", 105.0, 10.0).tolist() == [True, False]  # M2 never had a State
    assert not s.fresh("State", 111.0, 10.0)[0]  # no confirmation: 11 s old is stale
    s.confirm(130.0, since=90.0)  # the subscription is alive at 130 s and the value came in this session
    assert s.fresh("State", 131.0, 10.0)[0]
    assert s.ages("State", 131.0)[0] == pytest.approx(1.0)
    assert np.isinf(s.ages("State", 131.0)[1])
    s.confirm(130.0, since=120.0)  # a new session started after the value: it is not vouched for
    assert not s.fresh("State", 131.0, 10.0)[0]
    # The link died at 130 s: values age from the last confirmation.
    s.confirm(130.0, since=90.0)
    assert s.fresh("State", 139.0, 10.0)[0] and not s.fresh("State", 141.0, 10.0)[0]


def test_bad_quality_and_nan_are_not_fresh_and_nan_is_counted():
    s, b1, b2 = _store()
    rejected = []
    s.rejected.connect(rejected.append)
    s.ingest([Update(b2, 41.0, received_ts=10.0), Update(b2, math.nan, received_ts=11.0)])
    assert s.value("M2", "Temperature") == 41.0  # the last usable value is kept...
    assert not s.fresh("Temperature", 11.5, 10.0)[1]  # ...but shown as not current
    s.flush()
    assert rejected == [1]
    s.ingest([Update(b1, "down", status=0x808A0000, received_ts=12.0)])  # BadSensorFailure
    assert not s.fresh("State", 12.0, 10.0)[0]


def test_restore_from_a_recorded_snapshot():
    live, *_ = _store()
    replay = live.empty_copy()
    replay.restore(
        {
            ("M1", "State"): (None, "blocked", 0, 50.0, 50.1),
            ("M2", "Temperature"): (61.5, None, 0, 49.0, 49.1),
            ("M9", "State"): (None, "down", 0, 50.0, 50.1),  # a machine no longer in the factory
        }
    )
    assert replay.value("M1", "State") == 3 and replay.text("M1", "State") == "blocked"
    assert replay.value("M2", "Temperature") == 61.5
    assert replay.status[1, 0] == NO_DATA
    assert replay.fresh("Temperature", 55.0, 10.0).tolist() == [False, True]
    assert replay.source_ts[1, 1] == 49.0 and replay.received_ts[1, 1] == 49.1


def _sample(machine, sig, t, value=None, text=None, status=0):
    return Sample(machine, sig, f"ns=2;s={machine}/{sig}", t, t + 0.01, value, text, status)


def test_history_state_at_series_and_link_periods(tmp_path):
    path = tmp_path / "h.sqlite"
    rec = Recorder(path, flush_s=0.05)
    rec.record_link("connected", 99.0)
    rec.record(
        [
            _sample("M1", "State", 100.0, text="running"),
            _sample("M1", "Temperature", 100.0, 40.0),
            _sample("M1", "Temperature", 110.0, 45.0),
            _sample("M1", "State", 120.0, text="down"),
            _sample("M1", "Temperature", 120.0, math.inf),  # stored as NULL, never as a number
        ]
    )
    rec.record_link("reconnecting", 125.0)
    rec.record_link("connected", 140.0)
    assert rec.flush()
    rec.close()
    h = History(path)
    assert h.count() == 5 and h.span() == (100.0, 120.0)
    at = h.state_at(115.0)
    assert at[("M1", "State")][1] == "running" and at[("M1", "Temperature")][0] == 45.0
    assert h.state_at(121.0)[("M1", "State")][1] == "down"
    assert h.state_at(99.0) == {}
    t, v, _st = h.series("M1", "Temperature", 105.0, 200.0)
    assert t.tolist() == [110.0, 120.0] and v[0] == 45.0 and math.isnan(v[1])
    assert h.link_at(98.0) is None  # never connected yet
    assert h.link_at(110.0) == (99.0, 110.0)  # connected: alive until now
    assert h.link_at(130.0) == (99.0, 125.0)  # down since 125 s
    assert h.link_at(150.0) == (140.0, 150.0)


def test_history_without_link_events_still_replays(tmp_path):
    path = tmp_path / "old.sqlite"
    rec = Recorder(path, flush_s=0.05)
    rec.record([_sample("M1", "State", 100.0, text="idle")])
    rec.close()
    with sqlite3.connect(path) as con:
        con.execute("DROP TABLE link")  # as recorded by an older floortwin
    h = History(path)
    assert h.link_at(150.0) is None
    assert h.state_at(150.0)[("M1", "State")][1] == "idle"


def _record_forever(path: str, ready) -> None:
    rec = Recorder(path, flush_s=0.05)
    t = 0.0
    while True:
        rec.record([_sample("M1", "Temperature", t, t)])
        t += 1.0
        if t == 500.0:
            rec.flush()
            ready.set()


def test_a_recorder_killed_mid_run_keeps_every_committed_batch(tmp_path):
    path = tmp_path / "killed.sqlite"
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    proc = ctx.Process(target=_record_forever, args=(str(path), ready))
    proc.start()
    try:
        assert ready.wait(60)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(10)
    h = History(path)  # opens cleanly: WAL recovery, no half-written batch
    n = h.count()
    assert n >= 500
    t, v, _ = h.series("M1", "Temperature")
    assert t.tolist() == list(np.arange(n, dtype=float)) and np.array_equal(t, v)  # no gaps, no torn rows


def test_retention_deletes_old_samples(tmp_path):
    path = tmp_path / "r.sqlite"
    rec = Recorder(path, flush_s=0.05, retention_s=3600)
    now = time.time()
    rec.record([_sample("M1", "Temperature", now - 7200, 1.0), _sample("M1", "Temperature", now, 2.0)])
    rec.close()
    _t, v, _ = History(path).series("M1", "Temperature")
    assert v.tolist() == [2.0]  # the two-hour-old sample is gone, the recent one kept
