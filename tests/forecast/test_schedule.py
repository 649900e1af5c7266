"""The shift forecast's automatic refresh counts the plant's time, with a floor on the clock (issue 16, trial 7:
at 120× real time the refresh "every 5 minutes" of the clock came once in 10 plant hours, after the shift)."""

from __future__ import annotations

from app.forecast.schedule import RefreshSchedule


def test_at_real_time_the_refresh_comes_every_five_minutes():
    s = RefreshSchedule(plant_every_s=300.0, min_clock_s=10.0)
    assert s.due(now=1000.0)  # never made
    s.requested(1000.0)
    assert not s.due(now=1299.0)
    assert s.due(now=1300.0)


def test_at_120x_it_comes_every_10_clock_seconds_not_every_10_plant_hours():
    s = RefreshSchedule(plant_every_s=300.0, min_clock_s=10.0)
    s.requested(0.0)
    assert not s.due(now=2.5, time_scale=120.0)  # 5 plant minutes already, but under the clock floor
    assert not s.due(now=9.9, time_scale=120.0)
    assert s.due(now=10.0, time_scale=120.0)
    # a refresh per 20 plant minutes: 24 in an 8-h plant shift (4 clock minutes), where the clock rule gave none
    times = [t * 0.5 for t in range(0, 480)]
    made = []
    s = RefreshSchedule()
    for t in times:
        if s.due(t, 120.0):
            s.requested(t)
            made.append(t)
    assert len(made) == 24 and made[1] - made[0] == 10.0


def test_a_very_fast_plant_still_waits_the_clock_floor_and_as_long_as_the_last_forecast_took():
    s = RefreshSchedule(plant_every_s=300.0, min_clock_s=10.0)
    s.requested(0.0)
    assert not s.due(now=9.0, time_scale=10_000.0)
    assert s.due(now=10.0, time_scale=10_000.0)
    assert not s.due(now=20.0, time_scale=10_000.0, took_s=25.0)  # a slow forecast: at most half the time forecasting
    assert s.due(now=25.0, time_scale=10_000.0, took_s=25.0)


def test_never_while_one_runs():
    s = RefreshSchedule()
    assert not s.due(now=0.0, running=True)
    s.shift_began()
    assert not s.due(now=0.0, running=True)


def test_a_new_factory_is_forecast_once_the_floor_allows_and_a_new_shift_at_once():
    s = RefreshSchedule(plant_every_s=300.0, min_clock_s=10.0)
    s.requested(0.0)
    s.factory_changed()  # a recalibration at real time: not 5 minutes later, but after the clock floor
    assert not s.due(now=5.0)
    assert s.due(now=10.0)
    s.requested(10.0)
    assert not s.due(now=12.0)
    s.shift_began()  # the old shift's forecast says nothing about the new shift: at once
    assert s.due(now=12.0)
    s.requested(12.0)
    assert not s.due(now=13.0)
