"""The OEE service: reports computed off the calling thread, requests coalesced, the operator's reasons kept."""

from __future__ import annotations

import threading

import pytest

from app.compare.window import ActualsWindow
from app.oee.losses import UNASSIGNED
from app.oee.reasons import read_reasons
from app.oee.report import OeeReport
from app.oee.service import OeeService
from tests.oee.test_history_oee import FACTORY, S0, S1
from tests.recorded import record


def test_a_history_report_comes_from_the_worker_and_uses_an_operators_reason(tmp_path):
    path = tmp_path / "h.sqlite"
    record(path, S0 + S1)
    service = OeeService()
    got: list[OeeReport] = []
    done = threading.Event()
    service.ready.connect(lambda r: (got.append(r), done.set()))
    window = ActualsWindow(3600.0, ((1000.0, 4600.0),))
    service.from_history(FACTORY, path, lambda: window)
    assert done.wait(20)
    assert got[0].machines.downtime_s[UNASSIGNED][1] == pytest.approx(600.0)
    service.record_reason(path, "S1", " no operator ", t=2300.0)
    assert [(e.machine, e.reason) for e in read_reasons(path)] == [("S1", "no operator")]
    done.clear()
    service.from_history(FACTORY, path, lambda: window)
    assert done.wait(20)
    assert got[1].machines.downtime_s["no operator"][1] == pytest.approx(600.0)
    with pytest.raises(ValueError):
        service.record_reason(path, "S1", "  ")
    service.shutdown()


def test_requests_made_while_one_computes_are_coalesced(tmp_path):
    path = tmp_path / "h.sqlite"
    record(path, S0 + S1)
    service = OeeService()
    gate, done = threading.Event(), threading.Event()
    reports: list[OeeReport] = []
    service.ready.connect(lambda r: (reports.append(r), done.set() if len(reports) == 2 else None))

    def slow_window():
        gate.wait(20)
        return ActualsWindow(3600.0, ((1000.0, 4600.0),))

    for _ in range(50):  # a burst while the first waits: one more runs after it, not 49
        service.from_history(FACTORY, path, slow_window)
    gate.set()
    assert done.wait(20)
    service.shutdown()
    assert service.computed == 2


def test_too_short_a_recording_says_what_it_needs(tmp_path):
    path = tmp_path / "h.sqlite"
    record(path, S0)
    service = OeeService(synchronous=True)
    said: list[str] = []
    service.failed.connect(said.append)
    service.from_history(FACTORY, path, lambda: ActualsWindow(3600.0, ((1000.0, 1030.0),)))
    assert said == ["Recorded history: not enough data — needs ≥ 1 min connected"]
