"""The parts-out chart of the shift: actual so far, the forecast from now (median and 95% band), the target,
and the probability of reaching it — a thin view over ``app.forecast`` (computation and texts live there)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from app.forecast.chart import ChartData, chart_data
from app.forecast.forecast import Forecast
from app.forecast.service import ForecastService
from app.ui.gui_thread import connect_on_gui
from app.ui.theme import colour_plot

#: Okabe–Ito colours: actual (blue), forecast (orange), target (vermillion).
ACTUAL, FORECAST, TARGET = (0, 114, 178), (230, 159, 0), (213, 94, 0)
AXIS = "hours into the shift"
PLANT_AXIS = "plant hours into the shift"  # a plant faster than real time
LEGEND_ROW_PX = 22


class ForecastChart(QtWidgets.QWidget):
    """Parts out since the shift began (hours on the x axis) with the forecast's band from now on.

    ``bind(service)`` shows each forecast the service finishes (on the GUI thread); ``set_actual`` gives
    the parts out so far (``app.forecast.chart.actual_parts_out``).
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("forecast_chart")
        self.plot = pg.PlotWidget(self)
        self.plot.setLabel("bottom", AXIS)
        self.plot.setLabel("left", "parts out")
        for side in ("bottom", "left"):  # hours and parts as they are: a half-hour shift read "(x0.001)" 0–500
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        # The legend in one row above the plot area, where it covers no data (inside it hid the band).
        pi = self.plot.getPlotItem()
        # Short labels over the axis column too: the row must fit the narrow dock at 1366×768 (no wider chart).
        pi.legend = self.legend = pg.LegendItem(colCount=3, frame=False, labelTextSize="8pt", horSpacing=2)
        pi.layout.removeItem(pi.titleLabel)  # the chart has no title: its row holds the legend
        pi.titleLabel.setVisible(False)
        pi.layout.addItem(self.legend, 0, 0, 1, 3)
        pi.layout.setRowFixedHeight(0, LEGEND_ROW_PX)
        dash, dot = QtCore.Qt.PenStyle.DashLine, QtCore.Qt.PenStyle.DotLine
        self.actual_curve = self.plot.plot(pen=pg.mkPen(ACTUAL, width=2), name="actual")
        self.median_curve = self.plot.plot(pen=pg.mkPen(FORECAST, width=2, style=dash), name="median")
        self._low = pg.PlotDataItem(pen=pg.mkPen(FORECAST, width=1))
        self._high = pg.PlotDataItem(pen=pg.mkPen(FORECAST, width=1))
        self.band = pg.FillBetweenItem(self._low, self._high, brush=pg.mkBrush(*FORECAST, 70))
        self.plot.addItem(self.band)
        # The legend draws a sample of a curve, not of a fill between two: a filled curve stands for the band.
        self._band_sample = pg.PlotDataItem(pen=pg.mkPen(FORECAST, width=1), fillLevel=0, fillBrush=pg.mkBrush(*FORECAST, 70))
        self.legend.addItem(self._band_sample, "95% band")
        self.target_line = pg.InfiniteLine(
            angle=0, movable=False, pen=pg.mkPen(TARGET, width=1, style=dot),
            label="target {value:.0f}", labelOpts={"position": 0.05, "color": TARGET, "anchors": [(0, 1), (0, 1)]},
        )
        self.now_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen((128, 128, 128), width=1))
        self.target_line.setVisible(False)  # until a forecast with a target is drawn (not "target 0" before one)
        self.plot.addItem(self.target_line)
        self.plot.addItem(self.now_line)
        self.caption = QtWidgets.QLabel("forecast: not made yet", self)
        self.caption.setObjectName("forecast_caption")
        self.caption.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.caption)
        self.forecast: Forecast | None = None
        self.shown: ChartData | None = None
        self._actual = (np.zeros(0), np.zeros(0))
        self._shift_start = 0.0
        self._now = 0.0
        self._time_scale = 1.0
        self._shift_end: float | None = None
        self._follow_palette()

    def bind(self, service: ForecastService) -> None:
        """Show the service's forecasts as they finish, and why one failed."""
        connect_on_gui(service.finished, self.show_forecast)
        connect_on_gui(service.failed, self._on_failed)

    def _on_failed(self, reason: str) -> None:
        self.caption.setText(reason)

    def set_actual(
        self,
        t: np.ndarray,
        parts_out: np.ndarray,
        shift_start: float,
        now: float,
        time_scale: float = 1.0,
        shift_end: float | None = None,
    ) -> None:
        """The parts out since ``shift_start`` at UNIX times ``t`` up to ``now``; ``time_scale``: plant seconds
        per clock second (the x axis is the plant's hours, as the forecast's); ``shift_end``: where the
        forecast ends (it is drawn from when it was made; without it, from ``now``)."""
        self._actual, self._shift_start, self._now, self._shift_end = (t, parts_out), shift_start, now, shift_end
        if time_scale != self._time_scale:
            self._time_scale = time_scale
            self.plot.setLabel("bottom", AXIS if time_scale == 1.0 else PLANT_AXIS)  # the speed-up: in the status line
        self._draw()

    def show_forecast(self, forecast: Forecast | None) -> None:
        self.forecast = forecast
        self._draw()

    def band_drawn(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The band as drawn: (hours, low, high); empty arrays when none is drawn."""
        x, low = self._low.getData()
        _, high = self._high.getData()
        empty = np.zeros(0)
        return (empty, empty, empty) if x is None else (np.asarray(x), np.asarray(low), np.asarray(high))

    def _draw(self) -> None:
        data = chart_data(self.forecast, *self._actual, self._shift_start, self._now, self._time_scale, self._shift_end)
        self.shown = data
        self.actual_curve.setData(data.actual_h, data.actual)
        self.median_curve.setData(data.forecast_h, data.median)
        low, high = data.band if data.band is not None else (np.zeros(0), np.zeros(0))
        x = data.forecast_h if data.band is not None else np.zeros(0)
        self._low.setData(x, low)
        self._high.setData(x, high)
        self.band.setVisible(data.band is not None)
        self.target_line.setVisible(data.target is not None)
        if data.target is not None:
            self.target_line.setValue(data.target)
        self.now_line.setValue(data.now_h)
        self.caption.setText("\n".join(data.caption))

    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QtCore.QEvent.Type.PaletteChange, QtCore.QEvent.Type.ApplicationPaletteChange):
            self._follow_palette()

    def _follow_palette(self) -> None:
        colour_plot(self.plot, self.palette())
