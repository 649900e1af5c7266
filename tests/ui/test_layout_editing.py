"""Editing the layout on the real window: simulated mouse drags and keys, live verdicts, undo/redo."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6 import QtCore, QtGui
from PySide6.QtTest import QTest

from app.model.factory import Pose
from app.ui.verdict_view import CLEAR_RGB, CLEARANCE_RGB, COLLISION_RGB

pytestmark = pytest.mark.gui
LEFT = QtCore.Qt.MouseButton.LeftButton
NONE = QtCore.Qt.KeyboardModifier.NoModifier
SHIFT = QtCore.Qt.KeyboardModifier.ShiftModifier


def _qt_pos(w, display_xy) -> QtCore.QPoint:
    ratio = w.view.plotter.devicePixelRatioF()
    x, y = display_xy
    return QtCore.QPoint(round(x / ratio), round(w.view.plotter.height() - 1 - y / ratio))


def _floor_to_qt(w, x: float, y: float) -> QtCore.QPoint:
    ren = w.view.renderer
    ren.SetWorldPoint(x, y, 0.0, 1.0)
    ren.WorldToDisplay()
    dx, dy, _ = ren.GetDisplayPoint()
    return _qt_pos(w, (dx, dy))


def _grab_point(w, mid: str) -> QtCore.QPoint:
    return _qt_pos(w, w.view.display_position(mid))


def _drag(w, qtbot, mid: str, to_xy: tuple[float, float], release_modifiers=NONE, steps: int = 6, release: bool = True):
    """Press on machine ``mid``, move in steps so its grab point lands on floor point ``to_xy``."""
    widget = w.view.plotter
    start = _grab_point(w, mid)
    QTest.mousePress(widget, LEFT, NONE, start)
    grab = w.layout_editor.drag.current["grab"]
    m = w.document.factory.machine(mid)
    # where the cursor must go so the machine centre ends at to_xy
    target = (to_xy[0] + grab[0] - m.pose.x_m, to_xy[1] + grab[1] - m.pose.y_m)
    for k in range(1, steps + 1):
        f = k / steps
        p = _floor_to_qt(w, grab[0] + (target[0] - grab[0]) * f, grab[1] + (target[1] - grab[1]) * f)
        QTest.mouseMove(widget, p)
        qtbot.wait(5)
    if release:
        QTest.mouseRelease(widget, LEFT, release_modifiers, _floor_to_qt(w, *target))


def _free_spot(w, mid: str) -> tuple[float, float]:
    """A grid point where ``mid`` would stand clear of everything (asked of the editor's collision world,
    on its own thread)."""
    f = w.document.factory

    def search(world):
        for y in np.arange(2.0, f.floor.depth_m - 2, f.floor.grid_m):
            for x in np.arange(2.0, f.floor.width_m - 2, f.floor.grid_m):
                if world.check_pose(mid, Pose(x_m=float(x), y_m=float(y))).status == "ok":
                    return float(x), float(y)
        raise AssertionError("no free spot on the demo floor")

    return w.layout_editor.service.run(search)


def _status(w, mid: str) -> str:
    """The verdict of ``mid`` where it stands, from the editor's collision world."""
    return w.layout_editor.service.run(lambda world: world.check(mid).status)


def _colour(w, mid: str) -> tuple[int, int, int]:
    return tuple(int(c) for c in w.view.machines.colours[w.view.machines.index[mid]][:3])


def _editing(make_window, qtbot):
    """A demo window in edit mode seen from the top, active, keyboard focus on the 3D view (a function,
    not a fixture: pytest would keep a fixture's window alive past the leak check)."""
    w = make_window()
    with qtbot.waitActive(w):
        w.activateWindow()
    w.view.plotter.setFocus()
    w.view.camera_preset("top")
    w.view.render_now()
    w.actions_by_id["edit.layout_mode"].trigger()
    assert w.layout_editor.active and w.actions_by_id["edit.layout_mode"].isChecked()
    qtbot.waitUntil(lambda: w.layout_editor.service.state == "ready", timeout=30000)  # prepared in the background
    return w


def test_drag_a_machine_to_a_free_spot_then_undo_and_redo(make_window, qtbot):
    w = _editing(make_window, qtbot)
    before = w.document.factory.machine("CNC-01").pose
    to = _free_spot(w, "CNC-01")
    _drag(w, qtbot, "CNC-01", to)
    after = w.document.factory.machine("CNC-01").pose
    grid = w.document.factory.floor.grid_m
    assert (after.x_m, after.y_m) == pytest.approx(to, abs=grid / 2 + 1e-6)
    assert round(after.x_m / grid) * grid == pytest.approx(after.x_m)  # snapped to the grid
    assert w.document.dirty and w.isWindowModified()
    assert w.layout_editor.stack.count() == 1 and w.layout_editor.stack.text(0).startswith("Move CNC-01")
    assert _status(w, "CNC-01") == "ok"
    # The 3D view shows it there (its picking box moved with it).
    m = w.view.machines.matrices[w.view.machines.index["CNC-01"]]
    assert (m[0, 3], m[1, 3]) == pytest.approx((after.x_m, after.y_m))

    assert w.actions_by_id["edit.undo"].isEnabled()
    QTest.keyClick(w.view.plotter, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert w.document.factory.machine("CNC-01").pose == before
    m = w.view.machines.matrices[w.view.machines.index["CNC-01"]]
    assert (m[0, 3], m[1, 3]) == pytest.approx((before.x_m, before.y_m))
    QTest.keyClick(w.view.plotter, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier | SHIFT)
    assert w.document.factory.machine("CNC-01").pose == after


def test_dropping_onto_another_machine_is_refused_unless_overridden(make_window, qtbot):
    w = _editing(make_window, qtbot)
    before = w.document.factory.machine("CNC-01").pose
    other = w.document.factory.machine("CNC-02").pose
    _drag(w, qtbot, "CNC-01", (other.x_m, other.y_m), release=False)
    # While dragging: the dragged machine is red, the one it hits is highlighted, the status bar says why.
    assert _colour(w, "CNC-01") == COLLISION_RGB
    assert _colour(w, "CNC-02") != tuple(w.view.kind_colours(w.document.factory, w.asset_of)[w.view.machines.index["CNC-02"]])
    assert "collides with CNC-02" in w.statusBar().currentMessage()
    frame = w.view.frame()
    assert (np.abs(frame.astype(int) - COLLISION_RGB).sum(axis=2) < 60).sum() > 50  # red is on screen
    QTest.mouseRelease(w.view.plotter, LEFT, NONE, _floor_to_qt(w, other.x_m, other.y_m))
    assert w.document.factory.machine("CNC-01").pose == before  # refused: back where it was
    assert w.layout_editor.stack.count() == 0
    assert "Not placed" in w.statusBar().currentMessage()

    _drag(w, qtbot, "CNC-01", (other.x_m, other.y_m), release_modifiers=SHIFT)  # explicit override
    assert w.document.factory.machine("CNC-01").pose != before
    assert "collision overridden" in w.layout_editor.stack.text(0)
    w.show_layout_check()
    texts = [w.layout_check_dock.list.item(i).text() for i in range(w.layout_check_dock.list.count())]
    assert any("CNC-01 collides with CNC-02" in t for t in texts)
    # In edit mode the check also colours the floor: problems red / amber, the rest faded.
    assert _colour(w, "CNC-01") == COLLISION_RGB and _colour(w, "CNC-02") == COLLISION_RGB
    assert _colour(w, "QA-01") == CLEAR_RGB


def test_clearance_warning_shows_amber_with_the_gap(make_window, qtbot):
    w = _editing(make_window, qtbot)
    f = w.document.factory
    a, b = f.machine("CNC-01"), f.machine("CNC-02")
    need = max(a.clearance_m, b.clearance_m)
    # Put CNC-01 beside CNC-02 (same yaw), leaving half the required gap.
    gap = need / 2
    half = (a.footprint.width_m + b.footprint.width_m) / 2 if a.pose.yaw_deg % 180 == b.pose.yaw_deg % 180 == 0 else None
    assert half is not None
    w.layout_editor.snap_enabled = False
    target = None
    for side in (1, -1):
        x = b.pose.x_m + side * (half + gap)
        p = Pose(x_m=x, y_m=b.pose.y_m, yaw_deg=a.pose.yaw_deg)
        v = w.layout_editor.service.run(lambda world, p=p: world.check_pose("CNC-01", p))
        if v.status == "clearance" and v.clearances[0].other == "CNC-02":
            target = (x, b.pose.y_m)
            break
    assert target is not None, "no side of CNC-02 with room for the test"
    _drag(w, qtbot, "CNC-01", target, release=False, steps=3)
    assert _colour(w, "CNC-01") == CLEARANCE_RGB
    message = w.statusBar().currentMessage()
    shown = re.search(r"CNC-01 is ([0-9.]+) m from CNC-02 \(needs ([0-9.]+) m\)", message)
    assert shown, message
    # The mouse moves in whole pixels (a few centimetres on this floor): the gap is close to the aim.
    assert float(shown.group(1)) == pytest.approx(gap, abs=0.08) and float(shown.group(2)) == pytest.approx(need)
    frame = w.view.frame()
    assert (np.abs(frame.astype(int) - CLEARANCE_RGB).sum(axis=2) < 60).sum() > 50  # amber is on screen
    QTest.mouseRelease(w.view.plotter, LEFT, NONE, _floor_to_qt(w, *target))
    assert w.layout_editor.stack.count() == 1  # a clearance warning does not stop a drop


def test_rotate_nudge_duplicate_delete_with_keys_and_undo(make_window, qtbot):
    w = _editing(make_window, qtbot)
    w.selection.select(["QA-01"])
    yaw = w.document.factory.machine("QA-01").pose.yaw_deg
    before_all = w.document.factory
    QTest.keyClick(w.view.plotter, QtCore.Qt.Key.Key_R)
    QTest.keyClick(w.view.plotter, QtCore.Qt.Key.Key_R, SHIFT)
    assert w.document.factory.machine("QA-01").pose.yaw_deg == pytest.approx((yaw + 105) % 360)
    n = len(w.document.factory.machines)
    QTest.keyClick(w.view.plotter, QtCore.Qt.Key.Key_D, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert len(w.document.factory.machines) == n + 1
    copy = w.selection.current
    assert copy != "QA-01" and w.document.factory.machine(copy).tags == {}
    QTest.keyClick(w.view.plotter, QtCore.Qt.Key.Key_Delete)
    assert len(w.document.factory.machines) == n and copy not in {m.id for m in w.document.factory.machines}
    # Delete a machine with transport paths: they go with it; undo brings all back.
    linked = next(t.from_machine for t in w.document.factory.transports)
    w.selection.select([linked])
    QTest.keyClick(w.view.plotter, QtCore.Qt.Key.Key_Delete)
    assert all(linked not in (t.from_machine, t.to_machine) for t in w.document.factory.transports)
    assert all(linked not in f.routing for f in w.document.factory.flows)
    while w.layout_editor.stack.canUndo():
        w.layout_editor.stack.undo()
    assert w.document.factory.machines == before_all.machines
    assert w.document.factory.transports == before_all.transports and w.document.factory.flows == before_all.flows
    assert len(w.view.machines.ids) == n


def test_edits_save_and_reload(make_window, qtbot, tmp_path):
    w = _editing(make_window, qtbot)
    to = _free_spot(w, "PR-01")
    _drag(w, qtbot, "PR-01", to)
    moved = w.document.factory.machine("PR-01").pose
    assert w.files.save_to(tmp_path / "edited.json")
    assert not w.document.dirty
    from app.model.io import load_factory

    assert load_factory(tmp_path / "edited.json").machine("PR-01").pose == moved
    QtGui.QGuiApplication.processEvents()


def test_unsaved_edits_are_autosaved_and_recovered_after_a_crash(make_window, qtbot, tmp_path, monkeypatch, demo_path):
    import shutil

    from PySide6 import QtWidgets

    plant = tmp_path / "plant.json"
    shutil.copy(demo_path, plant)
    w = make_window(open_demo=False)
    assert w.files.open_path(plant)
    w.actions_by_id["edit.layout_mode"].trigger()
    w.selection.select(["QA-01"])
    original = w.document.factory.machine("QA-01").pose
    w.layout_editor.rotate_selection(90)
    edited = w.document.factory.machine("QA-01").pose
    assert edited != original
    autosave = w.files.autosave_now()
    assert autosave is not None and autosave.exists()
    assert w.files.autosave_now() is None  # nothing new since
    # The "crash": the window goes without saving or asking (as if the process had died).
    w.document.replace(w.document.factory, w.document.path)
    w.close()

    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *a, **k: QtWidgets.QMessageBox.StandardButton.Yes)
    w2 = make_window(open_demo=False)
    assert w2.files.open_path(plant)
    assert w2.document.factory.machine("QA-01").pose == edited  # recovered
    assert w2.document.dirty and "Recover" in w2.layout_editor.stack.text(0)
    w2.layout_editor.stack.undo()
    assert w2.document.factory.machine("QA-01").pose == original  # one step back: the file as saved
    w2.layout_editor.stack.redo()
    assert w2.files.save_to(plant)
    assert not autosave.exists()  # saved: the autosave is gone

    # Declining a recovery discards the autosave.
    w2.layout_editor.set_active(True)
    w2.selection.select(["QA-01"])
    w2.layout_editor.rotate_selection(15)
    assert w2.files.autosave_now() is not None
    w2.document.replace(w2.document.factory, w2.document.path)
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *a, **k: QtWidgets.QMessageBox.StandardButton.No)
    assert w2.files.open_path(plant)
    assert w2.document.factory.machine("QA-01").pose == edited and not w2.document.dirty
    assert not autosave.exists()


def test_typed_position_is_checked_and_refuses_nan(make_window, qtbot):
    from app.ui.place_dialog import PlaceDialog

    w = _editing(make_window, qtbot)
    w.selection.select(["CNC-01"])
    f = w.document.factory
    other = f.machine("CNC-02").pose
    dialog = PlaceDialog(f, "CNC-01", w.layout_editor.service, w)
    qtbot.addWidget(dialog)
    dialog.x.setValue(other.x_m)
    dialog.y.setValue(other.y_m)
    assert "collides with CNC-02" in dialog.verdict.text()
    # The field takes numbers within the floor only: "nan" is not accepted, the value stays.
    dialog.x.lineEdit().selectAll()
    QTest.keyClicks(dialog.x.lineEdit(), "nan")
    dialog.x.interpretText()
    assert dialog.x.value() == pytest.approx(other.x_m)
    dialog.x.setValue(1e9)
    assert dialog.x.value() == f.floor.width_m
    spot = _free_spot(w, "CNC-01")
    assert not w.layout_editor.place("CNC-01", Pose(x_m=other.x_m, y_m=other.y_m))  # collision: refused
    assert w.layout_editor.place("CNC-01", Pose(x_m=spot[0], y_m=spot[1], yaw_deg=90))
    assert w.document.factory.machine("CNC-01").pose == Pose(x_m=spot[0], y_m=spot[1], yaw_deg=90)
    assert w.layout_editor.stack.text(w.layout_editor.stack.count() - 1) == "Place CNC-01"


def test_add_machines_from_the_palette_by_drop_and_double_click(make_window, qtbot):
    from PySide6 import QtWidgets

    from app.ui.palette_dock import MIME_ASSET

    w = _editing(make_window, qtbot)
    n = len(w.document.factory.machines)
    items = [w.palette_dock.list.item(i) for i in range(w.palette_dock.list.count())]
    assert {i.data(QtCore.Qt.ItemDataRole.UserRole)[0] for i in items} >= {"cnc", "press", "robot_cell", "conveyor"}
    robot = next(i for i in items if i.data(QtCore.Qt.ItemDataRole.UserRole)[0] == "robot_cell")
    mime = w.palette_dock.list.mimeData([robot])
    assert bytes(mime.data(MIME_ASSET)).decode() == "robot_cell robot_cell"

    # Drop it on a free spot of the floor, as a drag from the palette does.
    f = w.document.factory

    def search(world):
        for y in np.arange(5.0, f.floor.depth_m - 5, 1.0):
            for x in np.arange(5.0, f.floor.width_m - 5, 1.0):
                probe = f.machines[0].model_copy(update={"id": "PROBE", "asset": "robot_cell", "pose": Pose(x_m=x, y_m=y)})
                size = probe.footprint.model_copy(update={"width_m": 5.0, "depth_m": 5.0})
                probe = probe.model_copy(update={"footprint": size})
                world.add_machine(probe)
                ok = world.check("PROBE").status == "ok"
                world.remove_machine("PROBE")
                if ok:
                    return float(x), float(y)
        return None

    spot = w.layout_editor.service.run(search)
    assert spot is not None
    pos = _floor_to_qt(w, *spot)
    for kind in (QtCore.QEvent.Type.DragEnter, QtCore.QEvent.Type.Drop):
        event = QtGui.QDropEvent(QtCore.QPointF(pos), QtCore.Qt.DropAction.CopyAction, mime, LEFT, NONE, kind)
        QtWidgets.QApplication.sendEvent(w.view.plotter, event)
    assert len(w.document.factory.machines) == n + 1, (w.statusBar().currentMessage(), w.last_error and w.last_error.text())
    new = w.document.factory.machine(w.selection.current)
    assert new.kind == "robot_cell" and new.id.startswith("RC-") and new.id not in {m.id for m in f.machines}
    assert (new.pose.x_m, new.pose.y_m) == pytest.approx(spot, abs=0.6)
    assert new.id in w.view.machines.index and _status(w, new.id) == "ok"
    assert "Add " in w.layout_editor.stack.text(w.layout_editor.stack.count() - 1)

    # Dropping onto an existing machine is refused.
    other = w.document.factory.machine("CNC-02").pose
    assert w.layout_editor.add_machine("cnc", "cnc", other.x_m, other.y_m) is None
    assert len(w.document.factory.machines) == n + 1
    # Undo removes the added machine again.
    w.layout_editor.stack.undo()
    assert len(w.document.factory.machines) == n


def test_import_a_mesh_as_a_new_machine_and_refuse_a_broken_one(make_window, qtbot, tmp_path):
    import trimesh

    from app.model.io import load_factory

    w = _editing(make_window, qtbot)
    plant = tmp_path / "plant.json"
    assert w.files.save_to(plant)
    mesh = tmp_path / "meshes" / "lathe.stl"
    mesh.parent.mkdir()
    trimesh.creation.box(extents=(3.0, 1.5, 1.8)).apply_translation((0, 0, 0.9)).export(mesh)
    w.view.camera_preset("top")
    # Clear the middle of the view first so the import has room.
    size = w.view.renderer.GetSize()
    centre = w.view.floor_point(size[0] / 2, size[1] / 2)
    near = [m.id for m in w.document.factory.machines if abs(m.pose.x_m - centre[0]) < 8 and abs(m.pose.y_m - centre[1]) < 8]
    if near:
        w.selection.select(near)
        w.layout_editor.delete_selection()
    mid = w.layout_editor.import_mesh(mesh, "cnc")
    assert mid is not None, w.statusBar().currentMessage()
    m = w.document.factory.machine(mid)
    assert m.asset == "lathe" and w.document.factory.assets["lathe"].path == "meshes/lathe.stl"  # relative to the file
    assert (m.footprint.width_m, m.footprint.depth_m) == pytest.approx((3.0, 1.5), abs=0.01)
    assert w.files.save_to(plant)
    assert load_factory(plant).machine(mid).asset == "lathe"

    broken = tmp_path / "broken.stl"
    broken.write_text("solid nothing\nendsolid nothing\n")
    n = len(w.document.factory.machines)
    assert w.layout_editor.import_mesh(broken, "cnc") is None
    assert len(w.document.factory.machines) == n and "broken" not in w.document.factory.assets
    assert w.last_error is not None and "cannot be used" in w.last_error.text()


def test_align_from_the_menu_is_one_undo_step(make_window, qtbot):
    w = _editing(make_window, qtbot)
    ids = ["QA-01", "QA-02"]
    w.selection.select(ids)
    before = {i: w.document.factory.machine(i).pose for i in ids}
    act = w.actions_by_id["edit.arrange_centre_x"]
    assert act.isEnabled()
    act.trigger()
    after = {i: w.document.factory.machine(i).pose for i in ids}
    assert after["QA-01"].x_m == pytest.approx(after["QA-02"].x_m)
    assert w.layout_editor.stack.text(w.layout_editor.stack.count() - 1).startswith("Align centre x")
    w.layout_editor.stack.undo()
    assert {i: w.document.factory.machine(i).pose for i in ids} == before


def test_turn_the_selection_with_the_ring(make_window, qtbot):
    w = _editing(make_window, qtbot)
    w.selection.select(["QA-01"])
    ring = w.view._ring
    assert ring is not None and w.view._ring_actor.GetVisibility()
    cx, cy, r = ring
    yaw = w.document.factory.machine("QA-01").pose.yaw_deg
    widget = w.view.plotter
    QTest.mousePress(widget, LEFT, NONE, _floor_to_qt(w, cx + r, cy))  # the knob at 0°
    for a in (10, 30, 50, 62):  # sweep to about 62° anticlockwise: snaps to 60°
        t = np.radians(a)
        QTest.mouseMove(widget, _floor_to_qt(w, cx + r * np.cos(t), cy + r * np.sin(t)))
        qtbot.wait(5)
    assert w.statusBar().currentMessage().startswith("Turn +60°")
    t = np.radians(62)
    QTest.mouseRelease(widget, LEFT, NONE, _floor_to_qt(w, cx + r * np.cos(t), cy + r * np.sin(t)))
    turned = w.document.factory.machine("QA-01").pose
    assert turned.yaw_deg == pytest.approx((yaw + 60) % 360)
    assert w.layout_editor.stack.text(w.layout_editor.stack.count() - 1).startswith("Turn QA-01")
    w.layout_editor.stack.undo()
    assert w.document.factory.machine("QA-01").pose.yaw_deg == pytest.approx(yaw)
