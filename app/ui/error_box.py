"""The error box: non-blocking, so the application keeps working behind it."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets


def error_box(parent: QtWidgets.QWidget, title: str, text: str, details: str) -> QtWidgets.QMessageBox:
    """Open an error box over ``parent`` without waiting for it; ``details`` (when they add to ``text``)
    behind its "Show Details" button."""
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Critical, title, text, QtWidgets.QMessageBox.StandardButton.Ok, parent)
    if details and details != text:
        box.setDetailedText(details)
    box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
