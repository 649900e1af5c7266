"""The alarms dock: active alarms first (red until acknowledged), then past ones."""

from __future__ import annotations

import datetime

from PySide6 import QtCore, QtGui, QtWidgets

from app.state.alarms import AlarmLog

COLUMNS = ("Machine", "Alarm", "Raised", "Cleared", "Acknowledged")


def _clock(t: float | None) -> str:
    return "" if t is None else datetime.datetime.fromtimestamp(t).strftime("%H:%M:%S")


class AlarmsDock(QtWidgets.QDockWidget):
    """Lists alarms of the live link's log and acknowledges them.

    Signals
    -------
    machine_activated(str)
        An alarm row was double-clicked (select and fly to the machine).
    """

    machine_activated = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__("Alarms", parent)
        self.setObjectName("dock_alarms")
        body = QtWidgets.QWidget(self)
        layout = QtWidgets.QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        buttons = QtWidgets.QHBoxLayout()
        self.summary = QtWidgets.QLabel("No alarms")
        self.ack = QtWidgets.QPushButton("Acknowledge")
        self.ack_all = QtWidgets.QPushButton("Acknowledge all")
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.ack)
        buttons.addWidget(self.ack_all)
        # The machines' alarms on the left, other sections (the drift watchdog's) beside them.
        self.split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal, body)
        self.split.setChildrenCollapsible(False)
        column = QtWidgets.QWidget(self.split)
        column_layout = QtWidgets.QVBoxLayout(column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        column_layout.addLayout(buttons)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS), body)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        column_layout.addWidget(self.table)
        self.split.addWidget(column)
        layout.addWidget(self.split)
        self.setWidget(body)
        self.log: AlarmLog | None = None
        self.drifts = 0  # drift detections waiting for the user (they count in the title)
        self.ack.clicked.connect(self._ack_selected)
        self.ack_all.clicked.connect(lambda: self.log.acknowledge_all() if self.log else None)
        self.table.cellDoubleClicked.connect(self._on_double_click)

    def add_section(self, widget: QtWidgets.QWidget) -> None:
        """Show another kind of alarm beside the machines' (the drift watchdog's detections)."""
        self.split.addWidget(widget)
        self.split.setStretchFactor(0, 2)  # the machines' alarms are short words; a drift is a sentence
        self.split.setStretchFactor(self.split.count() - 1, 3)

    def set_drifts(self, waiting: int) -> None:
        self.drifts = waiting
        self.refresh()

    def set_log(self, log: AlarmLog) -> None:
        if self.log is not None:
            self.log.changed.disconnect(self.refresh)
        self.log = log
        log.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        alarms = self.log.all() if self.log else []
        alarms.sort(key=lambda a: (not a.active, -a.raised))
        self.table.setRowCount(len(alarms))
        red = QtGui.QColor(204, 0, 0)
        for r, a in enumerate(alarms):
            cells = (a.machine, a.text, _clock(a.raised), _clock(a.cleared), "yes" if a.acknowledged else "")
            for c, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                item.setData(QtCore.Qt.ItemDataRole.UserRole, a.id)
                if a.active:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                    if not a.acknowledged:
                        item.setForeground(red)
                self.table.setItem(r, c, item)
        active = sum(a.active for a in alarms)
        unacked = sum(a.active and not a.acknowledged for a in alarms)
        self.summary.setText(f"{active} active ({unacked} unacknowledged), {len(alarms)} in the log" if alarms else "No alarms")
        waiting = active + self.drifts
        self.setWindowTitle(f"Alarms ({waiting})" if waiting else "Alarms")

    def _ack_selected(self) -> None:
        if self.log is None:
            return
        for idx in self.table.selectionModel().selectedRows(0):
            self.log.acknowledge(int(idx.data(QtCore.Qt.ItemDataRole.UserRole)))

    def _on_double_click(self, row: int, _col: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.machine_activated.emit(item.text())
