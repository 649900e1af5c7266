"""The 3D view renders real frames under Xvfb: machines in their colours, picking, recolouring, LOD."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from app.model.kinds import get_kind

pytestmark = pytest.mark.gui


def pixel(frame: np.ndarray, xy: tuple[float, float]) -> np.ndarray:
    x, y = xy
    return frame[frame.shape[0] - 1 - round(y), round(x)].astype(int)


def hue_close(rgb: np.ndarray, ref: tuple[int, int, int], tol: float = 0.12) -> bool:
    """Same colour up to lighting: compare the normalised colour directions."""
    a = rgb / (np.linalg.norm(rgb) + 1e-9)
    b = np.array(ref, float) / (np.linalg.norm(ref) + 1e-9)
    return float(np.linalg.norm(a - b)) < tol


def test_frame_is_not_empty_and_shows_the_floor(view):
    frame = view.frame()
    surface = view.render_widget  # the view less its legend margin (the machine kinds' legend)
    assert view.legend_title == "Machine kind" and surface.width() < 1200
    assert frame.shape == (800, surface.width(), 3)
    assert frame.std() > 20  # not a blank frame
    assert len(np.unique(frame.reshape(-1, 3)[::7], axis=0)) > 200


def test_labels_are_drawn_over_the_scene(view):
    with_labels = view.frame()
    view.labels.set_visible(False)
    without = view.frame()
    changed = np.any(with_labels != without, axis=2)
    assert changed.sum() > 40 * 200  # dozens of readable labels, not a few stray pixels


def test_machines_appear_in_their_kind_colours(view):
    view.labels.set_visible(False)  # in the top view, labels sit over the machine centres
    frame = view.frame()
    factory = view._factory
    checked = 0
    for m in factory.machines:
        if m.kind in ("conveyor", "buffer", "warehouse"):  # open structures: the centre pixel may be floor
            continue
        rgb = pixel(frame, view.display_position(m.id))
        assert hue_close(rgb, get_kind(m.kind).colour), (m.id, rgb.tolist(), get_kind(m.kind).colour)
        checked += 1
    assert checked >= 25


def test_every_machine_is_picked_at_its_own_position(view):
    factory = view._factory
    for m in factory.machines:
        x, y = view.display_position(m.id)
        if m.kind in ("conveyor", "buffer", "warehouse"):  # open structures: the centre may be a gap between shelves
            near = {view.machine_at(x + dx, y + dy) for dx in (-3, 0, 3) for dy in (-3, 0, 3)}
            assert near - {None} == {m.id}, (m.id, near)
            continue
        assert view.machine_at(x, y) == m.id
    assert view.machine_at(3, 3) is None


def test_recolouring_every_machine_is_one_array_write(view):
    n = len(view.machines.ids)
    colours = np.zeros((n, 3), np.uint8)
    colours[:, 1] = 200  # everything green ...
    red = view.machines.index["PR-02"]
    colours[red] = (220, 0, 0)  # ... except one press
    view.set_machine_colours(colours)
    view.labels.set_visible(False)
    frame = view.frame()
    assert hue_close(pixel(frame, view.display_position("PR-02")), (220, 0, 0))
    for mid in ("CNC-01", "RC-03", "QA-01", "PR-01"):
        assert hue_close(pixel(frame, view.display_position(mid)), (0, 200, 0)), mid
    np.testing.assert_array_equal(view.machines.colours[:, :3], colours)


def test_level_of_detail_while_moving_then_full_detail(view):
    view.labels.set_visible(False)
    view.begin_interaction()
    assert view.machines.lod_active and not view.machines.full.actor.GetVisibility()
    view.plotter.render()
    lod_frame = np.asarray(view.plotter.screenshot(return_img=True))[:, :, :3]
    rgb = pixel(lod_frame, view.display_position("PR-01"))
    assert hue_close(rgb, get_kind("press").colour)  # the hull is drawn in the machine's colour
    full = view.frame()  # frame() always returns full detail
    assert not view.machines.lod_active and view.machines.full.actor.GetVisibility()
    assert view.machines.lod.mesh.n_cells < view.machines.full.mesh.n_cells / 2
    assert not np.array_equal(lod_frame, full)


def test_mouse_click_selects_the_machine_under_the_cursor(view, qtbot):
    clicks = []
    view.machine_clicked.connect(lambda mid, toggle: clicks.append((mid, toggle)))
    widget = view.plotter
    x, y = view.display_position("CNC-03")
    pos = QtCore.QPoint(round(x), round(widget.height() - 1 - y))
    qtbot.mouseClick(widget, QtCore.Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseClick(widget, QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.ControlModifier, pos=pos)
    qtbot.mouseClick(widget, QtCore.Qt.MouseButton.LeftButton, pos=QtCore.QPoint(3, 3))
    assert clicks == [("CNC-03", False), ("CNC-03", True), ("", False)]


def test_selection_outline_and_camera_presets(view):
    view.set_selection(["CNC-01", "nope"])
    assert view.selection == ("CNC-01",)
    assert view._selection_actor.GetVisibility()
    for preset in ("iso", "front", "fit", "top"):
        view.camera_preset(preset)
        frame = view.frame()
        assert frame.std() > 20, preset
    with pytest.raises(ValueError):
        view.camera_preset("sideways")
    view.set_selection([])
    assert not view._selection_actor.GetVisibility()


def test_dark_theme_changes_the_background(view):
    light = view.frame()[5, 600].astype(int)
    view.set_theme("dark")
    dark = view.frame()[5, 600].astype(int)
    assert light.mean() > 150 and dark.mean() < 90


def test_a_move_redraws_only_the_transport_routes_in_place(view):
    """Issue 14, item 8: a pose change no longer rebuilds every floor actor."""
    from app.model.edits import moved_poses, with_poses

    factory = view._factory
    actors = list(view.floor._actors)
    routes = view.floor.routes_actor
    before = np.array(routes.GetMapper().GetInput().GetPoints().GetData())
    moved = with_poses(factory, moved_poses(factory, ["CNC-01"], 3.0, 0.0, 0.0))
    view.refresh_floor(moved)
    assert view.floor._actors == actors and view.floor.routes_actor is routes  # the same actors...
    after = np.array(routes.GetMapper().GetInput().GetPoints().GetData())
    assert after.shape == before.shape and not np.allclose(after, before)  # ...the routes follow CNC-01
    assert np.isclose(after[:, 0] - before[:, 0], 3.0).any()


def test_isolating_machines_hides_the_others_in_the_frame_and_from_picking(view):
    """Issue 18, item 5: "Isolate this line" — only its machines drawn in colour, the rest as faint hulls."""
    view.labels.set_visible(False)
    factory = view._factory
    shown = [m.id for m in factory.machines if m.line == "Pressing"]
    other = next(m for m in factory.machines if m.kind == "cnc")
    before = view.frame()
    view.isolate(shown)
    view.render_now()
    after = view.frame()
    assert set(view.hidden_machines) == {m.id for m in factory.machines} - set(shown)
    press = get_kind("press").colour
    for mid in shown:  # still in their colour, and picked
        assert hue_close(pixel(after, view.display_position(mid)), press)
        assert view.machine_at(*view.display_position(mid)) == mid
    x, y = view.display_position(other.id)
    assert hue_close(pixel(before, (x, y)), get_kind("cnc").colour)
    assert not hue_close(pixel(after, (x, y)), get_kind("cnc").colour)  # a faint hull over the floor, not the CNC
    assert view.machine_at(x, y) is None
    view.show_all()
    view.render_now()
    assert view.hidden_machines == ()
    assert hue_close(pixel(view.frame(), (x, y)), get_kind("cnc").colour)
    assert view.machine_at(x, y) == other.id


def test_a_whole_area_is_outlined_from_arrays_with_the_same_boxes(view):
    """Selecting a group row outlines all its machines at once (issue 18): one array build, same corners."""
    ids = view.machines.ids
    boxes = view.machines.world_boxes(range(len(ids)), margin_m=0.08)
    layer = view.machines
    for i in range(len(ids)):  # each corner as the box's own lo/hi corner, scaled back by the margin, placed
        m = layer.matrices[i]
        scale = np.linalg.norm(m[:3, :3], axis=0)
        lo, hi = layer.bounds_lo[i] - 0.08 / scale, layer.bounds_hi[i] + 0.08 / scale
        local = np.array([[x, y, z] for z in (lo[2], hi[2]) for y in (lo[1], hi[1]) for x in (lo[0], hi[0])])
        assert np.allclose(boxes[i], local @ m[:3, :3].T + m[:3, 3])
    view.set_selection(ids)
    outline = view._selection_mapper.GetInput()
    assert outline.GetNumberOfPoints() == 8 * len(ids) and outline.GetNumberOfLines() == 12 * len(ids)
