"""The "Shift forecast" dock: the parts-out chart with the shift's end and target, a "Forecast now"
button, and the background refresh (``app.forecast.schedule``: on the plant's clock, checked every few
seconds; the next shift begins when one ends; a new version of the factory is forecast anew). A thin view
over ``app.forecast.shift.ShiftForecast``: the window hands it the live store, the history and the document
when a link is up (``attach``) and takes them back when it goes (``detach``)."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6 import QtCore, QtWidgets

from app.forecast.service import ForecastService
from app.forecast.shift import Shift, ShiftForecast, shift_end, shift_text
from app.history.recorder import History
from app.model.document import FactoryDocument
from app.model.factory import Factory
from app.sim.model import compile_model
from app.state.store import StateStore
from app.ui.forecast_chart import ForecastChart
from app.ui.gui_thread import connect_on_gui
from app.ui.widgets import follow_versions

#: How often the dock redraws the actual parts out and asks whether a forecast is due (ms).
TICK_MS = 5000


class ForecastDock(QtWidgets.QDockWidget):
    """Parts out this shift, actual and forecast, and the probability of reaching the target."""

    def __init__(self, parent: QtWidgets.QWidget | None = None, service: ForecastService | None = None):
        super().__init__("Shift forecast", parent)
        self.setObjectName("dock_forecast")
        self.service = service
        self.shift_forecast: ShiftForecast | None = None
        body = QtWidgets.QWidget(self)
        self.chart = ForecastChart(body)
        self.shift_hours = QtWidgets.QDoubleSpinBox(body)
        self.shift_hours.setRange(0.5, 24.0)
        self.shift_hours.setSingleStep(0.5)
        self.shift_hours.setValue(8.0)
        self.shift_hours.setSuffix(" h shift")
        self.shift_hours.setToolTip("The shift's length in the plant's time (on a plant simulator run faster than real time too)")
        self.target = QtWidgets.QSpinBox(body)
        self.target.setRange(0, 1_000_000)
        self.target.setSpecialValueText("no target")
        self.target.setPrefix("target ")
        self.now_button = QtWidgets.QPushButton("Forecast &now", body)
        self.now_button.setToolTip("Simulate the rest of the shift from the plant's state now")
        self.now_button.clicked.connect(self.forecast_now)
        self.status = QtWidgets.QLabel("Connect to a plant to forecast its shift", body)
        self.status.setWordWrap(True)
        # Two short rows, so the dock is no wider than its neighbours on the right (the 3D view keeps its room).
        row = QtWidgets.QHBoxLayout()
        for w in (self.shift_hours, self.target):
            row.addWidget(w)
        row.addStretch(1)
        below = QtWidgets.QHBoxLayout()
        below.addWidget(self.status, 1)
        below.addWidget(self.now_button)
        layout = QtWidgets.QVBoxLayout(body)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(row)
        layout.addWidget(self.chart, 1)
        layout.addLayout(below)
        # In a scroll area: its small minimum keeps the stacked docks of a first start within a 1366×768
        # window (the chart's own minimum made the window taller than the screen before the docks were tabbed).
        scroll = QtWidgets.QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        body.setMinimumHeight(body.minimumSizeHint().height())
        scroll.setWidget(body)
        self.setWidget(scroll)
        if service is not None:
            self._bind(service)
        self.shift_hours.valueChanged.connect(self._shift_changed)
        self.target.valueChanged.connect(self._shift_changed)
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.tick)
        self._shift_start = time.time()
        self.time_scale = 1.0  # plant seconds per clock second of the attached link: the shift is plant time
        self._ready: Callable[[], bool] | None = None
        self._document: FactoryDocument | None = None  # followed while attached: its new versions are forecast
        self.now_button.setEnabled(False)

    def _bind(self, service: ForecastService) -> None:
        self.chart.bind(service)
        connect_on_gui(service.finished, self._on_forecast)

    def _on_forecast(self, _forecast: object) -> None:
        sf = self.shift_forecast
        if sf is not None:
            self.status.setText(shift_text(self._shift_start, sf.shift.end, time.time(), self.time_scale))

    def attach(
        self,
        factory: Factory,
        store: StateStore,
        history: History | None,
        shift_start: float,
        time_scale: float = 1.0,
        ready: Callable[[], bool] | None = None,
        document: FactoryDocument | None = None,
    ) -> None:
        """Forecast the shift that began at ``shift_start`` (UNIX s) from this store (a live link is up);
        ``ready`` says when the store holds the plant's state (no forecast is made from an empty line);
        ``time_scale``: the link's plant seconds per clock second — the shift's length, the chart's axis and
        the time left are the plant's; ``document``: its new versions (a recalibration) are forecast anew."""
        self._ready = ready
        self.time_scale = time_scale
        if self.service is None:
            self.service = ForecastService(factory)
            self._bind(self.service)
        else:
            self.service.set_factory(factory)
        self._shift_start = shift_start
        model = compile_model(factory, horizon_s=3600.0, warmup_s=0.0)
        self.shift_forecast = ShiftForecast(self.service, model, store, self._shift(), history, time_scale)
        self._follow(document)
        self.now_button.setEnabled(True)
        self._timer.start()
        self.tick()

    def detach(self) -> None:
        """The link is gone: stop refreshing (the last forecast stays drawn)."""
        self._timer.stop()
        self._follow(None)
        if self.service is not None:
            self.service.cancel()
        self.shift_forecast = None
        self.now_button.setEnabled(False)
        self.status.setText("Not connected: the last forecast stays as it was")

    def close_service(self) -> None:
        """Stop the service's workers (the window is closing)."""
        self.detach()
        if self.service is not None:
            self.service.close()

    def forecast_now(self) -> None:
        if self.shift_forecast is not None:
            self.shift_forecast.refresh()
            self.status.setText("Forecasting…")

    def tick(self) -> None:
        sf = self.shift_forecast
        if sf is None:
            return
        if self._ready is not None and not self._ready():
            self.status.setText("Waiting for the plant's state before forecasting…")
            self.now_button.setEnabled(False)
            return
        self.now_button.setEnabled(True)
        now = time.time()
        if sf.roll(now):  # the shift ended: the next one begins (its chart starts empty, its forecast now)
            self._shift_start = sf.shift.start
            self.chart.show_forecast(None)
        t, n = sf.actual(now)
        self.chart.set_actual(t, n, self._shift_start, now, self.time_scale, sf.shift.end)
        if sf.tick(now) is not None:
            self.status.setText("Forecasting…")
        else:
            self.status.setText(shift_text(self._shift_start, sf.shift.end, now, self.time_scale))

    def _shift(self) -> Shift:
        target = self.target.value() or None
        return Shift(self._shift_start, shift_end(self._shift_start, self.shift_hours.value(), self.time_scale), target)

    def _follow(self, document: FactoryDocument | None) -> None:
        self._document = follow_versions(self._document, document, self._on_new_version)

    def _on_new_version(self, _ids: object) -> None:
        if self.shift_forecast is not None and self._document is not None:
            self.shift_forecast.set_factory(self._document.factory)
            self.status.setText("The factory changed: forecasting it anew…")

    def _shift_changed(self) -> None:
        if self.shift_forecast is not None:
            self.shift_forecast.set_shift(self._shift())
