"""The selected node's attributes under the Server tree (data type, access, units, EU range, description, value,
status, timestamps), read off the GUI thread by ``app.live.node_service``."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from app.live.node_attributes import NodeAttributes, attribute_rows
from app.live.node_service import NodeService
from app.ui.gui_thread import connect_on_gui

#: The rows whose text says something is wrong when it is not Good.
_STATUS_ROW = "Status"


class AttributePanel(QtWidgets.QWidget):
    """Shows one node's attributes; Refresh reads them again.

    Signals
    -------
    watch_requested(str, str), write_requested(str, str)
        Watch / Write Value… for the node shown (its id and name).
    """

    watch_requested = QtCore.Signal(str, str)
    write_requested = QtCore.Signal(str, str)

    def __init__(self, service: NodeService, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.service = service
        self.node_id, self.name = "", ""
        self.attributes: NodeAttributes | None = None
        self._number = -1
        self.title = QtWidgets.QLabel("Select a node in the tree to see its attributes.")
        self.title.setWordWrap(True)
        self.table = QtWidgets.QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels(["Attribute", "Value"])
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)  # one text line a row
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        # One line per attribute, long texts cut in the middle (the whole text is the cell's tooltip): the
        # panel sits in a narrow dock.
        self.table.setWordWrap(False)
        self.table.setTextElideMode(QtCore.Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.refresh = QtWidgets.QPushButton("&Refresh")
        self.refresh.setToolTip("Read the node's attributes and value again")
        self.watch = QtWidgets.QPushButton("Wa&tch")
        self.watch.setToolTip("Add the variable to the Watch list (its value kept up to date there)")
        self.write = QtWidgets.QPushButton("&Write…")
        for button in (self.refresh, self.watch, self.write):
            button.setEnabled(False)
            # The buttons may share a narrow dock (the left side is ~230 px at 1366×768): never wider than it.
            button.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.refresh)
        buttons.addWidget(self.watch)
        buttons.addWidget(self.write)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.refresh.clicked.connect(self.read_again)
        self.watch.clicked.connect(lambda: self.watch_requested.emit(self.node_id, self.name))
        self.write.clicked.connect(lambda: self.write_requested.emit(self.node_id, self.name))
        connect_on_gui(service.attributes_read, self._on_read)
        connect_on_gui(service.read_failed, self._on_failed)

    def show_node(self, node_id: str, name: str = "", node_class: str = "") -> None:
        """Show ``node_id``'s attributes (read in the background); "" clears the panel."""
        self.node_id, self.name = node_id, name
        self.attributes = None
        self.table.setRowCount(0)
        self.write.setEnabled(False)
        self.watch.setEnabled(node_class == "Variable")
        self.refresh.setEnabled(bool(node_id))
        if not node_id:
            self._number = -1
            self.title.setText("Select a node in the tree to see its attributes.")
            return
        self.read_again()

    def read_again(self) -> None:
        if self.node_id:
            self.title.setText(f"{self.name or self.node_id}: reading…")
            self._number = self.service.read(self.node_id)

    def _on_read(self, number: int, attrs: NodeAttributes) -> None:
        if number != self._number:
            return  # another node was selected meanwhile
        self.attributes = attrs
        self.title.setText(f"<b>{attrs.display_name or attrs.node_id}</b> — {attrs.node_class}")
        rows = attribute_rows(attrs)
        self.table.setRowCount(len(rows))
        for r, (label, text) in enumerate(rows):
            for c, cell in enumerate((label, text)):
                item = QtWidgets.QTableWidgetItem(cell)
                item.setToolTip(text)
                if label == _STATUS_ROW and text != "Good":
                    item.setForeground(QtCore.Qt.GlobalColor.red)
                self.table.setItem(r, c, item)
        self.watch.setEnabled(attrs.is_variable)
        self.write.setEnabled(attrs.is_variable)
        self.write.setToolTip(
            "Write a new value (asks to confirm; needs a secure connection and a login that may write)"
            if attrs.writable
            else "This login may only read this node: the write will be refused before it is sent"
        )

    def _on_failed(self, number: int, message: str) -> None:
        if number == self._number:
            self.title.setText(f"Cannot read {self.name or self.node_id}: {message}")
