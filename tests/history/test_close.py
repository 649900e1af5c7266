"""Closing a history writer never makes the GUI thread wait for a commit, and loses nothing: a writer
closed without waiting commits in the background and the application waits for it when it quits."""

from __future__ import annotations

import sqlite3
import time

from app.history.recorder import History, Recorder, Sample, wait_for_closing_recorders


def _sample(t: float, value: float) -> Sample:
    return Sample("M1", "Temperature", "ns=2;s=M1/Temperature", t, t, value, None, 0)


def test_close_without_waiting_returns_while_the_file_is_locked_and_commits_later(tmp_path):
    path = tmp_path / "locked.sqlite"
    rec = Recorder(path, flush_s=0.05)
    assert rec.flush()
    # Another process holds the file (a backup, a second reader that writes): the commit has to wait.
    other = sqlite3.connect(str(path), timeout=1)
    other.execute("BEGIN EXCLUSIVE")
    now = time.time()
    rec.record([_sample(now, 1.0), _sample(now + 1, 2.0)])
    rec.close(wait=False)
    assert not rec.closed  # returned at once; the writer is still waiting for the lock
    other.rollback()
    other.close()
    assert wait_for_closing_recorders(20.0)
    assert rec.closed and rec.error is None
    _t, v, _ = History(path).series("M1", "Temperature")
    assert v.tolist() == [1.0, 2.0]  # nothing lost


def test_close_by_default_waits_for_the_commit(tmp_path):
    path = tmp_path / "plain.sqlite"
    rec = Recorder(path, flush_s=10.0)  # nothing would be committed by the timer
    rec.record([_sample(time.time(), 5.0)])
    rec.close()
    assert rec.closed
    _t, v, _ = History(path).series("M1", "Temperature")
    assert v.tolist() == [5.0]
