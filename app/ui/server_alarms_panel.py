"""The server's own alarms (OPC UA Alarms & Conditions) as a section of the Alarms dock: severity, source,
condition, state and message, and Acknowledge sent back to the server (``app.live.conditions``). Shown once
the server reports a condition."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from app.live.conditions import ServerAlarms, ServerCondition
from app.live.node_attributes import time_text
from app.ui.gui_thread import connect_on_gui

COLUMNS = ("Severity", "Alarm", "State", "Message", "Time")


class ServerAlarmsPanel(QtWidgets.QWidget):
    """The conditions the server retains; Acknowledge acts on the selected one."""

    def __init__(self, alarms: ServerAlarms, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.alarms = alarms
        self.conditions: list[ServerCondition] = []
        self.title = QtWidgets.QLabel("<b>Server alarms</b>")
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        for col in range(len(COLUMNS)):
            header.setSectionResizeMode(col, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QtWidgets.QHeaderView.ResizeMode.Stretch)  # the message takes what is left
        self.comment = QtWidgets.QLineEdit()
        self.comment.setPlaceholderText("Comment sent with the acknowledgement")
        self.ack = QtWidgets.QPushButton("&Acknowledge")
        self.ack.setToolTip("Acknowledge the selected alarm on the server (its answer is shown and logged)")
        self.ack.setEnabled(False)
        self.status = QtWidgets.QLabel("")
        self.status.setVisible(False)  # (shown with the outcome of an acknowledgement)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.title)
        row.addWidget(self.comment, 1)
        row.addWidget(self.ack)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        self.ack.clicked.connect(self.acknowledge_selected)
        self.table.itemSelectionChanged.connect(self._update_enabled)
        connect_on_gui(alarms.changed, self.show_conditions)
        connect_on_gui(alarms.acknowledged, self._on_acknowledged)
        self.setVisible(False)  # until the server reports a condition: most servers have none

    def show_conditions(self, conditions: list[ServerCondition]) -> None:
        selected = self.selected()
        self.conditions = list(conditions)
        self.table.setRowCount(len(conditions))
        for r, c in enumerate(conditions):
            when = c.time.astimezone().strftime("%H:%M:%S") if c.time is not None else ""
            cells = (str(c.severity), f"{c.source} · {c.name}", c.state_short, c.message, when)
            for col, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                item.setToolTip(f"{c.source} · {c.name}: {c.state_text}\n{c.message}\n{time_text(c.time)}\n{c.condition_id}")
                if c.active and not c.acked:
                    item.setForeground(QtCore.Qt.GlobalColor.red)
                self.table.setItem(r, col, item)
            if selected is not None and c.condition_id == selected.condition_id:
                self.table.selectRow(r)
        if conditions:
            self.setVisible(True)
        self._update_enabled()

    def selected(self) -> ServerCondition | None:
        rows = self.table.selectionModel().selectedRows()
        return self.conditions[rows[0].row()] if rows and rows[0].row() < len(self.conditions) else None

    def _update_enabled(self) -> None:
        c = self.selected()
        self.ack.setEnabled(c is not None and not c.acked)

    def acknowledge_selected(self) -> None:
        c = self.selected()
        if c is not None:
            self.status.setText(f"Acknowledging {c.name}…")
            self.status.setVisible(True)
            self.alarms.acknowledge(c, self.comment.text().strip() or "acknowledged in floortwin")

    def _on_acknowledged(self, name: str, outcome: str) -> None:
        self.status.setVisible(True)
        if outcome == "Good":
            self.status.setText(f"{name}: acknowledged on the server")
            self.status.setStyleSheet("")
        else:
            self.status.setText(f"{name}: the server refused the acknowledgement: {outcome}")
            self.status.setStyleSheet("color: #d03030")
