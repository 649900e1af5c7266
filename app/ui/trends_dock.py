"""Trends of the selected machine's signals (pyqtgraph), read from the recorded history once a second."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from app.history.recorder import History

TREND_SIGNALS = (
    ("Temperature", "°C", (213, 94, 0)),
    ("Power", "kW", (0, 114, 178)),
    ("SpindleLoad", "%", (0, 158, 115)),
    ("PressForce", "kN", (0, 158, 115)),
    ("AxisLoad", "%", (0, 158, 115)),
)


class TrendsDock(QtWidgets.QDockWidget):
    """One plot per numeric signal of the current machine over the last ``window_s`` seconds."""

    def __init__(self, parent: QtWidgets.QWidget | None = None, window_s: float = 600.0):
        super().__init__("Trends", parent)
        self.setObjectName("dock_trends")
        self.window_s = window_s
        self.history: History | None = None
        self.machine: str | None = None
        self.layout_widget = pg.GraphicsLayoutWidget(self)
        self.layout_widget.setBackground(None)
        self.setWidget(self.layout_widget)
        self.plots: dict[str, tuple[pg.PlotItem, pg.PlotDataItem]] = {}
        self.hint = self.layout_widget.addLabel("Select a machine to see its trends")
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.refresh)

    def set_history(self, history: History | None) -> None:
        self.history = history
        if history is None:
            self._timer.stop()
        else:
            self._timer.start()
        self.refresh()

    def set_machine(self, machine: str | None) -> None:
        self.machine = machine
        self.refresh()

    def refresh(self) -> None:
        if self.history is None or self.machine is None or not self.isVisible():
            return
        now = time.time()
        series = {}
        for name, unit, colour in TREND_SIGNALS:
            t, v, _status = self.history.series(self.machine, name, now - self.window_s, now + 5)
            if len(t):
                series[name] = (t - now, v, unit, colour)
        if set(series) != set(self.plots):
            self.layout_widget.clear()
            self.plots.clear()
            if not series:
                self.hint = self.layout_widget.addLabel(f"No recorded signals for {self.machine} yet")
            for r, (name, (_t, _v, unit, colour)) in enumerate(series.items()):
                plot = self.layout_widget.addPlot(row=r, col=0)
                plot.setLabel("left", name, units=unit)
                plot.showGrid(x=True, y=True, alpha=0.25)
                plot.setXRange(-self.window_s, 0, padding=0)
                if r == len(series) - 1:
                    plot.setLabel("bottom", "seconds from now")
                curve = plot.plot(pen=pg.mkPen(colour, width=2), connect="finite")
                self.plots[name] = (plot, curve)
        for name, (t, v, _unit, _colour) in series.items():
            self.plots[name][1].setData(t, np.asarray(v, dtype=float))

    def curve_data(self, name: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The plotted (x, y) of a signal (for tests)."""
        if name not in self.plots:
            return None
        x, y = self.plots[name][1].getData()
        return (np.asarray(x), np.asarray(y)) if x is not None else None
