"""Small widgets the dialogs share."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6 import QtGui, QtWidgets

if TYPE_CHECKING:
    from app.model.document import FactoryDocument


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


class ProgressStrip(QtWidgets.QWidget):
    """A thin progress bar that repaints with the next frame. (QProgressBar repaints at once on every
    value, and in a window holding an OpenGL view each repaint composes the whole window: slow in
    software rendering.)"""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.fraction = 0.0
        self.setFixedHeight(8)

    def set_fraction(self, fraction: float) -> None:
        fraction = min(1.0, max(0.0, fraction))
        if abs(fraction - self.fraction) >= 0.002:
            self.fraction = fraction
            self.update()

    def paintEvent(self, _event) -> None:
        painter = QtGui.QPainter(self)
        pal = self.palette()
        painter.fillRect(self.rect(), pal.color(QtGui.QPalette.ColorRole.Mid))
        done = self.rect().adjusted(0, 0, -round(self.width() * (1 - self.fraction)), 0)
        painter.fillRect(done, pal.color(QtGui.QPalette.ColorRole.Highlight))
        painter.end()


def follow_versions(
    old: FactoryDocument | None, new: FactoryDocument | None, slot: Callable[[object], None]
) -> FactoryDocument | None:
    """``slot`` hears of every new version of ``new`` (machines or layout changed) and no longer of ``old``'s;
    returns ``new``, the document now followed."""
    if old is not None:
        old.machines_changed.disconnect(slot)
        old.layout_changed.disconnect(slot)
    if new is not None:
        new.machines_changed.connect(slot)
        new.layout_changed.connect(slot)
    return new
