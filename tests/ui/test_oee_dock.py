"""The OEE dashboard on the real window: bars for the demo's machines after a what-if run, a click on a bar
selects its machine, the plant's reason code gives down time its reason, and an operator's reason for a down
machine is recorded and then used. (Down time without any reason is "unassigned": tests/oee.)"""

from __future__ import annotations

import pytest
from PySide6 import QtCore

from app.oee.losses import UNASSIGNED
from app.oee.reasons import read_reasons
from tests.conftest import DEMO

pytestmark = pytest.mark.gui


def test_bars_for_the_demos_machines_after_a_run_and_a_click_selects_the_machine(make_window, qtbot):
    w = make_window()
    w.whatif_dock.window_min.setValue(0)  # nothing recorded here: the run is against the baseline only
    entry = w.whatif.new_scenario("current", name="OEE")
    assert entry is not None
    short = {"horizon_s": 4 * 3600.0, "warmup_s": 1800.0, "replications": 2}
    w.whatif.update_scenario(entry, entry.scenario.model_copy(update=short))
    dock = w.oee.dock
    dock.show()
    dock.raise_()
    job = w.whatif.run(entry)
    assert job is not None
    qtbot.waitUntil(lambda: job.done, timeout=90_000)
    assert job.status == "done", job.message
    # nothing was shown before: the finished run is what the dashboard shows
    qtbot.waitUntil(lambda: dock.report is not None and dock.report.source == "simulation", timeout=20_000)
    assert dock.source_key == "simulation"
    ids = [m.id for m in w.document.factory.machines]
    assert sorted(r.machine for r in dock.rows) == sorted(ids)
    assert len(dock.bars.opts["width"]) == len(ids)
    oee = [r.value for r in dock.rows]
    assert oee == sorted(oee, reverse=True) and 0 < oee[0] <= 110  # best first, in per cent
    assert "OEE" in dock.summary.text() and "availability" in dock.summary.text()
    assert "2 replications" in dock.status.text()

    # A click on a bar selects its machine (the selection the tree and the 3D view use)
    target = dock.rows[2].machine
    qtbot.mouseClick(dock.bars_plot.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=dock.bar_centre(target))
    qtbot.waitUntil(lambda: w.selection.ids == (target,), timeout=3000)
    brushes = dock.bars.opts["brushes"]
    assert brushes[2].color().getRgb()[:3] != brushes[0].color().getRgb()[:3]  # the selected bar stands out

    # A line's scope: only its machines, and its own waterfall
    line = dock.scope.findText("Line Machining", QtCore.Qt.MatchFlag.MatchContains)
    dock.scope.setCurrentIndex(line)
    assert {r.machine for r in dock.rows} == {f"CNC-0{k}" for k in range(1, 9)}
    assert dock.summary.text().startswith("Line Machining")


def test_an_operators_reason_for_a_down_machine_is_recorded_and_used(qloop, make_window, qtbot):
    w = make_window()
    w.console.start_embedded_plant(DEMO, ("--speed", "20", "--interval", "0.25", "--breakdown", "CNC-03@20+100000"))
    qtbot.waitUntil(w.console.live_ready, timeout=20_000)
    qtbot.waitUntil(lambda: w.live.store.state("CNC-03") == "down", timeout=20_000)
    w.whatif.min_window_s = 5.0  # a test cannot record the minute the dashboard asks for by default
    dock = w.oee.dock
    dock.show()
    dock.raise_()
    dock.set_source("history")
    assert not dock.record.isEnabled()  # nothing selected: no down machine to give a reason for
    w.selection.select(["CNC-03"])
    qtbot.waitUntil(dock.record.isEnabled, timeout=3000)
    assert dock.reason_label.text() == "CNC-03 down:"

    def downtime(reason: str) -> float:
        r = dock.report
        if r is None or r.source != "history" or reason not in r.machines.downtime_s:
            return 0.0
        return float(r.machines.downtime_s[reason][r.machines.machines.index("CNC-03")])

    # The demo binds the plant's reason code: its down time is the plant's "breakdown"
    qtbot.waitUntil(lambda: (w.oee.refresh() or True) and downtime("breakdown") > 0, timeout=30_000)
    assert downtime(UNASSIGNED) == 0.0
    dock.reason.setCurrentText("tool change")
    qtbot.mouseClick(dock.record, QtCore.Qt.MouseButton.LeftButton)
    entries = read_reasons(w.console.history_path())
    assert [(e.machine, e.reason) for e in entries] == [("CNC-03", "tool change")]
    # the operator's reason names the whole down period, over the plant's code
    qtbot.waitUntil(lambda: downtime("tool change") > 0, timeout=30_000)
    assert downtime("breakdown") == 0.0
