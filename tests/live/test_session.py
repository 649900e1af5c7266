"""The live session without a GUI, against the plant simulator over 127.0.0.1: reports arrive on the
network thread and are applied on this one; the store, the history, alarms and replay follow; a stopped
session's reports are dropped."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import numpy as np
import psygnal
import pytest

from app.live.client import ConnectionSettings, LinkState
from app.live.session import LiveSession
from app.model.io import load_factory
from app.state.replay import Recorded
from tests.conftest import DEMO
from tests.live.conftest import free_port, plantsim


@pytest.fixture
def plant():
    proc = plantsim(free_port(), speed=20.0, interval_s=0.25)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(10)


def _wire(session: LiveSession, threads: dict[str, set[str]]) -> None:
    """This thread plays the GUI thread: reports are queued for it (``psygnal.emit_queued``) and applied
    here, those of an older generation dropped — as the live link's slots do."""

    def values(generation: int, batch: list) -> None:
        threads["applied"].add(threading.current_thread().name)
        if generation == session.generation:
            session.ingest(batch)

    def link(generation: int, state: LinkState, _message: str, at: float) -> None:
        if generation == session.generation:
            session.apply_link(state, at)

    session.values_received.connect(lambda *_: threads["emitted"].add(threading.current_thread().name))
    session.values_received.connect(values, thread="current")
    session.link_changed.connect(link, thread="current")
    session.binding_info.connect(lambda g, infos: g == session.generation and session.apply_info(infos), thread="current")


def _pump(session: LiveSession, until: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not until():
        if time.monotonic() > deadline:
            raise TimeoutError("the live session did not get there in time")
        time.sleep(0.05)
        psygnal.emit_queued()
        session.flush(time.time())


def test_a_session_fills_the_store_and_the_history_and_replays_it(plant, tmp_path):
    factory = load_factory(DEMO)
    session = LiveSession(max_age_s=10.0)
    threads: dict[str, set[str]] = {"emitted": set(), "applied": set()}
    _wire(session, threads)
    path = tmp_path / "history.sqlite"
    assert session.start(factory, ConnectionSettings(plant.endpoint), path)
    try:
        assert session.active and session.replay_time is None
        _pump(session, lambda: session.ready(0.9, time.time()), 30)
        assert session.state == LinkState.CONNECTED and session.has_values()
        assert threads == {"emitted": {"opcua-network"}, "applied": {"MainThread"}}  # reported there, applied here
        store = session.store
        assert store is not None and set(store.machines) == {m.id for m in factory.machines}
        states = {store.state(m.id) for m in factory.machines}
        assert states <= {"running", "setup", "starved", "blocked", "down", "unknown"} and len(states - {None}) >= 1
        assert session.alarms.active_machines() == {m for m in store.machines if store.value(m, "Alarm") == 1.0}
        session.tick(time.time())
        rates = session.output_rates()
        assert rates is None or len(rates) == len(factory.machines)

        # A binding changed while live joins the running subscription (no reconnection).
        client, connects = session.client, session.client.stats.connects
        other = factory.machine("CNC-02").tags["Temperature"]
        assert not session.rebind("NO-SUCH-MACHINE", "Temperature", other)
        assert session.rebind("CNC-01", "Temperature", other)
        _pump(session, lambda: store.value("CNC-01", "Temperature") == store.value("CNC-02", "Temperature"), 30)
        assert session.client is client and client.stats.connects == connects
        assert store.binding_of(store.bindings_of("CNC-01", "Temperature")[0])[2] == other

        # What was received is in the history, and the state recorded a moment ago can be shown again.
        assert session.recorder is not None and session.recorder.flush(10)
        t = time.time()
        answers: list[Recorded] = []
        assert session.replayer is not None
        session.replayer.recorded.connect(answers.append)
        session.replayer.request(t)
        assert session.replayer.wait(10) and len(answers) == 1
        session.show_recorded(answers[0])
        shown = session.shown()
        assert shown is not None and shown[1] == t and shown[0] is not store and session.replay_time == t
        recorded_states = {shown[0].state(m.id) for m in factory.machines}
        assert recorded_states - {None}, "the replayed state shows machine states"
        assert session.rates_counting() is None  # rates in a replay come from the history, not the meter
        session.show_recorded(None)
        assert session.shown()[0] is store and session.replay_time is None

        # Stopped: reports still on their way belong to an old generation and change nothing.
        received = store.received
        closing = session.stop()
        assert closing is not None and not session.active and session.state == LinkState.DISCONNECTED
        closing.result(10)
        time.sleep(0.5)
        psygnal.emit_queued()
        session.flush(time.time())
        assert store.received == received
    finally:
        asyncio.run(session.aclose())
    assert session.recorder is None


def test_a_plugin_data_source_that_fails_leaves_nothing_running(tmp_path):
    session = LiveSession()
    made = []

    def failing(settings, *callbacks):
        made.append((settings.endpoint, len(callbacks)))
        return None  # the plugin's factory failed (the plugin manager says why)

    assert not session.start(load_factory(DEMO), ConnectionSettings("csv:/nowhere.csv"), tmp_path / "h.sqlite", failing)
    assert made == [("csv:/nowhere.csv", 3)] and not session.active and session.recorder is None
    asyncio.run(session.aclose())


def test_a_sessions_watcher_is_fed_on_the_network_thread_interrupted_by_an_outage_and_closed(tmp_path):
    """The drift watchdog as the session's watcher: fed every batch with the history's names on the network
    thread, told when the link drops, closed (its log too) when the session stops."""
    from app.watchdog.service import Watchdog

    factory = load_factory(DEMO)
    session = LiveSession(max_age_s=10.0)
    threads: dict[str, set[str]] = {"emitted": set(), "applied": set()}
    _wire(session, threads)
    made: list[Watchdog] = []
    interrupted: list[str] = []

    def make(f, history_path):
        dog = Watchdog(f, log_path=history_path, time_scale=20.0)
        real = dog.interrupted

        def counted() -> None:  # the real one runs: this only notes where it was called
            interrupted.append(threading.current_thread().name)
            real()

        dog.interrupted = counted  # type: ignore[method-assign]
        made.append(dog)
        return dog

    session.make_watcher = make
    port = free_port()
    proc = plantsim(port, speed=20.0, interval_s=0.25)
    path = tmp_path / "history.sqlite"
    settings = ConnectionSettings(f"opc.tcp://127.0.0.1:{port}/floortwin/", timeout_s=1.0, max_backoff_s=1.0, health_check_s=0.5)
    try:
        assert session.start(factory, settings, path)
        dog = made[0]
        assert session.watcher is dog and dog.factory is factory
        _pump(session, lambda: dog.values_fed > 500, 30)
        assert interrupted == []
        proc.kill()
        proc.wait(10)
        _pump(session, lambda: bool(interrupted), 15)
        assert set(interrupted) == {"opcua-network"}
    finally:
        proc.kill()
        proc.wait(10)
        asyncio.run(session.aclose())
    assert session.watcher is None and not dog.running and dog.log is None
    assert dog.detections == []


def test_the_plant_publishes_its_clock_and_the_session_measures_in_plant_time(plant, tmp_path):
    """Trial 7: a link made through Live ▸ Connect to a plant run 20× the clock ran at 1×. The simulator
    publishes its speed (``Plant/TimeScale``); the session takes it over the one given, before the first
    values reach the watcher, and its output rates are per plant hour."""

    class Watcher:
        def __init__(self):
            self.time_scale, self.scales_fed = 0.0, set()

        def feed(self, updates, names):
            self.scales_fed.add(self.time_scale)

        def interrupted(self):
            pass

        def set_factory(self, factory):
            pass

        def close(self):
            pass

    watcher = Watcher()
    session = LiveSession(max_age_s=10.0)
    session.make_watcher = lambda f, path: watcher
    _wire(session, {"emitted": set(), "applied": set()})
    told: list[float] = []
    session.time_scale_changed.connect(lambda g, s: g == session.generation and told.append(s), thread="current")
    session.time_scale_changed.connect(lambda g, s: g == session.generation and session.apply_time_scale(s), thread="current")
    try:
        assert session.start(load_factory(DEMO), ConnectionSettings(plant.endpoint), tmp_path / "h.sqlite", time_scale=1.0)
        assert session.time_scale == 1.0 and watcher.time_scale == 1.0  # what was given, until the server says
        _pump(session, lambda: session.ready(0.9, time.time()), 30)
        assert told == [20.0] and session.time_scale == 20.0 and session.given_time_scale == 1.0
        assert watcher.scales_fed == {20.0}  # every batch was measured in plant seconds
    finally:
        asyncio.run(session.aclose())


def test_output_rates_are_per_plant_hour():
    session = LiveSession()
    session.meter.add(0.0, np.array([100.0, 0.0]))
    session.meter.add(300.0, np.array([110.0, 50.0]))  # 5 min of the clock
    assert session.output_rates() == pytest.approx([120.0, 600.0])  # per clock hour at real time
    assert session.apply_time_scale(20.0) and session.output_rates() is None  # measured at another speed: anew
    session.meter.add(0.0, np.array([100.0, 0.0]))
    session.meter.add(300.0, np.array([110.0, 50.0]))  # 5 clock minutes are 100 plant minutes
    assert session.output_rates() == pytest.approx([6.0, 30.0])
    assert not session.apply_time_scale(20.0)


def test_a_server_that_stalls_for_longer_than_a_second_keeps_its_link(plant, tmp_path):
    """Several trials on a loaded machine saw the link drop ~30 s in for ~25 s: asyncua's own watchdog gave a
    server 1 s to answer its probe. A server that stalls 2.5 s (here: the plant process stopped) within the
    link's 5 s request time keeps the link."""
    import os
    import signal

    session = LiveSession(max_age_s=10.0)
    threads: dict[str, set[str]] = {"emitted": set(), "applied": set()}
    _wire(session, threads)
    assert session.start(load_factory(DEMO), ConnectionSettings(plant.endpoint, timeout_s=5.0), tmp_path / "h.sqlite")
    try:
        _pump(session, lambda: session.ready(0.9, time.time()), 30)
        states: list[LinkState] = []
        session.link_changed.connect(lambda _g, state, *_: states.append(state))
        for _ in range(3):  # three stalls of 2.5 s, 2 s apart: a loaded machine's worst minute
            os.kill(plant.pid, signal.SIGSTOP)
            time.sleep(2.5)
            os.kill(plant.pid, signal.SIGCONT)
            time.sleep(2.0)
            psygnal.emit_queued()
        received = session.store.received
        _pump(session, lambda: session.store.received > received + 50, 20)
        assert states == [] and session.state == LinkState.CONNECTED  # never lost, never reconnecting
    finally:
        session.stop()
