"""The shift's forecast glue: the horizon is the rest of the shift, the parts made so far come from the
recorded history (or, without one, from what was seen), the refresh policy is the service's."""

from __future__ import annotations

import pytest

from app.forecast.forecast import Forecast
from app.forecast.service import ForecastService
from app.forecast.shift import Shift, ShiftForecast
from app.history.recorder import History, Recorder, Sample
from app.model.io import load_factory
from app.sim.model import compile_model
from app.state.store import StateStore, Update
from tests.conftest import DEMO

T0 = 1_700_000_000.0


@pytest.fixture
def setup(tmp_path):
    factory = load_factory(DEMO)
    model = compile_model(factory, horizon_s=3600.0, warmup_s=0.0)
    store = StateStore([m.id for m in factory.machines], ["State", "Level", "PartCount"])
    updates = []
    for m in factory.machines:
        updates += [
            Update(store.bind(m.id, "State", f"{m.id}/State"), "running", source_ts=T0 + 3000, received_ts=T0 + 3000),
            Update(store.bind(m.id, "Level", f"{m.id}/Level"), 1, source_ts=T0 + 3000, received_ts=T0 + 3000),
        ]
    count = store.bind("WH-OUT", "PartCount", "WH-OUT/PartCount")
    store.ingest([*updates, Update(count, 130, source_ts=T0 + 3500, received_ts=T0 + 3500)])
    rec = Recorder(tmp_path / "h.sqlite")
    rec.record([Sample("WH-OUT", "PartCount", "n", t, t, float(v), None, 0) for t, v in ((T0 - 60, 100), (T0 + 3500, 130))])
    assert rec.flush()
    rec.close()
    service = ForecastService(factory, replications=10, workers=0, refresh_every_s=300.0)
    got: list[Forecast] = []
    service.finished.connect(got.append)
    yield model, store, History(tmp_path / "h.sqlite"), service, got
    service.close()


def test_a_refresh_forecasts_the_rest_of_the_shift_from_what_was_made_since_it_began(setup):
    model, store, history, service, got = setup
    shift = ShiftForecast(service, model, store, Shift(T0, T0 + 8 * 3600.0, target=400), history)
    assert shift.refresh(now=T0 + 3600.0) == 1
    assert service.wait(60)
    (f,) = got
    assert f.horizon_s == 7 * 3600.0 and f.target == 400
    assert f.made_so_far == 30  # 130 − 100 recorded before the shift began
    assert f.runs[:, 0].min() == 30


def test_nothing_is_forecast_once_the_shift_is_over(setup):
    model, store, history, service, _ = setup
    shift = ShiftForecast(service, model, store, Shift(T0, T0 + 3600.0, target=40), history)
    assert shift.refresh(now=T0 + 3600.0) is None


def test_the_timer_forecasts_only_when_the_service_says_one_is_due(setup):
    model, store, history, service, got = setup
    shift = ShiftForecast(service, model, store, Shift(T0, T0 + 8 * 3600.0), history)
    assert shift.tick(now=T0 + 3600.0) == 1
    service.wait(60)
    assert shift.tick(now=T0 + 3660.0) is None  # requested a moment ago: not due
    assert len(got) == 1


def test_without_a_history_the_parts_made_count_from_when_they_were_first_seen(setup):
    model, store, _, service, got = setup
    shift = ShiftForecast(service, model, store, Shift(T0, T0 + 8 * 3600.0))
    shift.refresh(now=T0 + 3600.0)
    service.wait(60)
    assert got[-1].made_so_far == 0
    store.ingest([Update(store.bindings_of("WH-OUT", "PartCount")[0], 137, source_ts=T0 + 3700, received_ts=T0 + 3700)])
    t, n = shift.actual(now=T0 + 3720.0)
    assert n.tolist() == [0, 7] and t.tolist() == [T0 + 3600.0, T0 + 3720.0]
