"""Write Value…: the node, its value now and the new one typed in its data type, confirmed before it is sent."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from app.live.node_attributes import NodeAttributes, range_text, value_text
from app.live.node_write import confirmation_text, data_type_of, parse_value


class WriteValueDialog(QtWidgets.QDialog):
    """Asks for a node's new value; ``text()`` is what to write after ``accept`` (the user confirmed it)."""

    def __init__(self, attrs: NodeAttributes, user: str | None, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.attrs, self.user = attrs, user
        self.setWindowTitle(f"Write Value — {attrs.display_name or attrs.node_id}")
        form = QtWidgets.QFormLayout()
        node = QtWidgets.QLabel(attrs.node_id)
        node.setWordWrap(True)
        node.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Node", node)
        form.addRow("Data type", QtWidgets.QLabel(data_type_of(attrs) or "—"))
        unit = f" {attrs.unit}" if attrs.unit else ""
        self.old = QtWidgets.QLabel(value_text(attrs.value) + unit)
        form.addRow("Old value", self.old)
        form.addRow("EU range", QtWidgets.QLabel(range_text(attrs)))
        form.addRow("Written as", QtWidgets.QLabel(user or "anonymous"))
        self.value = QtWidgets.QLineEdit(value_text(attrs.value) if attrs.value is not None else "")
        self.value.selectAll()
        form.addRow("&New value", self.value)
        self.error = QtWidgets.QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d03030")
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("&Write…")
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.confirm: QtWidgets.QMessageBox | None = None  # (while asking, and for tests)
        self.setMinimumWidth(420)

    def text(self) -> str:
        return self.value.text()

    def _check(self) -> None:
        """The value typed must be one of the node's type; then the user confirms old → new."""
        try:
            variant = parse_value(self.value.text(), data_type_of(self.attrs))
        except ValueError as e:
            self.error.setText(str(e))
            return
        self.error.setText("")
        box = QtWidgets.QMessageBox(
            QtWidgets.QMessageBox.Icon.Warning,
            "Confirm write",
            confirmation_text(self.attrs, variant, self.user),
            QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.Cancel,
            self,
        )
        box.button(QtWidgets.QMessageBox.StandardButton.Yes).setText("Write")
        box.setDefaultButton(QtWidgets.QMessageBox.StandardButton.Cancel)
        self.confirm = box
        answer = box.exec()
        self.confirm = None
        if answer == QtWidgets.QMessageBox.StandardButton.Yes:
            self.accept()
