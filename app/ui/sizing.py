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


def place_beside(dialog: QtWidgets.QWidget, keep: QtWidgets.QWidget, most_width: int) -> None:
    """Put a modeless ``dialog`` at the right edge of ``keep``'s window, in the room right of ``keep`` (a
    3D view's render surface), so ``keep`` stays in sight: as wide as that room (at least the dialog's
    minimum, at most ``most_width``) and as high as the window, within the screen."""
    window = keep.window()
    frame = window.frameGeometry()
    screen = window.screen() or QtWidgets.QApplication.primaryScreen()
    room = screen.availableGeometry() if screen is not None else frame
    right = min(frame.right(), room.right())
    free = right - keep.mapToGlobal(keep.rect().topRight()).x()
    width = min(max(free, dialog.minimumSizeHint().width()), most_width, room.width())
    top = max(frame.top(), room.top())
    # resize() sets the inside; the window manager's title bar comes on top of it (not known before show)
    title = dialog.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_TitleBarHeight)
    height = min(frame.bottom(), room.bottom()) - top - title
    dialog.resize(width, max(height, dialog.minimumSizeHint().height()))
    dialog.move(right - width + 1, top)
