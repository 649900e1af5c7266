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
from app.sim.scenario import MachineParam, Scenario, apply
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


def test_at_a_sped_up_plant_the_shift_is_plant_time_on_the_axis_in_the_horizon_and_in_the_text():
    # A plant simulator at 20× real time: an 8-hour shift is 8 plant hours, 24 clock minutes. A new-user trial
    # saw an axis of clock hours beside a forecast of plant hours, and "7 h left" of a shift 24 minutes long.
    import numpy as np

    from app.forecast.chart import chart_data
    from app.forecast.shift import shift_end, shift_text

    start, scale = 1_000_000.0, 20.0
    end = shift_end(start, 8.0, scale)
    assert end - start == pytest.approx(8 * 3600 / scale)
    now = start + 0.5 * (end - start)  # halfway: 4 plant hours in, 12 clock minutes
    assert Shift(start, end).horizon_s(now, scale) == pytest.approx(4 * 3600.0)
    text = shift_text(start, end, now, scale)
    assert text.startswith("shift of 8 h plant time (20× real time), 4 h left; ends ")
    data = chart_data(None, np.array([start, now]), np.array([0.0, 40.0]), start, now, scale)
    assert data.actual_h.tolist() == pytest.approx([0.0, 4.0]) and data.now_h == pytest.approx(4.0)
    assert shift_text(start, shift_end(start, 8.0), start + 3600.0).endswith(", 7 h left")  # real time: the clock


def test_a_forecast_is_drawn_from_when_it_was_made_and_ends_at_the_shifts_end():
    # At 20× a forecast that took a clock minute to make was drawn 20 plant minutes too late, past the shift.
    import numpy as np

    from app.forecast.chart import chart_data
    from app.forecast.shift import shift_end

    start, scale = 0.0, 20.0
    end = shift_end(start, 8.0, scale)
    made = start + 360.0  # 2 plant hours in
    f = Forecast(np.linspace(0.0, 6 * 3600.0, 7), np.tile(np.arange(7.0), (20, 1)), 5, 6 * 3600.0, None, 1)
    later = made + 60.0  # a clock minute on
    data = chart_data(f, np.array([start, made]), np.array([0.0, 5.0]), start, later, scale, end)
    assert data.forecast_h[0] == pytest.approx(2.0) and data.forecast_h[-1] == pytest.approx(8.0)
    assert data.now_h == pytest.approx(2 + 20 / 60)


def test_at_a_sped_up_plant_the_timer_refreshes_on_plant_time(setup):
    model, store, history, service, got = setup
    shift = ShiftForecast(service, model, store, Shift(T0, T0 + 8 * 3600.0 / 120.0), history, time_scale=120.0)
    assert shift.tick(now=T0 + 30.0) == 1
    service.wait(60)
    assert shift.tick(now=T0 + 35.0) is None  # under the clock floor
    assert shift.tick(now=T0 + 40.0) == 2  # 10 clock s = 20 plant minutes: due (the clock rule waited 5 min)
    service.wait(60)
    assert got[-1].horizon_s == pytest.approx((8 * 3600.0 / 120.0 - 40.0) * 120.0)


def test_when_the_shift_ends_the_next_begins_and_is_forecast_from_its_own_start(setup):
    model, store, history, service, got = setup
    shift = ShiftForecast(service, model, store, Shift(T0, T0 + 3600.0, target=40), history)
    assert shift.tick(now=T0 + 1000.0) == 1
    service.wait(60)
    assert shift.tick(now=T0 + 1100.0) is None
    assert shift.tick(now=T0 + 3 * 3600.0 + 100.0) == 2  # two shifts later: the one that holds now, at once
    service.wait(60)
    assert shift.shift == Shift(T0 + 3 * 3600.0, T0 + 4 * 3600.0, target=40)
    assert got[-1].horizon_s == 3600.0 - 100.0
    assert got[-1].made_so_far == 0  # the last count (130) was before this shift: nothing made in it yet
    assert not shift.roll(now=T0 + 3 * 3600.0 + 200.0)


def test_a_new_version_of_the_factory_is_forecast_anew(setup):
    model, store, history, service, got = setup
    shift = ShiftForecast(service, model, store, Shift(T0, T0 + 8 * 3600.0), history)
    assert shift.tick(now=T0 + 3600.0) == 1
    service.wait(60)
    change = MachineParam(machine="CNC-03", param="cycle_mean_s", value=396.0)  # as the watchdog's Recalibrate
    recalibrated = apply(Scenario(name="recalibrated", factory=service.factory, changes=[change]))
    shift.set_factory(recalibrated)
    assert service.factory is recalibrated
    assert shift.tick(now=T0 + 3605.0) is None  # within the clock floor
    assert shift.tick(now=T0 + 3610.0) == 2  # not 5 minutes later
    service.wait(60)
    assert len(got) == 2
