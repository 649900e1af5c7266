"""The comparison of a what-if run: KPIs of actuals, baseline and scenario side by side with deltas and
verdicts, parts out over the window (pyqtgraph), machines coloured by a delta in the 3D view, exports."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from app.compare.calibrate import Calibration, Trust
from app.compare.diff import Comparison, Row
from app.compare.report import comparison_csv, comparison_html, verdict
from app.model.atomic import atomic_write_text
from app.sim.numbers import format_number

DELTA_KPIS = (
    ("utilisation", "Δ utilisation (%)"),
    ("output_per_h", "Δ output (parts/h)"),
    ("state_starved", "Δ starved (%)"),
    ("state_blocked", "Δ blocked (%)"),
    ("state_down", "Δ down (%)"),
)
SERIES_PENS = {"actual": (0, 0, 0), "baseline": (0, 114, 178), "scenario": (213, 94, 0)}


def _styled(item: QtWidgets.QTableWidgetItem, bold: bool, tip: str) -> QtWidgets.QTableWidgetItem:
    """A figure's cell: right-aligned, bold when it matters, with its explanation as the tooltip."""
    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
    if bold:
        f = item.font()
        f.setBold(True)
        item.setFont(f)
    if tip:
        item.setToolTip(tip)
    return item


def _cell(text: str, bold: bool = False, tip: str = "") -> QtWidgets.QTableWidgetItem:
    return _styled(QtWidgets.QTableWidgetItem(text), bold, tip)


def _text(table: QtWidgets.QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    return item.text() if item is not None else ""


def _fmt(x: float) -> str:
    return format_number(x)


class _SortItem(QtWidgets.QTableWidgetItem):
    """A cell that sorts by the number it shows (unknowns last), or by its text when it has none."""

    def __lt__(self, other: QtWidgets.QTableWidgetItem) -> bool:
        a, b = self.data(_SORT_ROLE), other.data(_SORT_ROLE)
        if a is None or b is None:
            return super().__lt__(other)
        a = math.inf if not math.isfinite(a) else a
        b = math.inf if not math.isfinite(b) else b
        return a < b


_SORT_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1


def _num_cell(text: str, value: float | None, bold: bool = False, tip: str = "") -> QtWidgets.QTableWidgetItem:
    item = _SortItem(text)
    item.setData(_SORT_ROLE, math.nan if value is None else float(value))
    return _styled(item, bold, tip)


class ComparisonDialog(QtWidgets.QDialog):
    """Non-modal: the app (and live data) keep running behind it.

    Parameters
    ----------
    show_delta
        Called with (title, per-machine values, machine ids) to colour the 3D view, or (None, None, None)
        to stop.
    """

    def __init__(
        self,
        title: str,
        comparison: Comparison,
        changes: list[str],
        series: dict[str, tuple[np.ndarray, np.ndarray]],
        notes: list[str],
        show_delta: Callable[[str | None, np.ndarray | None, list[str] | None], None],
        parent: QtWidgets.QWidget | None = None,
        trust: Trust | None = None,
        simulated_wip: tuple[list[str], np.ndarray] | None = None,
        show_wip: Callable[[str | None, np.ndarray | None, list[str] | None], None] | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle(f"Comparison — {title}")
        self.setObjectName("comparison_dialog")
        self.setModal(False)
        self.title, self.comparison, self.changes, self.series, self.notes = title, comparison, changes, series, notes
        self._show_delta = show_delta
        layout = QtWidgets.QVBoxLayout(self)
        head = QtWidgets.QLabel(self)
        head.setWordWrap(True)
        neck = ", ".join(f"{k}: <b>{v}</b>" for k, v in comparison.bottleneck.items() if v)
        lines = [f"Bottleneck — {neck}", *notes]
        if trust is not None:
            fits = sum(trust.machines_fit.values())
            fit = "fits" if trust.line_fits else "does not fit"
            lines.append(
                f"Trust in the baseline: line <b>{trust.line:.0%}</b> ({fit} the recorded throughput); "
                f"machines: {fits} of {len(trust.machines_fit)} within their prediction"
            )
        head.setText("<br>".join(lines))
        layout.addWidget(head)
        tabs = QtWidgets.QTabWidget(self)
        self.line_table = self._table([r for r in comparison.rows if r.machine is None], with_machine=False)
        order = {m: k for k, m in enumerate(comparison.machines_by_change())}
        machine_rows = sorted((r for r in comparison.rows if r.machine is not None), key=lambda r: order.get(r.machine or "", 0))
        self.machine_table = self._table(machine_rows, with_machine=True, changed=set(comparison.changed_machines()))
        tabs.addTab(self.line_table, "&Line")
        tabs.addTab(self._machines_tab(comparison), "&Machines")
        self.plot = pg.PlotWidget(self)
        pal = QtWidgets.QApplication.palette()  # the theme's colours, light or dark (not a fixed white)
        self.plot.setBackground(pal.color(QtGui.QPalette.ColorRole.Base))
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.setPen(pal.color(QtGui.QPalette.ColorRole.Text))
            axis.setTextPen(pal.color(QtGui.QPalette.ColorRole.Text))
        self.plot.addLegend()
        self.plot.setLabel("bottom", "hours into the window")
        self.plot.setLabel("left", "parts out")
        for name, (x, y) in series.items():
            if len(x):
                self.plot.plot(x, y, pen=pg.mkPen(SERIES_PENS.get(name, (0, 158, 115)), width=2), name=name)
        tabs.addTab(self.plot, "&Chart")
        layout.addWidget(tabs, 1)
        row = QtWidgets.QHBoxLayout()
        self.delta_kpi = QtWidgets.QComboBox(self)
        for key, label in DELTA_KPIS:
            self.delta_kpi.addItem(label, key)
        self.show3d = QtWidgets.QPushButton("Colour &3D view by", self)
        self.show3d.setCheckable(True)
        self.show3d.setToolTip("Colour machines by the difference: red more, blue less, grey unknown (scenario − baseline)")
        self.show3d.toggled.connect(self._on_show3d)
        self.delta_kpi.currentIndexChanged.connect(lambda *_: self._on_show3d(self.show3d.isChecked()))
        self._simulated_wip, self._show_wip = simulated_wip, show_wip
        self.show_wip = QtWidgets.QCheckBox("Scenario's &WIP on the floor", self)
        self.show_wip.setToolTip("Spread the scenario's mean parts per machine over the floor (the WIP heat map)")
        self.show_wip.setEnabled(simulated_wip is not None and show_wip is not None)
        self.show_wip.toggled.connect(self._on_show_wip)
        csv_button = QtWidgets.QPushButton("Export &CSV…", self)
        csv_button.clicked.connect(self.export_csv_dialog)
        html_button = QtWidgets.QPushButton("Export &HTML report…", self)
        html_button.clicked.connect(self.export_html_dialog)
        close = QtWidgets.QPushButton("Close", self)
        close.clicked.connect(self.close)
        for w in (self.show3d, self.delta_kpi, self.show_wip):
            row.addWidget(w)
        row.addStretch(1)
        for w in (csv_button, html_button, close):
            row.addWidget(w)
        layout.addLayout(row)
        self.resize(980, 640)

    def _machines_tab(self, comparison: Comparison) -> QtWidgets.QWidget:
        """The machine table under a filter: text to match machines or KPIs, and "changed only"."""
        page = QtWidgets.QWidget(self)
        box = QtWidgets.QVBoxLayout(page)
        box.setContentsMargins(0, 4, 0, 0)
        bar = QtWidgets.QHBoxLayout()
        self.machine_filter = QtWidgets.QLineEdit(page)
        self.machine_filter.setPlaceholderText("Filter by machine or KPI…")
        self.machine_filter.setClearButtonEnabled(True)
        self.machine_filter.textChanged.connect(self._apply_machine_filter)
        self.changed_only = QtWidgets.QCheckBox("&Changed machines only", page)
        self.changed_only.setToolTip(
            "Machines whose scenario differs from the baseline beyond chance, or whose actual lies outside the prediction"
        )
        self.changed_only.toggled.connect(self._apply_machine_filter)
        changed = comparison.changed_machines()
        self.changed_count = QtWidgets.QLabel(f"{len(changed)} of {len(comparison.machines)} machines changed", page)
        bar.addWidget(self.machine_filter, 1)
        bar.addWidget(self.changed_only)
        bar.addWidget(self.changed_count)
        box.addLayout(bar)
        box.addWidget(self.machine_table, 1)
        return page

    def _apply_machine_filter(self, *_args) -> None:
        words = self.machine_filter.text().strip().lower().split()
        only = self.changed_only.isChecked()
        t = self.machine_table
        for i in range(t.rowCount()):
            text = f"{_text(t, i, 0)} {_text(t, i, 2)}".lower()
            changed = bool(_text(t, i, 1))
            t.setRowHidden(i, (only and not changed) or not all(w in text for w in words))

    def visible_machine_rows(self) -> list[tuple[str, str]]:
        """(machine, KPI) of the rows the Machines tab shows, top to bottom."""
        t = self.machine_table
        return [(_text(t, i, 0), _text(t, i, 2)) for i in range(t.rowCount()) if not t.isRowHidden(i)]

    def _table(self, rows: list[Row], with_machine: bool, changed: Collection[str] = ()) -> QtWidgets.QTableWidget:
        cols = (["Machine", "Changed"] if with_machine else []) + [
            "KPI",
            "Actual",
            "Baseline (95% CI)",
            "Scenario (95% CI)",
            "Δ scenario − baseline",
            "Verdict",
        ]
        t = QtWidgets.QTableWidget(len(rows), len(cols), self)
        t.setHorizontalHeaderLabels(cols)
        t.verticalHeader().setVisible(False)
        t.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        for i, r in enumerate(rows):
            c = 0
            if with_machine:
                t.setItem(i, c, _SortItem(r.machine or ""))
                mark = _SortItem("changed" if r.machine in changed else "")
                mark.setData(_SORT_ROLE, 0.0 if r.machine in changed else 1.0)  # changed first, ascending
                t.setItem(i, c + 1, mark)
                c += 2
            t.setItem(i, c, _SortItem(f"{r.label} ({r.unit})"))
            predicted = f"prediction {_fmt(r.predicted[0])} … {_fmt(r.predicted[1])}" if r.predicted else ""
            t.setItem(i, c + 1, _num_cell(_fmt(r.actual), r.actual, tip=predicted))
            t.setItem(i, c + 2, _num_cell(str(r.baseline) if r.baseline else "—", r.baseline.mean if r.baseline else None))
            t.setItem(i, c + 3, _num_cell(str(r.scenario) if r.scenario else "—", r.scenario.mean if r.scenario else None))
            t.setItem(
                i,
                c + 4,
                _num_cell(str(r.delta) if r.delta else "—", r.delta.mean if r.delta else None, bold=bool(r.significant)),
            )
            words = _SortItem(verdict(r))
            if r.significant is False:
                words.setForeground(QtGui.QBrush(QtGui.QColor(120, 120, 120)))
            t.setItem(i, c + 5, words)
        t.resizeColumnsToContents()
        t.horizontalHeader().setStretchLastSection(True)
        if with_machine:  # rows come changed machines first; a click on a header sorts by that column
            t.horizontalHeader().setSortIndicator(-1, QtCore.Qt.SortOrder.AscendingOrder)  # keep this order for now
            t.setSortingEnabled(True)
            t.horizontalHeader().setSortIndicatorShown(True)
        return t

    # -- 3D ---------------------------------------------------------------------------------------------------
    def _on_show3d(self, on: bool) -> None:
        if on:
            key = self.delta_kpi.currentData()
            self._show_delta(self.delta_kpi.currentText(), self.comparison.machine_delta(key), self.comparison.machines)
        else:
            self._show_delta(None, None, None)

    def _on_show_wip(self, on: bool) -> None:
        if self._show_wip is None or self._simulated_wip is None:
            return
        machines, values = self._simulated_wip
        if on:
            self._show_wip(f"simulated: {self.title}", values, machines)
        else:
            self._show_wip(None, None, None)

    def closeEvent(self, event) -> None:
        if self.show3d.isChecked():
            self.show3d.setChecked(False)
        if self.show_wip.isChecked():
            self.show_wip.setChecked(False)
        super().closeEvent(event)

    # -- export ---------------------------------------------------------------------------------------------
    def export_csv(self, path) -> None:
        atomic_write_text(path, comparison_csv(self.comparison))

    def export_html(self, path) -> None:
        atomic_write_text(path, comparison_html(self.title, self.comparison, self.changes, self.series, self.notes))

    def _export_dialog(self, what: str, suffix: str, write) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, f"Export {what}", f"{self.title}{suffix}", f"{what} (*{suffix})")
        if not path:
            return
        try:
            write(path)
        except OSError as e:
            QtWidgets.QMessageBox.critical(self, f"Cannot export the {what}", f"Could not write {path}: {e.strerror or e}")

    def export_csv_dialog(self) -> None:
        self._export_dialog("CSV", ".csv", self.export_csv)

    def export_html_dialog(self) -> None:
        self._export_dialog("HTML report", ".html", self.export_html)


class CalibrationDialog(QtWidgets.QDialog):
    """Estimates from history per machine, and a button to make them a calibrated baseline scenario."""

    def __init__(self, cal: Calibration, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Calibration from history")
        self.setObjectName("calibration_dialog")
        layout = QtWidgets.QVBoxLayout(self)
        minutes = (cal.t1 - cal.t0) / 60
        layout.addWidget(QtWidgets.QLabel(f"Estimated from {minutes:.0f} min of recorded history (95% intervals).", self))
        cols = ["Machine", "From", "Cycle time (s)", "CV", "Cycles", "MTBF (s)", "MTTR (s)", "Failures"]
        self.table = QtWidgets.QTableWidget(len(cal.machines), len(cols), self)
        self.table.setHorizontalHeaderLabels(cols)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        for i, e in enumerate(cal.machines):
            values = [
                e.machine,
                e.method,
                str(e.cycle_s) if e.cycle_s else "—",
                f"{e.cycle_cv:.3g}" if e.cycle_cv is not None else "—",
                str(e.cycles),
                str(e.mtbf_s) if e.mtbf_s else "—",
                str(e.mttr_s) if e.mttr_s else "—",
                str(e.failures),
            ]
            for c, v in enumerate(values):
                self.table.setItem(i, c, _cell(v) if c >= 2 else QtWidgets.QTableWidgetItem(v))
        self.table.resizeColumnsToContents()
        layout.addWidget(self.table, 1)
        arrivals = ", ".join(f"{p}: {r}/h" for p, r in cal.arrivals_per_h.items()) or "—"
        layout.addWidget(QtWidgets.QLabel(f"Arrivals: {arrivals}", self))
        buttons = QtWidgets.QDialogButtonBox(self)
        # (not ``self.create``: that would hide QWidget.create)
        self.create_button = buttons.addButton("Create &calibrated baseline", QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button.setToolTip("A scenario with these estimates; run it to see how well it reproduces the actuals (trust)")
        buttons.addButton(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(860, 520)
