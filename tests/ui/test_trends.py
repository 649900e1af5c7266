"""The Trends dock: axis units with the right SI prefix, and lines broken where the recording stopped."""

from __future__ import annotations

import time

import numpy as np
import pytest

from app.history.recorder import History, Recorder, Sample

pytestmark = pytest.mark.gui


def _record(path, t0: float) -> None:
    """PR-01 recorded for 100 s, the link down for 200 s, then recorded again: power and force under 1 kW/kN."""
    rec = Recorder(path)
    rec.record_link("connected", t0)
    samples = []
    for k, t in enumerate(np.arange(t0 + 1, t0 + 100, 2.0)):
        samples += [
            Sample("PR-01", "Power", "ns=2;s=p", t, t, 0.4 + 0.001 * k, None, 0),
            Sample("PR-01", "PressForce", "ns=2;s=f", t, t, 0.5, None, 0),
            Sample("PR-01", "Temperature", "ns=2;s=T", t, t, 30.0 + 0.01 * k, None, 0),
        ]
    rec.record(samples)
    rec.record_link("reconnecting", t0 + 100)
    rec.record_link("connected", t0 + 300)
    later = (("Power", 0.7), ("Temperature", 31.0))
    rec.record([Sample("PR-01", s, "x", t, t, v, None, 0) for t in (t0 + 301, t0 + 330) for s, v in later])
    assert rec.flush()
    rec.close()


def test_trend_axes_use_the_right_si_prefix_and_break_at_recording_gaps(make_window, tmp_path):
    w = make_window()
    w.trends_dock.show()
    now = time.time()
    t0 = now - 400
    path = tmp_path / "history.sqlite"
    _record(path, t0)
    w.trends_dock.set_history(History(path))
    w.selection.select(["PR-01"])
    w.trends_dock.refresh()

    power, force, temperature = (w.trends_dock.axis_label(s) for s in ("Power", "PressForce", "Temperature"))
    # 0.4–0.7 kW: W or kW by the axis's range, never "mkW" (a prefix on a prefixed unit)
    assert ("Power (W)" in power or "Power (kW)" in power) and "mk" not in power
    assert ("PressForce (N)" in force or "PressForce (kN)" in force) and "mk" not in force
    assert "Temperature (°C)" in temperature  # no prefix on degrees Celsius
    x, y = w.trends_dock.curve_data("Power")
    finite = np.isfinite(y)
    assert np.nanmin(y) >= 400 and np.nanmax(y) <= 700

    # No line across the 200 s the link was down: a NaN between the sessions, and each drawn segment
    # stays inside a session.
    gap_lo, gap_hi = t0 + 100 - now, t0 + 300 - now
    assert np.isnan(y[(x >= gap_lo - 10) & (x <= gap_hi)]).any()  # (x is seconds from the dock's "now")
    xs = x[finite]
    joined = finite[:-1] & finite[1:]
    spans = np.column_stack([x[:-1][joined], x[1:][joined]])
    assert not np.any((spans[:, 0] < gap_hi - 1) & (spans[:, 1] > gap_lo + 1)), "a line is drawn across the gap"
    # The last value before the link dropped holds until it dropped.
    # The link is up again: the last value (unchanged values are not sent again) holds until now.
    assert x[-1] == 0.0 and y[-1] == y[-2]
    before = np.sort(xs[xs < (gap_lo + gap_hi) / 2])
    assert np.isclose(before[-1] - before[-2], 1.0)  # the last sample (t0 + 99) held until the drop (t0 + 100)


def test_a_short_recording_fills_the_plot(make_window, tmp_path):
    """Fifteen seconds recorded: the plot spans them (at least 30 s), not ten empty minutes."""
    w = make_window()
    w.trends_dock.show()
    now = time.time()
    path = tmp_path / "history.sqlite"
    rec = Recorder(path)
    rec.record_link("connected", now - 16)
    rec.record([Sample("PR-01", "Temperature", "x", t, t, 30.0, None, 0) for t in np.arange(now - 15, now, 1.0)])
    assert rec.flush()
    rec.close()
    w.trends_dock.set_history(History(path))
    w.selection.select(["PR-01"])
    w.trends_dock.refresh()
    plot = w.trends_dock.plots["Temperature"][0]
    lo, hi = plot.viewRange()[0]
    assert -35 <= lo <= -15 and hi == pytest.approx(0, abs=1)


def test_switching_the_theme_at_run_time_reaches_the_trends(make_window, qtbot):
    """The Trends dock was left white after View ▸ dark theme (only a dark start made it dark)."""
    w = make_window()
    w.set_theme("light")
    qtbot.waitUntil(lambda: w.trends_dock.background.lightness() > 180, timeout=5000)
    w.set_theme("dark")
    qtbot.waitUntil(lambda: w.trends_dock.background.lightness() < 80, timeout=5000)
