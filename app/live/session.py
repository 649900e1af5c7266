"""A live session: a factory's bound signals kept in a state store, with alarms, output rates and a history.

Qt-free. The session owns the client's lifecycle on the network thread (``app.live.netloop``); what the
client reports there is announced with psygnal signals carrying the session's ``generation``, and fed to
the history recorder on that thread (its queue is thread-safe). Whoever owns the store — the GUI thread —
receives the signals on its own thread (psygnal's ``thread=``; the GUI: ``app.ui.gui_thread``),
drops those of an older generation (a session stopped or restarted meanwhile) and passes the rest to
``ingest``, ``apply_link``, ``binding_error``, ``apply_info`` and ``apply_time_scale``; it calls ``flush`` and
``tick`` on its own clock. A replay (``show_recorded``) puts the state recorded at a past time on view
instead of the live one (``shown``, ``output_rates``).

The plant's clock may run faster than the wall clock (a plant simulator's ``--speed``): ``time_scale`` is
the link's plant seconds per clock second — given at ``start``, replaced by the one the server publishes
when it does (floortwin's plant simulator: ``app.ua.plant_clock``). It is the one place the live figures
learn the plant's speed: output rates are parts per *plant* hour, the watcher measures plant seconds, and
the views (forecast, comparisons, deployment, roll-up) read it from here.

Examples
--------
A session's life, with the GUI thread played by a queue (``thread=`` and ``psygnal.emit_queued``)::

    session = LiveSession()
    session.values_received.connect(lambda g, batch: g == session.generation and session.ingest(batch), thread=main)
    session.start(factory, ConnectionSettings("opc.tcp://127.0.0.1:4840/floortwin/"), history_path)
    ...  # psygnal.emit_queued() on the main thread, session.flush(time.time()) now and then
    asyncio.run(session.aclose())
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import math
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from psygnal import Signal

from app.heat.material import ThroughputMeter, counter_rates
from app.history.recorder import (
    DEFAULT_MAX_BYTES,
    DEFAULT_RETENTION_S,
    History,
    Recorder,
    sample_of,
    wait_for_closing_recorders,
)
from app.live.client import ConnectionSettings, LinkState, LiveClient
from app.live.netloop import NetworkLoop, network_loop
from app.model.factory import Factory, Machine
from app.model.signals import LIVE_SIGNALS
from app.state.alarms import AlarmLog
from app.state.replay import Recorded, Replayer
from app.state.store import BindingInfo, StateStore, Update

log = logging.getLogger(__name__)

#: Output rates (for material flow) are measured over this window of part counts (clock seconds: on a plant
#: run N× the clock it holds N× as much plant time, and as many more parts).
RATE_WINDOW_S = 300.0


#: Builds a plugin's data source from the settings and the three report callbacks (None: it failed).
MakeClient = Callable[..., Any]


class Watcher(Protocol):
    """Something that watches every received batch on the network thread (the drift watchdog): fed with
    the same names as the history, told when the link dropped, closed when the session ends."""

    time_scale: float  # plant seconds per second of the timestamps it is fed

    def feed(self, updates: list[Update], names: list[tuple[str, str, str]]) -> None: ...

    def interrupted(self) -> None: ...

    def set_factory(self, factory: Factory) -> set[tuple[str, str]]: ...

    def close(self) -> None: ...


#: Builds a session's watcher for the factory it binds and its history file (None: no history).
MakeWatcher = Callable[[Factory, Path | None], Watcher]


class RecorderFeed:
    """Turns received values into history samples on the network thread (the recorder's queue is
    thread-safe), so the thread that owns the store only updates the store."""

    def __init__(self, recorder: Recorder | None, names: list[tuple[str, str, str]]):
        self.recorder, self.names = recorder, names

    def __call__(self, updates: list[Update]) -> None:
        if self.recorder is None:
            return
        names = self.names
        samples = []
        for u in updates:
            if u.binding >= len(names):
                continue  # a binding added while this batch was on its way
            machine, signal, node = names[u.binding]
            t = u.source_ts if u.source_ts == u.source_ts else u.received_ts  # NaN: no source time
            samples.append(sample_of(machine, signal, node, u.value, u.status, t, u.received_ts))
        self.recorder.record(samples)


class LiveSession:
    """Keeps a factory's bound signals in a state store while a client is connected.

    Signals (emitted on the network thread; the first argument is the session's generation then)
    -------
    values_received(int, list[Update])
        A batch of values (already queued for the history).
    link_changed(int, LinkState, str, float)
        The link changed: its state, a message, and when (UNIX s, the clock values are stamped with).
    binding_failed(int, int, str)
        A binding (its number in the store) cannot be monitored, and why.
    binding_info(int, list)
        What the server said of bound variables: (binding, ``BindingInfo``) pairs.
    time_scale_changed(int, float)
        At a (re)connection, before its first values: the plant's clock speed on this link (the one the
        server publishes, else the one given to ``start``).
    """

    values_received = Signal(int, object)
    link_changed = Signal(int, object, str, float)
    binding_failed = Signal(int, int, str)
    binding_info = Signal(int, object)
    time_scale_changed = Signal(int, float)

    def __init__(self, max_age_s: float = 10.0):
        self.max_age_s = max_age_s
        self.history_retention_s: float | None = DEFAULT_RETENTION_S  # None: keep everything
        self.history_max_bytes: int | None = DEFAULT_MAX_BYTES  # None: no size cap
        self.factory: Factory | None = None  # the snapshot the session binds
        self.store: StateStore | None = None
        self.client: Any = None  # a LiveClient, or a plugin's data source
        self.recorder: Recorder | None = None
        self.history: History | None = None
        self.replayer: Replayer | None = None
        self.replay: Recorded | None = None  # the recorded state on view (None: live)
        self.alarms = AlarmLog()
        self.meter = ThroughputMeter(RATE_WINDOW_S)  # live part counts → output rates
        self.time_scale = 1.0  # plant seconds per clock second on the link (see the module)
        self.given_time_scale = 1.0  # what ``start`` was told: used when the server publishes none
        self.state = LinkState.DISCONNECTED
        self.generation = 0
        self.net: NetworkLoop | None = None
        self.nan_count = 0
        self._feed = RecorderFeed(None, [])
        self.make_watcher: MakeWatcher | None = None  # e.g. the drift watchdog (app.watchdog), set by its view
        self.watcher: Watcher | None = None  # the running session's, fed on the network thread
        self._session_start = math.inf
        self._attempt_start = 0.0

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(
        self,
        factory: Factory,
        settings: ConnectionSettings,
        history_path: Path | None,
        make_client: MakeClient | None = None,
        time_scale: float = 1.0,
    ) -> bool:
        """Bind every tag of ``factory`` and keep the link up until ``stop``. ``make_client`` builds a
        plugin's data source instead of the OPC UA client; False when it failed (nothing runs then).
        ``time_scale``: the plant's seconds per clock second as the user knows it (1: a real plant); a server
        that publishes its own (``app.ua.plant_clock``) overrides it at each connection."""
        self.stop()
        self.time_scale = self.given_time_scale = time_scale
        store = StateStore([m.id for m in factory.machines], LIVE_SIGNALS)
        bindings, names = [], {}
        for m in factory.machines:
            for signal, node in m.tags.items():
                k = store.bind(m.id, signal, node, m.states.get(signal))
                bindings.append((k, node))
                names[k] = f"{m.id}.{signal}"
        store.rejected.connect(self._on_rejected)
        self.factory, self.store, self.alarms = factory, store, AlarmLog()
        self.history = History(history_path) if history_path is not None else None
        self.replayer = Replayer(self.history, store, RATE_WINDOW_S) if self.history is not None else None
        self.recorder = (
            Recorder(history_path, retention_s=self.history_retention_s, max_bytes=self.history_max_bytes)
            if history_path is not None
            else None
        )
        self.generation += 1
        generation = self.generation
        feed = self._feed = RecorderFeed(self.recorder, [store.binding_of(k) for k in range(len(store.bindings))])
        watcher = self.watcher = self.make_watcher(factory, history_path) if self.make_watcher is not None else None
        if watcher is not None:
            watcher.time_scale = time_scale

        # Reports of a session stopped meanwhile are dropped here already (receivers check again: some are
        # on their way when it stops), so nothing reaches a window that is closing.
        def on_values(batch: list[Update]) -> None:
            feed(batch)
            if generation == self.generation:
                if watcher is not None:  # here, on the network thread: never on the thread that draws
                    watcher.feed(batch, feed.names)
                self.values_received.emit(generation, batch)

        def on_state(state: LinkState, message: str) -> None:
            if generation == self.generation:
                if watcher is not None and state in (LinkState.RECONNECTING, LinkState.FAILED, LinkState.DISCONNECTED):
                    watcher.interrupted()  # the link dropped: no duration is measured across the outage
                self.link_changed.emit(generation, state, message, time.time())

        def on_binding_error(index: int, message: str) -> None:
            if generation == self.generation:
                self.binding_failed.emit(generation, index, message)

        callbacks = (on_values, on_state, on_binding_error)
        if make_client is not None:  # a plugin's data source (a CSV replay, MQTT…)
            self.client = make_client(settings, *callbacks)
            if self.client is None:
                self.stop()
                return False
            self.client.set_bindings(bindings)
        else:
            client = LiveClient(settings, *callbacks)

            def on_binding_info(infos: list[tuple[int, BindingInfo]]) -> None:
                if generation == self.generation:
                    self.binding_info.emit(generation, infos)

            def on_time_scale(published: float | None) -> None:
                if generation == self.generation:
                    scale = published if published is not None else time_scale
                    if watcher is not None:  # here, before the connection's first values are fed
                        watcher.time_scale = scale
                    self.time_scale_changed.emit(generation, scale)

            client.on_binding_info = on_binding_info
            client.on_time_scale = on_time_scale
            client.set_bindings(bindings, names)
            self.client = client
        self.net = network_loop()
        self.net.call(self.client.start)
        self.replay = None
        self.meter.clear()
        log.info("live link: %d bindings of %d machines to %s", len(bindings), len(factory.machines), settings.endpoint)
        return True

    def stop(self) -> concurrent.futures.Future | None:
        """Stop: reports still on their way become stale; returns the client's closing (on the network
        thread), None when there was no client. The store stays, with its last values, until ``start``."""
        client, self.client = self.client, None
        self.generation += 1
        closing = self.net.submit(client.stop()) if client is not None and self.net is not None else None
        if self.recorder is not None:
            if self.state == LinkState.CONNECTED:
                self.recorder.record_link(LinkState.DISCONNECTED.value)
            self.recorder.close(wait=False)  # it commits in the background; aclose waits for it at quit
            self.recorder = None
        self._feed = RecorderFeed(None, [])
        if self.watcher is not None:
            self.watcher.close()  # a batch still on its way finds it closed: it is ignored
            self.watcher = None
        self.state = LinkState.DISCONNECTED
        self.show_recorded(None)
        return closing

    async def aclose(self, timeout_s: float = 5.0) -> None:
        """Stop, wait until the client has disconnected and the history writers have committed."""
        closing = self.stop()
        await wait_for_future(closing, timeout_s)
        if not await asyncio.to_thread(wait_for_closing_recorders, 15.0):
            log.warning("history: a writer did not finish committing in 15 s")

    @property
    def active(self) -> bool:
        return self.client is not None

    def rebind(self, machine_id: str, signal: str, node_id: str | None, states: Any = None) -> bool:
        """Bind (None: unbind) one machine signal while live: the monitored item is added to or removed from
        the running subscription, the session stays. False when that cannot be done here (not live, a
        plugin's data source, a machine the store does not know): then start anew."""
        store, client = self.store, self.client
        if store is None or not isinstance(client, LiveClient) or machine_id not in store.machine_index:
            return False
        old = store.bindings_of(machine_id, signal)
        added: list[tuple[int, str]] = []
        if node_id is not None:
            k = store.bind(machine_id, signal, node_id, states)
            self._feed.names.append(store.binding_of(k))
            added.append((k, node_id))
        for k in old:
            store.unbind(k)
        assert self.net is not None  # a client runs on it
        self.net.submit(_rebind(client, old, added, {k: f"{machine_id}.{signal}" for k, _ in added}))
        return True

    def follow(self, factory: Factory) -> bool:
        """The factory's machines changed while live (added, removed, brought back by an undo): follow the
        new version without reconnecting. The store takes the new machines (a new one shows no data until
        its first value; a removed one's values and active alarm end), the bindings that differ leave or
        join the running subscription (on the network thread), the history records the new bindings from
        their first value (no gap, no restart: the link stays up), and the watcher compares with the new
        version. False when that cannot be done here (not live, a plugin's data source): then start anew.
        """
        store, client = self.store, self.client
        if store is None or not isinstance(client, LiveClient) or self.net is None:
            return False
        now = time.time()
        before = dict(store.machine_index)
        ids = [m.id for m in factory.machines]
        keep = set(ids)
        gone = [m for m in before if m not in keep]
        # Only a machine new or bound otherwise than in the last version followed has bindings to compare (a
        # binding changed on its own, ``rebind``, changed the store as the document).
        old = {m.id: m for m in self.factory.machines} if self.factory is not None else {}
        touched = [m for m in factory.machines if m.id not in before or _bound_otherwise(old.get(m.id), m)]
        dropped = store.set_machines(ids)
        wanted = {(m.id, signal): (node, m.states.get(signal)) for m in touched for signal, node in m.tags.items()}
        rows = {store.machine_index[m.id] for m in touched}
        kept: set[tuple[str, str]] = set()
        for k, (i, j, node) in enumerate(store.bindings):
            if i not in rows or not store.is_bound(k):
                continue
            cell = (store.machines[i], store.signals[j])
            if cell not in kept and wanted.get(cell) == (node, store.state_maps.get((i, j))):
                kept.add(cell)
            else:  # unbound in the new version, bound elsewhere, or mapped otherwise
                store.unbind(k)
                dropped.append(k)
        added: list[tuple[int, str]] = []
        names: dict[int, str] = {}
        for (machine, signal), (node, states) in wanted.items():
            if (machine, signal) not in kept:
                k = store.bind(machine, signal, node, states)
                self._feed.names.append(store.binding_of(k))  # the history records it from its first value
                added.append((k, node))
                names[k] = f"{machine}.{signal}"
        for machine in gone:
            self.alarms.end(machine, now, "machine removed from the layout")  # its alarm ends with it
        self.meter.reindex(np.array([before.get(m, -1) for m in ids], dtype=int))
        if self.watcher is not None:
            self.watcher.set_factory(factory)
        self.factory = factory
        self.show_recorded(None)  # a replayed state has the old machines: live again
        if dropped or added:
            self.net.submit(_rebind(client, dropped, added, names))
        log.info(
            "live link follows the factory's machines (%d added, %d removed): %d bindings added, %d removed, no reconnection",
            len(keep - before.keys()),
            len(gone),
            len(added),
            len(dropped),
        )
        return True

    def browse(self, node_id: str | None) -> concurrent.futures.Future:
        """Browse the server on the network thread (a plugin's data source: what it lists, when it has an
        ``async browse(node_id)``, e.g. an MQTT broker's Sparkplug B metrics); raises ``ConnectionError``
        when not connected."""
        client = self.client
        if isinstance(client, LiveClient):
            if client.client is None or self.net is None:
                raise ConnectionError("not connected")
            return self.net.submit(client.browse(node_id))
        browse = getattr(client, "browse", None)
        if browse is None or self.net is None:
            raise ConnectionError("not connected")
        return self.net.submit(browse(node_id))

    # -- reports, on the store's thread ----------------------------------------------------------------
    def ingest(self, updates: list[Update]) -> None:
        if self.store is not None:
            self.store.ingest(updates)

    def apply_link(self, state: LinkState, at: float) -> None:
        """The link changed at ``at`` (the network thread's clock, as values are stamped): note it in the
        history, and from when the session's values count as current."""
        if state in (LinkState.CONNECTING, LinkState.RECONNECTING):
            self._attempt_start = at  # values of the next session arrive after this...
        if state == LinkState.CONNECTED and self.state != LinkState.CONNECTED:
            self._session_start = self._attempt_start  # ...possibly before "connected" itself is reported
            if self.recorder is not None:
                self.recorder.record_link(state.value, self._session_start)  # the session's values count from here
        elif state != LinkState.CONNECTED and self.state == LinkState.CONNECTED and self.recorder is not None:
            self.recorder.record_link(state.value, at)
        self.state = state
        self.confirm(time.time())

    def binding_error(self, index: int, message: str) -> str | None:
        """A binding failed: its quality turns bad; returns the message naming machine and signal."""
        if self.store is None or not self.store.is_bound(index):
            return None  # unbound, or its machine removed, meanwhile
        machine, signal, _node = self.store.binding_of(index)
        self.store.mark_bad(index, 0x80340000)  # BadNodeIdUnknown
        return f"{machine}.{signal}: {message}"

    def apply_info(self, infos: list[tuple[int, BindingInfo]]) -> None:
        if self.store is not None:
            for index, info in infos:
                self.store.set_info(index, info)

    def apply_time_scale(self, scale: float) -> bool:
        """The link's plant clock speed (``time_scale_changed``); True when it changed. Rates measured at
        another speed are forgotten (a plant simulator restarted at another ``--speed``)."""
        if scale == self.time_scale:
            return False
        log.info("plant clock on the link: %g × real time (was %g ×)", scale, self.time_scale)
        self.time_scale = scale
        self.meter.clear()
        return True

    def _on_rejected(self, count: int) -> None:
        self.nan_count += count
        log.warning("ignored %d NaN/infinite readings (%d so far)", count, self.nan_count)

    # -- on the store owner's clock -------------------------------------------------------------------
    def confirm(self, now: float) -> None:
        """While the link is up, unchanged values are current: tell the store so (staleness is the link's age)."""
        if self.store is not None and self.state == LinkState.CONNECTED:
            self.store.confirm(now, self._session_start)

    def flush(self, now: float) -> np.ndarray:
        """Apply what was ingested: returns the machines (rows) that changed; alarms follow them."""
        store = self.store
        if store is None:
            return np.zeros(0, dtype=int)
        self.confirm(now)
        changed = store.flush()
        if len(changed):
            self.alarms.follow(store, changed, now)
        return changed

    def tick(self, now: float) -> None:
        """Once a second: part counts for the output rates, the link's age."""
        store = self.store
        if store is not None and "PartCount" in store.signal_index:
            fresh = store.fresh("PartCount", now, self.max_age_s)
            self.meter.add(now, np.where(fresh, store.column("PartCount"), np.nan))
        self.confirm(now)

    def ready(self, share: float, now: float) -> bool:
        """True once a state is shown for at least ``share`` of the machines."""
        store = self.store
        return store is not None and bool(store.fresh("State", now, self.max_age_s).mean() >= share)

    def has_values(self) -> bool:
        """True once any bound variable has delivered a value."""
        store = self.store
        return store is not None and bool(np.isfinite(store.received_ts).any())

    # -- what is on view ------------------------------------------------------------------------------
    def show_recorded(self, recorded: Recorded | None) -> None:
        """Put the state recorded at a past time on view (None: live again)."""
        if recorded is None and self.replayer is not None:
            self.replayer.cancel()
        self.replay = recorded

    @property
    def replay_time(self) -> float | None:
        return None if self.replay is None else self.replay.time

    def shown(self, now: float | None = None) -> tuple[StateStore, float] | None:
        """The state on view and its time: the recorded one at the replay time, or the live store now."""
        if self.replay is not None:
            return self.replay.store, self.replay.time
        if self.store is not None:
            return self.store, time.time() if now is None else now
        return None

    def output_rates(self) -> np.ndarray | None:
        """Parts per *plant* hour each machine put out over the last ``RATE_WINDOW_S`` of the clock (live, or
        before the replay time); NaN where unknown; None before there is anything to compare. On a plant
        run ``time_scale``× the clock an hour of the clock holds that many plant hours: the rates say what
        the plant makes in one of its own hours, as its simulation and the forecast do."""
        if self.replay is not None:
            r = self.replay
            if "PartCount" not in r.store.signal_index:
                return None
            return counter_rates(r.before.column("PartCount"), r.store.column("PartCount"), r.window_s * self.time_scale)
        rates = self.meter.rates()
        return None if rates is None else rates / self.time_scale

    def rates_counting(self) -> np.ndarray | None:
        """Machines whose live output rate still waits for enough parts (None in a replay or before data)."""
        return None if self.replay is not None else self.meter.counting()


async def wait_for_future(future: concurrent.futures.Future | None, timeout_s: float) -> None:
    """Await a network-thread future from another loop, giving up quietly after ``timeout_s``."""
    if future is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.wrap_future(future), timeout_s)


def _bound_otherwise(old: Machine | None, new: Machine) -> bool:
    """Whether a machine's bindings (or their state mappings) differ between two versions."""
    return old is None or old.tags != new.tags or old.states != new.states


def _rebind(client: LiveClient, old: list[int], added: list[tuple[int, str]], names: dict[int, str]) -> Coroutine:
    async def run() -> None:
        try:  # added first: their values come at once, and a node that stays monitored keeps its item
            if added:
                await client.add_bindings(added, names)
            if old:
                await client.remove_bindings(old)
        except Exception as e:  # a failing request is the link's business: the next reconnection subscribes anew
            log.warning("could not change the subscription of %s: %s", ", ".join(names.values()) or "a binding", e)

    return run()
