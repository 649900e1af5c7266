"""Replay from a real SQLite history, off the caller's thread, without a GUI: the state at a time, the
latest request first, answers made stale by going live, a damaged file said in words."""

from __future__ import annotations

import threading

from app.history.recorder import History, Recorder, sample_of
from app.state import replay as replay_module
from app.state.replay import Recorded, Replayer, recorded_state
from app.state.store import StateStore

T0 = 1_700_000_000.0


def _history(path) -> History:
    """CNC-01 runs from T0, breaks down at T0+60 and makes 1 part every 10 s; the link is up from T0-1."""
    rec = Recorder(path)
    rec.record_link("connected", T0 - 1)
    samples = [sample_of("CNC-01", "State", "n1", "running", 0, T0, T0)]
    samples.append(sample_of("CNC-01", "State", "n1", "down", 0, T0 + 60, T0 + 60))
    samples += [sample_of("CNC-01", "PartCount", "n2", float(k), 0, T0 + 10 * k, T0 + 10 * k) for k in range(60)]
    samples.append(sample_of("CNC-01", "Alarm", "n3", True, 0, T0 + 60, T0 + 60))
    rec.record(samples)
    rec.record_link("disconnected", T0 + 600)
    rec.close()
    return History(path)


def _template() -> StateStore:
    store = StateStore(["CNC-01", "CNC-02"], ["State", "PartCount", "Alarm"])
    for signal in ("State", "PartCount", "Alarm"):
        store.bind("CNC-01", signal, f"n-{signal}")
    return store


def test_the_state_at_a_time_and_before_it(tmp_path):
    history = _history(tmp_path / "h.sqlite")
    template = _template()
    at = recorded_state(history, template, T0 + 30, window_s=20.0)
    assert at.time == T0 + 30 and at.store.state("CNC-01") == "running" and at.store.state("CNC-02") is None
    assert at.store.value("CNC-01", "PartCount") == 3 and at.before.value("CNC-01", "PartCount") == 1
    assert at.store.fresh("State", T0 + 30, 10.0)[0]  # unchanged for 30 s, but the link vouched for it then
    later = recorded_state(history, template, T0 + 65, window_s=20.0)
    assert later.store.state("CNC-01") == "down" and later.store.value("CNC-01", "Alarm") == 1.0
    assert template.values[0].tolist() != later.store.values[0].tolist()  # the template is left as it was


def test_the_replayer_answers_the_latest_request_and_nothing_after_cancel(tmp_path, monkeypatch):
    history = _history(tmp_path / "h.sqlite")
    replayer = Replayer(history, _template(), window_s=20.0)
    answers: list[Recorded] = []
    threads = []
    replayer.recorded.connect(lambda r: (answers.append(r), threads.append(threading.current_thread().name)))

    gate, started, real = threading.Event(), threading.Event(), replay_module.recorded_state

    def slow(*args, **kw):  # a query waits until the test has asked for more
        started.set()
        gate.wait(10)
        return real(*args, **kw)

    monkeypatch.setattr(replay_module, "recorded_state", slow)
    replayer.request(T0)
    assert started.wait(10)
    for k in range(1, 10):  # a slider dragged while the first query runs
        replayer.request(T0 + k)
    replayer.request(T0 + 65)
    gate.set()
    assert replayer.wait(10)
    assert [a.time for a in answers] == [T0 + 0, T0 + 65]  # the one running, then only the latest
    assert threads[0].startswith("history-query") and answers[-1].epoch == replayer.epoch

    gate.clear()
    started.clear()
    replayer.request(T0 + 30)
    assert started.wait(10)
    replayer.cancel()  # back to live while the query runs
    gate.set()
    assert replayer.wait(10)
    assert len(answers) == 2  # the stale answer was not announced


def test_a_damaged_history_is_reported_and_the_request_dropped(tmp_path):
    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    replayer = Replayer(History(path), _template(), window_s=20.0)
    failures: list[str] = []
    replayer.failed.connect(failures.append)
    replayer.request(T0)
    assert replayer.wait(10)
    assert len(failures) == 1 and "broken.sqlite" in failures[0]
