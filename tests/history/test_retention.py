"""History retention: old samples go, pruning runs on its own timer (not at every flush), the size is capped."""

from __future__ import annotations

import time

from app.history.recorder import DEFAULT_MAX_BYTES, DEFAULT_RETENTION_S, History, Recorder, Sample


def _sample(t: float, value: float, machine: str = "M1") -> Sample:
    return Sample(machine, "Temperature", f"ns=2;s={machine}/Temperature", t, t, value, None, 0)


def test_pruning_runs_on_its_timer_not_at_every_flush(tmp_path):
    """After a prune the next one waits ``prune_every_s``: an old sample recorded right after the first prune
    survives the following commits (before the fix the timer went back to −inf and every flush deleted)."""
    path = tmp_path / "timer.sqlite"
    rec = Recorder(path, flush_s=0.05, retention_s=3600, prune_every_s=3600)
    now = time.time()
    rec.record([_sample(now - 7200, 1.0), _sample(now, 2.0)])
    assert rec.flush()
    assert rec.prunes == 1
    _t, v, _ = History(path).series("M1", "Temperature")
    assert v.tolist() == [2.0]  # the first commit pruned
    rec.record([_sample(now - 7000, 3.0)])  # e.g. a late value with an old source time
    for k in range(5):
        rec.record([_sample(now + 1 + k, 10.0 + k)])
        assert rec.flush()
    rec.close()
    assert rec.prunes == 1  # six commits, one prune
    _t, v, _ = History(path).series("M1", "Temperature")
    assert v.tolist() == [3.0, 2.0, 10.0, 11.0, 12.0, 13.0, 14.0]


def test_size_cap_deletes_the_oldest_samples(tmp_path):
    path = tmp_path / "capped.sqlite"
    cap = 256 * 1024
    rec = Recorder(path, flush_s=0.05, max_bytes=cap, prune_every_s=0)
    t0 = time.time() - 10_000
    for k in range(20):  # 20 commits of 500 samples: far more than the cap holds
        rec.record([_sample(t0 + k * 500 + j, float(k * 500 + j), f"M{j % 7}") for j in range(500)])
        assert rec.flush()
    rec.close()
    h = History(path)
    n = h.count()
    assert 0 < n < 10_000
    span = h.span()
    assert span is not None and span[1] == t0 + 9_999  # the newest sample is kept...
    assert span[0] > t0  # ...the oldest went first
    import sqlite3

    with sqlite3.connect(path) as con:
        pages = con.execute("PRAGMA page_count").fetchone()[0] - con.execute("PRAGMA freelist_count").fetchone()[0]
        used = pages * con.execute("PRAGMA page_size").fetchone()[0]
    assert used <= cap * 1.5  # at most one commit's growth above the cap between two prunes


def test_the_application_defaults_keep_90_days_and_cap_the_size():
    assert DEFAULT_RETENTION_S == 90 * 86_400
    assert 0 < DEFAULT_MAX_BYTES <= 10 * 1024**3
