"""The live link: OPC UA client → state store → 3D colours and labels, alarms, history.

Runs the asyncua client on the application's asyncio loop (qasync: the Qt loop), so the network never
blocks the GUI thread and no value crosses threads. The store is flushed at most 30 times a second; the
3D view is recoloured in one array write per flush; labels and staleness are refreshed every second.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import math
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6 import QtCore

from app.heat.colour import heat_colours, lut, value_range
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
from app.model.factory import Factory
from app.plugins import PluginManager
from app.scene.view import FactoryView
from app.state.alarms import AlarmLog
from app.state.colours import LEGEND, state_colours
from app.state.store import StateStore, Update

log = logging.getLogger(__name__)

SIGNALS = ("State", "Temperature", "Power", "PartCount", "Level", "Alarm", "AlarmText", "SpindleLoad", "PressForce", "AxisLoad")
UNITS = {"Temperature": "°C", "Power": "kW", "SpindleLoad": "%", "PressForce": "kN", "AxisLoad": "%"}
LABEL_SIGNAL = "Temperature"
#: Colour map of differences: diverging, centred on zero, colour-blind safe (blue less, red more).
DELTA_CMAP = "RdBu_r"
#: Output rates (for material flow) are measured over this window of part counts.
RATE_WINDOW_S = 300.0
# History queries run here, off the GUI thread (one at a time: a replay only ever wants the latest time).
_QUERIES = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="history-query")


async def _wait(future: concurrent.futures.Future, timeout: float = 10.0) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.wrap_future(future), timeout)


@dataclass(frozen=True)
class HeatLayer:
    """Machine heat: colour machines by ``signal`` with a colour map, over a fixed or automatic range."""

    signal: str
    cmap: str = "inferno"
    fixed_range: tuple[float, float] | None = None


class _RecorderFeed:
    """Turns received values into history samples, on the network thread (the recorder's queue is
    thread-safe), so the GUI thread only updates the state store."""

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


class _Marshal:
    """Hands the network thread's reports to the link on the GUI's loop (holding the link weakly, so a
    client still closing on the network thread does not keep the window alive)."""

    def __init__(self, link: LiveLink, loop: asyncio.AbstractEventLoop):
        self._link = weakref.ref(link)
        self._loop = loop

    def call(self, generation: int, method: str, *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # the GUI loop is closed: the application is exiting
            self._loop.call_soon_threadsafe(self._deliver, generation, method, args)

    def _deliver(self, generation: int, method: str, args: tuple) -> None:
        link = self._link()
        if link is not None and link._generation == generation:
            getattr(link, method)(*args)


class LiveLink(QtCore.QObject):
    """Keeps a factory's bound signals live on the view.

    Signals
    -------
    state_changed(str, str)
        Link state ("connected", "reconnecting", ...) and a message for the status bar.
    values_flushed(object)
        Indices of machines that changed (after each flush).
    binding_failed(str)
        A binding could not be monitored (message names the machine, signal and node).
    replay_shown(float)
        The view now shows the recorded state at this time (NaN: back to live).
    """

    state_changed = QtCore.Signal(str, str)
    values_flushed = QtCore.Signal(object)
    binding_failed = QtCore.Signal(str)
    replay_shown = QtCore.Signal(float)
    offline_colours_wanted = QtCore.Signal()  # a difference left the view and there are no values to draw

    def __init__(
        self,
        view: FactoryView,
        parent: QtCore.QObject | None = None,
        max_age_s: float = 10.0,
        plugins: PluginManager | None = None,
    ):
        super().__init__(parent)
        self.view = view
        self.plugins = plugins  # data sources and heat layers of plugins
        self.max_age_s = max_age_s
        self.store: StateStore | None = None
        self.client: LiveClient | None = None
        self.recorder: Recorder | None = None
        self.alarms = AlarmLog()
        self.factory: Factory | None = None
        self.state = LinkState.DISCONNECTED
        self._session_start = math.inf
        self._attempt_start = 0.0
        self.nan_count = 0
        self._blink = False
        self._flush = QtCore.QTimer(self)
        self._flush.setInterval(33)
        self._flush.timeout.connect(self.flush)
        self._tick = QtCore.QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._on_tick)
        self._blinker = QtCore.QTimer(self)
        self._blinker.setInterval(500)
        self._blinker.timeout.connect(self._on_blink)
        self._base_labels: list[str] = []
        self._generation = 0
        self.heat: HeatLayer | None = None  # colour by a numeric signal instead of the state
        self.delta: tuple[str, np.ndarray] | None = None  # colour by a what-if difference (title, per machine)
        self._bar: tuple | None = None
        self.paused = False  # True while the layout is edited: the view shows verdicts, not states
        self.net: NetworkLoop | None = None
        self.history: History | None = None
        self.replay_time: float | None = None  # None: live
        self.replay_store: StateStore | None = None
        self._replay_wanted: float | None = None
        self._replay_task: asyncio.Task | None = None
        self.meter = ThroughputMeter(RATE_WINDOW_S)  # live part counts → output rates
        self.history_retention_s: float | None = DEFAULT_RETENTION_S  # None: keep everything
        self.history_max_bytes: int | None = DEFAULT_MAX_BYTES  # None: no size cap
        self._replay_rates: np.ndarray | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self, factory: Factory, settings: ConnectionSettings, history_path: Path | None) -> None:
        """Bind every tag of ``factory`` and keep the link up until ``stop``."""
        self.stop()
        try:
            gui_loop = asyncio.get_running_loop()
        except RuntimeError:
            log.error("the live link needs the application's asyncio loop (qasync); not connecting to %s", settings.endpoint)
            self.state_changed.emit(LinkState.FAILED.value, "no asyncio event loop in this application")
            return
        self.factory = factory
        store = StateStore([m.id for m in factory.machines], SIGNALS)
        self.history = History(history_path) if history_path is not None else None
        bindings, names = [], {}
        for m in factory.machines:
            for signal, node in m.tags.items():
                k = store.bind(m.id, signal, node, m.states.get(signal))
                bindings.append((k, node))
                names[k] = f"{m.id}.{signal}"
        store.rejected.connect(self._on_rejected)
        self.store = store
        self.alarms = AlarmLog()
        self.recorder = (
            Recorder(history_path, retention_s=self.history_retention_s, max_bytes=self.history_max_bytes)
            if history_path is not None
            else None
        )
        self._base_labels = [m.id for m in factory.machines]
        # The client lives on the network thread; what it reports comes back to this (the GUI's) loop. A
        # generation number drops reports of a link that was stopped or restarted meanwhile.
        self._generation += 1
        generation, here = self._generation, _Marshal(self, gui_loop)
        record = _RecorderFeed(self.recorder, [store.binding_of(k) for k in range(len(store.bindings))])
        self._record = record
        callbacks = (
            lambda batch: (record(batch), here.call(generation, "_on_values", batch)),
            lambda state, message: here.call(generation, "_on_state", state, message, time.time()),
            lambda index, message: here.call(generation, "_on_binding_error", index, message),
        )
        scheme = settings.endpoint.split(":", 1)[0]
        source = self.plugins.data_source(scheme) if self.plugins is not None else None
        if source is not None and self.plugins is not None:  # a plugin's data source (a CSV replay, MQTT…)
            self.client = self.plugins.guard(source.plugin, source.make, settings, *callbacks)
            if self.client is None:
                self.state_changed.emit(LinkState.FAILED.value, f"the {source.label} data source failed (Help ▸ Plugins)")
                return
        else:
            self.client = LiveClient(settings, *callbacks)
            self.client.on_binding_info = lambda infos: here.call(generation, "_on_binding_info", infos)
        if isinstance(self.client, LiveClient):
            self.client.set_bindings(bindings, names)
        else:
            self.client.set_bindings(bindings)
        self.net = network_loop()
        self.net.call(self.client.start)
        self._flush.start()
        self._tick.start()
        self._blinker.start()
        if self.heat is None:
            self.view.set_legend(LEGEND, "Machine state")
        self._bar = None
        self.replay_time = self.replay_store = None
        self.meter.clear()
        self.recolour()
        log.info("live link: %d bindings of %d machines to %s", len(bindings), len(factory.machines), settings.endpoint)

    def stop(self) -> None:
        """Stop updating; the client closes in the background (``aclose`` awaits it)."""
        self._flush.stop()
        self._tick.stop()
        self._blinker.stop()
        client, self.client = self.client, None
        self._generation += 1
        if client is not None:
            stopping = self.net.submit(client.stop())
            try:
                self._closing = asyncio.get_running_loop().create_task(_wait(stopping))
            except RuntimeError:  # no GUI loop any more (shutdown): the network thread finishes by itself
                self._closing = None
        if self.recorder is not None:
            if self.state == LinkState.CONNECTED:
                self.recorder.record_link(LinkState.DISCONNECTED.value)
            self.recorder.close(wait=False)  # it commits in the background; aclose waits for it at quit
            self.recorder = None
        self.state = LinkState.DISCONNECTED
        self._replay_wanted = None
        self.replay_time = self.replay_store = None
        if self.store is not None:
            self.flush()

    async def aclose(self) -> None:
        """Stop and wait until the client has disconnected."""
        self.stop()
        closing = getattr(self, "_closing", None)
        if closing is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(closing, 5)
        # History writers still committing after a disconnect finish before the application ends.
        if not await asyncio.to_thread(wait_for_closing_recorders, 15.0):
            log.warning("history: a writer did not finish committing in 15 s")

    @property
    def active(self) -> bool:
        return self.client is not None

    def rebind(self, machine_id: str, signal: str, node_id: str | None, states=None) -> bool:
        """Bind (None: unbind) one machine signal while live: the monitored item is added to or removed from
        the running subscription, the session stays. False when that cannot be done here (not live, a
        plugin's data source, a machine the live store does not know): then reconnect."""
        store, client = self.store, self.client
        if store is None or not isinstance(client, LiveClient) or machine_id not in store.machine_index:
            return False
        old = store.bindings_of(machine_id, signal)
        added: list[tuple[int, str]] = []
        if node_id is not None:
            k = store.bind(machine_id, signal, node_id, states)
            self._record.names.append(store.binding_of(k))
            added.append((k, node_id))
        for k in old:
            store.unbind(k)
        self.net.submit(self._rebind(client, old, added, {k: f"{machine_id}.{signal}" for k, _ in added}))
        self.flush()
        return True

    @staticmethod
    async def _rebind(client: LiveClient, old: list[int], added: list[tuple[int, str]], names: dict[int, str]) -> None:
        try:
            if old:
                await client.remove_bindings(old)
            if added:
                await client.add_bindings(added, names)
        except Exception as e:  # a failing request is the link's business: the next reconnection subscribes anew
            log.warning("could not change the subscription of %s: %s", ", ".join(names.values()) or "a binding", e)

    async def browse(self, node_id: str | None):
        """Browse the server (on the network thread); raises ``ConnectionError`` when not connected."""
        client = self.client
        if client is None or client.client is None:
            raise ConnectionError("not connected")
        return await asyncio.wrap_future(self.net.submit(client.browse(node_id)))

    # -- incoming ---------------------------------------------------------------------------------
    def _on_values(self, updates: list[Update]) -> None:
        if self.store is not None:
            self.store.ingest(updates)

    def _on_state(self, state: LinkState, message: str, at: float | None = None) -> None:
        """The link changed; ``at`` is when, on the network thread's clock (it stamps values the same way)."""
        at = time.time() if at is None else at
        if state in (LinkState.CONNECTING, LinkState.RECONNECTING):
            self._attempt_start = at  # values of the next session arrive after this...
        if state == LinkState.CONNECTED and self.state != LinkState.CONNECTED:
            self._session_start = self._attempt_start  # ...possibly before "connected" itself is reported
            if self.recorder is not None:
                self.recorder.record_link(state.value, self._session_start)  # the session's values count from here
        elif state != LinkState.CONNECTED and self.state == LinkState.CONNECTED and self.recorder is not None:
            self.recorder.record_link(state.value, at)
        self.state = state
        self._confirm()
        self.state_changed.emit(state.value, message)
        if state in (LinkState.RECONNECTING, LinkState.FAILED, LinkState.DISCONNECTED):
            self.recolour()  # values age into "no data" as the link stays down

    def _on_binding_error(self, index: int, message: str) -> None:
        if self.store is not None:
            machine, signal, _node = self.store.binding_of(index)
            self.store.mark_bad(index, 0x80340000)  # BadNodeIdUnknown
            self.binding_failed.emit(f"{machine}.{signal}: {message}")

    def _on_binding_info(self, infos: list) -> None:
        """What the server said about bound variables (units, EURange, data type): (binding, BindingInfo) pairs."""
        if self.store is not None:
            for index, info in infos:
                self.store.set_info(index, info)

    def _on_rejected(self, count: int) -> None:
        self.nan_count += count
        log.warning("ignored %d NaN/infinite readings (%d so far)", count, self.nan_count)

    # -- outgoing ---------------------------------------------------------------------------------
    def _confirm(self) -> None:
        """While the link is up, unchanged values are current: tell the store so (staleness is the link's age)."""
        if self.store is not None and self.state == LinkState.CONNECTED:
            self.store.confirm(time.time(), self._session_start)

    def flush(self) -> None:
        store = self.store
        if store is None:
            return
        self._confirm()
        changed = store.flush()
        if len(changed):
            now = time.time()
            alarm_col = store.signal_index.get("Alarm")
            for i in changed:
                if alarm_col is None:
                    break
                v = store.values[i, alarm_col]
                if np.isfinite(v):
                    text = store.texts[i, store.signal_index["AlarmText"]] if "AlarmText" in store.signal_index else ""
                    self.alarms.update(store.machines[i], bool(v), text or "", now)
            self.recolour()
            self.values_flushed.emit(changed)

    def set_colour_by(self, heat: HeatLayer | None) -> None:
        """Colour machines by a numeric signal (a heat map) instead of their state; None: by state."""
        self.heat = heat
        self.delta = None
        self._bar = None
        if heat is None:
            self.view.set_colour_bar(None)
            if self.store is not None:
                self.view.set_legend(LEGEND, "Machine state")
        self.recolour()

    def _recolour_heat(self, store: StateStore, now: float) -> None:
        heat = self.heat
        layer = self.plugins.heat_values(heat.signal, store, now, self.factory) if self.plugins is not None else None
        if layer is not None:  # a plugin's layer, computed from the state on view
            values, unit = layer
            known = np.isfinite(values)
        else:
            values = store.column(heat.signal)
            known = store.fresh(heat.signal, now, self.max_age_s)
            unit = self.unit_of(store, heat.signal)
        lo, hi = value_range(values, known, heat.fixed_range, unit)
        self.view.set_machine_colours(heat_colours(values, known, lo, hi, heat.cmap))
        bar = (f"{heat.signal} ({unit})" if unit else heat.signal, round(lo, 6), round(hi, 6), heat.cmap)
        if bar != self._bar:  # the legend is rebuilt only when its range or map changes
            self._bar = bar
            self.view.set_colour_bar(bar[0], lo, hi, lut(heat.cmap))

    def show_delta(self, title: str, values: np.ndarray | None) -> None:
        """Colour machines by a difference (a what-if scenario against its baseline, or simulated against
        actual): a diverging colour map centred on zero, grey where unknown; None goes back to before."""
        if values is None:
            self.delta = None
            self._bar = None
            self.view.set_colour_bar(None)
            if self.store is None and self.replay_store is None:
                self.offline_colours_wanted.emit()  # kinds (or grey "no data"), with their legend, as before
                return
            if self.heat is None:
                self.view.set_legend(LEGEND, "Machine state")
            self.recolour()
            return
        self.delta = (title, np.asarray(values, dtype=float))
        values = self.delta[1]
        known = np.isfinite(values)
        reach = float(np.abs(values[known]).max()) if known.any() else 1.0
        reach = reach if reach > 0 else 1.0
        self.view.set_machine_colours(heat_colours(values, known, -reach, reach, DELTA_CMAP))
        self._bar = None
        self.view.set_colour_bar(title, -reach, reach, lut(DELTA_CMAP))

    def recolour(self, now: float | None = None) -> None:
        """Colour every machine by its state (or the heat-map signal) — live, or as recorded at the replay
        time — in one array write."""
        if self.delta is not None:
            return  # a what-if difference is on view: it does not change with live values
        replaying = self.replay_time is not None
        store = self.replay_store if replaying else self.store
        if store is None or self.paused:
            return
        now = self.replay_time if replaying else (time.time() if now is None else now)
        if self.heat is not None:
            self._recolour_heat(store, now)
            return
        j = store.signal_index["State"]
        age = store.ages("State", now)
        if replaying:  # an alarm then showed steadily; acknowledgement is a live matter
            alarm = store.column("Alarm") > 0.5
            blink = True
        else:
            alarm = np.zeros(len(store.machines), dtype=bool)
            unacked = self.alarms.unacknowledged_machines()
            if unacked:
                alarm[[store.machine_index[m] for m in unacked]] = True
            blink = self._blink
        rgb = state_colours(store.values[:, j], store.status[:, j], age, self.max_age_s, alarm, blink)
        self.view.set_machine_colours(rgb)

    def label_texts(self) -> list[str]:
        """Machine labels with their value (``CNC-01 · 41.2 °C``), live or at the replay time; stale values are not shown."""
        replaying = self.replay_time is not None
        store = self.replay_store if replaying else self.store
        if store is None:
            return list(self._base_labels)
        j = store.signal_index[LABEL_SIGNAL]
        fresh = store.fresh(LABEL_SIGNAL, self.replay_time if replaying else time.time(), self.max_age_s)
        vals = store.values[:, j]
        default = UNITS.get(LABEL_SIGNAL, "")
        out = []
        rows = zip(self._base_labels, vals, fresh, store.units[:, j], store.out_of_range[:, j], strict=True)
        for i, (b, v, ok, unit, outside) in enumerate(rows):
            if not ok:
                out.append(b)
                continue
            unit = default if unit is None else unit  # the server's unit where it gives one
            text = f"{b} · {v:.1f} {unit}".rstrip()
            if outside:  # beyond the server's EURange, said in words (the 3D labels' font has no warning sign)
                text += f" (max {store.eu_high[i, j]:g})" if v > store.eu_high[i, j] else f" (min {store.eu_low[i, j]:g})"
            out.append(text)
        return out

    def units_of(self, machine_id: str) -> dict[str, str]:
        """The engineering units the server gives for a machine's signals (those it gives)."""
        store = self.store
        if store is None or machine_id not in store.machine_index:
            return {}
        row = store.units[store.machine_index[machine_id]]
        return {signal: row[j] for signal, j in store.signal_index.items() if row[j]}

    @staticmethod
    def unit_of(store: StateStore, signal: str) -> str:
        """The unit of a signal across machines: the server's (the most common one it gives), else floortwin's."""
        j = store.signal_index.get(signal)
        given = [u for u in store.units[:, j] if u] if j is not None else []
        return max(set(given), key=given.count) if given else UNITS.get(signal, "")

    # -- replay ---------------------------------------------------------------------------------------
    def show_time(self, t: float | None) -> None:
        """Show the factory as recorded at time ``t`` (UNIX s), or live again with None.

        The history is queried off the GUI thread; while a query runs only the latest requested time is
        remembered, so dragging a slider never queues up work.
        """
        if t is None:
            self._replay_wanted = None
            self.replay_time = self.replay_store = None
            self.recolour()
            self.view.set_label_texts(self.label_texts())
            self.replay_shown.emit(math.nan)
            return
        if self.history is None or self.store is None:
            return
        self._replay_wanted = t
        if self._replay_task is None or self._replay_task.done():
            self._replay_task = asyncio.get_running_loop().create_task(self._replay())

    async def _replay(self) -> None:
        loop = asyncio.get_running_loop()
        while self._replay_wanted is not None and self.history is not None and self.store is not None:
            t, history = self._replay_wanted, self.history
            try:
                snapshot, link, earlier = await loop.run_in_executor(
                    _QUERIES, lambda h=history, t=t: (h.state_at(t), h.link_at(t), h.state_at(t - RATE_WINDOW_S))
                )
            except Exception as e:  # a missing or damaged history file: say so, stay where we are
                log.error("cannot replay %s: %s", history.path, e)
                self._replay_wanted = None
                return
            if self._replay_wanted is None or self.store is None:  # went live (or stopped) meanwhile
                return
            replay = self.store.empty_copy()
            replay.restore(snapshot)
            if link is not None:
                replay.confirm(link[1], link[0])
            before = self.store.empty_copy()
            before.restore(earlier)
            self._replay_rates = (
                counter_rates(before.column("PartCount"), replay.column("PartCount"), RATE_WINDOW_S)
                if "PartCount" in replay.signal_index
                else None
            )
            self.replay_store, self.replay_time = replay, t
            self.recolour()
            self.view.set_label_texts(self.label_texts())
            self.replay_shown.emit(t)
            if self._replay_wanted == t:
                self._replay_wanted = None

    def shown(self) -> tuple[StateStore, float] | None:
        """The state on view and its time: the live store now, or the replayed one at the replay time."""
        if self.replay_time is not None and self.replay_store is not None:
            return self.replay_store, self.replay_time
        if self.store is not None:
            return self.store, time.time()
        return None

    def output_rates(self) -> np.ndarray | None:
        """Parts per hour each machine put out over the last ``RATE_WINDOW_S`` (live, or before the replay
        time); NaN where unknown; None before there is anything to compare."""
        if self.replay_time is not None:
            return self._replay_rates
        return self.meter.rates()

    def rates_counting(self) -> np.ndarray | None:
        """Machines whose live output rate still waits for enough parts (None in a replay or before data)."""
        return None if self.replay_time is not None else self.meter.counting()

    def _on_tick(self) -> None:
        store = self.store
        if store is not None and "PartCount" in store.signal_index:
            now = time.time()
            fresh = store.fresh("PartCount", now, self.max_age_s)
            self.meter.add(now, np.where(fresh, store.column("PartCount"), np.nan))
        self._confirm()
        self.recolour()
        self.view.set_label_texts(self.label_texts())

    def _on_blink(self) -> None:
        if self.alarms.unacknowledged_machines():
            self._blink = not self._blink
            self.recolour()
