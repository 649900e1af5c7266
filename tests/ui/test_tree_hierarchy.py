"""The factory tree as the ISA-95 hierarchy (issue 18, item 5): group rows, group selection, isolate / show all
in the 3D view, filtering that keeps the hierarchy, live rolled-up figures, a 2,000-machine plant."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from app.live.client import ConnectionSettings
from app.model.io import save_factory
from app.ui.tree_dock import GROUP_ROLE, ID_ROLE
from bench.hierarchy import hierarchical_plant, live_store

pytestmark = pytest.mark.gui
SELECT_ROWS = QtCore.QItemSelectionModel.SelectionFlag.ClearAndSelect | QtCore.QItemSelectionModel.SelectionFlag.Rows


def rows(dock, parent=None) -> list[QtCore.QModelIndex]:
    model = dock.tree.model()
    parent = parent or QtCore.QModelIndex()
    return [model.index(r, 0, parent) for r in range(model.rowCount(parent))]


def paths(dock) -> list[tuple[str, ...]]:
    """Every machine row as the names of the rows above it and its id."""
    out = []

    def walk(parent, above):
        for index in rows(dock, parent):
            if mid := index.data(ID_ROLE):
                out.append((*above, mid))
            else:
                walk(index, (*above, index.data(QtCore.Qt.ItemDataRole.DisplayRole).split("  (")[0]))

    walk(QtCore.QModelIndex(), ())
    return out


def group_row(dock, *names: str) -> QtCore.QModelIndex:
    parent = QtCore.QModelIndex()
    for name in names:
        parent = next(i for i in rows(dock, parent) if i.data(GROUP_ROLE) is not None and i.data().split("  (")[0] == name)
    return parent


def test_the_demo_tree_is_site_areas_lines_and_a_line_row_selects_and_isolates_its_machines(make_window, qtbot):
    w = make_window()
    dock, factory = w.tree_dock, w.document.factory
    (site,) = rows(dock)
    assert site.data() == f"{factory.name}  ({len(factory.machines)})"
    assert [i.data() for i in rows(dock, site)] == ["Fabrication  (16)", "Assembly hall  (10)", "Logistics  (14)"]
    fabrication = rows(dock, site)[0]
    assert [i.data() for i in rows(dock, fabrication)] == ["Machining  (8)", "Pressing  (4)", "Welding  (4)"]
    assert dock.tree.isFirstColumnSpanned(0, fabrication)  # a group's name and figures use the whole row
    machining = [m.id for m in factory.machines if m.line == "Machining"]
    assert [p[-1] for p in paths(dock) if p[1:3] == ("Fabrication", "Machining")] == machining
    assert len(paths(dock)) == len(factory.machines)

    line = group_row(dock, factory.name, "Fabrication", "Machining")
    dock.tree.selectionModel().select(line, SELECT_ROWS)
    assert w.selection.ids == tuple(machining)
    assert w.view.selection == tuple(machining)

    menu = dock.context_menu(line)
    texts = [a.text() for a in menu.actions()]
    assert texts[:3] == ["Isolate line “Machining”", "Select its 8 machines", "Show all machines"]
    assert not menu.actions()[2].isEnabled()
    menu.actions()[0].trigger()
    assert set(w.view.hidden_machines) == {m.id for m in factory.machines} - set(machining)
    assert dock.show_all_button.isVisible() and dock.isolated_label.text() == "3D: only Machining (8)"
    w.view.render_now()
    assert w.view.machine_at(*w.view.display_position("PR-01")) is None  # a hidden machine is not picked
    menu = dock.context_menu(dock.index_of("CNC-03"))  # a machine row offers its own line
    assert menu.actions()[0].text() == "Isolate line “Machining”" and menu.actions()[2].isEnabled()
    qtbot.mouseClick(dock.show_all_button, QtCore.Qt.MouseButton.LeftButton)
    assert w.view.hidden_machines == () and not dock.show_all_button.isVisible()


def test_machines_move_to_another_line_from_the_tree_in_one_undo_step(make_window):
    w = make_window()
    dock, factory = w.tree_dock, w.document.factory
    w.selection.select(["CNC-01", "CNC-02"])
    menu = dock.context_menu(dock.index_of("CNC-02"))
    move = next(a.menu() for a in menu.actions() if a.text() == "Move 2 machines to line")
    assert [a.text() for a in move.actions()] == ["Fabrication", "Assembly hall", "Logistics"]
    hall = move.actions()[1].menu()
    hall.aboutToShow.emit()  # the area's lines are listed when it opens
    assert [a.text() for a in hall.actions()] == ["Assembly", "Quality"]
    hall.actions()[1].trigger()
    moved = w.document.factory
    assert [moved.machine(m).line for m in ("CNC-01", "CNC-02")] == ["Quality", "Quality"]
    assert moved.machine("CNC-01").pose == factory.machine("CNC-01").pose and moved.machine("CNC-01").area == ""
    assert ("Demo plant", "Assembly hall", "Quality", "CNC-01") in paths(dock)
    assert w.layout_editor.stack.undoText() == "Move CNC-01, CNC-02 to Assembly hall › Quality"
    w.layout_editor.stack.undo()
    assert w.document.factory.machine("CNC-01").line == "Machining"
    assert ("Demo plant", "Fabrication", "Machining", "CNC-01") in paths(dock)


def test_filtering_by_a_group_name_shows_the_group_with_all_its_machines_under_its_groups(make_window):
    w = make_window()
    dock, factory = w.tree_dock, w.document.factory
    dock.filter.setText("welding")
    assert paths(dock) == [(factory.name, "Fabrication", "Welding", m.id) for m in factory.machines if m.line == "Welding"]
    dock.filter.setText("assembly hall")
    assert [p[-1] for p in paths(dock)] == [m.id for m in factory.machines if m.line in ("Assembly", "Quality")]
    dock.filter.setText("CNC-04")
    assert paths(dock) == [(factory.name, "Fabrication", "Machining", "CNC-04")]
    w.selection.select(["CNC-04"])
    assert dock.selected_ids() == ["CNC-04"]
    dock.filter.setText("")
    assert len(paths(dock)) == len(factory.machines) and dock.selected_ids() == ["CNC-04"]


def test_live_groups_show_their_rolled_up_figures(qloop, make_window, qtbot, plant_endpoint):
    w = make_window()
    dock, factory = w.tree_dock, w.document.factory
    w.console.connect_live(ConnectionSettings(plant_endpoint))
    qtbot.waitUntil(w.console.live_ready, timeout=15000)
    site = group_row(dock, factory.name)

    def figures_shown() -> bool:
        dock.update_figures()
        return "WIP" in site.data()

    qtbot.waitUntil(figures_shown, timeout=20000)
    store, t = w.live.shown()
    level = np.where(store.fresh("Level", t, w.live.max_age_s), store.column("Level"), 0.0)
    figures = dock.rollup.figures
    assert figures.wip[0] == pytest.approx(np.nansum(level))  # the site's WIP is every machine's level
    line = group_row(dock, factory.name, "Fabrication", "Machining")
    members = [factory.machine_index()[m.id] for m in factory.machines if m.line == "Machining"]
    assert figures.wip[line.data(GROUP_ROLE)] == pytest.approx(np.nansum(level[members]))
    assert line.data().startswith("Machining  (8) — ")
    tip = line.data(QtCore.Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("Line Machining: 8 machines") and "Utilisation (time running): not enough data — needs ≥ 10 min" in tip

    # A replayed moment: the rows roll up the state recorded then (its time shares watched anew).
    t_mark = t
    qtbot.wait(2000)
    w.live.recorder.flush()
    w.timeline.show_time(t_mark)
    qtbot.waitUntil(lambda: w.live.replay_time == t_mark, timeout=5000)
    then, t_then = w.live.shown()
    assert t_then == t_mark and then is not store
    level_then = np.where(then.fresh("Level", t_then, w.live.max_age_s), then.column("Level"), 0.0)
    assert dock.rollup.figures.wip[0] == pytest.approx(np.nansum(level_then)) and dock.rollup.watched_s == 0
    assert group_row(dock, factory.name).data().endswith(f"WIP {np.nansum(level_then):g}")
    w.console.disconnect_live()
    qtbot.waitUntil(lambda: "WIP" not in group_row(dock, factory.name).data(), timeout=10000)


def test_a_2000_machine_plant_in_areas_lines_and_cells(make_window, tmp_path):
    plant = tmp_path / "plant.json"
    save_factory(hierarchical_plant(2000), plant)
    w = make_window(open_demo=False)
    assert w.files.open_path(plant)
    dock, factory = w.tree_dock, w.document.factory
    (enterprise,) = rows(dock)
    assert enterprise.data() == "Generated Corp  (2000)"
    (site,) = rows(dock, enterprise)
    areas = rows(dock, site)
    assert len(areas) == 17 and areas[0].data() == "Area 1  (120)"
    dock.filter.setText("M01999")
    assert paths(dock) == [("Generated Corp", "Generated site", "Area 17", "Line 167", "C1", "M01999")]
    dock.filter.setText("")
    area = group_row(dock, "Generated Corp", "Generated site", "Area 2")
    dock.tree.selectionModel().select(area, SELECT_ROWS)
    expected = [m.id for m in factory.machines if m.area == "A1"]
    assert len(expected) == 120 and w.selection.ids == tuple(expected)
    dock.isolate_group(area.data(GROUP_ROLE))
    assert len(w.view.hidden_machines) == 2000 - 120 and not set(w.view.hidden_machines) & set(expected)
    dock.show_all()
    assert w.view.hidden_machines == ()
    # Live figures: only the rows on screen are told they changed; a row scrolled to later reads them afresh.
    store, rates = live_store(factory, 100.0)
    on_screen = dock._rows_on_screen()
    assert 0 < len(on_screen) < 100
    changed = []
    dock.model.dataChanged.connect(lambda a, b, *_: changed.append(a))
    dock.model.set_figures(dock.rollup.update(store, 100.0, rates), on_screen)
    assert 0 < len(changed) <= len(on_screen)
    last_area = rows(dock, site)[-1]
    assert last_area not in on_screen and last_area.data().startswith("Area 17  (80) — ") and "WIP" in last_area.data()
