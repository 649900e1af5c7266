"""The Material flow dock on the real window: the demo's matrix and transport effort, live while a machine is
dragged, after a move through the layout editor's commands, the ribbons in the 3D frame, a factory without
flows."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from app.model.factory import Pose
from app.model.io import save_factory
from app.optimise.flow import EffortModel
from app.optimise.flow_view import EMPTY_TEXT, RIBBON_TITLE, delta_text, drag_text, effort_text, matrix_text
from app.ui.flow_dock import FlowDock

pytestmark = pytest.mark.gui
NONE = QtCore.Qt.KeyboardModifier.NoModifier
ALT = QtCore.Qt.KeyboardModifier.AltModifier


def _dock(w, qtbot) -> FlowDock:
    """The window's Material flow dock, once it shows the open factory's analysis."""
    dock = w.findChild(FlowDock)
    assert dock is not None and dock.objectName() == "dock_flow"
    qtbot.waitUntil(lambda: dock.state is not None and dock.state.factory is w.document.factory, timeout=10000)
    return dock


def test_the_demo_shows_its_matrix_flows_chart_and_total_and_the_ribbons_in_3d(make_window, qtbot):
    w = make_window()
    assert any(a.text() == "Material flow" for a in w.panels_menu.actions())  # View ▸ Panels
    dock = _dock(w, qtbot)
    f = w.document.factory
    analysis = EffortModel(f).analysis()
    assert dock.total.text() == f"Transport effort: {effort_text(analysis.total_effort)}" == "Transport effort: 8798 part·m/h"
    assert dock.delta.text() == "same as saved"
    assert dock.pages.currentWidget() is dock.tabs

    # the from-to matrix: machine names on both axes, parts/h, zeros blank
    m, names = dock.matrix, [x.name for x in f.machines]
    assert m.rowCount() == m.columnCount() == len(f.machines) == 40
    assert [m.headerData(k, QtCore.Qt.Orientation.Horizontal) for k in range(40)] == names
    i, j = analysis.machine_ids.index("WH-IN"), analysis.machine_ids.index("PR-01")
    assert m.data(m.index(i, j)) == matrix_text(analysis.from_to[i, j]) != ""
    assert m.data(m.index(j, i)) == "" and analysis.from_to[j, i] == 0

    # the list: one row per leg, largest effort first, shares adding up to 100%
    legs = dock.legs
    assert legs.rowCount() == len(analysis.legs) == 49
    efforts = [r.effort for r in legs.rows]
    assert efforts == sorted(efforts, reverse=True)
    assert sum(float(legs.data(legs.index(k, 2))) for k in range(legs.rowCount())) == pytest.approx(100.0, abs=0.1)
    # columns are shown whole or not at all (a number cut at the edge reads as another): flow and effort always
    dock.raise_()
    header = dock.leg_view.horizontalHeader()
    qtbot.waitUntil(lambda: dock.leg_view.isVisible() and not header.isSectionHidden(1), timeout=5000)
    shown = [c for c in range(legs.columnCount()) if not header.isSectionHidden(c)]
    assert shown[:2] == [0, 1] and shown == list(range(len(shown)))
    assert sum(header.sectionSize(c) for c in shown) <= dock.leg_view.viewport().width()

    # the chart: one point per leg (distance, parts/h); a click names the leg and selects it in the list
    x, y = dock.scatter.getData()
    assert len(x) == 49 and sorted(zip(x, y, strict=True)) == sorted((leg.distance_m, leg.parts_per_h) for leg in analysis.legs)
    point = next(p for p in dock.scatter.points() if p.data() == 3)
    row = dock.state.summary.rows[3]
    assert dock.scatter.opts["tip"](x=point.pos().x(), y=point.pos().y(), data=point.data()) == row.tip  # hover
    dock.scatter.sigClicked.emit(dock.scatter, [point], None)  # a click
    assert dock.caption.text() == row.tip and "parts/h over" in row.tip
    assert dock.legs.rows[dock.leg_view.currentIndex().row()] is row

    # ribbons: drawn in the 3D frame with their legend, and gone again
    w.view.camera_preset("top")
    w.view.render_now()
    before = w.view.frame().copy()
    dock.ribbons.setChecked(True)
    assert w.view.ribbons.visible and w.view.ribbons.count > 0
    assert w.view.colour_bar("ribbons") == RIBBON_TITLE
    w.view.render_now()
    drawn = w.view.frame().copy()
    assert np.mean(np.any(drawn != before, axis=2)) > 0.002  # the ribbons changed part of the picture
    dock.ribbons.setChecked(False)
    assert not w.view.ribbons.visible and w.view.colour_bar("ribbons") is None
    w.view.render_now()
    assert np.array_equal(w.view.frame(), before)


def test_a_drag_updates_the_total_live_and_a_move_shows_the_change_against_the_saved_layout(make_window, qtbot, tmp_path):
    w = make_window()
    dock = _dock(w, qtbot)
    saved = EffortModel(w.document.factory).total_effort
    editor = w.layout_editor
    w.actions_by_id["edit.layout_mode"].trigger()
    qtbot.waitUntil(lambda: editor.service.state == "ready", timeout=30000)
    shown: list[dict[str, Pose]] = []
    editor.dragging.connect(shown.append)

    # a drag in progress (the drag API, as the mouse drives it): the total follows the machine
    wh = w.document.factory.machine("WH-IN")
    w.view.drag_started.emit("WH-IN", wh.pose.x_m, wh.pose.y_m)
    w.view.drag_moved.emit(40.0, 30.0, NONE)
    assert shown and shown[-1]["WH-IN"] != wh.pose
    p = shown[-1]["WH-IN"]
    dragged = EffortModel(w.document.factory).with_moves({"WH-IN": (p.x_m, p.y_m)}).total_effort
    assert dock.total.text() == drag_text([wh.name], dragged)
    assert dock.delta.text() == delta_text(dragged, saved) and "% vs saved" in dock.delta.text()
    assert w.document.factory.machine("WH-IN").pose == wh.pose  # nothing changed yet
    w.view.drag_moved.emit(wh.pose.x_m + 1.0, wh.pose.y_m, NONE)  # another step: followed again
    p = shown[-1]["WH-IN"]
    again = EffortModel(w.document.factory).with_moves({"WH-IN": (p.x_m, p.y_m)}).total_effort
    assert again != pytest.approx(dragged) and dock.total.text() == drag_text([wh.name], again)
    w.view.drag_moved.emit(wh.pose.x_m, wh.pose.y_m, ALT)  # back exactly where it stands (Alt: no grid snap)
    assert dock.total.text() == drag_text([wh.name], saved)
    w.view.drag_finished.emit(wh.pose.x_m, wh.pose.y_m, NONE)  # dropped where it was: no change
    assert shown[-1] == {} and dock.total.text() == f"Transport effort: {effort_text(saved)}"
    assert editor.stack.count() == 0

    # a move through the editor's commands (one undo step): the whole dock follows the new version
    pr = w.document.factory.machine("PR-01")
    assert editor.place("PR-01", pr.pose.model_copy(update={"x_m": pr.pose.x_m + 4.0}), override=True)
    dock = _dock(w, qtbot)
    now = EffortModel(w.document.factory).total_effort
    assert now != pytest.approx(saved)
    assert dock.total.text() == f"Transport effort: {effort_text(now)}"
    assert dock.delta.text() == delta_text(now, saved) and dock.delta.text().endswith("vs saved (8798 part·m/h)")
    assert dock.state.summary.saved_total == pytest.approx(saved)
    editor.stack.undo()
    dock = _dock(w, qtbot)
    assert dock.delta.text() == "same as saved"
    # saved with the move: that layout is the baseline now
    editor.stack.redo()
    w.document.save(tmp_path / "moved.json")
    qtbot.waitUntil(lambda: dock.delta.text() == "same as saved", timeout=10000)
    editor.stack.undo()
    dock = _dock(w, qtbot)
    assert dock.delta.text() == delta_text(saved, now) and dock.delta.text().endswith(f"vs saved ({effort_text(now)})")


def test_a_factory_without_flows_says_there_is_nothing_to_analyse(make_window, qtbot, tmp_path, demo_path):
    from app.model.io import load_factory

    path = tmp_path / "no-flows.json"
    save_factory(load_factory(demo_path).model_copy(update={"flows": []}), path)
    w = make_window(open_demo=False)
    assert w.files.open_path(path)
    dock = _dock(w, qtbot)
    assert dock.pages.currentWidget() is dock.message and dock.message.text() == EMPTY_TEXT
    assert dock.total.text() == "Transport effort: none" and dock.delta.text() == ""
    dock.ribbons.setChecked(True)
    assert not w.view.ribbons.visible and w.view.colour_bar("ribbons") is None


def test_a_drag_standing_on_another_machine_says_so_under_its_effort(make_window, qtbot):
    """The dock's figure is what the layout would give, so it says when the spot cannot take the machine."""
    w = make_window()
    dock = _dock(w, qtbot)
    w.actions_by_id["edit.layout_mode"].trigger()
    qtbot.waitUntil(lambda: w.layout_editor.service.state == "ready", timeout=30000)
    moved, other = w.document.factory.machine("CNC-02"), w.document.factory.machine("CNC-03")
    w.view.drag_started.emit("CNC-02", moved.pose.x_m, moved.pose.y_m)
    w.view.drag_moved.emit(other.pose.x_m, other.pose.y_m, ALT)  # right on top of CNC-03
    lines = dock.delta.text().split("\n")
    assert len(lines) == 2 and "% vs saved" in lines[0], lines
    assert lines[1].startswith("Not here: CNC-02 collides with ") and "Shift places it anyway" in lines[1]
    w.view.drag_moved.emit(moved.pose.x_m, moved.pose.y_m, ALT)  # back where it stands: nothing to say
    assert "\n" not in dock.delta.text() and dock.delta.text() == "same as saved"
    w.view.drag_moved.emit(other.pose.x_m, other.pose.y_m, ALT)
    w.view.drag_finished.emit(other.pose.x_m, other.pose.y_m, NONE)  # refused, as the dock said
    assert w.document.factory.machine("CNC-02").pose == moved.pose
    assert "\n" not in dock.delta.text()


def test_a_long_machine_name_while_dragging_wraps_instead_of_widening_the_dock(make_window, qtbot):
    w = make_window(size=(1366, 768))
    dock = _dock(w, qtbot)
    dock.raise_()
    w.actions_by_id["edit.layout_mode"].trigger()
    qtbot.waitUntil(lambda: w.layout_editor.service.state == "ready", timeout=30000)
    qa = w.document.factory.machine("QA-01")  # "Inspection (CMM) 1"
    w.view.drag_started.emit("QA-01", qa.pose.x_m, qa.pose.y_m)
    w.view.drag_moved.emit(qa.pose.x_m - 3.0, qa.pose.y_m, ALT)
    assert dock.total.text().startswith(f"Moving {qa.name}: ")
    QtCore.QCoreApplication.processEvents()
    scroll = dock.widget()
    assert scroll.horizontalScrollBar().maximum() == 0  # nothing cut at the dock's edge, no sideways scrolling
    w.view.drag_finished.emit(qa.pose.x_m, qa.pose.y_m, NONE)


def test_a_2000_machine_plant_is_shown_without_reading_every_cell_of_its_matrix(make_window, qtbot, tmp_path, monkeypatch):
    # Fitting the from-to matrix's columns read every one of its 4 million cells on the GUI thread (two minutes
    # of a frozen window on opening a 2,000-machine plant): only what a view of the dock needs is read.
    from app.ui.flow_tables import MatrixTable
    from bench.genfactory import generate

    reads = [0]
    real = MatrixTable.data

    def counted(self, index, role=QtCore.Qt.ItemDataRole.DisplayRole):
        reads[0] += 1
        return real(self, index, role)

    monkeypatch.setattr(MatrixTable, "data", counted)
    plant = tmp_path / "plant.json"
    save_factory(generate(2000), plant)
    w = make_window(open_demo=False)
    assert w.files.open_path(plant)
    dock = _dock(w, qtbot)
    assert dock.matrix.rowCount() == 2000
    dock.raise_()
    QtCore.QCoreApplication.processEvents()
    assert reads[0] < 100_000  # the cells on view and a sample, not 2000 × 2000
