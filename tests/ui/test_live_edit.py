"""Layout edits while live, in the real window against the embedded plant simulator: machines added,
removed and brought back by undo join or leave the running subscription — the link never drops."""

from __future__ import annotations

import logging

import pytest

from app.state.colours import NO_DATA_RGB, STATE_RGB
from app.state.store import GOOD, Update
from tests.conftest import DEMO

pytestmark = pytest.mark.gui


def _colour(w, mid: str) -> tuple[int, ...]:
    w.live.flush()
    i = w.view.machines.index[mid]
    return tuple(int(c) for c in w.view.machines.colours[i][:3])


def _live(make_window, qtbot, *plant_args: str):
    w = make_window()
    w.console.start_embedded_plant(DEMO, ("--speed", "20", "--interval", "0.25", *plant_args))
    qtbot.waitUntil(w.console.live_ready, timeout=20000)
    states: list[str] = []
    w.live.state_changed.connect(lambda state, _message: states.append(state))
    return w, states


def test_a_machine_added_and_bound_while_live_shows_its_values_and_undo_removes_it(qloop, make_window, qtbot, caplog):
    w, states = _live(make_window, qtbot)
    client = w.live.client
    subscription, store = client.subscription_id, w.live.store
    editor = w.layout_editor
    qtbot.waitUntil(lambda: w.forecast_dock.shift_forecast is not None, timeout=5000)
    shift = w.forecast_dock.shift_forecast.shift
    editor.set_active(True)
    w.selection.select(["CNC-03"])
    editor.duplicate_selection()  # the editor's command: one undo step
    copy = w.selection.current
    # The shift forecast goes on with the same shift, for the factory with the copy.
    forecast = w.forecast_dock.shift_forecast
    assert forecast is not None and forecast.shift == shift and copy in {st.id for st in forecast.model.stations}
    assert copy is not None and copy != "CNC-03" and copy in {m.id for m in w.document.factory.machines}
    assert copy in store.machine_index and store.state(copy) is None  # in the store at once, no data yet
    editor.set_active(False)  # live colours again (edit mode shows verdicts)
    assert _colour(w, copy) == tuple(NO_DATA_RGB)

    # Bound to CNC-01's variables (as a drop from the Server dock does): its first value shows it.
    tags = w.document.factory.machine("CNC-01").tags
    w.console.bind_tag(copy, "State", tags["State"])
    w.console.bind_tag(copy, "Temperature", tags["Temperature"])
    qtbot.waitUntil(lambda: store.state(copy) is not None, timeout=10000)
    code = int(store.values[store.machine_index[copy], store.signal_index["State"]])
    assert _colour(w, copy) == tuple(STATE_RGB[code])
    qtbot.waitUntil(lambda: any(t.startswith(f"{copy} ·") and "°C" in t for t in w.live.label_texts()), timeout=10000)

    # Undo the bindings and the duplicate: the machine leaves the store and the view.
    for _ in range(3):
        editor.stack.undo()
    assert copy not in {m.id for m in w.document.factory.machines}
    assert copy not in store.machine_index and copy not in w.view.machines.index
    assert w.live.store is store and len(store.machines) == len(w.document.factory.machines)
    w.live.flush()
    assert len(w.live.label_texts()) == len(w.document.factory.machines)

    # The link never left "connected": no state change at all, the same client and subscription.
    qtbot.wait(600)
    assert states == [] and w.live.state.value == "connected" and "Live" in w.status_link.text()
    assert w.live.client is client and client.subscription_id == subscription and client.stats.connects == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or "unknown handle" in r.getMessage()]


def test_removing_a_machine_with_an_alarm_and_trends_ends_them_cleanly_and_undo_brings_it_back(qloop, make_window, qtbot, caplog):
    w, states = _live(make_window, qtbot, "--breakdown", "CNC-03@40+100000")
    store = w.live.store
    qtbot.waitUntil(lambda: "CNC-03" in w.live.alarms.active_machines(), timeout=15000)
    panel, dog = w.console.watchdog, w.live.session.watcher
    assert dog is not None and panel.dog is dog
    # A drift of CNC-03's cycle time found by the watchdog (its cycles fed as the network thread feeds them).
    dog.feed(
        [Update(0, 270.0, GOOD, 0.0)] + [Update(0, 540.0 + i, GOOD, 600.0 * (i + 1)) for i in range(6)],
        [("CNC-03", "CycleTime", "n")],
    )
    qtbot.waitUntil(lambda: any(d.machine == "CNC-03" for d in panel.detections), timeout=5000)
    w.selection.select(["CNC-03"])  # its trends are open
    qtbot.waitUntil(
        lambda: (w.trends_dock.refresh() or True) and w.trends_dock.curve_data("Temperature") is not None, timeout=10000
    )
    editor = w.layout_editor
    editor.set_active(True)
    editor.delete_selection()
    assert "CNC-03" not in store.machine_index and "CNC-03" not in w.view.machines.index
    alarm = next(a for a in w.live.alarms.all() if a.machine == "CNC-03")
    assert not alarm.active and w.live.alarms.active_machines() == set()
    assert w.trends_dock.machine is None and w.trends_dock.curve_data("Temperature") is None  # its curves closed
    w.alarms_dock.refresh()
    row = next(r for r in range(w.alarms_dock.table.rowCount()) if w.alarms_dock.table.item(r, 0).text() == "CNC-03")
    assert w.alarms_dock.table.item(row, 3).text() != ""  # cleared, and why
    assert w.alarms_dock.table.item(row, 1).text() == "Breakdown (machine removed from the layout)"
    w.alarms_dock.table.cellDoubleClicked.emit(row, 0)  # the alarm of a machine that is gone: nothing to fly to
    assert w.selection.ids == ()
    assert ("CNC-03", "cycle") not in dog.channels  # the watchdog forgot it: its detection cannot be recalibrated
    panel.refresh()
    panel.table.selectRow(0)
    assert panel.selected_index() is not None and not panel.recalibrate_button.isVisibleTo(panel)
    panel.recalibrate_selected()  # refused quietly: nothing to set on a machine that is gone
    assert editor.stack.text(editor.stack.index() - 1).startswith("Delete")

    editor.stack.undo()  # CNC-03 is back, with its values (the breakdown goes on: its alarm again)
    assert "CNC-03" in store.machine_index
    qtbot.waitUntil(lambda: store.state("CNC-03") == "down", timeout=10000)
    qtbot.waitUntil(lambda: "CNC-03" in w.live.alarms.active_machines(), timeout=5000)
    assert states == [] and w.live.state.value == "connected"
    bad = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR or "KeyError" in r.getMessage() or "unknown handle" in r.getMessage()
    ]
    assert not bad  # nor asyncua's "notification for unknown handle": CNC-03's items were quiet before they were deleted
