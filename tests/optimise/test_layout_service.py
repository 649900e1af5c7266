"""The layout optimiser as a service: runs off the caller's thread, reports, cancels, refuses bad input
with its message — without a QApplication."""

from __future__ import annotations

import threading

from app.model.factory import Distribution, Factory, Floor, PartFlow
from app.optimise.layout_service import LayoutOptimiser, LayoutRequest
from tests.optimise.helpers import HULLS, machine


def factory(flows: bool = True) -> Factory:
    return Factory(
        name="s",
        floor=Floor(width_m=40.0, depth_m=30.0),
        machines=[machine("A", 5, 5), machine("B", 10, 5), machine("C", 35, 25)],
        flows=[PartFlow(part="p", routing=["A", "B", "C"], interarrival=Distribution(mean_s=60.0))] if flows else [],
        assets={"box": {"path": "builtin:meshes/cnc.glb"}},
    )


def test_the_search_runs_on_the_services_thread_and_reports_its_result():
    service = LayoutOptimiser()
    threads, results, reports = [], [], []
    service.progressed.connect(lambda p: (reports.append(p), threads.append(threading.current_thread())))
    service.finished.connect(results.append)
    try:
        service.start(factory(), LayoutRequest(movable=("C",), seconds=1.0, seed=1), HULLS).result(60)
    finally:
        service.close()
    assert len(results) == 1 and results[0].recommended is not None
    assert reports and reports[-1].phase == "done"
    assert threads and all(t is not threading.main_thread() for t in threads)


def test_bad_input_is_reported_as_failed_with_its_message():
    service = LayoutOptimiser()
    failed, finished = [], []
    service.failed.connect(failed.append)
    service.finished.connect(finished.append)
    try:
        service.start(factory(flows=False), LayoutRequest(move_all=True, seconds=1.0), HULLS).result(60)
    finally:
        service.close()
    assert finished == [] and failed and failed[0].startswith("nothing to optimise")


def test_cancel_ends_the_search_early_with_what_it_found():
    service = LayoutOptimiser()
    results = []
    service.finished.connect(results.append)
    service.progressed.connect(lambda _p: service.cancel())  # the first report cancels
    try:
        service.start(factory(), LayoutRequest(movable=("C",), seconds=60.0, seed=1), HULLS).result(60)
    finally:
        service.close()
    assert results and results[0].stopped_by == "cancelled" and results[0].seconds < 60


def test_validation_runs_in_worker_processes_and_reports_its_share_done():
    service = LayoutOptimiser()
    results, shares = [], []
    service.finished.connect(results.append)
    service.validating.connect(shares.append)
    try:
        service.start(
            factory(), LayoutRequest(movable=("C",), seconds=0.5, seed=1), HULLS, validate=1, replications=3, horizon_s=86400.0
        ).result(120)
    finally:
        service.close()
    best = results[0].candidate(results[0].recommended)
    assert best.validation is not None and {k.kpi for k in best.validation.kpis} == {"lead_time", "throughput", "wip"}
    assert shares and shares[-1] == 1.0
