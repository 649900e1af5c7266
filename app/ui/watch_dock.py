"""The Watch dock: nodes the user picked from the Server tree, each with its value, status and source time as
the subscription brings them (``app.live.watch_list``)."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from app.live.watch_list import WatchList, WatchReading, reading_cells
from app.ui.gui_thread import connect_on_gui

COLUMNS = ("Name", "Value", "Status", "Source time", "Node")


class WatchDock(QtWidgets.QDockWidget):
    """The watch list as a table; Remove (or Delete) takes the selected nodes off it."""

    def __init__(self, watch: WatchList, parent: QtWidgets.QWidget | None = None):
        super().__init__("Watch", parent)
        self.setObjectName("dock_watch")
        self.watch = watch
        self.latest: dict[str, WatchReading] = {}
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)  # one text line a row
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        for col in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(col, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.hint = QtWidgets.QLabel("Right-click a variable in the Server tree ▸ Add to Watch List to follow its value here.")
        self.hint.setWordWrap(True)
        self.remove = QtWidgets.QPushButton("&Remove")
        self.remove.setToolTip("Stop watching the selected nodes (Delete)")
        self.remove.setEnabled(False)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.hint, 1)
        row.addStretch(0)  # (the button keeps its size when the hint is hidden)
        row.addWidget(self.remove)
        body = QtWidgets.QWidget(self)
        layout = QtWidgets.QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        self.setWidget(body)
        self.remove.clicked.connect(self.remove_selected)
        delete = QtGui.QShortcut(QtGui.QKeySequence.StandardKey.Delete, self.table)
        delete.setContext(QtCore.Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.remove_selected)
        self.table.itemSelectionChanged.connect(lambda: self.remove.setEnabled(bool(self.table.selectionModel().selectedRows())))
        watch.items_changed.connect(self.refill)
        watch.stopped.connect(self.show_stale)
        connect_on_gui(watch.readings, self._on_readings)
        self.refill()

    def refill(self) -> None:
        """One row per watched node, with its latest reading."""
        items = self.watch.items
        self.latest = {k: v for k, v in self.latest.items() if any(i.node_id == k for i in items)}
        self.table.setRowCount(len(items))
        for r, item in enumerate(items):
            name = QtWidgets.QTableWidgetItem(item.name)
            name.setData(QtCore.Qt.ItemDataRole.UserRole, item.node_id)
            self.table.setItem(r, 0, name)
            self.table.setItem(r, 4, QtWidgets.QTableWidgetItem(item.node_id))
            self._show(r, self.latest.get(item.node_id))
        self.hint.setVisible(not items)

    def row_of(self, node_id: str) -> int:
        return next(
            (r for r in range(self.table.rowCount()) if self.table.item(r, 0).data(QtCore.Qt.ItemDataRole.UserRole) == node_id),
            -1,
        )

    def _show(self, row: int, reading: WatchReading | None) -> None:
        for c, text in enumerate(reading_cells(reading), start=1):
            cell = QtWidgets.QTableWidgetItem(text)
            if reading is not None and reading.status != 0:
                cell.setForeground(QtCore.Qt.GlobalColor.red)
                cell.setToolTip("The server says this value is not good")
            self.table.setItem(row, c, cell)

    def _on_readings(self, readings: list[WatchReading]) -> None:
        for reading in readings:
            row = self.row_of(reading.node_id)
            if row >= 0:
                self.latest[reading.node_id] = reading
                self._show(row, reading)

    def show_stale(self) -> None:
        """The link is down: the values stay, greyed, as the last ones the server sent."""
        grey = self.palette().brush(QtGui.QPalette.ColorGroup.Disabled, QtGui.QPalette.ColorRole.Text)
        for r in range(self.table.rowCount()):
            for c in (1, 2, 3):
                cell = self.table.item(r, c)
                if cell is not None:
                    cell.setForeground(grey)
                    cell.setToolTip("The last value the server sent: not updated while the link is down")

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()}, reverse=True)
        for node_id in [self.table.item(r, 0).data(QtCore.Qt.ItemDataRole.UserRole) for r in rows]:
            self.watch.remove(node_id)
