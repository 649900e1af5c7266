"""The chart's actual parts out come from the recorded part counts of the exit stations (real SQLite)."""

from __future__ import annotations

import numpy as np

from app.forecast.chart import actual_parts_out, chart_data
from app.forecast.forecast import ForecastRequest, run_forecast
from app.forecast.live_state import LiveState
from app.history.recorder import History, Recorder, Sample
from app.model.io import load_factory
from tests.conftest import DEMO


def test_parts_out_since_the_shift_began_sum_the_exit_counters_across_a_plant_restart(tmp_path):
    rec = Recorder(tmp_path / "h.sqlite")
    t0 = 1_700_000_000.0
    counts = [(t0 - 600, 50), (t0 + 100, 52), (t0 + 200, 55), (t0 + 300, 1), (t0 + 400, 4)]  # restarted at +300
    rec.record([Sample("WH-OUT", "PartCount", "n", t, t, float(v), None, 0) for t, v in counts])
    rec.record([Sample("WH-OUT", "PartCount", "n", t0 + 450, t0 + 450, 99.0, None, 0x80000000)])  # bad: ignored
    assert rec.flush()
    rec.close()
    t, n = actual_parts_out(History(tmp_path / "h.sqlite"), ["WH-OUT"], t0, t0 + 500)
    assert n.tolist() == [0, 2, 5, 6, 9]
    assert t[0] == t0 and t[-1] == t0 + 400


def test_the_chart_joins_actual_and_forecast_at_now():
    factory = load_factory(DEMO)
    forecast = run_forecast(factory, ForecastRequest(LiveState({}, 0), 3600.0, 20, target=30, made_so_far=12, seed=1))
    shift = 1_700_000_000.0
    data = chart_data(forecast, np.array([shift, shift + 1800.0]), np.array([0.0, 12.0]), shift, shift + 1800.0)
    assert data.now_h == 0.5 and data.forecast_h[0] == 0.5 and data.forecast_h[-1] == 1.5
    assert data.median[0] == 12 and data.band is not None and data.target == 30
    assert data.caption[1].startswith("reaching 30: ")


def test_a_forecast_read_later_says_when_it_was_made_and_speaks_of_the_shifts_end():
    """Issue 16 F10: at 20× a forecast made 25 plant minutes ago read "in 7.94 h" beside "7.53 h left"."""
    factory = load_factory(DEMO)
    shift, scale = 1_700_000_000.0, 20.0
    end = shift + 8 * 3600.0 / scale
    made = shift + 75.0  # 25 plant minutes into the shift
    forecast = run_forecast(factory, ForecastRequest(LiveState({}, 0), (end - made) * scale, 10, seed=1))
    now = made + 75.0  # 25 plant minutes later
    data = chart_data(forecast, np.array([shift]), np.array([0.0]), shift, now, scale, end)
    assert data.caption[0].startswith("by the shift's end: ")
    assert "in 7." not in data.caption[0]
    assert data.caption[1] == "forecast made 25 min ago (plant time), 25 min into the shift"
    fresh = chart_data(forecast, np.array([shift]), np.array([0.0]), shift, made, scale, end)
    assert fresh.caption[1] == "forecast made just now, 25 min into the shift"
