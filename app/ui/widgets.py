"""Small widgets the dialogs share."""

from __future__ import annotations

from PySide6 import QtWidgets


def number_field(
    value: float, lo: float, hi: float, suffix: str = "", decimals: int = 1, tip: str = ""
) -> QtWidgets.QDoubleSpinBox:
    """A number field that only takes values in [lo, hi] (text, NaN or out-of-range input is refused)."""
    spin = QtWidgets.QDoubleSpinBox()
    spin.setRange(lo, hi)
    spin.setDecimals(decimals)
    spin.setSuffix(suffix)
    spin.setValue(value)
    if tip:
        spin.setToolTip(tip)
    return spin


def scrolling(body: QtWidgets.QWidget, parent: QtWidgets.QWidget | None = None) -> QtWidgets.QScrollArea:
    """``body`` in a frameless scroll area: a dock that is short scrolls instead of growing the window."""
    scroll = QtWidgets.QScrollArea(parent)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    scroll.setWidget(body)
    return scroll
