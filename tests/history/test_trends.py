"""The trend plots' contents from a real recorded history, without a display: which signals, in which units,
over which window, broken where the link was down."""

from __future__ import annotations

import numpy as np

from app.history.recorder import History, Recorder, Sample
from app.history.trends import MIN_SPAN_S, axis_unit, trend_window, window_end, x_range

NOW = 1_800_000_000.0


def _history(tmp_path, t0: float) -> History:
    """PR-01 recorded for 100 s, the link down for 200 s, then recorded again."""
    path = tmp_path / "history.sqlite"
    rec = Recorder(path)
    rec.record_link("connected", t0)
    samples = []
    for k, t in enumerate(np.arange(t0 + 1, t0 + 100, 2.0)):
        samples += [
            Sample("PR-01", "Power", "ns=2;s=p", t, t, 0.4 + 0.001 * k, None, 0),
            Sample("PR-01", "Temperature", "ns=2;s=T", t, t, 30.0, None, 0),
            Sample("PR-01", "NotATrend", "ns=2;s=x", t, t, 1.0, None, 0),
        ]
    rec.record(samples)
    rec.record_link("reconnecting", t0 + 100)
    rec.record_link("connected", t0 + 300)
    rec.record([Sample("PR-01", "Power", "x", t, t, 0.7, None, 0) for t in (t0 + 301, t0 + 330)])
    assert rec.flush()
    rec.close()
    return History(path)


def test_prefixed_units_are_plotted_in_their_base_unit():
    assert axis_unit("kW") == ("W", 1e3, True) and axis_unit("mm") == ("m", 1e-3, True)
    assert axis_unit("°C") == ("°C", 1.0, False) and axis_unit("%") == ("%", 1.0, False)


def test_the_trends_are_the_recorded_trend_signals_in_si_base_units_broken_at_the_gap(tmp_path):
    t0 = NOW - 400
    shown = trend_window(_history(tmp_path, t0), "PR-01", NOW, 600.0)
    assert set(shown.trends) == {"Power", "Temperature"}  # only trend signals, only those recorded
    power = shown.trends["Power"]
    assert power.unit == "kW" and power.axis[0] == "W"
    y = power.plotted()
    assert np.nanmin(y) >= 400 and np.nanmax(y) <= 700
    x = power.t  # seconds from now
    assert np.isnan(y[(x >= t0 + 100 - NOW - 10) & (x <= t0 + 300 - NOW)]).any()  # no line across the gap
    assert power.t[-1] == 0.0 and y[-1] == 700.0  # the last value holds until now
    assert shown.x_range == (-400 + 1, 0.0)  # a recording shorter than the window fills the plot
    assert shown.cursor is None
    assert trend_window(_history(tmp_path, t0), "CNC-01", NOW, 600.0).trends == {}


def test_the_servers_units_win_over_floortwins(tmp_path):
    shown = trend_window(_history(tmp_path, NOW - 400), "PR-01", NOW, 600.0, units={"Power": "W"})
    assert shown.units() == {"Power": "W", "Temperature": "°C"}
    assert shown.trends["Power"].axis == ("W", 1.0, False)


def test_a_replayed_time_the_window_does_not_reach_moves_the_window_to_it(tmp_path):
    assert window_end(NOW, 600.0, None) == NOW and window_end(NOW, 600.0, NOW - 100) == NOW
    assert window_end(NOW, 600.0, NOW - 3000) == NOW - 3000 + 120
    shown = trend_window(_history(tmp_path, NOW - 4000), "PR-01", NOW, 600.0, cursor=NOW - 3950)
    assert shown.cursor == -3950.0
    lo, hi = shown.x_range
    assert hi == -3950 + 120 and lo <= -3950 <= hi
    assert all(lo - 1 <= tr.t[0] and tr.t[-1] <= hi + 5 for tr in shown.trends.values())


def test_the_x_range_is_the_window_or_at_least_the_shortest_span():
    assert x_range(None, NOW, NOW, 600.0) == (-600.0, 0.0)
    assert x_range(-2.0, NOW, NOW, 600.0) == (-MIN_SPAN_S, 0.0)
    assert x_range(-5000.0, NOW, NOW, 600.0) == (-600.0, 0.0)
