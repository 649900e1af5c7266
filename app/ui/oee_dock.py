"""The OEE dashboard dock (pyqtgraph): a thin view of ``app.oee.report.OeeReport``.

Tabs: the machines' OEE bars (best first; a click selects the machine), the loss waterfall, the downtime
Pareto by reason, and parts out per hour against the demand. Above them the source (last simulation run or recorded
history) and the scope (the site, an area, a line); below them the operator's reason for a down machine.
Every text comes from ``app.oee.text``; nothing is computed here.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from app.model.signals import DOWN_REASONS
from app.oee import text
from app.oee.report import OeeReport
from app.ui.theme import colour_plot

#: Height of a machine's row on screen (px): as many rows as fit are shown, the wheel scrolls through more.
ROW_PX = 18
BAR = (0, 114, 178)  # Okabe–Ito blue: the OEE, and what is left of the time
LOSS = (213, 94, 0)  # vermillion: a loss
SELECTED = (230, 159, 0)  # orange: the selected machines' bars
TARGET = (0, 158, 115)  # bluish green: the target


class _NamesAxis(pg.AxisItem):
    """A category axis: ``names[k]`` at k (only the ones in range), elided to the axis' width."""

    def __init__(self, orientation: str, width_px: int = 0):
        super().__init__(orientation)
        self.names: list[str] = []
        self.width_px = width_px
        if width_px:
            self.setWidth(width_px)

    def tickValues(self, minVal, maxVal, size):
        minVal, maxVal = sorted((minVal, maxVal))  # an inverted view gives them the other way round
        lo, hi = max(0, math.ceil(minVal)), min(len(self.names) - 1, math.floor(maxVal))
        return [(1.0, list(range(lo, hi + 1)))] if hi >= lo else []

    def tickStrings(self, values, scale, spacing):
        metrics = QtGui.QFontMetrics(QtGui.QFont())
        out = []
        for v in values:
            k = round(v)
            name = self.names[k] if 0 <= k < len(self.names) else ""
            out.append(metrics.elidedText(name, QtCore.Qt.TextElideMode.ElideRight, self.width_px - 8) if self.width_px else name)
        return out


class _Labels(pg.GraphicsObject):
    """Texts beside bars, one item for a whole chart: only those in view are painted, in screen pixels
    (a TextItem per bar costs ~1 ms each to make and place: thousands would freeze the GUI)."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[tuple[float, float, str]] = []
        self.colour = QtGui.QColor(0, 0, 0)

    def set(self, entries: list[tuple[float, float, str]], colour: QtGui.QColor) -> None:
        self.entries, self.colour = entries, colour
        self.update()

    def set_area(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """The data area the labels may fall in (their bounding rectangle)."""
        self.prepareGeometryChange()
        self._area = QtCore.QRectF(x0, y0, x1 - x0, y1 - y0)

    def boundingRect(self) -> QtCore.QRectF:
        return getattr(self, "_area", QtCore.QRectF())

    def paint(self, p: QtGui.QPainter, *_args) -> None:
        vb = self.getViewBox()
        if vb is None or not self.entries:
            return
        tr = p.transform()  # item → device: the texts are drawn unscaled at the mapped points
        (_x0, _x1), (y0, y1) = vb.viewRange()
        lo, hi = min(y0, y1) - 1, max(y0, y1) + 1
        p.save()
        p.resetTransform()
        p.setPen(self.colour)
        half = p.fontMetrics().ascent() / 2 - 1
        for x, y, label in self.entries:
            if lo <= y <= hi:
                at = tr.map(QtCore.QPointF(x, y))
                p.drawText(QtCore.QPointF(at.x() + 3, at.y() + half), label)
        p.restore()


def _plot(parent: QtWidgets.QWidget, axes: dict[str, pg.AxisItem]) -> pg.PlotWidget:
    plot = pg.PlotWidget(parent, axisItems=axes)
    plot.hideButtons()
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.setMinimumHeight(40)
    return plot


class OeeDock(QtWidgets.QDockWidget):
    """The OEE dashboard.

    Signals
    -------
    source_changed(str)
        The user chose a source: "simulation" or "history".
    scope_changed()
        The user chose another group (site, area, line).
    machine_clicked(str, bool)
        A machine's bar was clicked (and whether Ctrl was held).
    reason_entered(str, str)
        The operator recorded a reason for a down machine: machine, reason.
    """

    source_changed = QtCore.Signal(str)
    scope_changed = QtCore.Signal()
    machine_clicked = QtCore.Signal(str, bool)
    reason_entered = QtCore.Signal(str, str)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__("OEE", parent)
        self.setObjectName("dock_oee")
        self.report: OeeReport | None = None
        self.rows: list[text.BarRow] = []
        self.selected: tuple[str, ...] = ()
        self.down_machine: str | None = None
        body = QtWidgets.QWidget(self)
        layout = QtWidgets.QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        top = QtWidgets.QHBoxLayout()
        self.source = QtWidgets.QComboBox()
        self.source.addItem("Recorded", "history")
        self.source.addItem("Last run", "simulation")
        self.source.setToolTip("Whose OEE: the recorded history (the What-if dock's actuals window) or the last what-if run")
        self.scope = QtWidgets.QComboBox()
        self.scope.setToolTip("The group whose machines, waterfall and Pareto are shown")
        self.scope.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.scope.setMinimumContentsLength(8)
        top.addWidget(self.source)
        top.addWidget(self.scope, 1)
        layout.addLayout(top)
        self.status = self._label("oee_status")
        self.summary = self._label("oee_summary")
        layout.addWidget(self.status)
        layout.addWidget(self.summary)
        self.tabs = QtWidgets.QTabWidget(body)
        self.tabs.setDocumentMode(True)
        layout.addWidget(self.tabs, 1)
        self._build_machines()
        self._build_losses()
        self._build_hourly()
        layout.addLayout(self._reason_row())
        # Stacked with the other docks before they are tabbed (a first start), it must not make the window taller:
        # a minimum of its own overrides its layout's (its charts squeeze, and grow back once tabbed).
        body.setMinimumSize(1, 1)
        self.setWidget(body)
        self.source.currentIndexChanged.connect(lambda _i: self.source_changed.emit(self.source_key))
        self.scope.currentIndexChanged.connect(lambda _i: self._on_scope())
        self._follow_palette()
        self.show_message("Run a what-if simulation or record the plant to see its OEE")

    @staticmethod
    def _label(name: str) -> QtWidgets.QLabel:
        label = QtWidgets.QLabel("")
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Minimum)
        return label

    # -- the charts ------------------------------------------------------------------------------------------
    def _build_machines(self) -> None:
        self.names_axis = _NamesAxis("left", 96)
        self.bars_plot = _plot(self, {"left": self.names_axis})
        self.bars_plot.setMouseEnabled(x=False, y=True)  # the wheel scrolls through many machines
        self.bars_plot.getViewBox().invertY(True)
        self.bars_plot.setLabel("bottom", "OEE (%)")
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[])
        self.bars_plot.addItem(self.bars)
        self.bar_texts = _Labels()
        self.bars_plot.addItem(self.bar_texts, ignoreBounds=True)
        self.bars_plot.scene().sigMouseClicked.connect(self._on_click)
        self.bars_plot.scene().sigMouseMoved.connect(self._on_hover)
        self.bars_plot.getViewBox().sigResized.connect(lambda *_: self._fit_rows())
        self.tabs.addTab(self.bars_plot, "OEE")

    def _build_losses(self) -> None:
        self.steps_axis = _NamesAxis("left", 96)
        self.fall_plot = _plot(self, {"left": self.steps_axis})
        self.fall_plot.getViewBox().invertY(True)
        self.fall_plot.setLabel("bottom", "share of the time (%)")
        self.fall = pg.BarGraphItem(x0=[], y=[], width=[], height=0.65)
        self.fall_plot.addItem(self.fall)
        self.fall_texts = _Labels()
        self.fall_plot.addItem(self.fall_texts, ignoreBounds=True)
        self.tabs.addTab(self.fall_plot, "Losses")
        self.reasons_axis = _NamesAxis("left", 96)
        self.pareto_plot = _plot(self, {"left": self.reasons_axis})
        self.pareto_plot.getViewBox().invertY(True)
        self.pareto_plot.setLabel("bottom", "downtime (h)")
        self.pareto = pg.BarGraphItem(x0=[], y=[], height=0.6, width=[], brush=pg.mkBrush(*LOSS))
        self.pareto_plot.addItem(self.pareto)
        self.pareto_texts = _Labels()
        self.pareto_plot.addItem(self.pareto_texts, ignoreBounds=True)
        self.tabs.addTab(self.pareto_plot, "Reasons")

    def _build_hourly(self) -> None:
        page = QtWidgets.QWidget()
        box = QtWidgets.QVBoxLayout(page)
        box.setContentsMargins(0, 0, 0, 0)
        self.hourly_label = self._label("oee_hourly")
        self.hourly_plot = _plot(page, {})
        self.hourly_plot.setLabel("bottom", "plant hour")
        self.hourly_plot.setLabel("left", "parts out")
        self.hourly = pg.BarGraphItem(x=[], height=[], width=0.8, brush=pg.mkBrush(*BAR))
        self.hourly_plot.addItem(self.hourly)
        self.target = self.hourly_plot.plot(pen=pg.mkPen(TARGET, width=2, style=QtCore.Qt.PenStyle.DashLine))
        box.addWidget(self.hourly_label)
        box.addWidget(self.hourly_plot, 1)
        self.tabs.addTab(page, "Hourly")

    def _reason_row(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        self.reason_label = QtWidgets.QLabel("Reason:")
        self.reason = QtWidgets.QComboBox()
        self.reason.setEditable(True)
        self.reason.addItems(DOWN_REASONS)
        self.reason.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.reason.setMinimumContentsLength(6)
        self.reason.setToolTip("Why the selected machine is down (kept in the history; the OEE's Pareto uses it)")
        self.record = QtWidgets.QPushButton("Record")
        self.record.setToolTip("Give this reason to the machine's down period (from when it went down until it is back)")
        self.record.clicked.connect(self._on_record)
        row.addWidget(self.reason_label)
        row.addWidget(self.reason, 1)
        row.addWidget(self.record)
        self.set_down_machine(None)
        return row

    # -- what the link calls ---------------------------------------------------------------------------------
    @property
    def source_key(self) -> str:
        return str(self.source.currentData())

    def set_source(self, key: str) -> None:
        self.source.setCurrentIndex(max(0, self.source.findData(key)))

    @property
    def scope_group(self) -> int:
        g = self.scope.currentData()
        return int(g) if g is not None else 0

    def show_message(self, message: str) -> None:
        self.status.setText(message)

    def show_report(self, report: OeeReport) -> None:
        """Show ``report`` (the scope stays on the group chosen when the new report has it)."""
        scopes = text.scopes(report)
        keep = self.scope.currentText().strip()
        self.scope.blockSignals(True)
        self.scope.clear()
        for g, label in scopes:
            self.scope.addItem(label, g)
        found = [k for k, (_g, label) in enumerate(scopes) if label.strip() == keep]
        self.scope.setCurrentIndex(found[0] if found else 0)
        self.scope.blockSignals(False)
        self.report = report
        self.status.setText(report.title)
        self._draw()

    def set_selection(self, ids: tuple[str, ...]) -> None:
        self.selected = tuple(ids)
        self._brush_bars()

    def set_down_machine(self, machine: str | None) -> None:
        """The selected machine when it is down now (the reason entry is for it), else None."""
        self.down_machine = machine
        on = machine is not None
        self.reason.setEnabled(on)
        self.record.setEnabled(on)
        self.reason_label.setText(f"{machine} down:" if on else "Reason:")
        self.reason_label.setToolTip(
            f"{machine} is down now: why? (kept in the history for its down period)" if on
            else "Select a machine that is down to record why (kept in the history; the Reasons tab uses it)"
        )

    def bar_centre(self, machine: str) -> QtCore.QPoint:
        """Where ``machine``'s bar is drawn, in the machines chart's viewport (for a click)."""
        k = [r.machine for r in self.rows].index(machine)
        value = self.rows[k].value if math.isfinite(self.rows[k].value) else 1.0
        vb = self.bars_plot.getViewBox()
        scene = vb.mapViewToScene(QtCore.QPointF(max(value, 2.0) / 2, k))
        return self.bars_plot.mapFromScene(scene)

    # -- drawing ---------------------------------------------------------------------------------------------
    def _on_scope(self) -> None:
        self._draw()
        self.scope_changed.emit()

    def _draw(self) -> None:
        r = self.report
        if r is None:
            return
        g = self.scope_group
        self.summary.setText(text.summary(r, g))
        self.rows = text.machine_rows(r, g)
        self._draw_bars()
        self._draw_losses(r, g)
        self._draw_hourly(r)

    def _texts(self, labels: _Labels, entries: list[tuple[float, float, str]]) -> None:
        top = max([x for x, _y, _t in entries], default=0.0)
        labels.set_area(-1.0, -1.0, max(200.0, 3 * top), len(entries) + 1.0)  # bars start at 0, texts after them
        labels.set(entries, self.palette().color(QtGui.QPalette.ColorRole.Text))

    def _draw_bars(self) -> None:
        n = len(self.rows)
        values = np.array([r.value if math.isfinite(r.value) else 0.0 for r in self.rows])
        self.bars.setOpts(x0=np.zeros(n), y=np.arange(n), width=values, height=0.7)
        self._brush_bars()
        self.names_axis.names = [r.machine for r in self.rows]
        self._texts(self.bar_texts, [(float(values[k]), k, r.text) for k, r in enumerate(self.rows)])
        self.bars_plot.getViewBox().setLimits(yMin=-0.6, yMax=max(n, 1) - 0.4, xMin=0, xMax=145)
        self._fit_rows()
        self.names_axis.picture = None
        self.names_axis.update()

    def _fit_rows(self) -> None:
        """Show as many rows as fit at ``ROW_PX`` each, from the best."""
        vb = self.bars_plot.getViewBox()
        fit = max(1, int(vb.height() // ROW_PX))
        vb.setRange(xRange=(0, 138), yRange=(-0.6, min(max(len(self.rows), 1), fit) - 0.4), padding=0)

    def _brush_bars(self) -> None:
        if not self.rows:
            return
        plain, chosen, bound = pg.mkBrush(*BAR), pg.mkBrush(*SELECTED), pg.mkBrush(*BAR, 90)  # a bound: pale
        brushes = [chosen if r.machine in self.selected else bound if r.bound else plain for r in self.rows]
        self.bars.setOpts(brushes=brushes, pen=pg.mkPen(None))

    def _draw_losses(self, r: OeeReport, g: int) -> None:
        steps = text.waterfall_steps(r.groups, g)
        self.fall.setOpts(
            x0=[s.bottom for s in steps], y=np.arange(len(steps)), width=[s.height for s in steps], height=0.65,
            brushes=[pg.mkBrush(*(LOSS if s.loss else BAR)) for s in steps], pens=[pg.mkPen(None)] * len(steps),
        )
        self.steps_axis.names = [s.label for s in steps]
        self.steps_axis.picture = None
        self._texts(self.fall_texts, [(s.bottom + s.height, k, s.text) for k, s in enumerate(steps)])
        self.fall_plot.getViewBox().setRange(xRange=(0, 140), yRange=(-0.6, max(len(steps), 1) - 0.4), padding=0)
        members = r.tree.members(g)
        rows = text.pareto_rows(r.machines, members)
        hours = np.array([h for _r, h, _t in rows])
        self.pareto.setOpts(x0=np.zeros(len(rows)), y=np.arange(len(rows)), width=hours, height=0.6)
        self.reasons_axis.names = [reason for reason, _h, _t in rows]
        self.reasons_axis.picture = None
        self._texts(self.pareto_texts, [(h, k, t) for k, (_r, h, t) in enumerate(rows)])
        top = float(hours.max()) if len(hours) else 1.0
        self.pareto_plot.getViewBox().setRange(xRange=(0, top * 2.2), yRange=(-0.6, max(len(rows), 1) - 0.4), padding=0)

    def _draw_hourly(self, r: OeeReport) -> None:
        self.hourly_label.setText(text.hourly_text(r))
        known = np.isfinite(r.out_per_h)
        self.hourly.setOpts(x=r.hours[known] + 0.5, height=r.out_per_h[known], width=0.8)
        if len(r.hours):
            edges = np.append(r.hours, r.hours[-1] + 1)
            self.target.setData(edges, r.target_per_h, stepMode="center")
        else:
            self.target.setData([], [])

    # -- input -----------------------------------------------------------------------------------------------
    def _on_click(self, event) -> None:
        vb = self.bars_plot.getViewBox()
        if not self.rows or not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        k = round(vb.mapSceneToView(event.scenePos()).y())
        if 0 <= k < len(self.rows):
            ctrl = bool(event.modifiers() & QtCore.Qt.KeyboardModifier.ControlModifier)
            self.machine_clicked.emit(self.rows[k].machine, ctrl)

    def _on_hover(self, scene_pos: QtCore.QPointF) -> None:
        vb, tip = self.bars_plot.getViewBox(), ""
        if self.report is not None and vb.sceneBoundingRect().contains(scene_pos):
            k = round(vb.mapSceneToView(scene_pos).y())
            tip = text.bar_tooltip(self.report, self.rows[k].index) if 0 <= k < len(self.rows) else ""
        self.bars_plot.setToolTip(tip)

    def _on_record(self) -> None:
        reason = self.reason.currentText().strip()
        if self.down_machine is not None and reason:
            self.reason_entered.emit(self.down_machine, reason)

    # -- looks -----------------------------------------------------------------------------------------------
    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        kinds = (QtCore.QEvent.Type.PaletteChange, QtCore.QEvent.Type.ApplicationPaletteChange, QtCore.QEvent.Type.StyleChange)
        if event.type() in kinds:
            self._follow_palette()

    def _follow_palette(self) -> None:
        for plot in (self.bars_plot, self.fall_plot, self.pareto_plot, self.hourly_plot):
            colour_plot(plot, self.palette())
        self._draw()
