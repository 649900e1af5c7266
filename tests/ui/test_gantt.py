"""The State Gantt dock on the real window: bars for the demo from live data's history and from a simulation,
rows in the factory tree's order, the replay cursor, selection both ways, and the 2,000-machine plant."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore

from app.gantt import NO_DATA, rgb_of
from app.live.client import ConnectionSettings
from app.model.io import save_factory
from app.model.signals import MACHINE_STATES
from app.state.colours import LEGEND, STATE_RGB
from app.ui.gantt_link import FOLLOW_MS
from tests.ui.test_main_window import tree_machine_ids

pytestmark = pytest.mark.gui

RUNNING = MACHINE_STATES.index("running")


def _show(w, qtbot, source: str):
    """Raise the Gantt dock on ``source`` and wait for its bars."""
    dock = w.gantt.dock
    dock.show()
    dock.raise_()
    dock.source.setCurrentIndex(dock.source.findData(source))
    w.gantt.refresh()
    qtbot.waitUntil(lambda: dock.bars is not None and dock.bars.clock == (source == "history"), timeout=60000)
    qtbot.wait(50)
    return dock


def _click_row(qtbot, dock, machine: str, t: float) -> None:
    """Click the chart at time ``t`` on ``machine``'s row, as a user does."""
    row = dock.bars.row_of(machine)
    if not dock.visible_rows()[0] <= row <= dock.visible_rows()[1]:
        dock.rows.setValue(row)
    scene = dock.vb.mapViewToScene(QtCore.QPointF(t, row))
    pos = dock.plot.mapFromScene(scene)
    qtbot.mouseClick(dock.plot.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)


def test_live_history_shows_bars_and_follows_the_replay_and_the_selection(qloop, make_window, qtbot, plant_endpoint):
    w = make_window()
    w.console.connect_live(ConnectionSettings(plant_endpoint))
    qtbot.waitUntil(w.console.live_ready, timeout=15000)
    qtbot.wait(4000)  # the plant runs (20×): machines change state
    w.live.recorder.flush()
    dock = _show(w, qtbot, "history")
    bars = dock.bars
    # one row per machine, in the factory tree's order
    assert list(bars.machines) == tree_machine_ids(w.tree_dock)
    # recorded states, not only "no data": most machines show a state the plant reported
    known = [r for r in range(bars.n_rows) if (bars.code[bars.first[r] : bars.first[r + 1]] >= 0).any()]
    assert len(known) >= 0.9 * bars.n_rows
    assert (bars.code == RUNNING).any()
    # each row covers the window without a gap or an overlap
    for r in range(bars.n_rows):
        lo, hi = bars.first[r], bars.first[r + 1]
        assert bars.start[lo] == bars.window[0] and bars.end[hi - 1] == bars.window[1]
        assert (bars.start[lo + 1 : hi] == bars.end[lo : hi - 1]).all()
    assert dock.item.drawn > 0
    assert not dock.cursor.isVisible()  # live: no replay cursor
    # The chart follows the clock, at most a tenth of the time busy reading: a read that took long waits longer.
    asked = w.gantt.service.epoch
    qtbot.waitUntil(lambda: w.gantt.service.epoch > asked, timeout=3 * FOLLOW_MS)
    assert w.gantt.service.wait(30)  # (the answer on its way would set its own cost)
    w.gantt.service.last_cost_s = 3600.0
    asked = w.gantt.service.epoch
    qtbot.wait(2 * FOLLOW_MS)
    assert w.gantt.service.epoch == asked
    w.gantt.service.last_cost_s = 0.0
    qtbot.waitUntil(lambda: w.gantt.service.epoch > asked, timeout=3 * FOLLOW_MS)

    # The timeline replays a moment: the cursor stands on it.
    slider = w.timeline.slider
    slider.setValue(slider.maximum() // 2)
    qtbot.waitUntil(lambda: w.live.replay_time is not None, timeout=5000)
    qtbot.waitUntil(dock.cursor.isVisible, timeout=5000)
    assert dock.cursor.value() == pytest.approx(w.live.replay_time)

    # A click on a bar selects its machine (tree and 3D view).
    machine = bars.machines[3]
    t_mid = float(np.mean(bars.window))
    _click_row(qtbot, dock, machine, t_mid)
    assert w.selection.ids == (machine,)
    assert w.view.selection == (machine,)
    assert dock.item.selected_rows == [3]
    # A click in the 3D view highlights the machine's row.
    w.view.machine_clicked.emit("PR-02", False)
    assert dock.item.selected_rows == [bars.row_of("PR-02")]
    w.live.show_time(None)


def test_a_simulation_of_the_demo_shows_every_machine_and_the_3d_views_colours(make_window, qtbot, tmp_path):
    w = make_window()
    dock = _show(w, qtbot, "layout")
    bars = dock.bars
    assert not bars.clock and bars.window[0] == 0.0 and bars.window[1] == pytest.approx(dock.window_s)
    assert list(bars.machines) == tree_machine_ids(w.tree_dock)
    assert (bars.code >= 0).all() and NO_DATA not in bars.code  # a simulation always knows its states
    # the bars' colours are the 3D view's, and the legend lists them as the 3D view's legend does
    assert rgb_of(RUNNING) == tuple(int(c) for c in STATE_RGB[RUNNING])
    legend = dock.legend.text()
    for label, _rgb in LEGEND:
        assert (label in legend) == (label != "alarm")
    # hovering a bar says what it is
    row = 0
    bar = bars.at(row, 1800.0)
    assert bar is not None and bars.describe(bar).startswith(f"{w.document.factory.machine(bars.machines[0]).name}")
    _click_row(qtbot, dock, bars.machines[5], 1800.0)
    assert w.selection.ids == (bars.machines[5],)
    # another factory opened: the chart follows it (its machines, its simulation)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.genfactory import generate

    path = tmp_path / "plant_24.json"
    save_factory(generate(24), path)
    assert w.files.open_path(path)
    qtbot.waitUntil(lambda: dock.bars.n_rows == 24, timeout=20000)
    assert list(dock.bars.machines) == tree_machine_ids(w.tree_dock)


def test_the_2000_machine_plant_draws_only_the_rows_on_screen(make_window, qtbot, tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.genfactory import generate

    path = tmp_path / "plant_2000.json"
    save_factory(generate(2000), path)
    w = make_window(open_demo=False)
    assert w.files.open_path(path)
    dock = _show(w, qtbot, "layout")
    bars = dock.bars
    assert bars.n_rows == 2000
    first, last = dock.visible_rows()
    assert 0 < last - first + 1 < 100  # a screenful of rows, scrolled through the rest
    drawn_rows = set(bars.row[bars.visible(first, last, *dock.vb.viewRange()[0])].tolist())
    assert drawn_rows <= set(range(first, last + 2))
    assert dock.item.drawn < len(bars.start) / 10  # only what is on screen is drawn
    # selecting a machine far down scrolls its row into view
    far = bars.machines[1800]
    w.selection.select([far])
    qtbot.wait(50)
    first, last = dock.visible_rows()
    assert first <= 1800 <= last
    dock.plot.repaint()
    assert dock.item.drawn > 0
    t = time.perf_counter()
    for value in range(0, 2000, 200):  # scrolling stays light (no wall-clock assertion: it is reported)
        dock.rows.setValue(value)
        dock.plot.repaint()
    print(f"10 scroll steps over 2,000 machines: {1000 * (time.perf_counter() - t):.0f} ms")


def test_the_last_what_if_run_is_a_source_with_its_scenarios_states(make_window, qtbot):
    from app.gantt.bars import merged
    from app.sim.scenario import MachineParam
    from app.sim.trace import traced_run
    from tests.conftest import run_to_done

    w = make_window()
    service = w.whatif
    service.actuals_min = 0  # no recorded window: the scenario's own horizon
    entry = service.new_scenario("current", name="slow press")
    slow = [MachineParam(machine="PR-02", param="cycle_mean_s", value=200.0)]
    quick = {"horizon_s": 2 * 3600.0, "warmup_s": 0.0, "replications": 2}
    service.update_scenario(entry, entry.scenario.model_copy(update={"changes": slow, **quick}))
    job = run_to_done(qtbot, service, entry)
    dock = w.gantt.dock
    qtbot.waitUntil(lambda: dock.source.findData("whatif") >= 0, timeout=5000)
    assert "slow press" in dock.source.itemText(dock.source.findData("whatif"))
    dock = _show(w, qtbot, "whatif")
    qtbot.waitUntil(lambda: "slow press" in dock.bars.source, timeout=30000)
    bars = dock.bars
    # the bars are replication 1 of the scenario's model: the same states as a trace of that model
    model = job.models[-1][1]
    trace = traced_run(model, 0, *bars.window)
    k = [s.id for s in model.stations].index("PR-02")
    starts, ends, codes = merged(*trace.shown_intervals(k))
    r = bars.row_of("PR-02")
    lo, hi = bars.first[r], bars.first[r + 1]
    np.testing.assert_array_equal(bars.start[lo:hi], starts)
    np.testing.assert_array_equal(bars.end[lo:hi], ends)
    np.testing.assert_array_equal(bars.code[lo:hi], codes)
