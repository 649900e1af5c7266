"""The State Gantt dock (pyqtgraph): one row per machine, its states over time as coloured bars.

A thin view of ``app.gantt.GanttBars``: only the rows and times on screen are drawn (the bars say which),
so 2,000 machines scroll as lightly as 20. The colours are the 3D view's (``app.gantt.rgb_of``), the legend
its legend. A dashed line follows the replayed time; a click selects the machine under the mouse; the
selected machines' rows are highlighted.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from app.gantt import GANTT_LEGEND, GanttBars, rgb_of
from app.history.timeline import TICK_STEPS_S

#: Height of a row on screen (px) and the share of it a bar fills.
ROW_PX = 20
BAR_SHARE = 0.72
#: Window lengths offered (label, seconds); ``None``: the whole simulated run.
WINDOWS = (("10 min", 600.0), ("1 h", 3600.0), ("8 h", 8 * 3600.0), ("24 h", 86_400.0), ("7 days", 7 * 86_400.0))


class _RowAxis(pg.AxisItem):
    """The left axis: the machines' names at their rows (only the rows on screen)."""

    def __init__(self) -> None:
        super().__init__("left")
        self.names: tuple[str, ...] = ()
        self.setWidth(150)
        self.setStyle(textFillLimits=[(0, 0.99)], tickLength=0)  # a name on every row (pyqtgraph thins them out)

    def tickValues(self, minVal, maxVal, size):
        low, high = sorted((minVal, maxVal))  # the rows run downwards: the range comes inverted
        lo, hi = max(0, math.ceil(low)), min(len(self.names) - 1, math.floor(high))
        return [(1.0, list(range(lo, hi + 1)))] if hi >= lo else []

    def tickStrings(self, values, scale, spacing):
        metrics = QtGui.QFontMetrics(self.font() if hasattr(self, "font") else QtGui.QFont())
        out = []
        for v in values:
            k = round(v)
            name = self.names[k] if 0 <= k < len(self.names) else ""
            out.append(metrics.elidedText(name, QtCore.Qt.TextElideMode.ElideRight, 140))
        return out


class _RunClockAxis(pg.AxisItem):
    """The bottom axis of a simulation: hours and minutes into the run (``26:30``), ticks at round times."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self.enableAutoSIPrefix(False)
        self.setLabel("simulated time into the run")

    def tickValues(self, minVal, maxVal, size):
        span = maxVal - minVal
        fits = max(1, int(size // 70))  # labels about 70 px apart
        step = next((s for s in TICK_STEPS_S if span / s <= fits), TICK_STEPS_S[-1])
        first = math.ceil(minVal / step) * step
        return [(step, list(np.arange(first, maxVal + 1e-9, step)))]

    def tickStrings(self, values, scale, spacing):
        out = []
        for v in values:
            whole = round(v)
            text = f"{whole // 3600}:{whole % 3600 // 60:02d}"
            out.append(text if spacing >= 60 else f"{text}:{whole % 60:02d}")
        return out


class _BarsItem(pg.GraphicsObject):
    """The bars: drawn from ``GanttBars.visible`` for the view's range, with the selected rows' band behind."""

    def __init__(self) -> None:
        super().__init__()
        self.bars: GanttBars | None = None
        self.selected_rows: list[int] = []
        self.band = QtGui.QColor(0, 114, 178, 60)
        self.frame = QtGui.QColor(0, 114, 178)
        self._brushes: dict[int, QtGui.QBrush] = {}
        self.drawn = 0  # bars drawn by the last paint (the tests check only what is on screen is drawn)

    def set_bars(self, bars: GanttBars | None) -> None:
        self.prepareGeometryChange()
        self.bars = bars
        self.update()

    def boundingRect(self) -> QtCore.QRectF:
        if self.bars is None or self.bars.n_rows == 0:
            return QtCore.QRectF()
        t0, t1 = self.bars.window
        return QtCore.QRectF(t0, -0.5, max(t1 - t0, 1e-9), self.bars.n_rows)

    def _brush(self, code: int) -> QtGui.QBrush:
        if code not in self._brushes:
            self._brushes[code] = QtGui.QBrush(QtGui.QColor(*rgb_of(code)))
        return self._brushes[code]

    def paint(self, p: QtGui.QPainter, *_args) -> None:
        bars, vb = self.bars, self.getViewBox()
        if bars is None or vb is None:
            return
        (x0, x1), (y0, y1) = vb.viewRange()
        lo, hi = math.floor(y0), math.ceil(y1)
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        for row in self.selected_rows:  # the selected machines' rows: a band behind, a frame around
            if lo <= row <= hi:
                p.fillRect(QtCore.QRectF(x0, row - 0.5, x1 - x0, 1.0), self.band)
        selected = [r for r in self.selected_rows if lo <= r <= hi]
        shown = bars.visible(lo, hi, x0, x1)
        self.drawn = len(shown)
        half = BAR_SHARE / 2
        # bars narrower than a pixel are widened to one, so a short stop still shows
        px = (x1 - x0) / max(1.0, vb.width())
        codes = bars.code[shown]
        for code in np.unique(codes):
            k = shown[codes == code]
            starts = np.maximum(bars.start[k], x0)
            widths = np.maximum(np.minimum(bars.end[k], x1) - starts, px)
            rows = bars.row[k]
            p.setBrush(self._brush(int(code)))
            p.drawRects([QtCore.QRectF(s, r - half, w, BAR_SHARE) for s, r, w in zip(starts, rows, widths, strict=True)])
        if selected:
            frame = QtGui.QPen(self.frame, 2)
            frame.setCosmetic(True)
            p.setPen(frame)
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            p.drawRects([QtCore.QRectF(x0, r - 0.5, x1 - x0, 1.0) for r in selected])


class GanttDock(QtWidgets.QDockWidget):
    """The State Gantt: its source and window at the top, the legend, then the chart with a row scroll bar.

    Signals
    -------
    machine_clicked(str, bool)
        A bar (or a row) was clicked: the machine, and whether Ctrl was held (add to the selection).
    request_changed()
        The user chose another source, window length or start.
    """

    machine_clicked = QtCore.Signal(str, bool)
    request_changed = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__("State Gantt", parent)
        self.setObjectName("dock_gantt")
        self.bars: GanttBars | None = None
        body = QtWidgets.QWidget(self)
        layout = QtWidgets.QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(self._controls())
        self.legend = QtWidgets.QLabel(self._legend_html())
        self.legend.setWordWrap(True)
        self.legend.setObjectName("gantt_legend")
        layout.addWidget(self.legend)
        chart = QtWidgets.QHBoxLayout()
        chart.setSpacing(0)
        self.axis = _RowAxis()
        self.plot = pg.PlotWidget(axisItems={"left": self.axis})
        self.plot.setMinimumHeight(ROW_PX)  # stacked with the other docks under the view before they are tabbed
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.vb = self.plot.getViewBox()
        self.vb.invertY(True)
        self.item = _BarsItem()
        self.plot.addItem(self.item)
        dashed = pg.mkPen((0, 114, 178), width=2, style=QtCore.Qt.PenStyle.DashLine)
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=dashed)
        self.cursor.setVisible(False)
        self.plot.addItem(self.cursor, ignoreBounds=True)
        self.rows = QtWidgets.QScrollBar(QtCore.Qt.Orientation.Vertical)
        self.rows.valueChanged.connect(self._show_rows)
        self.rows.setMinimumHeight(ROW_PX)
        chart.addWidget(self.plot, 1)
        chart.addWidget(self.rows)
        layout.addLayout(chart, 1)
        self.setWidget(body)
        self.plot.scene().sigMouseClicked.connect(self._on_click)
        self.plot.scene().sigMouseMoved.connect(self._on_hover)
        self.vb.sigResized.connect(lambda *_: self._fit_rows())
        self._clock_axis: pg.AxisItem = pg.DateAxisItem(orientation="bottom")
        self._sim_axis = _RunClockAxis()
        self._clock = True
        self.plot.setAxisItems({"bottom": self._clock_axis})
        self._follow_palette()

    # -- controls ------------------------------------------------------------------------------------------
    def _controls(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        self.source = QtWidgets.QComboBox()
        self.source.setToolTip("Whose states: the recorded history, or replication 1 of a simulation")
        self.source.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.window_len = QtWidgets.QComboBox()
        for label, seconds in WINDOWS:
            self.window_len.addItem(label, seconds)
        self.window_len.setCurrentIndex(1)
        self.window_len.setToolTip("How much time the chart shows")
        self.start_h = QtWidgets.QDoubleSpinBox()
        self.start_h.setDecimals(1)
        self.start_h.setRange(0.0, 1e6)
        self.start_h.setSuffix(" h")
        self.start_h.setToolTip("Where the simulated window starts (hours into the run)")
        self.start_label = QtWidgets.QLabel("from")
        self.status = QtWidgets.QLabel("")
        self.status.setObjectName("gantt_status")
        self.status.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.status.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        named = (QtWidgets.QLabel("Source"), self.source, QtWidgets.QLabel("Window"), self.window_len)
        for w in (*named, self.start_label, self.start_h):
            row.addWidget(w)
        row.addWidget(self.status, 1)
        self.source.currentIndexChanged.connect(lambda _i: self._on_source())
        self.window_len.currentIndexChanged.connect(lambda _i: self.request_changed.emit())
        self.start_h.editingFinished.connect(self.request_changed.emit)
        self._on_source(emit=False)
        return row

    def set_sources(self, sources: list[tuple[str, str]]) -> None:
        """Offer these sources (key, label); the chosen one stays chosen while it is offered."""
        key = self.source_key
        self.source.blockSignals(True)
        self.source.clear()
        for k, label in sources:
            self.source.addItem(label, k)
        found = self.source.findData(key)
        self.source.setCurrentIndex(found if found >= 0 else 0)
        self.source.blockSignals(False)
        self._on_source(emit=found < 0)

    @property
    def source_key(self) -> str | None:
        return self.source.currentData()

    @property
    def window_s(self) -> float:
        return float(self.window_len.currentData())

    @property
    def start_s(self) -> float:
        return self.start_h.value() * 3600.0

    def _on_source(self, emit: bool = True) -> None:
        simulated = self.source_key not in (None, "history")
        self.start_label.setVisible(simulated)
        self.start_h.setVisible(simulated)
        if emit:
            self.request_changed.emit()

    # -- what it shows --------------------------------------------------------------------------------------
    def show_bars(self, bars: GanttBars) -> None:
        """Draw ``bars``: the chart spans their window (a new window or source), rows keep their scroll."""
        same_frame = self.bars is not None and self.bars.machines == bars.machines
        self.bars = bars
        if bars.clock != self._clock:
            self._clock = bars.clock
            self.plot.setAxisItems({"bottom": self._clock_axis if bars.clock else self._sim_axis})
            self._follow_palette()
        self.axis.names = bars.names
        self.item.set_bars(bars)
        self.vb.setLimits(xMin=bars.window[0], xMax=bars.window[1], minXRange=1.0)
        self.vb.setXRange(*bars.window, padding=0)
        if not same_frame:
            self.rows.setValue(0)
        self._fit_rows()
        self.status.setText(f"{bars.source} · {len(bars.machines)} machines")
        self.axis.picture = None
        self.axis.update()

    def show_message(self, text: str) -> None:
        """Say why there is nothing (new) to show."""
        self.status.setText(text)

    def set_cursor(self, t: float | None) -> None:
        """The replayed time (None: none — live, or a source on another clock)."""
        self.cursor.setVisible(t is not None)
        if t is not None:
            self.cursor.setValue(t)

    def set_selection(self, ids: tuple[str, ...]) -> None:
        """Highlight the rows of the selected machines, and scroll the first one into view."""
        if self.bars is None:
            return
        rows = [r for r in (self.bars.row_of(i) for i in ids) if r is not None]
        self.item.selected_rows = rows
        self.item.update()
        if rows and not self.rows.value() <= rows[0] < self.rows.value() + self.rows.pageStep():
            self.rows.setValue(max(0, rows[0] - self.rows.pageStep() // 2))

    def visible_rows(self) -> tuple[int, int]:
        """The first and last row on screen."""
        return self.rows.value(), self.rows.value() + self.rows.pageStep() - 1

    def _fit_rows(self) -> None:
        """As many rows as the plot's height holds; the scroll bar moves through the rest."""
        n = self.bars.n_rows if self.bars is not None else 0
        page = max(1, int(self.vb.height() // ROW_PX))
        self.rows.setPageStep(page)
        self.rows.setRange(0, max(0, n - page))
        self.rows.setVisible(n > page)
        self._show_rows(self.rows.value())

    def _show_rows(self, first: int) -> None:
        self.vb.setYRange(first - 0.5, first + self.rows.pageStep() - 0.5, padding=0)

    def wheelEvent(self, event: QtGui.QWheelEvent) -> None:  # over the legend or controls: scroll the rows
        self.rows.event(event)

    # -- mouse -----------------------------------------------------------------------------------------------
    def _bar_under(self, scene_pos: QtCore.QPointF):
        if self.bars is None or not self.vb.sceneBoundingRect().contains(scene_pos):
            return None, None
        p = self.vb.mapSceneToView(scene_pos)
        row = round(p.y())
        return row, self.bars.at(row, p.x())

    def _on_click(self, event) -> None:
        row, _bar = self._bar_under(event.scenePos())
        if row is None or self.bars is None or not 0 <= row < self.bars.n_rows:
            return
        ctrl = bool(event.modifiers() & QtCore.Qt.KeyboardModifier.ControlModifier)
        self.machine_clicked.emit(self.bars.machines[row], ctrl)

    def _on_hover(self, scene_pos: QtCore.QPointF) -> None:
        _row, bar = self._bar_under(scene_pos)
        text = self.bars.describe(bar) if bar is not None and self.bars is not None else ""
        self.plot.setToolTip(text)

    # -- looks -----------------------------------------------------------------------------------------------
    @staticmethod
    def _legend_html() -> str:
        swatch = "<span style='color: rgb({},{},{}); font-size: 14px'>&#9632;</span>&nbsp;{}"
        return "&nbsp;&nbsp; ".join(swatch.format(*rgb, label) for label, rgb in GANTT_LEGEND)

    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        kinds = (QtCore.QEvent.Type.PaletteChange, QtCore.QEvent.Type.ApplicationPaletteChange, QtCore.QEvent.Type.StyleChange)
        if event.type() in kinds:
            self._follow_palette()

    def _follow_palette(self) -> None:
        """The chart in the window's colours (a theme switched at run time too)."""
        pal = self.palette()
        self.plot.setBackground(pal.color(QtGui.QPalette.ColorRole.Base))
        text = pal.color(QtGui.QPalette.ColorRole.WindowText)
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.setPen(text)
            axis.setTextPen(text)
        self.item.frame = QtGui.QColor(pal.color(QtGui.QPalette.ColorRole.Highlight))
        band = QtGui.QColor(self.item.frame)
        band.setAlpha(110)
        self.item.band = band
        self.item.update()
