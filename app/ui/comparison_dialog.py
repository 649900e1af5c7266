"""The comparison of a what-if run: KPIs of actuals, baseline and scenario side by side with deltas and
verdicts, parts out over the window (pyqtgraph), machines coloured by a delta in the 3D view, exports."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from app.compare.calibrate import Calibration, Trust
from app.compare.diff import Comparison, Row
from app.compare.report import comparison_csv, comparison_html, verdict
from app.model.atomic import atomic_write_text

DELTA_KPIS = (
    ("utilisation", "Δ utilisation (%)"),
    ("output_per_h", "Δ output (parts/h)"),
    ("state_starved", "Δ starved (%)"),
    ("state_blocked", "Δ blocked (%)"),
    ("state_down", "Δ down (%)"),
)
SERIES_PENS = {"actual": (0, 0, 0), "baseline": (0, 114, 178), "scenario": (213, 94, 0)}


def _cell(text: str, bold: bool = False, tip: str = "") -> QtWidgets.QTableWidgetItem:
    item = QtWidgets.QTableWidgetItem(text)
    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
    if bold:
        f = item.font()
        f.setBold(True)
        item.setFont(f)
    if tip:
        item.setToolTip(tip)
    return item


def _fmt(x: float) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{x:.4g}"


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
        self.machine_table = self._table([r for r in comparison.rows if r.machine is not None], with_machine=True)
        tabs.addTab(self.line_table, "&Line")
        tabs.addTab(self.machine_table, "&Machines")
        self.plot = pg.PlotWidget(self)
        self.plot.setBackground("w")
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

    def _table(self, rows: list[Row], with_machine: bool) -> QtWidgets.QTableWidget:
        cols = (["Machine"] if with_machine else []) + [
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
                t.setItem(i, c, QtWidgets.QTableWidgetItem(r.machine or ""))
                c += 1
            t.setItem(i, c, QtWidgets.QTableWidgetItem(f"{r.label} ({r.unit})"))
            predicted = f"prediction {r.predicted[0]:.4g} … {r.predicted[1]:.4g}" if r.predicted else ""
            t.setItem(i, c + 1, _cell(_fmt(r.actual), tip=predicted))
            t.setItem(i, c + 2, _cell(str(r.baseline) if r.baseline else "—"))
            t.setItem(i, c + 3, _cell(str(r.scenario) if r.scenario else "—"))
            t.setItem(i, c + 4, _cell(str(r.delta) if r.delta else "—", bold=bool(r.significant)))
            words = QtWidgets.QTableWidgetItem(verdict(r))
            if r.significant is False:
                words.setForeground(QtGui.QBrush(QtGui.QColor(120, 120, 120)))
            t.setItem(i, c + 5, words)
        t.resizeColumnsToContents()
        t.horizontalHeader().setStretchLastSection(True)
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
        self.create = buttons.addButton("Create &calibrated baseline", QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole)
        self.create.setToolTip("A scenario with these estimates; run it to see how well it reproduces the actuals (trust)")
        buttons.addButton(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(860, 520)
