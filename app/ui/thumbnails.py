"""Small pictures of machine meshes for the palette, drawn from the meshes themselves.

An isometric view, flat-shaded in the machine kind's colour, drawn back to front with QPainter: a few
milliseconds per mesh, no OpenGL context and no VTK outside the scene module.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6 import QtCore, QtGui

#: Most triangles drawn per thumbnail: bigger meshes are thinned to their largest faces (a 64 px picture
#: cannot show more).
MAX_TRIANGLES = 4000
_LIGHT = np.array([-0.35, -0.55, 0.76])
_LIGHT /= np.linalg.norm(_LIGHT)


def _view_basis() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Right, up and towards-the-viewer axes of the palette's isometric view (seen from the front left)."""
    towards = np.array([-0.55, -0.75, 0.6])
    towards /= np.linalg.norm(towards)
    right = np.cross([0.0, 0.0, 1.0], towards)
    right /= np.linalg.norm(right)
    up = np.cross(towards, right)
    return right, up, towards


def mesh_thumbnail(vertices: np.ndarray, faces: np.ndarray, rgb: Sequence[int], size_px: int = 64) -> QtGui.QImage:
    """An isometric, flat-shaded picture of a triangle mesh on a transparent background.

    Parameters
    ----------
    vertices, faces
        The mesh ((n, 3) metres, Z up; (m, 3) vertex indices).
    rgb
        Base colour (0–255); faces are shaded by their angle to a light from the upper left.
    size_px
        Width and height of the square image.
    """
    image = QtGui.QImage(size_px, size_px, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QtCore.Qt.GlobalColor.transparent)
    v = np.asarray(vertices, dtype=float)
    f = np.asarray(faces, dtype=np.int64)
    if len(v) == 0 or len(f) == 0:
        return image
    tri = v[f]  # (m, 3, 3)
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    area = np.linalg.norm(normals, axis=1)
    keep = area > 1e-12
    tri, normals, area = tri[keep], normals[keep] / area[keep, None], area[keep]
    if len(tri) > MAX_TRIANGLES:
        largest = np.argpartition(-area, MAX_TRIANGLES)[:MAX_TRIANGLES]
        tri, normals = tri[largest], normals[largest]
    right, up, towards = _view_basis()
    facing = normals @ towards
    normals = np.where(facing[:, None] < 0, -normals, normals)  # meshes with inconsistent winding: both sides lit
    shade = 0.45 + 0.55 * np.clip(normals @ _LIGHT, 0.0, 1.0)
    xy = np.stack([tri @ right, tri @ up], axis=-1)  # (m, 3, 2)
    depth = (tri @ towards).mean(axis=1)
    lo, hi = xy.reshape(-1, 2).min(axis=0), xy.reshape(-1, 2).max(axis=0)
    scale = (size_px - 4) / max(float((hi - lo).max()), 1e-9)
    centre = (lo + hi) / 2
    screen = (xy - centre) * scale
    screen[..., 1] *= -1  # image rows grow downwards
    screen += size_px / 2
    base = np.asarray(rgb[:3], dtype=float)
    painter = QtGui.QPainter(image)
    try:
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        for k in np.argsort(depth):  # back to front
            colour = QtGui.QColor(*np.clip(base * shade[k], 0, 255).astype(int))
            painter.setPen(QtGui.QPen(colour, 0.6))
            painter.setBrush(colour)
            painter.drawPolygon(QtGui.QPolygonF([QtCore.QPointF(float(x), float(y)) for x, y in screen[k]]))
    finally:
        painter.end()
    return image
