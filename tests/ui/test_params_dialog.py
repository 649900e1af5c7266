"""Optimise ▸ Parameters… on the real window: a tiny search on the demo (one variable, 2 replications, a
short horizon), the candidates table and the selection's claim, Apply as one undo step, Save as scenario,
Cancel, bad input, and a result file from the command line reopened with its Pareto scatter."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from app.optimise.params_result import ParamsResult
from app.optimise.params_view import front_points
from app.paths import DEMO_FACTORY
from app.sim.scenario import MachineParam
from app.ui.params_dialog import ParamsDialog

pytestmark = pytest.mark.gui


def _open(w) -> ParamsDialog:
    w.actions_by_id["optimise.params"].trigger()
    dialog = w.findChild(ParamsDialog, "params_optimiser")
    assert dialog is not None and dialog.isVisible()
    return dialog


def _tiny(dialog: ParamsDialog, seconds: float = 60.0, evaluations: int = 3) -> None:
    s = dialog.setup
    s.replications.setValue(2)
    s.horizon.setValue(1.0)
    s.warmup.setValue(0.0)
    s.seconds.setValue(seconds)
    s.evaluations.setValue(evaluations)
    s.selection_cap.setValue(4)


def _row_of(dialog: ParamsDialog, candidate_id: int) -> int:
    t = dialog.table
    return next(r for r in range(t.rowCount()) if t.item(r, 0).data(QtCore.Qt.ItemDataRole.UserRole) == candidate_id)


def test_search_claim_apply_one_undo_and_scenario(make_window, qtbot):
    w = make_window()
    dialog = _open(w)
    row = dialog.setup.variables.add("servers", "CNC-02")
    assert dialog.setup.variables.table.item(row, 2).text() == "now 1 server"  # today's value beside the bounds
    dialog.setup.variables.set_bounds(row, 1, 2)
    _tiny(dialog)
    before = w.document.factory
    with qtbot.waitSignal(dialog.service.finished, timeout=60000):
        dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=10000)
    result = dialog.result
    assert result.variables[0].key == "CNC-02:servers" and result.horizon_s == 3600.0
    assert dialog.table.rowCount() == len(result.candidates) >= 2
    assert result.selection is not None
    claim = dialog.claim.text()
    assert result.selection.text[1:] in claim and ("Recommended" in claim or "Nothing recommended" in claim)
    if result.recommended is not None:
        assert dialog.chosen == result.recommended
        assert dialog.table.item(_row_of(dialog, result.recommended), 0).font().bold()
    assert w.document.factory is before  # a result applies nothing by itself

    two = next(c.id for c in result.candidates if c.values["CNC-02:servers"] == 2.0)
    dialog.table.selectRow(_row_of(dialog, two))
    assert dialog.chosen == two and dialog.apply_button.isEnabled()
    n = len(w.whatif.entries)
    dialog.scenario_button.click()  # Save as scenario: a what-if scenario with the candidate's setting
    assert len(w.whatif.entries) == n + 1
    assert MachineParam(machine="CNC-02", param="servers", value=2.0) in w.whatif.entries[-1].scenario.changes
    assert w.document.factory is before

    steps = w.layout_editor.stack.count()
    dialog.apply_button.click()
    assert w.document.factory.machine("CNC-02").sim.servers == 2
    assert w.layout_editor.stack.count() == steps + 1  # one undo step
    assert "CNC-02 servers = 2" in w.layout_editor.stack.undoText()
    w.actions_by_id["edit.undo"].trigger()
    assert w.document.factory.machine("CNC-02").sim.servers == 1
    assert w.document.factory == before
    dialog.close()


def test_cancel_leaves_the_factory_untouched(make_window, qtbot):
    w = make_window()
    dialog = _open(w)
    dialog.setup.variables.add("input_buffer", "CNC-02")
    _tiny(dialog, seconds=120.0, evaluations=200)
    dialog.setup.horizon.setValue(24.0)
    before = w.document.factory
    dialog.start_button.click()
    assert dialog.cancel_button.isEnabled() and not dialog.start_button.isEnabled()
    qtbot.wait(500)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.service.running, timeout=60000)
    qtbot.wait(50)  # the queued report lands
    assert w.document.factory is before
    assert dialog.start_button.isEnabled() and not dialog.apply_button.isEnabled()
    assert dialog.result is None or dialog.result.stopped_by == "cancelled"
    if dialog.result is not None:
        assert "cancelled" in dialog.claim.text() and dialog.result.recommended is None
    else:
        assert "Cancelled" in dialog.progress.format()
    dialog.close()


def test_a_dialog_destroyed_with_its_window_stops_its_search(make_window, qtbot):
    import shiboken6

    w = make_window()
    dialog = _open(w)
    row = dialog.setup.variables.add("input_buffer", "CNC-02")
    dialog.setup.variables.set_bounds(row, 1, 50)  # enough candidates that the search cannot end in 300 ms
    _tiny(dialog, seconds=300.0, evaluations=500)
    dialog.setup.horizon.setValue(200.0)
    service = dialog.service
    dialog.start_button.click()
    qtbot.wait(300)
    assert service.running
    shiboken6.delete(dialog)  # as the window's destruction deletes it: no Close, no done()
    qtbot.waitUntil(lambda: not service.running, timeout=30000)


def test_bad_input_shows_the_services_message(make_window, qtbot):
    w = make_window()
    dialog = _open(w)
    before = w.document.factory
    dialog.start_button.click()  # no variable
    qtbot.waitUntil(lambda: "no decision variable" in dialog.message.text(), timeout=10000)
    row = dialog.setup.variables.add("input_buffer", "CNC-02")
    dialog.setup.variables.set_bounds(row, 5, 2)  # lower > upper
    qtbot.waitUntil(lambda: not dialog.service.running, timeout=10000)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: "bounds are reversed" in dialog.message.text(), timeout=10000)
    assert dialog.message.text().startswith("Cannot optimise:")
    assert dialog.result is None and not dialog.apply_button.isEnabled()
    assert w.document.factory is before
    fault = "the parameter search failed: a worker said\n" + "\n".join(f"  traceback line {i}" for i in range(30))
    dialog.service.failed.emit(fault)  # a fault's long text stays a few lines, the whole of it in the tooltip
    assert "traceback line 1 " in dialog.message.text() and "traceback line 29" not in dialog.message.text()
    assert dialog.message.toolTip() == fault
    dialog.close()


def _cli_result(tmp_path):
    out = tmp_path / "params.json"
    subprocess.run(
        [sys.executable, "-m", "app.optimise", "params", str(DEMO_FACTORY), "--var", "CNC-02:input_buffer=1..3",
         "--objective", "throughput", "--objective", "lead_time", "--replications", "2", "--horizon", "3600",
         "--warmup", "0", "--evaluations", "3", "--population", "3", "--max-replications", "4", "--workers", "1",
         "--out", str(out), "--quiet"],
        check=True,
        timeout=120,
    )
    return out


def test_a_result_file_from_the_cli_reopens_with_its_pareto_scatter(make_window, qtbot, tmp_path):
    out = _cli_result(tmp_path)
    result = ParamsResult.load(out)
    w = make_window()
    dialog = _open(w)
    assert dialog.open_result(str(out))
    assert dialog.table.rowCount() == len(result.candidates)
    assert dialog.setup.request().variables == tuple(v.variable() for v in result.variables)  # its settings shown
    assert dialog.setup.request().objectives == ("throughput", "lead_time") and dialog.setup.horizon.value() == 1.0
    assert dialog.plot_box.isVisible()  # two objectives: the scatter
    assert len(dialog.scatter.points()) == len(front_points(result)) >= 1
    assert dialog.chosen == result.recommended
    assert result.selection is not None and result.selection.text[1:] in dialog.claim.text()
    base = QtWidgets.QApplication.palette().color(QtGui.QPalette.ColorRole.Base)
    w.toggle_theme()  # the plot follows the theme
    qtbot.waitUntil(lambda: dialog.plot.backgroundBrush().color() != base, timeout=5000)
    w.toggle_theme()
    assert not dialog.open_result(str(tmp_path / "missing.json"))
    assert "Cannot open" in dialog.message.text()
    # a Start refused for bad input leaves the result on view (the table is not emptied for nothing)
    dialog.setup.variables.set_bounds(0, 5, 2)  # lower > upper
    dialog.start_button.click()
    assert "bounds are reversed" in dialog.message.text() and not dialog.service.running
    assert dialog.result is not None and dialog.table.rowCount() == len(result.candidates)
    dialog.close()


def test_a_one_objective_result_after_a_two_objective_one_shows_without_error(make_window, qtbot, tmp_path):
    # The error bars of the first result's scatter must go with it: pyqtgraph kept their half-widths for no
    # points and raised on every repaint (a crash dialog each time).
    out = _cli_result(tmp_path)
    two = ParamsResult.load(out)
    one = two.model_copy(update={"objectives": ["throughput"]})
    single = tmp_path / "one.json"
    one.save(single)
    w = make_window()
    dialog = _open(w)
    assert dialog.open_result(str(out)) and dialog.plot_box.isVisible()
    qtbot.wait(200)  # drawn with its bars
    assert dialog.open_result(str(single))
    assert not dialog.plot_box.isVisible() and dialog.table.rowCount() == len(one.candidates)
    dialog.plot_box.setVisible(True)  # even drawn, the emptied plot has nothing to fail on
    dialog.plot.autoRange()
    qtbot.wait(200)
    dialog.plot.grab()
    # The claim says each thing once (the notes repeat the selection's sentences for the command line).
    lines = dialog.claim.text().replace("<b>", "").replace("</b>", "").split("<br>")
    assert len(lines) == len(set(lines))
    # A result for a machine the open factory no longer has: Save as scenario refuses, as Apply does.
    from app.model.edits import without

    w.document.replace(without(w.document.factory, ["CNC-02"]), w.document.path)
    dialog.choose(next(c.id for c in one.candidates if not c.current))
    n = len(w.whatif.entries)
    dialog.scenario_button.click()
    assert len(w.whatif.entries) == n and dialog.message.text().startswith("Not saved:") and "CNC-02" in dialog.message.text()
    dialog.close()


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_the_dialog_fits_the_screen(make_window, qtbot, size):
    from app.ui.params_dialog import show_params_optimiser

    w = make_window(size=size)
    dialog = show_params_optimiser(w)
    qtbot.waitExposed(dialog)
    room = dialog.screen().availableGeometry()
    assert room.contains(dialog.frameGeometry()) or room.contains(dialog.geometry())
    assert dialog.width() >= dialog.minimumSizeHint().width() and dialog.height() >= dialog.minimumSizeHint().height()
    dialog.close()


def test_the_buffer_budget_reads_one_place_and_two_places(make_window):
    w = make_window()
    dialog = _open(w)
    box = dialog.setup.buffer_budget
    assert box.text() == "no limit"
    box.setValue(1)
    assert box.text() == "1 place"
    box.setValue(2)
    assert box.text() == "2 places"
    dialog.close()
