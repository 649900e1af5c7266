"""The main window: opening, selection sync between view/tree/properties, errors, saving, actions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from app.model.io import load_factory
from app.ui.actions import ACTIONS

pytestmark = pytest.mark.gui


def tree_machine_ids(dock) -> list[str]:
    """The ids in the tree's Id column under every row at any depth, top to bottom, as the view's model has them."""
    model, out = dock.tree.model(), []

    def walk(parent):
        for r in range(model.rowCount(parent)):
            index = model.index(r, 0, parent)
            if mid := model.index(r, 1, parent).data():
                out.append(mid)
            walk(index)

    walk(QtCore.QModelIndex())
    return out


def test_demo_opens_with_every_machine_in_the_tree(make_window):
    w = make_window()
    assert w.document is not None and len(w.document.factory.machines) >= 40
    assert sorted(tree_machine_ids(w.tree_dock)) == sorted(m.id for m in w.document.factory.machines)
    assert w.status_machines.text() == f"{len(w.document.factory.machines)} machines"
    assert "demo.json" in w.windowTitle() and "Demo plant" in w.windowTitle()


def test_tree_selection_selects_in_view_and_properties(make_window, qtbot):
    w = make_window()
    w.tree_dock.tree.setCurrentIndex(w.tree_dock.index_of("PR-03"))
    assert w.selection.ids == ("PR-03",)
    assert w.view.selection == ("PR-03",)
    assert w.properties_dock.widget().value_of("Name") == "Press 3"
    assert w.properties_dock.widget().value_of("Kind") == "Press"
    assert "PR-03" in w.statusBar().currentMessage()


def test_click_in_view_selects_in_tree_and_ctrl_click_adds(make_window, qtbot):
    w = make_window()
    w.view.camera_preset("top")
    w.view.render_now()
    widget = w.view.plotter

    def click(mid, modifier=QtCore.Qt.KeyboardModifier.NoModifier):
        x, y = w.view.display_position(mid)
        qtbot.mouseClick(widget, QtCore.Qt.MouseButton.LeftButton, modifier, QtCore.QPoint(int(x), int(widget.height() - 1 - y)))

    click("RC-02")
    assert w.selection.ids == ("RC-02",)
    assert w.tree_dock.selected_ids() == ["RC-02"]
    assert w.properties_dock.widget().value_of("Id") == "RC-02"
    click("QA-01", QtCore.Qt.KeyboardModifier.ControlModifier)
    assert w.selection.ids == ("RC-02", "QA-01")
    assert sorted(w.tree_dock.selected_ids()) == ["QA-01", "RC-02"]
    qtbot.mouseClick(widget, QtCore.Qt.MouseButton.LeftButton, pos=QtCore.QPoint(2, 2))
    assert w.selection.ids == () and w.tree_dock.selected_ids() == []
    assert w.properties_dock.widget().value_of("Id") is None


def test_tree_filter(make_window):
    w = make_window()
    w.tree_dock.filter.setText("press")
    assert sorted(tree_machine_ids(w.tree_dock)) == ["PR-01", "PR-02", "PR-03", "PR-04"]


def test_bad_file_shows_an_error_and_keeps_the_open_factory(make_window, tmp_path, demo_text):
    w = make_window()
    doc = json.loads(demo_text)
    doc["machines"][3]["pose"]["yaw_deg"] = "abc"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    before = w.document
    assert not w.files.open_path(bad)
    assert w.document is before and len(w.view.machines.ids) == len(before.factory.machines)
    box = w.last_error
    assert box is not None and box.isVisible()
    assert box.text() == 'bad.json: machines[3].pose.yaw_deg: expected a number, got "abc"'
    QtWidgets.QApplication.processEvents()  # the log dock is fed through a queued signal
    assert 'machines[3].pose.yaw_deg: expected a number, got "abc"' in w.log_dock.plain_text()
    box.close()


def test_save_as_writes_an_identical_factory_and_updates_recent_files(make_window, tmp_path):
    w = make_window()
    target = tmp_path / "plant.json"
    assert w.files.save_to(target)
    assert load_factory(target) == w.document.factory
    assert w.document.path == target
    assert w.settings.recent_files()[0] == str(target.resolve())
    assert "plant.json" in w.windowTitle()
    # Reopen it through the same path a user takes.
    assert w.files.open_path(target)
    assert w.document.path == target


def test_save_error_is_reported(make_window, tmp_path):
    w = make_window()
    assert not w.files.save_to(tmp_path / "missing-folder" / "x.json")
    assert w.last_error is not None and "x.json" in w.last_error.text()
    w.last_error.close()


def test_every_action_is_in_a_menu_with_unique_shortcuts(make_window):
    w = make_window()
    shortcuts = [QtGui.QKeySequence(s.shortcut).toString() for s in ACTIONS if s.shortcut is not None]
    assert len(shortcuts) == len(set(shortcuts))
    menus = {m.objectName(): m for m in w.findChildren(QtWidgets.QMenu)}
    for spec in ACTIONS:
        act = w.actions_by_id[spec.id]
        owner = menus["menu_" + spec.menu.replace("&", "").lower()]
        assert act in owner.actions(), spec.id
    assert not w.actions_by_id["view.focus"].isEnabled()
    w.selection.select(["CNC-01"])
    assert w.actions_by_id["view.focus"].isEnabled()


def test_camera_shortcut_keys_reach_the_window(make_window, qtbot):
    w = make_window()
    cam = w.view.renderer.GetActiveCamera()
    with qtbot.waitActive(w):
        w.activateWindow()
    w.view.plotter.setFocus()
    qtbot.keyClick(w.view.plotter, QtCore.Qt.Key.Key_T)
    assert abs(cam.GetViewUp()[1] - 1.0) < 1e-6  # top view: north is up
    qtbot.keyClick(w.view.plotter, QtCore.Qt.Key.Key_Q)  # VTK's own "quit" key is disabled
    assert w.isVisible() and not w.view.plotter._closed


def test_theme_toggle_is_remembered(make_window, settings):
    w = make_window()
    w.actions_by_id["view.dark"].trigger()
    assert w.theme == "dark" and settings.theme == "dark"
    assert w.actions_by_id["view.dark"].isChecked()
    assert QtWidgets.QApplication.palette().color(QtGui.QPalette.ColorRole.Window).lightness() < 100
    w.toggle_theme()
    assert settings.theme == "light"


def test_window_screenshot_includes_the_3d_view(make_window, tmp_path):
    w = make_window()
    out = tmp_path / "shot.png"
    assert w.save_screenshot(out)
    img = QtGui.QImage(str(out))
    assert img.width() == w.width() and img.height() == w.height()
    top_left = w.view.mapTo(w, QtCore.QPoint(0, 0))
    ptr = img.convertToFormat(QtGui.QImage.Format.Format_RGB888)
    arr = np.frombuffer(ptr.constBits(), np.uint8).reshape(ptr.height(), ptr.bytesPerLine())[:, : ptr.width() * 3]
    arr = arr.reshape(ptr.height(), ptr.width(), 3)
    region = arr[top_left.y() : top_left.y() + w.view.height(), top_left.x() : top_left.x() + w.view.width()]
    assert region.std() > 20  # the 3D frame, not a black or blank rectangle


def test_recent_files_menu_drops_missing_files(make_window, tmp_path):
    w = make_window()
    ghost = tmp_path / "gone.json"
    w.settings.add_recent_file(ghost)
    w.files.open_recent(str(ghost.resolve()))
    assert str(ghost.resolve()) not in w.settings.recent_files()
    w.last_error.close()


def test_window_layout_is_remembered_and_an_older_one_replaced(make_window, settings, qtbot):
    w = make_window(open_demo=False)
    assert w.palette_dock in w.tabifiedDockWidgets(w.tree_dock)  # the default layout tabs the new docks
    assert w.layout_check_dock in w.tabifiedDockWidgets(w.log_dock)
    w.trends_dock.hide()
    w.close()  # saves the layout
    w2 = make_window(open_demo=False)
    assert not w2.trends_dock.isVisible()  # remembered
    # A layout saved by an older floortwin (without the newer docks) gives way to the default.
    settings.save_window_state(w2.saveGeometry(), w2.saveState(0))
    settings.sync()
    w3 = make_window(open_demo=False)
    assert w3.trends_dock.isVisible() and w3.palette_dock in w3.tabifiedDockWidgets(w3.tree_dock)
