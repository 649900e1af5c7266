"""The plant's clock survives Live ▸ Connect (trial 7, defects 1 and 4): a link made through the Connect
dialog to a plant simulator run 20× the clock counts plant time — the console's time scale, the watchdog,
the shift forecast, Deploy's default, and the live rates of the Factory tree (per plant hour)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6 import QtCore

from app.live.connection_form import remembered_plant_clock
from app.ui.connection_dialog import ConnectionDialog
from app.ui.deploy_dialog import DeployDialog
from tests.conftest import DEMO
from tests.ui.test_connect_dialog import _when_modal

pytestmark = pytest.mark.gui


def _deploy_default(w, qtbot) -> float:
    """The plant clock Deploy to Plant… offers for the selected scenario."""
    if w.whatif_dock.selected() is None:
        w.whatif.new_scenario("current")
        qtbot.waitUntil(lambda: w.whatif_dock.selected() is not None)
    qtbot.mouseClick(w.whatif_dock.deploy_button, QtCore.Qt.MouseButton.LeftButton)
    dialog = [d for d in w.whatif_dock.dialogs if isinstance(d, DeployDialog)][-1]
    speed = dialog.speed.value()
    dialog.close()
    return speed


def test_connecting_again_to_the_embedded_plant_keeps_its_clock(qloop, make_window, qtbot):
    # The README demo, then docs/closed-loop.md's step: Live ▸ Connect… to the plant simulator.
    w = make_window()
    w.console.start_embedded_plant(DEMO, ("--speed", "20", "--interval", "0.25"))
    qtbot.waitUntil(w.console.live_ready, timeout=20000)
    plant_endpoint = w.console.plant.endpoint
    seen: dict[str, object] = {}

    def connect(d: ConnectionDialog) -> None:
        seen["endpoint"], seen["clock"] = d.endpoint.text(), d.time_scale()
        d._validate()

    _when_modal(qtbot, ConnectionDialog, connect)
    w.console.connect_dialog()
    qtbot.waitUntil(lambda: "clock" in seen, timeout=15000)
    assert seen == {"endpoint": plant_endpoint, "clock": 20.0}  # the plant's endpoint and speed, not 4840 at 1×
    qtbot.waitUntil(lambda: w.console.connect_task.done(), timeout=10000)
    qtbot.waitUntil(w.console.live_ready, timeout=20000)
    assert w.console.link_time_scale == 20.0
    assert not w.console.document.dirty  # the embedded plant's passing port is not a change to save (trial 8)
    qtbot.waitUntil(lambda: "plant clock 20×" in w.status_link.text(), timeout=5000)  # the status bar says it too
    assert w.console.watchdog.dog is not None and w.console.watchdog.dog.time_scale == 20.0
    qtbot.waitUntil(lambda: w.forecast_dock.shift_forecast is not None, timeout=10000)
    assert w.forecast_dock.time_scale == 20.0
    assert _deploy_default(w, qtbot) == 20.0
    w.console.disconnect_live()


def test_a_plant_that_publishes_its_clock_is_taken_at_its_word_and_rates_are_per_plant_hour(
    qloop, make_window, qtbot, plant_endpoint
):
    # Another plant simulator process at 20×, connected through the dialog by a user who left the clock at 1×.
    w = make_window()

    def connect(d: ConnectionDialog) -> None:
        d.endpoint.setText(plant_endpoint)
        d.endpoint.editingFinished.emit()
        assert d.time_scale() == 1.0  # nothing known of this endpoint yet
        d._validate()

    done = _when_modal(qtbot, ConnectionDialog, connect)
    w.console.connect_dialog()
    qtbot.waitUntil(lambda: bool(done), timeout=15000)
    qtbot.waitUntil(w.console.live_ready, timeout=20000)
    assert w.console.link_time_scale == 20.0  # what the server publishes, over the 1× given
    assert "Plant clock: 20 × real time, as the server publishes it" in w.statusBar().currentMessage()
    qtbot.waitUntil(lambda: "plant clock 20×" in w.status_link.text(), timeout=5000)
    assert w.console.watchdog.dog is not None and w.console.watchdog.dog.time_scale == 20.0
    qtbot.waitUntil(lambda: w.forecast_dock.shift_forecast is not None, timeout=10000)
    assert w.forecast_dock.time_scale == 20.0
    assert _deploy_default(w, qtbot) == 20.0
    assert remembered_plant_clock(w.settings.store, plant_endpoint) == 1.0  # real time is no note to keep

    # The live rates (the tree, the flow heat map) are per plant hour: 10 parts in 5 clock minutes at 20× are
    # 10 parts in 100 plant minutes, 6 parts per plant hour (not 120 per clock hour).
    store = w.live.store
    counts = np.arange(len(store.machines), dtype=float)
    now = time.time()
    w.live.meter.clear()
    w.live.meter.add(now - 300.0, counts)
    w.live.meter.add(now, counts + 10.0)
    assert w.live.output_rates() == pytest.approx(np.full(len(counts), 6.0))
    w.tree_dock.update_figures()
    figures = w.tree_dock.rollup.figures
    assert figures is not None and figures.time_scale == 20.0
    assert figures.throughput_per_h[0] == pytest.approx(6.0 * figures.exits[0])
    site = w.tree_dock.tree.model().index(0, 0)
    assert f"— {6 * figures.exits[0]:g} parts/h" in site.data(), site.data()
    assert "per plant hour, the plant running 20× real time" in site.data(QtCore.Qt.ItemDataRole.ToolTipRole)
    w.console.disconnect_live()
