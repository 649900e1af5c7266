"""Screenshots of the whole window, 3D view included.

``QWidget.grab`` cannot read an OpenGL surface, so the 3D view's frame is rendered by VTK and painted into
the grabbed window image at the render widget's position (the legend margin beside it is grabbed with the
window).
"""

from __future__ import annotations

import logging
import os

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from app.scene.view import FactoryView

log = logging.getLogger(__name__)


def numpy_to_qimage(rgb: np.ndarray) -> QtGui.QImage:
    """An (h, w, 3) uint8 array as a QImage (copied)."""
    rgb = np.ascontiguousarray(rgb[:, :, :3], dtype=np.uint8)
    h, w, _ = rgb.shape
    return QtGui.QImage(rgb.data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888).copy()


def grab_window(window: QtWidgets.QWidget, view: FactoryView) -> QtGui.QImage:
    """An image of ``window`` with the current 3D frame of ``view`` painted in."""
    image = window.grab().toImage()
    frame = numpy_to_qimage(view.frame())
    surface = view.render_widget  # the legend margin beside it is a plain widget, grabbed with the window
    top_left = surface.mapTo(window, QtCore.QPoint(0, 0))
    painter = QtGui.QPainter(image)
    try:
        target = QtCore.QRect(top_left, surface.size())
        painter.drawImage(target, frame)
    finally:
        painter.end()
    return image


def save_window_png(window: QtWidgets.QWidget, view: FactoryView, path: str | os.PathLike[str]) -> bool:
    """Write a PNG of ``window`` with its 3D view; False (logged) when the file cannot be written."""
    # PySide6's stubs want the format as bytes, but it takes a str (and raises on bytes).
    ok = grab_window(window, view).save(str(path), "PNG")  # type: ignore[call-overload]
    if not ok:
        log.error("cannot write screenshot %s", path)
    return ok

