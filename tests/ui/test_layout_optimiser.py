"""Optimise ▸ Layout… on the real window: a short search, the Pareto scatter, the 3D ghost preview, Apply as
one undo step, Cancel, bad input, and a result file from the command line reopened."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PySide6 import QtGui, QtWidgets

from app.model.io import load_factory, save_factory
from app.optimise.layout_result import LayoutResult
from app.paths import DEMO_FACTORY
from app.ui.layout_optimiser_dialog import LayoutOptimiserDialog

pytestmark = pytest.mark.gui
MOVE = ("QA-01", "WH-OUT")


def _open(w, qtbot) -> LayoutOptimiserDialog:
    w.actions_by_id["optimise.layout"].trigger()
    dialog = w.findChild(LayoutOptimiserDialog, "layout_optimiser")
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_search_preview_apply_and_one_undo(make_window, qtbot):
    w = make_window()
    w.selection.select(list(MOVE))
    dialog = _open(w, qtbot)
    assert dialog.only_selected.isChecked()
    dialog.seconds.setValue(2.0)
    dialog.validate.setValue(0)
    before = {m.id: m.pose for m in w.document.factory.machines}
    with qtbot.waitSignal(dialog.service.finished, timeout=60000):
        dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=10000)
    result = dialog.result
    assert set(result.movable) == set(MOVE)
    points = dialog.scatter.points()
    assert len(points) >= 1
    # click the point of a candidate that moves something (the recommended one, or the first on the front)
    target = next(p for p in points if result.candidate(int(p.data())).poses)
    dialog.scatter.sigClicked.emit(dialog.scatter, [target], None)
    chosen = int(target.data())
    assert dialog.chosen == chosen
    assert w.view.preview.visible and set(w.view.preview.ids) == set(result.changes(chosen))
    ghost = w.view.preview.ghost
    assert ghost.GetVisibility() and ghost.GetMapper().GetInput().GetNumberOfPoints() > 0
    assert w.view.renderer.GetActors().IsItemPresent(ghost)
    plain = w.view.frame().copy()
    dialog.none_button.click()  # "Preview none" removes the ghosts: the 3D frame changes back
    assert not w.view.preview.visible
    assert (w.view.frame() != plain).any()
    dialog.scatter.sigClicked.emit(dialog.scatter, [target], None)
    assert w.view.preview.visible
    assert "Transport effort" in dialog.details.toPlainText() and "not validated" in dialog.details.toPlainText()
    assert w.document.factory.machine(MOVE[0]).pose == before[MOVE[0]]  # a preview changes nothing

    n = len(w.whatif.entries)
    dialog.scenario_button.click()  # Save as scenario: a what-if scenario with one move per moved machine
    assert len(w.whatif.entries) == n + 1
    scenario = w.whatif.entries[-1].scenario
    assert {(c.machine, c.x_m, c.y_m) for c in scenario.changes} == {
        (mid, p.x_m, p.y_m) for mid, p in result.changes(chosen).items()
    }
    assert w.document.factory.machine(MOVE[0]).pose == before[MOVE[0]]

    dialog.apply_button.click()
    after = {m.id: m.pose for m in w.document.factory.machines}
    for mid, pose in result.changes(chosen).items():
        assert after[mid] == pose
    assert not w.view.preview.visible
    w.layout_editor.stack.undo()
    assert {m.id: m.pose for m in w.document.factory.machines} == before

    dialog.scatter.sigClicked.emit(dialog.scatter, [target], None)
    assert w.view.preview.visible
    assert w.files.open_demo()  # another factory (here: the file again) drops the preview of the old one
    assert not w.view.preview.visible
    dialog.scatter.sigClicked.emit(dialog.scatter, [target], None)
    dialog.close()
    assert not w.view.preview.visible  # closing the dialog removes the preview


def test_cancel_leaves_the_layout_untouched(make_window, qtbot):
    w = make_window()
    dialog = _open(w, qtbot)
    assert dialog.all_machines.isChecked()  # nothing selected: all may move
    base = QtWidgets.QApplication.palette().color(QtGui.QPalette.ColorRole.Base)
    w.toggle_theme()  # the plot follows the theme
    qtbot.waitUntil(lambda: QtWidgets.QApplication.palette().color(QtGui.QPalette.ColorRole.Base) != base, timeout=5000)
    new_base = QtWidgets.QApplication.palette().color(QtGui.QPalette.ColorRole.Base)
    qtbot.waitUntil(lambda: dialog.plot.backgroundBrush().color() == new_base, timeout=5000)
    w.toggle_theme()
    dialog.seconds.setValue(60.0)
    dialog.validate.setValue(0)
    before = w.document.factory
    dialog.start_button.click()
    assert dialog.cancel_button.isEnabled()
    qtbot.wait(300)
    with qtbot.waitSignal(dialog.service.finished, timeout=30000):
        dialog.cancel_button.click()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=10000)
    assert dialog.result.stopped_by == "cancelled"
    assert w.document.factory is before
    assert dialog.start_button.isEnabled()
    dialog.close()


def test_a_factory_without_flows_shows_the_message(make_window, qtbot, tmp_path):
    f = load_factory(DEMO_FACTORY)
    path = tmp_path / "noflows.json"
    save_factory(f.model_copy(update={"flows": []}), path)
    w = make_window(open_demo=False)
    assert w.files.open_path(path)
    dialog = _open(w, qtbot)
    dialog.seconds.setValue(1.0)
    assert dialog.open_result(str(_cli_result(tmp_path)))  # an old front is shown…
    assert len(dialog.scatter.points())
    dialog.start_button.click()
    qtbot.waitUntil(lambda: "no part flows" in dialog.message.text(), timeout=30000)
    assert len(dialog.scatter.points()) == 0 and not dialog.details.toPlainText()  # …and goes with the new search
    assert dialog.result is None and not dialog.apply_button.isEnabled()
    dialog.close()


def _cli_result(tmp_path):
    out = tmp_path / "result.json"
    if not out.exists():
        subprocess.run(
            [sys.executable, "-m", "app.optimise", "layout", str(DEMO_FACTORY), "--move", ",".join(MOVE),
             "--seconds", "1", "--seed", "3", "--out", str(out), "--quiet"],
            check=True,
            timeout=120,
        )
    return out


def test_a_result_file_from_the_cli_reopens(make_window, qtbot, tmp_path):
    out = _cli_result(tmp_path)
    w = make_window()
    dialog = _open(w, qtbot)
    assert dialog.open_result(str(out))
    result = LayoutResult.load(out)
    assert len(dialog.scatter.points()) == len([c for c in result.candidates if c.feasible and c.pareto]) or len(
        dialog.scatter.points()
    ) == len([c for c in result.candidates if c.feasible])
    if result.recommended is not None:
        assert dialog.chosen == result.recommended
    assert not dialog.open_result(str(tmp_path / "missing.json"))
    assert "Cannot open" in dialog.message.text()
    dialog.close()


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_the_dialog_opens_beside_the_floor_so_the_preview_stays_in_sight(make_window, qtbot, size):
    # At 1366×768 it opened over the middle of the window and covered most of the 3D view (a new-user trial).
    from PySide6 import QtCore

    from app.ui.layout_optimiser_dialog import show_layout_optimiser

    w = make_window(size=size)
    dialog = show_layout_optimiser(w)
    qtbot.waitExposed(dialog)
    render = w.view.render_widget
    floor = QtCore.QRect(render.mapToGlobal(QtCore.QPoint(0, 0)), render.size())
    covered = floor.intersected(dialog.frameGeometry())
    if size[0] >= 1920:
        assert covered.isEmpty(), covered  # room enough beside the floor
    else:
        assert covered.width() <= 0.12 * floor.width(), (covered, floor)  # at most the far edge
    assert dialog.frameGeometry().right() <= w.frameGeometry().right() + 1  # at the window's right edge
    assert dialog.height() >= 0.9 * w.height()  # the window's height: the plot has room
    # The floor is fitted into what the dialog leaves in sight: every corner left of the dialog.
    w.view.render_now()
    ren, f = w.view.renderer, w.document.factory.floor
    edge = dialog.frameGeometry().left() - floor.left()
    for x, y in ((0, 0), (f.width_m, 0), (0, f.depth_m), (f.width_m, f.depth_m)):
        ren.SetWorldPoint(x, y, 0.0, 1.0)
        ren.WorldToDisplay()
        assert 0 <= ren.GetDisplayPoint()[0] < edge, (x, y, ren.GetDisplayPoint(), edge)
    dialog.close()
    w.view.render_now()  # closed: the whole area is the floor's again
    ren.SetWorldPoint(f.width_m, f.depth_m, 0.0, 1.0)
    ren.WorldToDisplay()
    assert w.view.covered_right == 0.0


def test_distances_follow_the_transport_paths_by_default_and_progress_wraps_under_the_bar(make_window, qtbot):
    # The demo's transport paths keep their waypoints: measured the shortest way, the search found layouts the
    # simulation called slower. The window measures as the simulation carries parts unless told otherwise.
    w = make_window()
    dialog = _open(w, qtbot)
    assert dialog.follow.isChecked() and dialog.request().follow_transports
    dialog.follow.setChecked(False)
    assert not dialog.request().follow_transports
    dialog.follow.setChecked(True)
    report = {"fraction": 0.4, "phase": "improve", "best_effort": 5295.0, "feasible": 54, "evaluations": 69651}
    dialog._on_progress(type("P", (), report)())
    assert dialog.progress_label.text().endswith("54 feasible layouts, 69,651 tried")
    assert dialog.progress_label.wordWrap() and not dialog.progress.isTextVisible()
    dialog.close()
