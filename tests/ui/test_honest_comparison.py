"""The comparison dialog and the What-if dock say how much recorded data the actuals rest on, show the
margin of "fits" beside every verdict and the trust score with its number of windows (or what it needs)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from app.history.recorder import Recorder, Sample
from tests.conftest import comparison_of, run_to_done

pytestmark = pytest.mark.gui


def _record_with_a_restart(path, factory) -> float:
    """20 min recorded, a 10-minute outage in which the plant restarted, 20 min more: every machine
    running, a part a minute at each (counters from 0 after the restart)."""
    t0 = time.time() - 3000
    rec = Recorder(path)
    samples = []
    for start in (t0, t0 + 1800):
        for m in factory.machines:
            node = f"ns=2;s={m.id}"
            samples.append(Sample(m.id, "State", node + "/State", start, start, None, "running", 0))
            for k in range(21):
                t = start + 60 * k
                samples.append(Sample(m.id, "PartCount", node + "/PartCount", t, t, float(k), None, 0))
    rec.record(samples)
    for t, state in ((t0, "connected"), (t0 + 1200, "disconnected"), (t0 + 1800, "connected")):
        rec.record_link(state, t)
    assert rec.flush()
    rec.close()
    return t0


def test_the_dialog_and_dock_say_how_much_data_fits_means_and_trust(make_window, qtbot, tmp_path):
    w = make_window()
    dock = w.whatif_dock
    _record_with_a_restart(w.console.history_path(), w.document.factory)
    dock.window_min.setValue(30)  # the last 30 min: only the stretch after the restart
    # read off the GUI thread (issue 16 F4), shown when read
    qtbot.waitUntil(lambda: dock.actuals_label.text() == "Actuals: 20 min of 30, 1 gap")  # it begins in the outage
    dock.window_min.setValue(60)
    qtbot.waitUntil(lambda: dock.actuals_label.text() == "Actuals: 40 min of 60, 1 gap")
    dock.margin_pct.setValue(15)
    assert dock.service.fit_margin == pytest.approx(0.15)

    entry = dock.service.new_scenario("current", name="As it is")
    dock.service.update_scenario(entry, entry.scenario.model_copy(update={"replications": 3}))
    run_to_done(qtbot, dock.service, entry)
    cmp = comparison_of(qtbot, dock, entry)
    summary = cmp.summary.text()
    assert "Actuals: 40 min of 60, 1 gap of connected history" in summary and "within ±15% of it" in summary
    assert "Trust (15 min windows): line throughput <b>not enough data — needs ≥ 5 windows of 15 min (has 2)</b>" in summary
    verdicts = [cmp.line_table.item(i, 5).text() for i in range(cmp.line_table.rowCount())]
    judged = [v for v in verdicts if "fits" in v or "outside" in v or "not enough data" in v]
    assert judged and all("not enough data — needs ≥ " in v or "outside" in v or "(within ±15%)" in v for v in judged)
    assert not any("trust 0%" in v for v in verdicts)
    assert dock.trust_label.text() == "Baseline of “As it is” — " + cmp.trust.summary()
    cmp.export_csv(tmp_path / "c.csv")
    text = (tmp_path / "c.csv").read_text()
    assert 'Actuals recorded (connected),,min,40,' in text and '"40 min of 60, 1 gap"' in text
    assert "Trust: throughput,,share,," in text and "not enough data — needs ≥ 5 windows of 15 min (has 2)" in text
    cmp.export_html(tmp_path / "c.html")
    assert "40 min of 60, 1 gap" in (tmp_path / "c.html").read_text()
    cmp.close()


def test_calibration_without_enough_data_is_grey_and_makes_no_baseline(qtbot):
    from app.compare.calibrate import Calibration, MachineEstimate
    from app.sim.kpis import Estimate
    from app.ui.comparison_dialog import CalibrationDialog

    few = MachineEstimate("CNC-01", Estimate(42.0, 30.0, 3), None, 3, None, None, 0, "running time ÷ operations")
    none = MachineEstimate("CNC-02", None, None, 0, None, None, 0, "no data")
    dialog = CalibrationDialog(Calibration(0.0, 600.0, 1.0, [few, none], {}))
    qtbot.addWidget(dialog)
    assert not dialog.create_button.isEnabled() and "Not enough data" in dialog.create_button.toolTip()
    assert dialog.table.item(0, 4).text().startswith("3 — not enough data, needs ≥ ")
    assert dialog.table.item(0, 2).foreground().color().getRgb()[:3] == (128, 128, 128)
    enough = MachineEstimate("CNC-01", Estimate(42.0, 2.0, 40), 0.1, 40, None, None, 0, "CycleTime signal")
    ok = CalibrationDialog(Calibration(0.0, 600.0, 1.0, [enough, none], {}))
    qtbot.addWidget(ok)
    assert ok.create_button.isEnabled()


def test_calibration_dialog_greys_every_unused_failure_estimate_and_asks_none_of_a_never_failing_machine(qtbot):
    """Issue 16 F11: 0-failure rows were white, 1-failure rows grey; machines never failed by the model
    asked for 87 failures."""
    from app.compare.calibrate import Calibration, MachineEstimate, exponential_mean
    from app.sim.kpis import Estimate
    from app.ui.comparison_dialog import CalibrationDialog

    cycle = Estimate(42.0, 2.0, 40)
    never = MachineEstimate("WH-IN", cycle, 0.1, 40, None, None, 0, "CycleTime signal", failures_modelled=False)
    one = MachineEstimate(
        "CNC-03", cycle, 0.1, 40, exponential_mean(3 * 3600.0, 1, True), exponential_mean(600.0, 1, False), 1, "CycleTime signal"
    )
    dialog = CalibrationDialog(Calibration(0.0, 180.0, 120.0, [never, one], {}))
    qtbot.addWidget(dialog)
    grey = (128, 128, 128)
    assert dialog.table.item(0, 7).text() == "no failures modelled"
    for row in (0, 1):
        assert dialog.table.item(row, 7).foreground().color().getRgb()[:3] == grey
        assert dialog.table.item(row, 2).foreground().color().getRgb()[:3] != grey  # the usable cycle time
    from PySide6 import QtWidgets

    labels = [w.text() for w in dialog.findChildren(QtWidgets.QLabel)]
    assert any("6 h of plant time (3 min of recorded history at 120×)" in t for t in labels)


def test_a_run_made_with_too_little_recorded_says_why_its_comparison_has_no_actuals(make_window, qtbot):
    """Issue 16 F5: the comparison said "No recorded window" while the dock said 1.5 min recorded; it says
    the run was made with too little, in the dock's words, and that a new run would compare with it."""
    w = make_window()
    dock = w.whatif_dock
    dock.raise_()  # in sight: its Actuals line is kept current
    path, factory = w.console.history_path(), w.document.factory
    t0 = time.time() - 600
    rec = Recorder(path)

    def plant(t_from: float, t_to: float) -> None:  # every machine running, a part every 10 s
        rows = [Sample(m.id, "State", f"ns=2;s={m.id}/State", t_from, t_from, None, "running", 0) for m in factory.machines]
        for m in factory.machines:
            rows += [
                Sample(m.id, "PartCount", f"ns=2;s={m.id}/PartCount", t, t, float(t - t0) // 10, None, 0)
                for t in np.arange(t_from, t_to + 0.5, 10.0)
            ]
        rec.record(rows)
        assert rec.flush()

    rec.record_link("connected", t0)
    plant(t0, t0 + 30)
    qtbot.waitUntil(lambda: dock.actuals_label.text().startswith("Actuals: 0.5 min of 60"))
    assert "not enough data, needs ≥ 1 min connected" in dock.actuals_label.text()
    entry = dock.service.new_scenario("current", name="Too early")
    quick = {"replications": 2, "warmup_s": 600.0, "horizon_s": 3600.0}
    dock.service.update_scenario(entry, entry.scenario.model_copy(update=quick))
    run_to_done(qtbot, dock.service, entry)
    plant(t0 + 40, t0 + 130)  # recorded since the run
    rec.close()
    qtbot.waitUntil(lambda: dock.actuals_label.text() == "Actuals: 2.1 min of 60, no gaps")
    cmp = comparison_of(qtbot, dock, entry)
    summary = cmp.summary.text()
    assert "No recorded window" not in summary
    assert (
        "No actuals: this run was made when only 0.5 min had been recorded (needs ≥ 1 min connected) — run it again to"
        " compare with what has been recorded since: 2.1 min of 60, no gaps." in summary
    ), summary
    cmp.close()
