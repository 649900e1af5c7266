"""What-if in the window: edit a scenario, run it in the background, compare, colour by a delta, export,
cancel, reopen stored results; and against the plant: actuals, calibration, trust and drift."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PySide6 import QtGui, QtWidgets

from app.live.client import ConnectionSettings
from app.sim.scenario import MachineParam
from app.whatif import status_text
from tests.conftest import comparison_of, run_to_done

pytestmark = pytest.mark.gui


def _ticks(qtbot, seconds: float) -> int:
    """How many times a 10 ms timer fired over ``seconds`` (the GUI thread was not blocked)."""
    from PySide6 import QtCore

    ticks = []
    timer = QtCore.QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    qtbot.wait(int(seconds * 1000))
    timer.stop()
    return len(ticks)


def test_scenario_edit_run_compare_export_and_reopen(make_window, qtbot, tmp_path):
    w = make_window()
    dock = w.whatif_dock
    dock.window_min.setValue(0)  # no recorded actuals here: scenario against baseline
    entry = dock.service.new_scenario("current", name="Faster presses")
    assert entry is not None and dock.list.topLevelItemCount() >= 1

    # The editor: a bad value is named and the dialog stays open; a good one is kept.
    from app.ui.scenario_dialog import ScenarioDialog

    dialog = ScenarioDialog(entry.scenario, w)
    qtbot.addWidget(dialog)
    dialog.kind.setCurrentIndex(dialog.kind.findData("machine_param"))
    dialog.target.setCurrentIndex(dialog.target.findData("PR-01"))
    dialog.param.setCurrentIndex(dialog.param.findData("cycle_mean_s"))
    assert dialog.value.value() == 45.0  # starts from the current value
    dialog.value.setValue(-5.0)
    dialog.add_from_form()
    dialog.horizon.setValue(2.0)
    dialog.replications.setValue(4)
    dialog.accept()
    assert dialog.isVisible() or dialog.result() != QtWidgets.QDialog.DialogCode.Accepted
    assert "changes[0].value" in dialog.error.text() and dialog.list.currentRow() == 0
    dialog.changes.clear()
    for mid in ("PR-01", "PR-02"):
        dialog.target.setCurrentIndex(dialog.target.findData(mid))
        dialog.value.setValue(20.0)
        dialog.add_from_form()
    dialog.accept()
    assert dialog.result() == QtWidgets.QDialog.DialogCode.Accepted
    dock.service.update_scenario(entry, dialog.result_scenario())
    assert entry.scenario.changes == [MachineParam(machine=m, param="cycle_mean_s", value=20.0) for m in ("PR-01", "PR-02")]

    # Run in the background: progress, and the GUI stays responsive.
    job = dock.service.run(entry)
    assert job is not None
    qtbot.waitUntil(lambda: job.first_progress is not None, timeout=10000)  # a worker is at it
    ticks = _ticks(qtbot, 0.5)
    qtbot.waitUntil(lambda: job.done, timeout=60000)
    assert job.status == "done", job.message
    # The replications ran in worker processes, and the GUI thread kept serving its timers meanwhile (how
    # fast is bench/whatif.py's question, never a unit test's).
    assert job.worker_pids and os.getpid() not in job.worker_pids
    assert ticks >= 1
    qtbot.waitUntil(lambda: "done" in dock.list.currentItem().text(2), timeout=5000)

    # Compare: tables, bottleneck, verdicts; colour the 3D view by the delta.
    cmp = comparison_of(qtbot, dock, entry)
    assert cmp.line_table.rowCount() >= 4 and cmp.machine_table.rowCount() >= 40
    base = QtWidgets.QApplication.palette().color(QtGui.QPalette.ColorRole.Base)
    assert cmp.plot.backgroundBrush().color() == base  # the chart in the theme's colours, not a fixed white
    util_pr01 = cmp.comparison.row("utilisation", "PR-01")
    assert util_pr01.delta.mean < 0  # a faster press is less busy
    cmp.show3d.setChecked(True)
    assert w.view.colour_bar_title == "Δ utilisation (%)" and w.live.delta is not None
    i = w.view.machines.index["PR-01"]
    r, _g, b = w.view.machines.colours[i][:3]
    assert b > r  # less: the blue side of the diverging map
    cmp.show3d.setChecked(False)
    assert w.live.delta is None and w.view.colour_bar_title is None
    # Not live: back to what the view drew before — kind colours under the kinds' legend, not the delta's
    # colours under a "Machine state" legend (the trial's finding).
    kinds = w.view.kind_colours(w.document.factory, w.asset_of)
    assert (np.asarray(w.view.machines.colours)[:, :3] == kinds[:, :3]).all()
    assert w.view.legend_title == "Machine kind"
    # The scenario's mean WIP per machine on the floor: the same WIP layer, its own legend.
    cmp.show_wip.setChecked(True)
    sim = w.heat_maps.material.simulated
    assert sim is not None and "simulated" in w.view.colour_bar("floor")
    assert w.heat_maps.material.parts.sum() == pytest.approx(np.nansum(sim[1])) and np.nansum(sim[1]) > 0
    cmp.show_wip.setChecked(False)
    assert w.heat_maps.material.simulated is None
    cmp.export_csv(tmp_path / "c.csv")
    cmp.export_html(tmp_path / "c.html")
    text = (tmp_path / "c.csv").read_text()
    assert text.startswith("kpi,machine,unit,actual,baseline") and "PR-01" in text
    html = (tmp_path / "c.html").read_text()
    assert "<svg" in html and "Faster presses" in html and "http" not in html.split("<svg", 1)[0].replace("http://www.w3.org", "")
    cmp.close()

    # Stored results are listed and compared again after a restart (a new dock reading the folder).
    dock.service.entries.clear()
    dock.service.load_for(w.document.factory)
    again = next(e for e in dock.service.entries if e.path == entry.path)
    assert again.job is None and "results stored" in status_text(again)
    reopened = comparison_of(qtbot, dock, again)
    assert reopened.comparison.row("utilisation", "PR-01").delta.mean == pytest.approx(util_pr01.delta.mean)
    reopened.close()
    dock.select(again)
    dock.delete_selected(confirm=False)
    assert not entry.path.exists() and not entry.results.exists()


def test_a_bad_scenario_is_refused_and_a_run_can_be_cancelled(make_window, qtbot):
    w = make_window()
    dock = w.whatif_dock
    dock.window_min.setValue(0)
    bad = dock.service.new_scenario("current", name="bad")
    dock.service.update_scenario(
        bad, bad.scenario.model_copy(update={"changes": [MachineParam(machine="CNC-01", param="servers", value=0)]})
    )
    assert dock.service.run(bad) is None
    assert w.last_error is not None and "changes[0].value" in w.last_error.text()
    w.last_error.close()
    long = dock.service.new_scenario("current", name="long")
    dock.service.update_scenario(long, long.scenario.model_copy(update={"horizon_s": 400 * 86400.0, "replications": 2}))
    job = dock.service.run(long)
    qtbot.waitUntil(lambda: bool(job.worker_pids), timeout=15000)
    dock.select(long)
    assert dock.cancel_button.isEnabled()
    dock.cancel_selected()
    qtbot.waitUntil(lambda: job.done, timeout=10000)
    assert job.status == "cancelled"
    # the job's thread reports to the dock through a queued signal: the row follows once it is delivered
    qtbot.waitUntil(lambda: "cancelled" in dock.list.currentItem().text(2), timeout=5000)


def test_actuals_calibration_trust_and_drift_against_the_plant(qloop, make_window, qtbot, plant_endpoint):
    w = make_window()
    dock = w.whatif_dock
    dock.service.min_window_s = 5.0
    dock.window_min.setValue(1)
    w.console.connect_live(ConnectionSettings(plant_endpoint))
    qtbot.waitUntil(w.console.live_ready, timeout=15000)
    qtbot.wait(7000)  # a few seconds of history (the plant runs at 20×)
    w.live.recorder.flush()
    window = dock.service.actuals_window()
    assert window is not None and window[1] - window[0] >= 5.0

    from app.ui.comparison_dialog import CalibrationDialog

    # Calibrate… estimates on the service's worker; the dialog opens on the GUI thread when they are ready.
    dock.calibrate_button.click()
    qtbot.waitUntil(lambda: any(isinstance(d, CalibrationDialog) for d in dock.dialogs), timeout=20000)
    view = next(d for d in dock.dialogs if isinstance(d, CalibrationDialog))
    assert view.table.rowCount() == len(w.document.factory.machines)
    assert {view.table.item(i, 0).text() for i in range(view.table.rowCount())} == {m.id for m in w.document.factory.machines}
    before = list(dock.service.entries)
    if view.create_button.isEnabled():
        view.create_button.click()  # "Create calibrated baseline": a new scenario, listed and selected
    else:  # a few plant minutes: no estimate rests on enough data, and the button says so
        assert "Not enough data" in view.create_button.toolTip() and "not enough data" in view.table.item(0, 4).text()
        view.accept()  # what the button does, so the rest of the test runs a baseline against the actuals
    assert view not in dock.dialogs
    entry = next(e for e in dock.service.entries if e not in before)
    assert entry.scenario.name.startswith("Calibrated baseline") and dock.selected() is entry
    dock.service.update_scenario(entry, entry.scenario.model_copy(update={"replications": 4}))
    run_to_done(qtbot, dock.service, entry)
    cmp = comparison_of(qtbot, dock, entry)
    thr = cmp.comparison.row("throughput_per_h")
    assert np.isfinite(thr.actual) and thr.fit in ("fits", "outside", "not enough data")  # on the runs' footing
    # A few seconds: it says what would be enough — a longer window, or (when the plant ran slowly on a loaded
    # machine and the replications made no part in so little plant time) a window in which they make parts.
    assert thr.fit != "not enough data" or thr.needs.startswith("≥ ") or "make parts" in thr.needs
    assert dock.service.drift_model is not None
    dock.service.check_drift()
    qtbot.waitUntil(lambda: dock.drift_label.text() != "", timeout=20000)
    said = dock.drift_label.text()
    assert "behaves as the model" not in said  # nothing found is said as what was tested, never as a fit (trial 10)
    assert said.startswith(("Drift from the model: ", "Utilisation and output over the last ", "No utilisation")), said
    cmp.close()
