"""The comparison of a what-if run: KPIs of actuals, baseline and scenario side by side with deltas and
verdicts, parts out over the window (pyqtgraph), machines coloured by a delta in the 3D view, exports."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from app.compare import table
from app.compare.calibrate import Calibration
from app.compare.diff import Comparison, Row
from app.compare.report import comparison_csv, comparison_html
from app.compare.trust import Trust
from app.compare.window import ActualsWindow
from app.model.atomic import atomic_write_text
from app.sim.bottleneck import BottleneckShares
from app.ui.bottleneck_view import BottleneckView, ShowShare
from app.ui.sizing import size_to_screen
from app.ui.theme import colour_plot

SERIES_PENS = {"actual": (0, 0, 0), "baseline": (0, 114, 178), "scenario": (213, 94, 0)}
_SORT_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1


class _SortItem(QtWidgets.QTableWidgetItem):
    """A cell that sorts by the number it holds (unknowns last), or by its text when it has none."""

    def __lt__(self, other: QtWidgets.QTableWidgetItem) -> bool:
        a, b = self.data(_SORT_ROLE), other.data(_SORT_ROLE)
        if a is None or b is None:
            return super().__lt__(other)
        return table.sort_key(a) < table.sort_key(b)


def _item(cell: table.Cell) -> QtWidgets.QTableWidgetItem:
    """A table cell as ``app.compare.table`` describes it."""
    item = _SortItem(cell.text)
    if cell.sort is not None:
        item.setData(_SORT_ROLE, cell.sort)
    if cell.figure:
        item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
    if cell.bold:
        f = item.font()
        f.setBold(True)
        item.setFont(f)
    if cell.muted:
        item.setForeground(QtGui.QBrush(QtGui.QColor(120, 120, 120)))
    if cell.tip:
        item.setToolTip(cell.tip)
    return item


def _text(t: QtWidgets.QTableWidget, row: int, column: int) -> str:
    item = t.item(row, column)
    return item.text() if item is not None else ""


class ComparisonDialog(QtWidgets.QDialog):
    """Non-modal: the app (and live data) keep running behind it.

    Parameters
    ----------
    show_delta
        Called with (title, per-machine values, machine ids) to colour the 3D view, or (None, None, None)
        to stop.
    bottlenecks, show_share
        Shifting-bottleneck shares per source (the Bottlenecks tab), and how to colour the 3D view by a share.
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
        actuals: ActualsWindow | None = None,
        bottlenecks: dict[str, BottleneckShares] | None = None,
        show_share: ShowShare | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle(f"Comparison — {title}")
        self.setObjectName("comparison_dialog")
        self.setModal(False)
        self.title, self.comparison, self.changes, self.series, self.notes = title, comparison, changes, series, notes
        self._show_delta = show_delta
        self.trust, self.actuals = trust, actuals
        layout = QtWidgets.QVBoxLayout(self)
        head = QtWidgets.QLabel(self)
        head.setWordWrap(True)
        head.setText("<br>".join(table.summary_lines(comparison, notes, trust)))
        head.setObjectName("comparison_summary")
        self.summary = head
        layout.addWidget(head)
        tabs = QtWidgets.QTabWidget(self)
        self.line_table = self._table(table.line_rows(comparison))
        self.machine_table = self._table(table.machine_rows(comparison), changed=table.machine_marks(comparison))
        tabs.addTab(self.line_table, "&Line")
        tabs.addTab(self._machines_tab(comparison), "&Machines")
        self.plot = pg.PlotWidget(self)
        colour_plot(self.plot, QtWidgets.QApplication.palette())
        self.plot.addLegend()
        gaps = " (connected time: gaps left out)" if "actual" in series else ""
        self.plot.setLabel("bottom", "hours into the window" + gaps)
        self.plot.setLabel("left", "parts out")
        for name, (x, y) in series.items():
            if len(x):
                self.plot.plot(x, y, pen=pg.mkPen(SERIES_PENS.get(name, (0, 158, 115)), width=2), name=name)
        tabs.addTab(self.plot, "&Chart")
        self.bottlenecks = BottleneckView(bottlenecks, show_share, self, comparison.bottleneck) if bottlenecks else None
        if self.bottlenecks is not None:
            tabs.addTab(self.bottlenecks, "&Bottlenecks")
        self.tabs = tabs
        layout.addWidget(tabs, 1)
        row = QtWidgets.QHBoxLayout()
        self.delta_kpi = QtWidgets.QComboBox(self)
        for key, label in table.DELTA_KPIS:
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
        size_to_screen(self, 0.8, (980, 640))  # the verdict column needs the room

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
        self.changed_only = QtWidgets.QCheckBox("&Differing machines only", page)
        self.changed_only.setToolTip(table.DIFFERENCE_TIP)
        self.changed_only.toggled.connect(self._apply_machine_filter)
        self.changed_count = QtWidgets.QLabel(table.changed_count(comparison), page)
        bar.addWidget(self.machine_filter, 1)
        bar.addWidget(self.changed_only)
        bar.addWidget(self.changed_count)
        box.addLayout(bar)
        box.addWidget(self.machine_table, 1)
        return page

    def _apply_machine_filter(self, *_args) -> None:
        query, only, t = self.machine_filter.text(), self.changed_only.isChecked(), self.machine_table
        for i in range(t.rowCount()):
            t.setRowHidden(i, not table.row_matches(query, _text(t, i, 0), _text(t, i, 2), bool(_text(t, i, 1)), only))

    def visible_machine_rows(self) -> list[tuple[str, str]]:
        """(machine, KPI) of the rows the Machines tab shows, top to bottom."""
        t = self.machine_table
        return [(_text(t, i, 0), _text(t, i, 2)) for i in range(t.rowCount()) if not t.isRowHidden(i)]

    def _table(self, rows: list[Row], changed: dict[str, str] | None = None) -> QtWidgets.QTableWidget:
        """The line table, or with ``changed`` (``table.machine_marks``) the machine table."""
        with_machine = changed is not None
        cols = table.columns(with_machine)
        t = QtWidgets.QTableWidget(len(rows), len(cols), self)
        t.setHorizontalHeaderLabels(cols)
        t.verticalHeader().setVisible(False)
        t.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        for i, r in enumerate(rows):
            for c, cell in enumerate(table.row_cells(r, changed, self.trust)):
                t.setItem(i, c, _item(cell))
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
        if self.bottlenecks is not None:
            self.bottlenecks.stop_3d()
        super().closeEvent(event)

    # -- export ---------------------------------------------------------------------------------------------
    def export_csv(self, path) -> None:
        atomic_write_text(path, comparison_csv(self.comparison, self.actuals, self.trust, self._bottleneck_sources()))

    def export_html(self, path) -> None:
        page = comparison_html(
            self.title, self.comparison, self.changes, self.series, self.notes, self.trust, self._bottleneck_sources()
        )
        atomic_write_text(path, page)

    def _bottleneck_sources(self) -> dict[str, BottleneckShares] | None:
        return self.bottlenecks.sources if self.bottlenecks is not None else None

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
        heading = QtWidgets.QLabel(table.calibration_heading(cal), self)
        heading.setWordWrap(True)  # a long sentence (plant time and recorded time at a faster plant)
        layout.addWidget(heading)
        cols = table.CALIBRATION_COLUMNS
        self.table = QtWidgets.QTableWidget(len(cal.machines), len(cols), self)
        self.table.setHorizontalHeaderLabels(list(cols))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        for i, values in enumerate(table.calibration_rows(cal)):
            for c, v in enumerate(values):
                self.table.setItem(i, c, _item(table.Cell(v, figure=c >= 2)))
        self.table.resizeColumnsToContents()
        layout.addWidget(self.table, 1)
        arrivals = QtWidgets.QLabel(table.arrivals_text(cal), self)
        arrivals.setWordWrap(True)  # five rates "(not enough data, not used)" made the dialog wider than the screen
        layout.addWidget(arrivals)
        buttons = QtWidgets.QDialogButtonBox(self)
        # (not ``self.create``: that would hide QWidget.create)
        self.create_button = buttons.addButton("Create &calibrated baseline", QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button.setToolTip("A scenario with these estimates; run it to see how well it reproduces the actuals (trust)")
        if not table.calibration_usable(cal):  # nothing rests on enough data: no baseline to make of it
            self.create_button.setEnabled(False)
            self.create_button.setToolTip("Not enough data for any estimate yet: let the history record longer")
        for i, grey in enumerate(table.calibration_muted(cal)):  # estimates not used (too little data, none): grey
            for c in grey:
                self.table.item(i, c).setForeground(QtGui.QBrush(QtGui.QColor(128, 128, 128)))
        buttons.addButton(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        # as wide as the table's columns (the wrapped labels no longer widen it), within the screen
        cols_w = sum(self.table.columnWidth(c) for c in range(self.table.columnCount())) + 2 * self.table.frameWidth()
        screen_w = self.screen().availableGeometry().width()
        self.resize(min(max(860, cols_w + self.table.verticalScrollBar().sizeHint().width() + 30), int(0.95 * screen_w)), 520)
