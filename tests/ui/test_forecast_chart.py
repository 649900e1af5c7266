"""The parts-out chart of the shift: actual so far, then the forecast's median and 95% band from now, the
target and the probability of reaching it — fed by the forecast service from its own thread."""

from __future__ import annotations

import numpy as np
import pytest

from app.forecast.live_state import EngineObserver
from app.forecast.service import ForecastService
from app.model.io import load_factory
from app.sim.engine import Engine
from app.sim.model import compile_model
from app.ui.forecast_chart import ForecastChart
from tests.conftest import DEMO

pytestmark = pytest.mark.gui
SHIFT = 1_700_000_000.0


def _live(factory):
    plant = Engine(compile_model(factory, horizon_s=86400.0, warmup_s=0.0, seed=9, sample_s=1e12))
    plant.run_until(2 * 3600.0)
    watch = EngineObserver(plant)
    watch.advance(600.0)
    return watch.state()


def test_the_chart_shows_actual_so_far_then_the_forecast_band_and_the_probability(qtbot):
    factory = load_factory(DEMO)
    chart = ForecastChart()
    qtbot.addWidget(chart)
    chart.resize(700, 420)
    chart.show()
    now = SHIFT + 3 * 3600.0
    chart.set_actual(np.array([SHIFT, SHIFT + 3600.0, SHIFT + 7200.0, now]), np.array([0.0, 40.0, 77.0, 118.0]), SHIFT, now)
    assert chart.caption.text() == "forecast: being made…"
    assert not chart.band.isVisible()
    svc = ForecastService(factory, replications=20, workers=0)
    chart.bind(svc)
    try:
        svc.request(_live(factory), horizon_s=5 * 3600.0, target=300, made_so_far=118, seed=2)
        qtbot.waitUntil(lambda: chart.forecast is not None, timeout=60_000)
    finally:
        svc.close()
    shown = chart.shown
    assert shown is not None and shown.band is not None
    x, median = chart.median_curve.getData()
    assert x[0] == pytest.approx(3.0) and x[-1] == pytest.approx(8.0)  # from now to the end of the shift
    assert median[0] == 118  # the forecast starts at what has been made
    low, high = chart.forecast.band()
    x_band, low_drawn, high_drawn = chart.band_drawn()
    assert np.array_equal(x_band, x) and np.array_equal(low_drawn, low) and np.array_equal(high_drawn, high)
    assert chart.band.isVisible() and chart.target_line.isVisible() and chart.target_line.value() == 300
    text = chart.caption.text()
    assert text.startswith("in 5 h: ") and "118 of them made so far" in text
    assert "reaching 300: " in text and "of 20 replications" in text


def test_too_few_replications_are_said_and_no_band_is_drawn(qtbot):
    factory = load_factory(DEMO)
    chart = ForecastChart()
    qtbot.addWidget(chart)
    svc = ForecastService(factory, replications=5, workers=0)
    chart.bind(svc)
    try:
        svc.request(_live(factory), horizon_s=3600.0, target=50, seed=3)
        qtbot.waitUntil(lambda: chart.forecast is not None, timeout=60_000)
    finally:
        svc.close()
    assert not chart.band.isVisible()
    assert "not enough replications for a band — needs ≥ 10, has 5" in chart.caption.text()
    assert "reaching 50: not enough replications — needs ≥ 20, has 5" in chart.caption.text()


def test_the_legend_sits_above_the_plot_area_and_covers_no_data(qtbot):
    """Issue 16 F10: the legend was drawn over the band and the median line."""
    from app.forecast.forecast import ForecastRequest, run_forecast
    from app.forecast.live_state import LiveState

    chart = ForecastChart()
    qtbot.addWidget(chart)
    chart.resize(500, 320)
    chart.show()
    forecast = run_forecast(load_factory(DEMO), ForecastRequest(LiveState({}, 0), 7 * 3600.0, 20, made_so_far=12, seed=1))
    chart.set_actual(np.array([SHIFT, SHIFT + 3600.0]), np.array([0.0, 12.0]), SHIFT, SHIFT + 3600.0, 1.0, SHIFT + 8 * 3600.0)
    chart.show_forecast(forecast)
    view = chart.plot.getPlotItem().vb
    qtbot.waitUntil(lambda: view.sceneBoundingRect().height() > 50)
    legend, plot_area = chart.legend.sceneBoundingRect(), view.sceneBoundingRect()
    assert legend.height() > 0 and legend.bottom() <= plot_area.top() + 0.5
    labels = [label.text for _sample, label in chart.legend.items]
    assert labels == ["actual", "median", "95% band"]
    # it fits the narrow dock of a 1366×768 screen (a wider legend row pushed the plot past the dock's edge)
    chart.resize(260, 320)
    qtbot.waitUntil(lambda: chart.plot.width() <= 260)
    qtbot.waitUntil(lambda: chart.legend.sceneBoundingRect().right() <= chart.plot.viewport().width())
    assert view.sceneBoundingRect().right() <= chart.plot.viewport().width()


def test_a_short_shift_reads_in_hours_without_a_scale_factor(qtbot):
    # Trial 7 screenshots: a half-hour shift's axis read "plant hours into the shift (x0.001)" from 0 to 500.
    chart = ForecastChart()
    qtbot.addWidget(chart)
    chart.resize(500, 360)
    chart.show()
    chart.set_actual(np.array([SHIFT, SHIFT + 60.0]), np.array([0.0, 2.0]), SHIFT, SHIFT + 60.0, 1.0, SHIFT + 1800.0)
    chart.plot.setXRange(0.0, 0.5)
    qtbot.wait(20)
    axis = chart.plot.getAxis("bottom")
    assert axis.labelString().find("x0.001") < 0 and "(m" not in axis.labelString()
    assert axis.autoSIPrefixScale == 1.0
    chart.set_actual(np.array([SHIFT, SHIFT + 60.0]), np.array([0.0, 2.0]), SHIFT, SHIFT + 60.0, 120.0, SHIFT + 15.0)
    assert chart.shown.actual_h.tolist() == [0.0]  # the count a minute in is past the shift's end: not drawn
