"""The operator console against a real OPC UA plant: live colours, alarms, trends, history, reconnect."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from app.history.recorder import History
from app.live.client import ConnectionSettings
from app.state.colours import ALARM_DIM_RGB, ALARM_RGB, NO_DATA_RGB, STATE_RGB
from tests.conftest import DEMO
from tests.live.conftest import free_port
from tests.live.conftest import plantsim as _plantsim

pytestmark = pytest.mark.gui


def _colours(w) -> dict[str, tuple[int, ...]]:
    return {mid: tuple(int(c) for c in rgb[:3]) for mid, rgb in zip(w.view.machines.ids, w.view.machines.colours, strict=True)}


def test_demo_goes_live_with_state_colours_alarms_and_trends(qloop, make_window, qtbot):
    w = make_window()
    w.console.start_embedded_plant(DEMO, ("--speed", "20", "--interval", "0.25", "--breakdown", "CNC-03@40+100000"))
    qtbot.waitUntil(w.console.live_ready, timeout=20000)  # live within the bound; how fast is bench/live.py's figure
    assert "Live" in w.status_link.text()
    # The OPC UA client runs on the network thread, not on the GUI thread's loop.
    assert w.live.client._task.get_loop() is w.live.net.loop and w.live.net.loop is not asyncio.get_event_loop()
    store = w.live.store
    state_col = store.signal_index["State"]
    w.live.flush()  # colours follow the store at the next flush (≤ 33 ms): take both at the same instant
    colours = _colours(w)
    for mid in ("WH-IN", "CNC-01", "PR-01", "RC-01", "ASM-01"):
        code = int(store.values[store.machine_index[mid], state_col])
        assert colours[mid] == tuple(STATE_RGB[code]), (mid, code)

    # The injected breakdown raises an alarm: the machine blinks red and the alarms dock lists it.
    qtbot.waitUntil(lambda: "CNC-03" in w.live.alarms.active_machines(), timeout=15000)
    assert _colours(w)["CNC-03"] in (tuple(ALARM_RGB), tuple(ALARM_DIM_RGB))
    qtbot.waitUntil(lambda: w.alarms_dock.table.rowCount() >= 1, timeout=3000)
    rows = [
        (w.alarms_dock.table.item(r, 0).text(), w.alarms_dock.table.item(r, 1).text())
        for r in range(w.alarms_dock.table.rowCount())
    ]
    assert ("CNC-03", "Breakdown") in rows
    w.live.alarms.acknowledge_all()
    w.live.recolour()
    assert _colours(w)["CNC-03"] == tuple(STATE_RGB[4])  # acknowledged: steady "down"

    # Labels carry the live temperature.
    assert any("°C" in t for t in w.live.label_texts())

    # Trends of the selected machine come from the recorded history.
    w.selection.select(["CNC-01"])
    qtbot.waitUntil(
        lambda: (
            (w.trends_dock.refresh() or True)
            and w.trends_dock.curve_data("Temperature") is not None
            and len(w.trends_dock.curve_data("Temperature")[0]) >= 3
        ),
        timeout=15000,
    )
    x, y = w.trends_dock.curve_data("Temperature")
    assert np.all(x <= 1.0) and np.nanmin(y) > 10

    # Everything received is in the history file.
    w.live.recorder.flush()
    history = History(w.console.history_path())
    assert history.count() > 100
    assert ("CNC-01", "Temperature") in {(m, s) for m, s, _n in history.signals()}
    t, _v, _st = history.series("CNC-01", "Temperature")
    assert len(t) >= 3 and np.all(np.diff(t) >= 0)


def test_stale_when_the_server_dies_and_live_again_when_it_returns(qloop, make_window, qtbot):
    w = make_window()
    port = free_port()
    server = _plantsim(port)
    try:
        w.live.max_age_s = 2.0
        w.console.connect_live(
            ConnectionSettings(f"opc.tcp://127.0.0.1:{port}/floortwin/", timeout_s=1.0, max_backoff_s=1.0, health_check_s=0.5)
        )
        qtbot.waitUntil(w.console.live_ready, timeout=15000)
        server.kill()
        server.wait(10)
        qtbot.waitUntil(lambda: "Reconnecting" in w.status_link.text(), timeout=10000)
        qtbot.waitUntil(lambda: all(c == tuple(NO_DATA_RGB) for c in _colours(w).values()), timeout=10000)
        received = w.live.store.received
        server = _plantsim(port)  # the plant comes back on the same address
        qtbot.waitUntil(lambda: "Live" in w.status_link.text() and w.console.live_ready(), timeout=20000)
        assert w.live.store.received > received
        assert w.live.client.stats.reconnects >= 1
    finally:
        server.kill()
        server.wait(10)


def test_wrong_endpoint_is_reported_and_the_app_keeps_working(qloop, make_window, qtbot):
    w = make_window()
    port = free_port()  # nothing listens there
    w.console.connect_live(ConnectionSettings(f"opc.tcp://127.0.0.1:{port}/floortwin/", timeout_s=0.5, max_backoff_s=0.5))
    qtbot.waitUntil(lambda: "Reconnecting" in w.status_link.text(), timeout=10000)
    assert "connection refused" in w.status_link.toolTip()
    assert all(c == tuple(NO_DATA_RGB) for c in _colours(w).values())
    w.selection.select(["PR-02"])  # the rest of the app keeps working
    assert w.properties_dock.widget().value_of("Id") == "PR-02"
    w.console.disconnect_live()
    assert not w.live.active


def _label_value(label: str) -> float | None:
    return float(label.split(" · ")[1].split()[0]) if " · " in label else None


def test_replay_shows_the_factory_as_recorded_and_returns_to_live(qloop, make_window, qtbot, plant_endpoint):
    w = make_window()
    w.live.max_age_s = 1.0  # far shorter than most states last: unchanged values must still count as current
    w.console.connect_live(ConnectionSettings(plant_endpoint, health_check_s=0.5))
    qtbot.waitUntil(lambda: w.console.live_ready(0.95), timeout=15000)
    qtbot.wait(2500)
    assert w.console.live_ready(0.95)  # live: a state that has not changed for seconds is not stale
    w.live.flush()
    t_mark = time.time()
    live_colours = _colours(w)
    live_labels = w.live.label_texts()
    qtbot.wait(3000)  # the plant moves on (20× speed)
    w.live.recorder.flush()
    assert w.timeline.live_button.isChecked() and w.live.replay_time is None

    # Drag the timeline back to the marked moment: the view shows what was recorded then.
    w.timeline.show_time(t_mark)
    qtbot.waitUntil(lambda: w.live.replay_time == t_mark, timeout=5000)
    assert not w.timeline.live_button.isChecked()
    assert "Replay" in w.status_link.text()
    assert w.actions_by_id["live.back_to_live"].isEnabled()
    history = History(w.console.history_path())
    replayed = _colours(w)
    settled = [  # machines whose state did not change within a second of the mark (no sample in flight)
        mid for mid in live_colours if not np.any(np.abs(history.series(mid, "State", t_mark - 1, t_mark + 1)[0] - t_mark) < 1)
    ]
    assert len(settled) >= 20
    assert all(replayed[m] == live_colours[m] for m in settled), [m for m in settled if replayed[m] != live_colours[m]]
    assert all(c != tuple(NO_DATA_RGB) for c in replayed.values())  # recorded while connected: none stale
    # Labels carry the temperatures of then (they drift slowly: within a degree or two of the live ones).
    then = [_label_value(x) for x in w.live.label_texts()]
    live = [_label_value(x) for x in live_labels]
    pairs = [(a, b) for a, b in zip(then, live, strict=True) if a is not None and b is not None]
    assert len(pairs) >= 0.8 * len([b for b in live if b is not None])
    assert all(abs(a - b) < 3.0 for a, b in pairs), pairs

    # Before anything was recorded the factory had no data.
    w.timeline.show_time(w.timeline.t0 - 100)
    qtbot.waitUntil(lambda: w.live.replay_time == w.timeline.t0, timeout=5000)

    # Live again: new values show again and the replay cursor is gone.
    w.actions_by_id["live.back_to_live"].trigger()
    assert w.live.replay_time is None and w.timeline.live_button.isChecked()
    qtbot.waitUntil(lambda: "Live" in w.status_link.text(), timeout=3000)
    w.live.flush()
    store = w.live.store
    j = store.signal_index["State"]
    fresh = store.fresh("State", time.time(), w.live.max_age_s)
    colours = _colours(w)
    for i, mid in enumerate(store.machines):
        if fresh[i] and mid not in w.live.alarms.unacknowledged_machines():
            assert colours[mid] == tuple(STATE_RGB[int(store.values[i, j])])


def test_timeline_slider_and_play(qloop, make_window, qtbot, plant_endpoint):
    w = make_window()
    w.console.connect_live(ConnectionSettings(plant_endpoint))
    qtbot.waitUntil(w.console.live_ready, timeout=15000)
    qtbot.wait(3000)
    tl = w.timeline
    tl.refresh()
    slider = tl.slider
    assert slider.value() == slider.maximum()
    slider.setValue(slider.maximum() // 2)  # as a drag does
    qtbot.waitUntil(lambda: w.live.replay_time is not None, timeout=5000)
    assert tl.t0 <= w.live.replay_time < time.time() - 0.5
    assert "ago" in tl.label.text()
    tl.speed.setCurrentIndex(tl.speed.findData(60))
    start = w.live.replay_time
    tl.play_button.setChecked(True)  # 60× plays the last seconds in a blink and returns to live
    qtbot.waitUntil(lambda: w.live.replay_time is None, timeout=10000)
    assert tl.live_button.isChecked() and not tl.play_button.isChecked()
    assert start is not None


def test_machine_heat_map_from_live_and_replayed_values(qloop, make_window, qtbot, plant_endpoint):
    from app.heat.colour import heat_colours, lut, value_range

    w = make_window()
    w.console.connect_live(ConnectionSettings(plant_endpoint))
    qtbot.waitUntil(w.console.live_ready, timeout=15000)
    w.heat_dock.choose("Temperature")
    assert w.live.heat is not None and w.live.heat.signal == "Temperature"
    assert w.view.colour_bar_title == "Temperature (°C)" and w.view.has_legend
    w.live.flush()
    store = w.live.store
    now = time.time()
    known = store.fresh("Temperature", now, w.live.max_age_s)
    values = store.column("Temperature")
    lo, hi = value_range(values, known, unit=w.live.unit_of(store, "Temperature"))
    expected = heat_colours(values, known, lo, hi, "inferno")
    colours = np.array([w.view.machines.colours[w.view.machines.index[m]][:3] for m in store.machines])
    assert (colours == expected).all(axis=1).mean() > 0.9
    assert len({tuple(c) for c in colours}) > 5  # the temperatures differ: so do the colours
    machines_without = [m.id for m in w.document.factory.machines if "Temperature" not in m.tags]
    for mid in machines_without:
        assert _colours(w)[mid] == tuple(NO_DATA_RGB)  # no temperature bound: grey, never "cold"
    # A fixed range and another colour map.
    w.heat_dock.cmap.setCurrentText("viridis")
    w.heat_dock.lo.setValue(20.0)
    w.heat_dock.hi.setValue(60.0)
    w.heat_dock.fixed.setChecked(True)
    assert w.live.heat.fixed_range == (20.0, 60.0) and w.live.heat.cmap == "viridis"
    table = lut("viridis")
    assert any(tuple(c) in {tuple(t) for t in table} for c in _colours(w).values())
    # Replay shows the heat of then.
    qtbot.wait(1500)
    w.live.recorder.flush()
    w.timeline.show_time(time.time() - 1.0)
    qtbot.waitUntil(lambda: w.live.replay_time is not None, timeout=5000)
    assert w.view.colour_bar_title == "Temperature (°C)"
    # Back to states.
    w.timeline.go_live()
    w.heat_dock.choose(None)
    assert w.live.heat is None and w.view.colour_bar_title is None and w.view.has_legend
