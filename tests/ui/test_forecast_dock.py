"""The Shift forecast dock: attached to a live store and its history it forecasts the rest of the shift in
the background, again on "Forecast now" and when the target changes; detached, it stops."""

from __future__ import annotations

import re
import time

import pytest

from app.forecast.service import ForecastService
from app.history.recorder import History, Recorder, Sample
from app.model.io import load_factory
from app.state.store import StateStore, Update
from app.ui.forecast_dock import ForecastDock
from tests.conftest import DEMO

pytestmark = pytest.mark.gui


def test_the_dock_forecasts_the_shift_and_again_on_demand_and_for_a_new_target(qtbot, tmp_path):
    factory = load_factory(DEMO)
    now = time.time()
    start = now - 2 * 3600.0
    store = StateStore([m.id for m in factory.machines], ["State", "Level", "PartCount"])
    updates = []
    for m in factory.machines:
        updates += [
            Update(store.bind(m.id, "State", f"{m.id}/State"), "running", source_ts=now - 30, received_ts=now - 30),
            Update(store.bind(m.id, "Level", f"{m.id}/Level"), 1, source_ts=now - 30, received_ts=now - 30),
        ]
    store.ingest([*updates, Update(store.bind("WH-OUT", "PartCount", "c"), 180, source_ts=now - 10, received_ts=now - 10)])
    rec = Recorder(tmp_path / "h.sqlite")
    counts = ((start - 5, 100), (now - 3600, 140), (now - 10, 180))
    rec.record([Sample("WH-OUT", "PartCount", "c", t, t, float(v), None, 0) for t, v in counts])
    assert rec.flush()
    rec.close()
    service = ForecastService(factory, replications=20, workers=0)
    dock = ForecastDock(service=service)
    qtbot.addWidget(dock)
    dock.target.setValue(400)
    dock.resize(760, 520)
    dock.show()
    assert not dock.now_button.isEnabled()
    try:
        dock.attach(factory, store, History(tmp_path / "h.sqlite"), start)
        qtbot.waitUntil(lambda: dock.chart.forecast is not None, timeout=60_000)
        first = dock.chart.forecast
        assert first.made_so_far == 80 and first.target == 400
        assert first.horizon_s == pytest.approx(6 * 3600.0, abs=120)
        assert dock.chart.shown.actual.tolist() == [0, 40, 80]
        assert "reaching 400: " in dock.chart.caption.text()
        qtbot.waitUntil(lambda: dock.status.text().startswith("shift "), timeout=5000)
        assert dock.status.text().endswith(" left")
        dock.now_button.click()
        qtbot.waitUntil(lambda: dock.chart.forecast is not first, timeout=60_000)
        second = dock.chart.forecast
        dock.target.setValue(250)
        qtbot.waitUntil(lambda: dock.chart.forecast is not second, timeout=60_000)
        assert dock.chart.forecast.target == 250
        assert "reaching 250: " in dock.chart.caption.text()
        dock.detach()
        assert not dock.now_button.isEnabled() and "Not connected" in dock.status.text()
    finally:
        dock.close_service()


def test_the_window_forecasts_the_shift_once_the_demo_is_live_and_stops_when_disconnected(qloop, make_window, qtbot):
    w = make_window()
    dock = w.forecast_dock
    assert dock in w.docks.right and not dock.now_button.isEnabled()
    w.console.start_embedded_plant(DEMO, ("--speed", "20", "--interval", "0.25"))
    qtbot.waitUntil(w.console.live_ready, timeout=45000)  # a bound, not a wait: a loaded machine starts the plant slowly
    qtbot.waitUntil(lambda: dock.shift_forecast is not None, timeout=10000)  # attached when the link came up
    qtbot.waitUntil(dock.now_button.isEnabled, timeout=10000)  # once the plant's state is in (next tick)
    dock.now_button.click()
    qtbot.waitUntil(lambda: dock.chart.forecast is not None, timeout=60_000)  # simulated from the live store
    assert dock.chart.forecast.horizon_s > 0
    w.console.disconnect_live()
    assert dock.shift_forecast is None and not dock.now_button.isEnabled()
    assert dock.status.text().startswith("Not connected")


def test_no_forecast_is_made_before_the_store_holds_the_plants_state(qtbot, tmp_path):
    """A link that has just come up has an empty store: forecasting from it would show an empty line's
    forecast as the plant's (from a new-user trial)."""
    factory = load_factory(DEMO)
    store = StateStore([m.id for m in factory.machines], ["State", "Level", "PartCount"])
    service = ForecastService(factory, replications=20, workers=0)
    dock = ForecastDock(service=service)
    qtbot.addWidget(dock)
    ready = [False]
    requested = []
    service.started.connect(requested.append)
    try:
        dock.attach(factory, store, None, time.time(), ready=lambda: ready[0])
        assert dock.status.text().startswith("Waiting for the plant's state")
        assert not dock.now_button.isEnabled() and not requested and dock.chart.forecast is None
        ready[0] = True
        dock.tick()
        assert dock.now_button.isEnabled()
        qtbot.waitUntil(lambda: dock.chart.forecast is not None, timeout=60_000)
    finally:
        dock.close_service()


def test_at_a_sped_up_plant_the_dock_counts_the_shift_in_plant_time(qloop, make_window, qtbot):
    # The demo plant at 20× real time (the --plant-speed a new-user trial used): the shift end, the x axis and
    # the time left are all the plant's — the forecast's last point is the shift's end on the axis.
    w = make_window()
    dock = w.forecast_dock
    w.console.start_embedded_plant(DEMO, ("--speed", "20", "--interval", "0.25"))
    qtbot.waitUntil(w.console.live_ready, timeout=20000)
    assert w.console.link_time_scale == 20.0
    qtbot.waitUntil(lambda: dock.shift_forecast is not None, timeout=10000)
    qtbot.waitUntil(dock.now_button.isEnabled, timeout=10000)
    dock.now_button.click()
    qtbot.waitUntil(lambda: dock.chart.forecast is not None, timeout=60_000)
    shift = dock.shift_forecast.shift
    assert shift.end - shift.start == pytest.approx(8 * 3600.0 / 20.0)  # 8 plant hours: 24 clock minutes
    dock.tick()
    forecast, shown = dock.chart.forecast, dock.chart.shown
    # made a little before now (plant time runs on 20× while the forecast is made): from then to the end
    assert (8.0 - shown.now_h) * 3600.0 <= forecast.horizon_s <= 8.0 * 3600.0
    assert shown.forecast_h[0] <= shown.now_h and shown.forecast_h[-1] == pytest.approx(8.0)  # ends at the shift's end
    assert dock.chart.plot.getAxis("bottom").labelText == "plant hours into the shift"
    qtbot.waitUntil(lambda: "plant time" in dock.status.text(), timeout=10000)
    assert "(20× real time)" in dock.status.text() and " left; ends " in dock.status.text()
    # Read later, the caption does not contradict the time left: it speaks of the shift's end and says how old
    # it is in plant time (issue 16 F10: "in 7.94 h" beside "7.53 h left").
    qtbot.wait(4000)  # 80 plant seconds
    dock.tick()
    lines = dock.chart.caption.text().splitlines()
    assert lines[0].startswith("by the shift's end: ") and not lines[0].startswith("in ")
    span = r"(\d+ h )?\d+ (s|min|h)"  # to the minute, as a clock reads (trial 9: "made 9.88 min ago")
    assert re.fullmatch(rf"forecast made {span} ago \(plant time\), {span} into the shift", lines[1]), lines[1]
    w.console.disconnect_live()


def test_at_120x_the_forecast_refreshes_by_itself_begins_the_next_shift_and_follows_a_recalibration(qloop, make_window, qtbot):
    # Trial 7: at the README demo's 120× the refresh "every 5 minutes" of the clock (10 plant hours) never came
    # within a shift, the old shift's actual ran on past its end, and Recalibrate left the forecast as it was.
    from app.sim.scenario import MachineParam, Scenario, apply

    w = make_window()
    dock = w.forecast_dock
    dock.shift_hours.setValue(1.0)  # one plant hour: 30 clock seconds at 120×
    w.console.start_embedded_plant(DEMO, ("--speed", "120", "--interval", "0.25"))
    qtbot.waitUntil(w.console.live_ready, timeout=45000)
    qtbot.waitUntil(lambda: dock.shift_forecast is not None, timeout=10000)
    sf = dock.shift_forecast
    got = []
    sf.service.finished.connect(got.append)  # (the service's thread: a list append)
    first_shift = sf.shift
    assert first_shift.end - first_shift.start == pytest.approx(30.0)
    # no click: the dock's own timer forecasts, and again within the shift (every 10 s of the clock here)
    qtbot.waitUntil(lambda: len(got) >= 2 or sf.shift != first_shift, timeout=60_000)
    assert len(got) >= 2 and sf.shift == first_shift
    assert got[1].made_so_far >= got[0].made_so_far and got[1].horizon_s < got[0].horizon_s
    # the shift ends: the next begins, its actual from its own start, nothing drawn past the old end
    qtbot.waitUntil(lambda: sf.shift != first_shift, timeout=60_000)
    new_shift = sf.shift
    assert new_shift.start >= first_shift.end and new_shift.end - new_shift.start == pytest.approx(30.0)
    qtbot.waitUntil(lambda: dock.chart.forecast is not None and dock.chart.forecast in got[-1:], timeout=60_000)
    dock.tick()
    shown = dock.chart.shown
    assert shown.actual[0] == 0
    assert shown.actual_h.min() >= 0.0 and shown.actual_h.max() <= 1.0
    assert shown.forecast_h[0] >= 0.0 and shown.forecast_h[-1] == pytest.approx(1.0)
    # a recalibration (one undoable parameter edit, as the watchdog's button makes) is forecast anew
    n = len(got)
    document = w.document
    change = MachineParam(machine="CNC-03", param="cycle_mean_s", value=396.0)
    document.set_parameters(apply(Scenario(name="recalibrated", factory=document.factory, changes=[change])), ["CNC-03"])
    assert sf.service.factory is document.factory
    qtbot.waitUntil(lambda: len(got) > n, timeout=60_000)
    w.console.disconnect_live()
