"""The machine palette shows a picture of each mesh, not only a text list (issue 13, item 19)."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from app.model.kinds import get_kind
from app.ui.thumbnails import mesh_thumbnail

pytestmark = pytest.mark.gui


def _pixels(image) -> np.ndarray:
    """(h, w, 4) RGBA of a QImage."""
    from PySide6 import QtGui

    rgba = image.convertToFormat(QtGui.QImage.Format.Format_RGBA8888)
    return np.frombuffer(rgba.constBits(), np.uint8).reshape(rgba.height(), rgba.width(), 4).copy()


def test_a_box_is_drawn_with_three_shaded_faces_in_its_colour(qapp):
    box = trimesh.creation.box((2.0, 1.0, 1.0))
    px = _pixels(mesh_thumbnail(box.vertices, box.faces, (0, 114, 178), 64))
    drawn = px[..., 3] == 255
    assert 0.2 < drawn.mean() < 0.9  # the box fills the picture, with transparent corners
    colours = {tuple(c) for c in px[drawn][:, :3]}
    shades = {c for c in colours if sum(1 for d in px[drawn][:, :3] if tuple(d) == c) > 40}
    assert len(shades) == 3  # the three visible faces, each its own shade
    for r, g, b in shades:  # all of them the colour, darker or lighter: blue the strongest channel
        assert b > g > r


def test_the_palette_shows_a_picture_of_every_mesh(make_window, qtbot):
    w = make_window()
    dock = w.palette_dock
    dock.show()
    dock.raise_()
    qtbot.waitUntil(dock.icons_ready, timeout=10000)
    assert dock.list.count() >= 8
    for k in range(dock.list.count()):
        item = dock.list.item(k)
        kind_id, _asset = item.data(0x0100)
        icon = item.icon()
        assert not icon.isNull(), item.text()
        px = _pixels(icon.pixmap(48, 48).toImage())
        drawn = px[..., 3] == 255
        assert drawn.mean() > 0.08, item.text()  # a mesh, not an empty square
        mean = px[drawn][:, :3].mean(axis=0)
        kind = np.asarray(get_kind(kind_id).colour, float)
        cos = mean @ kind / (np.linalg.norm(mean) * np.linalg.norm(kind))
        assert cos > 0.9, (item.text(), mean, kind)  # in the kind's colour, as in the 3D view
