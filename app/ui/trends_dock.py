"""Trends of the selected machine's signals (pyqtgraph), read from the recorded history once a second."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from app.history.recorder import History
from app.history.sessions import break_at_gaps, connected_periods
from app.model.signals import TREND_SIGNALS, unit_of

#: Each trend's pen (Okabe–Ito colours; the kind-specific loads share one: a machine has one of them).
TREND_COLOURS = {"Temperature": (213, 94, 0), "Power": (0, 114, 178)}
LOAD_COLOUR = (0, 158, 115)
#: Units with a prefix are plotted in their base unit so the axis picks the right prefix itself (0.4 kW is
#: shown as 400 W, 2000 kN as 2 MN, never as "mkW"); units that take no prefix (°C, %) are left alone.
SI_BASE = {"kW": ("W", 1e3), "kN": ("N", 1e3), "MW": ("W", 1e6), "mm": ("m", 1e-3), "ms": ("s", 1e-3)}


def axis_unit(unit: str) -> tuple[str, float, bool]:
    """(unit to label the axis with, factor to multiply values by, whether the axis may add an SI prefix).

    >>> axis_unit("kW"), axis_unit("°C")
    (('W', 1000.0, True), ('°C', 1.0, False))
    """
    if unit in SI_BASE:
        base, factor = SI_BASE[unit]
        return base, factor, True
    return unit, 1.0, False


#: The shortest time span a trend plot shows (seconds), however little is recorded.
MIN_SPAN_S = 30.0


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
        self.cursor: float | None = None
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
        self.refresh()

    def set_cursor(self, t: float | None) -> None:
        """Mark the replayed time ``t`` (None: live, no cursor)."""
        self.cursor = t
        self.refresh()

    def refresh(self) -> None:
        if self.history is None or self.machine is None or not self.isVisible():
            return
        now = time.time()
        end = now
        if self.cursor is not None and self.cursor < now - 0.8 * self.window_s:
            end = self.cursor + 0.2 * self.window_s  # keep the replayed moment in view
        series = {}
        periods = connected_periods(self.history, end - self.window_s, end + 5)
        units = self.units
        for name in TREND_SIGNALS:
            unit, colour = unit_of(name), TREND_COLOURS.get(name, LOAD_COLOUR)
            t, v, _status = self.history.series(self.machine, name, end - self.window_s, end + 5)
            if len(t):
                t, v = break_at_gaps(t, np.asarray(v, dtype=float), periods, until=min(end, now))
                series[name] = (t - now, v, units.get(name, unit), colour)
        shown = {name: s[2] for name, s in series.items()}
        if shown != self._shown_units or set(series) != set(self.plots):
            self._shown_units = shown
            self.layout_widget.clear()
            self.plots.clear()
            self._cursor_lines.clear()
            if not series:
                self.hint = self.layout_widget.addLabel(f"No recorded signals for {self.machine} yet")
            for r, (name, (_t, _v, unit, colour)) in enumerate(series.items()):
                plot = self.layout_widget.addPlot(row=r, col=0)
                label_unit, factor, prefixed = axis_unit(unit)
                plot.getAxis("left").enableAutoSIPrefix(prefixed)
                # At least one recorded unit tall: an idle press's force of 0 kN is not drawn as ±500 mN,
                # and sensor noise is not blown up to fill the plot.
                plot.setLimits(minYRange=factor)
                plot.setLabel("left", name, units=label_unit)
                plot.showGrid(x=True, y=True, alpha=0.25)
                plot.setXRange(-self.window_s, 0, padding=0)
                if r == len(series) - 1:
                    plot.setLabel("bottom", "seconds from now")
                curve = plot.plot(pen=pg.mkPen(colour, width=2), connect="finite")
                self.plots[name] = (plot, curve)
                pen = pg.mkPen((0, 114, 178), width=2, style=QtCore.Qt.PenStyle.DashLine)
                line = pg.InfiniteLine(angle=90, movable=False, pen=pen)
                plot.addItem(line)
                self._cursor_lines[name] = line
            self._follow_palette()
        # A short recording fills the plot rather than sitting as a sliver at the right of ten empty minutes.
        first = min((float(t[0]) for t, *_rest in series.values() if len(t)), default=end - now - self.window_s)
        x_lo = max(end - now - self.window_s, min(first, end - now - MIN_SPAN_S))
        for name, (t, v, unit, _colour) in series.items():
            plot, curve = self.plots[name]
            curve.setData(t, np.asarray(v, dtype=float) * axis_unit(unit)[1])
            plot.setXRange(x_lo, end - now, padding=0)
            line = self._cursor_lines[name]
            line.setVisible(self.cursor is not None)
            if self.cursor is not None:
                line.setValue(self.cursor - now)

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
