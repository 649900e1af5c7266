"""The forecast service: off the calling thread, on worker processes, cancellable, with its refresh policy;
and the figures it gives (band, probability) say when they have too little behind them."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from app.forecast.forecast import (
    MIN_BAND_REPLICATIONS,
    MIN_PROBABILITY_REPLICATIONS,
    Forecast,
    ForecastRequest,
    reach_probability,
    run_forecast,
)
from app.forecast.live_state import EngineObserver, LiveState
from app.forecast.service import ForecastService
from app.model.io import load_factory
from app.sim.engine import Engine
from app.sim.model import compile_model
from tests.conftest import DEMO


@pytest.fixture(scope="module")
def factory():
    return load_factory(DEMO)


@pytest.fixture(scope="module")
def live(factory):
    plant = Engine(compile_model(factory, horizon_s=86400.0, warmup_s=0.0, seed=8, sample_s=1e12))
    plant.run_until(7200.0)
    watch = EngineObserver(plant)
    watch.advance(600.0)
    return watch.state()


def test_a_forecast_runs_on_worker_processes_off_the_calling_thread(factory, live):
    svc = ForecastService(factory, replications=20, workers=2)
    got: list[tuple[Forecast, str]] = []
    svc.finished.connect(lambda f: got.append((f, threading.current_thread().name)))
    try:
        svc.request(live, horizon_s=4 * 3600.0, target=150, made_so_far=40, seed=1)
        assert svc.wait(120)
    finally:
        svc.close()
    (forecast, thread), = got
    assert thread == "forecast"
    assert forecast.replications == 20 and svc.latest is forecast
    assert forecast.runs[:, 0].min() == 40  # the parts made so far, before anything more leaves
    assert np.all(np.diff(forecast.runs, axis=1) >= 0)  # parts out never go back
    low, high = forecast.band_at_horizon()
    assert 40 < low <= np.median(forecast.final) <= high
    assert forecast.probability() is not None
    # The same seed on this thread gives the same forecast: the workers changed nothing.
    again = run_forecast(factory, ForecastRequest(live, 4 * 3600.0, 20, 150, 40, seed=1))
    assert np.array_equal(again.runs, forecast.runs)


def test_a_cancelled_forecast_gives_no_result(factory, live):
    svc = ForecastService(factory, replications=400, workers=0)
    got: list = []
    svc.finished.connect(got.append)
    svc.request(live, horizon_s=8 * 3600.0, seed=2)
    svc.cancel()
    assert svc.wait(60)
    svc.close()
    assert got == [] and svc.latest is None


def test_a_new_request_replaces_the_one_under_way(factory, live):
    svc = ForecastService(factory, replications=200, workers=0)
    got: list[Forecast] = []
    svc.finished.connect(got.append)
    svc.request(live, horizon_s=8 * 3600.0, seed=3)
    svc.replications = 10
    svc.request(live, horizon_s=600.0, seed=4)
    assert svc.wait(120)
    svc.close()
    assert [f.seed for f in got] == [4]


def test_the_refresh_is_due_every_so_often_and_never_while_one_runs(factory):
    svc = ForecastService(factory, replications=10, workers=0, refresh_every_s=300.0)
    assert svc.due(now=0.0)  # never made: due
    svc.request(LiveState({}, 0), horizon_s=600.0, seed=5)
    svc.wait(60)
    t = svc.last_request_at
    assert not svc.due(now=t + 299.0)
    assert svc.due(now=t + 300.0)
    svc.close()


def test_a_factory_that_cannot_be_simulated_fails_with_the_reason(factory):
    svc = ForecastService(factory.model_copy(update={"flows": []}), replications=10, workers=0)
    failed: list[str] = []
    svc.failed.connect(failed.append)
    svc.request(LiveState({}, 0), horizon_s=600.0, seed=6)
    svc.wait(60)
    svc.close()
    assert failed and "no part flows" in failed[0]


def test_too_few_replications_give_no_band_and_no_probability(factory, live):
    few = run_forecast(factory, ForecastRequest(live, 1800.0, MIN_BAND_REPLICATIONS - 1, target=10, seed=7))
    assert few.band() is None and few.probability() is None
    text = "\n".join(few.summary())
    assert f"not enough replications for a band — needs ≥ {MIN_BAND_REPLICATIONS}, has 9" in text
    assert f"reaching 10: not enough replications — needs ≥ {MIN_PROBABILITY_REPLICATIONS}, has 9" in text


def test_the_probability_of_reaching_the_target_has_its_exact_interval():
    p = reach_probability(np.array([1] * 20), 1)
    assert (p.p, p.reached, p.n) == (1.0, 20, 20)
    assert p.high == 1.0 and p.low == pytest.approx(0.8316, abs=1e-4)  # (0.025)^(1/20): Clopper–Pearson
    assert p.text() == "100% (95% interval 83%–100%, 20 of 20 replications)"


@pytest.mark.timeout(90)
def test_closing_stops_replications_that_are_running_instead_of_waiting_for_them(factory, live):
    # Ten years of plant time: a replication runs for many minutes. Closing (the window closing, a link
    # going down) must stop it within moments and leave no worker process behind.
    psutil = pytest.importorskip("psutil")
    svc = ForecastService(factory, replications=2, workers=2)
    got: list = []
    svc.finished.connect(got.append)
    svc.request(live, horizon_s=10 * 365 * 86400.0, seed=5, sample_s=1e12)
    me = psutil.Process()
    pause = threading.Event()
    busy: list = []
    for _ in range(200):  # until a worker is busy with its replication
        busy = [c for c in me.children(recursive=True) if c.cpu_percent(0.05) > 50.0]
        if busy:
            break
        pause.wait(0.1)
    assert busy, "no worker process started a replication"
    svc.close()
    assert not svc.running and got == [] and svc.latest is None
    assert not [c for c in busy if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
