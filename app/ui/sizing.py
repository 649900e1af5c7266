"""Dialog sizes from the screen they open on: a table of verdicts wants the room a large screen has, and
must still fit a 1366×768 one."""

from __future__ import annotations

from PySide6 import QtWidgets


def size_to_screen(dialog: QtWidgets.QWidget, share: float, least: tuple[int, int]) -> None:
    """``share`` of the screen's available width and height, but at least ``least`` (as far as the screen
    allows)."""
    screen = dialog.screen() or QtWidgets.QApplication.primaryScreen()
    if screen is None:
        dialog.resize(*least)
        return
    room = screen.availableGeometry()
    width = min(max(int(room.width() * share), least[0]), room.width())
    height = min(max(int(room.height() * share), least[1]), room.height())
    dialog.resize(width, height)
