"""Trends of the selected machine's signals (pyqtgraph), read from the recorded history once a second."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from app.history.recorder import History
from app.history.trends import Trend, trend_window

#: Each trend's pen (Okabe–Ito colours; the kind-specific loads share one: a machine has one of them).
TREND_COLOURS = {"Temperature": (213, 94, 0), "Power": (0, 114, 178)}
LOAD_COLOUR = (0, 158, 115)


class TrendsDock(QtWidgets.QDockWidget):
    """One plot per numeric signal of the current machine over the last ``window_s`` seconds.

    During a replay a vertical cursor marks the replayed time, and the window follows it when it is
    further back than the window reaches.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None, window_s: float = 600.0):
        super().__init__("Trends", parent)
        self.setObjectName("dock_trends")
        self.window_s = window_s
        self.history: History | None = None
        self.machine: str | None = None
        self.layout_widget = pg.GraphicsLayoutWidget(self)
        self.setWidget(self.layout_widget)
        self.plots: dict[str, tuple[pg.PlotItem, pg.PlotDataItem]] = {}
        self.units: dict[str, str] = {}  # the server's engineering units of the machine's signals
        self._shown_units: dict[str, str] | None = None
        self.replay_time: float | None = None
        self._cursor_lines: dict[str, pg.InfiniteLine] = {}
        self.hint = self.layout_widget.addLabel("Select a machine to see its trends")
        self._follow_palette()
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.refresh)

    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        kinds = (QtCore.QEvent.Type.PaletteChange, QtCore.QEvent.Type.ApplicationPaletteChange, QtCore.QEvent.Type.StyleChange)
        if event.type() in kinds:
            self._follow_palette()  # a theme switched at run time reaches the plots too

    def _follow_palette(self) -> None:
        """Plots in the window's colours: its background, its text colour for axes and labels."""
        pal = self.palette()
        self.layout_widget.setBackground(pal.color(QtGui.QPalette.ColorRole.Window))
        text = pal.color(QtGui.QPalette.ColorRole.WindowText)
        for plot, _curve in self.plots.values():
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(text)
                axis.setTextPen(text)

    @property
    def background(self) -> QtGui.QColor:
        """The plots' background colour now."""
        return self.layout_widget.backgroundBrush().color()

    def set_history(self, history: History | None) -> None:
        self.history = history
        if history is None:
            self._timer.stop()
        else:
            self._timer.start()
        self.refresh()

    def set_machine(self, machine: str | None, units: dict[str, str] | None = None) -> None:
        """Plot ``machine``'s signals; ``units``: the engineering units its server gives (else floortwin's)."""
        self.machine = machine
        self.units = dict(units or {})
        if machine is None and self.plots:  # deselected, or removed from the layout: its curves go
            self.layout_widget.clear()
            self.plots.clear()
            self._cursor_lines.clear()
            self._shown_units = None
            self.hint = self.layout_widget.addLabel("Select a machine to see its trends")
        self.refresh()

    def set_cursor(self, t: float | None) -> None:
        """Mark the replayed time ``t`` (None: live, no cursor)."""
        self.replay_time = t
        self.refresh()

    def refresh(self) -> None:
        if self.history is None or self.machine is None or not self.isVisible():
            return
        shown = trend_window(self.history, self.machine, time.time(), self.window_s, self.replay_time, self.units)
        if shown.units() != self._shown_units or set(shown.trends) != set(self.plots):
            self._shown_units = shown.units()
            self._make_plots(shown.trends)
        for name, trend in shown.trends.items():
            plot, curve = self.plots[name]
            curve.setData(trend.t, trend.plotted())
            plot.setXRange(*shown.x_range, padding=0)
            line = self._cursor_lines[name]
            line.setVisible(shown.cursor is not None)
            if shown.cursor is not None:
                line.setValue(shown.cursor)

    def _make_plots(self, trends: dict[str, Trend]) -> None:
        """One plot per signal, its axis in the signal's unit, with a (hidden) replay cursor."""
        self.layout_widget.clear()
        self.plots.clear()
        self._cursor_lines.clear()
        if not trends:
            self.hint = self.layout_widget.addLabel(f"No recorded signals for {self.machine} yet")
        for r, (name, trend) in enumerate(trends.items()):
            plot = self.layout_widget.addPlot(row=r, col=0)
            label_unit, factor, prefixed = trend.axis
            plot.getAxis("left").enableAutoSIPrefix(prefixed)
            # At least one recorded unit tall: an idle press's force of 0 kN is not drawn as ±500 mN,
            # and sensor noise is not blown up to fill the plot.
            plot.setLimits(minYRange=factor)
            plot.setLabel("left", name, units=label_unit)
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setXRange(-self.window_s, 0, padding=0)
            if r == len(trends) - 1:
                plot.setLabel("bottom", "seconds from now")
            curve = plot.plot(pen=pg.mkPen(TREND_COLOURS.get(name, LOAD_COLOUR), width=2), connect="finite")
            self.plots[name] = (plot, curve)
            pen = pg.mkPen((0, 114, 178), width=2, style=QtCore.Qt.PenStyle.DashLine)
            line = pg.InfiniteLine(angle=90, movable=False, pen=pen)
            plot.addItem(line)
            self._cursor_lines[name] = line
        self._follow_palette()

    def axis_label(self, name: str) -> str | None:
        """The left axis's text as drawn, e.g. "Power (W)" (for tests and screenshots)."""
        if name not in self.plots:
            return None
        return self.plots[name][0].getAxis("left").labelString()

    def curve_data(self, name: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The plotted (x, y) of a signal, in the axis's unit (for tests)."""
        if name not in self.plots:
            return None
        curve = self.plots[name][1]
        x, y = curve.xData, curve.yData  # as given (getData() drops the NaNs that break the line)
        return (np.asarray(x), np.asarray(y)) if x is not None else None
