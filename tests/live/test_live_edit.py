"""Machines added or removed while live, without a GUI, against the plant simulator over 127.0.0.1: the
session follows the new factory on its running subscription — no reconnection, no gap in the history."""

from __future__ import annotations

import asyncio
import math
import threading
import time

import numpy as np
import pytest

from app.history.recorder import History
from app.history.sessions import connected_periods
from app.live.client import ConnectionSettings, LinkState
from app.live.session import LiveSession
from app.model.edits import with_machines, without
from app.model.io import load_factory
from app.state.replay import recorded_state
from app.state.store import StateStore, Update
from app.watchdog.service import Watchdog
from tests.conftest import DEMO
from tests.live.conftest import free_port, plantsim
from tests.live.test_session import _pump, _wire


@pytest.fixture
def plant():
    proc = plantsim(free_port(), speed=20.0, interval_s=0.25)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(10)


def test_removing_a_machine_and_adding_a_bound_copy_changes_the_running_subscription(plant, tmp_path, caplog):
    factory = load_factory(DEMO)
    session = LiveSession(max_age_s=10.0)
    _wire(session, {"emitted": set(), "applied": set()})
    dogs: list[Watchdog] = []
    session.make_watcher = lambda f, path: dogs.append(Watchdog(f, log_path=path, time_scale=20.0)) or dogs[-1]
    links: list[LinkState] = []
    session.link_changed.connect(lambda _g, state, _m, _t: links.append(state))
    seen: list[int] = []  # binding numbers of every batch received on the network thread
    lock = threading.Lock()

    def note(_g: int, batch: list) -> None:
        with lock:
            seen.extend(u.binding for u in batch)

    session.values_received.connect(note)
    path = tmp_path / "history.sqlite"
    assert session.start(factory, ConnectionSettings(plant.endpoint), path)
    try:
        _pump(session, lambda: session.ready(0.9, time.time()), 30)
        store, client = session.store, session.client
        assert store is not None and client is not None and session.state == LinkState.CONNECTED
        ua_client, sub_id, connects = client.client, client.subscription_id, client.stats.connects
        assert sub_id is not None and connects == 1
        removed = store.bindings_of("CNC-03", "State") + store.bindings_of("CNC-03", "Temperature")
        assert len(removed) == 2
        dog = dogs[0]
        assert ("CNC-03", "cycle") in dog.channels
        session.alarms.update("CNC-03", True, "Spindle overload", time.time())  # an alarm open when it goes
        for t in (0.0, 400.0):  # output rates measured so far (the meter's rows follow the machines)
            session.meter.add(t, np.arange(len(store.machines), dtype=float) * (1 + t / 40))

        # CNC-03 goes; a copy of it, bound to CNC-01's variables, comes in as CNC-90.
        cnc01 = factory.machine("CNC-01")
        copy = factory.machine("CNC-03").model_copy(update={"id": "CNC-90", "name": "CNC 90", "tags": dict(cnc01.tags)})
        edited = with_machines(without(factory, ["CNC-03"]), [copy])
        rows_before = len(store.machines)
        assert session.follow(edited)
        assert session.factory is edited and store.machines == [m.id for m in edited.machines]
        assert "CNC-03" not in store.machine_index and len(store.machines) == rows_before
        assert store.state("CNC-90") is None  # no data yet
        assert session.store is store  # the same store: the forecast and the views keep reading it
        alarm = session.alarms.all()[0]
        assert alarm.machine == "CNC-03" and not alarm.active and "CNC-03" not in session.alarms.active_machines()
        assert alarm.text == "Spindle overload (machine removed from the layout)"
        rates = session.meter.rates()
        assert rates is not None and len(rates) == len(store.machines) and math.isnan(rates[store.machine_index["CNC-90"]])
        assert rates[store.machine_index["CNC-04"]] == pytest.approx(40 / 400 * 3600)  # its own: 4 → 44 parts

        # The copy's first values arrive — its Alarm too, which stays false on CNC-01 (a subscription reports
        # changes only: the value of a node already monitored is read once for the new binding).
        _pump(session, lambda: store.state("CNC-90") is not None and math.isfinite(store.value("CNC-90", "Temperature")), 20)
        _pump(session, lambda: store.value("CNC-90", "Alarm") == store.value("CNC-01", "Alarm"), 10)
        with lock:
            mark = len(seen)
        _pump(session, lambda: store.value("CNC-90", "Temperature") == store.value("CNC-01", "Temperature"), 20)
        time.sleep(1.0)  # several publishing intervals: CNC-03 would have sent values by now
        _pump(session, lambda: True, 1)
        with lock:
            after = set(seen[mark:])
        assert after and not after & set(removed), "values still arrive for the removed machine"
        assert not [r for r in caplog.records if "unknown handle" in r.getMessage()]  # its items were quiet before deletion
        new_bindings = store.bindings_of("CNC-90", "Temperature")
        assert new_bindings and new_bindings[0] in set(seen)

        # No reconnection: the same asyncua client, the same subscription, one connection, one link state.
        assert session.client is client and client.client is ua_client
        assert client.subscription_id == sub_id and client.stats.connects == 1 and client.stats.reconnects == 0
        assert set(links) == {LinkState.CONNECTING, LinkState.CONNECTED} and session.state == LinkState.CONNECTED

        # The history records the new machine and shows one connected period, still open: no gap, no restart.
        assert session.recorder is not None and session.recorder.flush(10)
        history = History(path)
        t, v, _ = history.series("CNC-90", "Temperature")
        assert len(t) >= 1 and np.isfinite(v).all()
        periods = connected_periods(history)
        assert len(periods) == 1 and periods[0][1] == math.inf

        # The watchdog compares with the new version: CNC-03's channels gone, fresh ones for CNC-90.
        assert session.watcher is dog and dog.factory is edited
        assert ("CNC-03", "cycle") not in dog.channels and dog.channels[("CNC-90", "cycle")].n_obs == 0

        # A binding changed on its own (the Server dock), then another machine removed: the rebound binding
        # stays as it is (no churn on the subscription), the other machine's bindings go.
        power = factory.machine("CNC-02").tags["Power"]
        assert session.rebind("CNC-90", "Power", power)
        rebound = store.bindings_of("CNC-90", "Power")
        copy_now = copy.model_copy(update={"tags": {**copy.tags, "Power": power}})
        edited2 = with_machines(without(edited, ["CNC-90", "CNC-04"]), [copy_now])
        assert session.follow(edited2)
        assert store.bindings_of("CNC-90", "Power") == rebound and "CNC-04" not in store.machine_index
        assert session.follow(edited)  # back: CNC-04 again, CNC-90's Power as the document had it
        assert store.binding_of(store.bindings_of("CNC-90", "Power")[0])[2] == copy.tags["Power"]

        # Undo, while a recorded state is on view: CNC-03 comes back (its values again), CNC-90 goes, the view
        # is live again (the recorded state has the old machines); still the same subscription.
        session.show_recorded(recorded_state(history, store, time.time(), 60.0))
        assert session.replay_time is not None
        assert session.follow(factory)
        assert session.replay_time is None and session.shown()[0] is store
        assert "CNC-90" not in store.machine_index and store.state("CNC-03") is None
        _pump(session, lambda: store.state("CNC-03") is not None, 20)
        assert client.subscription_id == sub_id and client.stats.connects == 1 and session.state == LinkState.CONNECTED
    finally:
        asyncio.run(session.aclose())


def test_a_removed_machines_late_reports_change_nothing():
    """A value or a failure of a removed machine's binding still on its way when it went is ignored: no
    row of another machine is touched, no message names it."""
    store = StateStore(["M1", "M2", "M3"], ["Temperature", "State"])
    a, b = store.bind("M2", "Temperature", "ns=2;s=T2"), store.bind("M3", "Temperature", "ns=2;s=T3")
    store.ingest([Update(a, 20.0, received_ts=1.0), Update(b, 30.0, received_ts=1.0)])
    assert store.set_machines(["M1", "M3"]) == [a]
    assert not store.is_bound(a) and store.is_bound(b) and store.binding_of(a)[0] == "M2"
    store.ingest([Update(a, 99.0, received_ts=2.0)])
    store.mark_bad(a, 0x80340000)
    store.unbind(a)
    assert store.value("M3", "Temperature") == 30.0 and store.status[store.machine_index["M3"], 0] == 0
    session = LiveSession()
    session.store = store
    assert session.binding_error(a, "BadNodeIdUnknown") is None
    assert session.binding_error(b, "BadNodeIdUnknown") == "M3.Temperature: BadNodeIdUnknown"
    assert not session.follow(load_factory(DEMO))  # not live: the caller starts anew
