"""The live link's view: a live session's state on the 3D view — colours, labels, legends — on timers.

The session (``app.live.session``, Qt-free) keeps the store, alarms, output rates, the history and the
client on the network thread; this adapter receives its reports on the GUI thread, drops those of an
older session (its generation), and draws: the store is flushed at most 30 times a second, the 3D view
recoloured in one array write per flush, labels and staleness refreshed every second, unacknowledged
alarms blinking twice a second.

Reports cross from the network thread the one way every report reaches the GUI thread
(``app.ui.gui_thread``: psygnal's queued connections, no Qt call on the network thread).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import QtCore

from app.heat.colour import lut
from app.live.client import ConnectionSettings, LinkState
from app.live.machine_colours import ColourBar, HeatLayer, delta_colouring, heat_colouring, share_colouring, state_colouring
from app.live.session import LiveSession, wait_for_future
from app.model.factory import Factory
from app.plugins import PluginManager
from app.scene.view import FactoryView
from app.state import labels
from app.state.alarms import recorded_alarms
from app.state.colours import LEGEND
from app.state.replay import Recorded
from app.state.store import StateStore
from app.ui.gui_thread import connect_on_gui

log = logging.getLogger(__name__)


def _from_session(name: str, doc: str, writable: bool = False) -> Any:
    """A property of the link that is its session's attribute ``name``."""

    def setter(link: LiveLink, value: object) -> None:
        setattr(link.session, name, value)

    return property(lambda link: getattr(link.session, name), setter if writable else None, doc=doc)


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
    offline_colours_wanted()
        A difference left the view and there are no values to draw.
    time_scale_changed(float)
        The plant's clock on the link runs at another speed than was given (the server published its own).
    """

    state_changed = QtCore.Signal(str, str)
    values_flushed = QtCore.Signal(object)
    binding_failed = QtCore.Signal(str)
    replay_shown = QtCore.Signal(float)
    offline_colours_wanted = QtCore.Signal()
    time_scale_changed = QtCore.Signal(float)

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
        self.session = LiveSession(max_age_s)
        connect_on_gui(self.session.values_received, self._on_values)
        connect_on_gui(self.session.link_changed, self._on_state)
        connect_on_gui(self.session.binding_failed, self._on_binding_error)
        connect_on_gui(self.session.binding_info, self._on_binding_info)
        connect_on_gui(self.session.time_scale_changed, self._on_time_scale)
        self._flush = QtCore.QTimer(self)
        self._flush.setInterval(33)
        self._flush.timeout.connect(self.flush)
        self._tick = QtCore.QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._on_tick)
        self._blinker = QtCore.QTimer(self)
        self._blinker.setInterval(500)
        self._blinker.timeout.connect(self._on_blink)
        self._blink = False
        self._base_labels: list[str] = []
        self._closing: asyncio.Task | None = None
        self.heat: HeatLayer | None = None  # colour by a numeric signal instead of the state
        self.delta: tuple[str, np.ndarray] | None = None  # colour by a what-if difference (title, per machine)
        self._bar: ColourBar | None = None
        self.paused = False  # True while the layout is edited: the view shows verdicts, not states

    # -- the session's state, as the rest of the window reads it ---------------------------------------
    store = _from_session("store", "The live state store (None before the first connection).")
    client = _from_session("client", "The running client: a LiveClient or a plugin's data source (None: offline).")
    recorder = _from_session("recorder", "The history recorder of the running session.")
    history = _from_session("history", "The history the session records to (and replays from).")
    alarms = _from_session("alarms", "The session's alarm log.")
    factory = _from_session("factory", "The factory version the session binds.")
    state = _from_session("state", "The link's state (a LinkState).")
    net = _from_session("net", "The network thread's loop.")
    meter = _from_session("meter", "Live output rates.")
    nan_count = _from_session("nan_count", "NaN or infinite readings ignored so far.")
    time_scale = _from_session("time_scale", "Plant seconds per clock second on the link (its output rates are per plant hour).")
    active = _from_session("active", "True while a client runs.")
    max_age_s = _from_session("max_age_s", "Values older than this show as no data.", writable=True)
    history_retention_s = _from_session("history_retention_s", "Keep this much history (None: all).", writable=True)
    history_max_bytes = _from_session("history_max_bytes", "Cap of the history's size (None: none).", writable=True)

    @property
    def replay_time(self) -> float | None:
        """The time shown from the history (None: live)."""
        return self.session.replay_time

    @property
    def replay_store(self) -> StateStore | None:
        return None if self.session.replay is None else self.session.replay.store

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self, factory: Factory, settings: ConnectionSettings, history_path: Path | None, time_scale: float = 1.0) -> None:
        """Bind every tag of ``factory`` and keep the link up until ``stop``; ``time_scale``: the plant's clock
        speed as far as the user knows it (the server's own, when it publishes one, replaces it)."""
        self.stop()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            log.error("the live link needs the application's asyncio loop (qasync); not connecting to %s", settings.endpoint)
            self.state_changed.emit(LinkState.FAILED.value, "no asyncio event loop in this application")
            return
        scheme = settings.endpoint.split(":", 1)[0]
        source = self.plugins.data_source(scheme) if self.plugins is not None else None
        make_client = (  # a plugin's data source (a CSV replay, MQTT…) instead of OPC UA
            None if source is None or self.plugins is None else functools.partial(self.plugins.guard, source.plugin, source.make)
        )
        if not self.session.start(factory, settings, history_path, make_client, time_scale):
            label = source.label if source is not None else settings.endpoint
            self.state_changed.emit(LinkState.FAILED.value, f"the {label} data source failed (Help ▸ Plugins)")
            return
        if self.session.replayer is not None:
            connect_on_gui(self.session.replayer.recorded, self._on_recorded)
        self._base_labels = [m.id for m in factory.machines]
        self._flush.start()
        self._tick.start()
        self._blinker.start()
        if self.heat is None:
            self.view.set_legend(LEGEND, "Machine state")
        self._bar = None
        self.recolour()

    def stop(self) -> None:
        """Stop updating; the client closes in the background (``aclose`` awaits it)."""
        self._flush.stop()
        self._tick.stop()
        self._blinker.stop()
        closing = self.session.stop()
        if closing is not None:
            try:
                self._closing = asyncio.get_running_loop().create_task(wait_for_future(closing, 10.0))
            except RuntimeError:  # no GUI loop any more (shutdown): the network thread finishes by itself
                self._closing = None
        if self.store is not None:
            self.flush()

    async def aclose(self) -> None:
        """Stop and wait until the client has disconnected and the history has been committed."""
        self.stop()
        closing = self._closing
        if closing is not None:
            await closing  # gives up by itself after 10 s
        await self.session.aclose()

    def rebind(self, machine_id: str, signal: str, node_id: str | None, states=None) -> bool:
        """Bind (None: unbind) one machine signal on the running subscription (see ``LiveSession.rebind``)."""
        if not self.session.rebind(machine_id, signal, node_id, states):
            return False
        self.flush()
        return True

    def follow(self, factory: Factory) -> bool:
        """The factory's machines changed while live: the session follows them on the running link (see
        ``LiveSession.follow``) and the view draws them; False when it cannot (then start anew)."""
        replaying = self.replay_time is not None
        if not self.session.follow(factory):
            return False
        self._base_labels = [m.id for m in factory.machines]
        if replaying:
            self.replay_shown.emit(math.nan)  # the replayed state had the old machines: live again
        self.flush()
        self.view.set_label_texts(self.label_texts())
        return True

    async def browse(self, node_id: str | None):
        """Browse the server (on the network thread); raises ``ConnectionError`` when not connected."""
        return await asyncio.wrap_future(self.session.browse(node_id))

    # -- reports from the network thread, queued for the GUI thread (see the module docstring) ---------------
    def _on_values(self, generation: int, updates: list) -> None:
        if generation == self.session.generation:
            self.session.ingest(updates)

    def _on_state(self, generation: int, state: LinkState, message: str, at: float) -> None:
        """The link changed; ``at`` is when, on the network thread's clock (it stamps values the same way)."""
        if generation != self.session.generation:
            return
        self.session.apply_link(state, at)
        self.state_changed.emit(state.value, message)
        if state in (LinkState.RECONNECTING, LinkState.FAILED, LinkState.DISCONNECTED):
            self.recolour()  # values age into "no data" as the link stays down

    def _on_binding_error(self, generation: int, index: int, message: str) -> None:
        if generation == self.session.generation:
            text = self.session.binding_error(index, message)
            if text is not None:
                self.binding_failed.emit(text)

    def _on_binding_info(self, generation: int, infos: list) -> None:
        if generation == self.session.generation:
            self.session.apply_info(infos)

    def _on_time_scale(self, generation: int, scale: float) -> None:
        if generation == self.session.generation and self.session.apply_time_scale(scale):
            self.time_scale_changed.emit(scale)

    # -- drawing ---------------------------------------------------------------------------------------
    def flush(self) -> None:
        if self.store is None:
            return
        changed = self.session.flush(time.time())
        if len(changed):
            self.recolour()
            self.values_flushed.emit(changed)

    def show_now(self) -> None:
        """Draw what has arrived now, colours and labels (they otherwise follow every 33 ms and every second)."""
        self.flush()
        if self.store is not None:
            self.view.set_label_texts(self.label_texts())

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

    def _show_bar(self, bar: ColourBar) -> None:
        if not bar.same_as(self._bar):  # the legend is rebuilt only when its range or map changes
            self._bar = bar
            self.view.set_colour_bar(bar.title, bar.lo, bar.hi, lut(bar.cmap))

    def show_delta(self, title: str, values: np.ndarray | None, share: bool = False) -> None:
        """Colour machines by a difference (a what-if scenario against its baseline, or simulated against
        actual): a diverging colour map centred on zero, grey where unknown; ``share``: by a share of the time
        (0–1, a bottleneck share) on a 0–100% scale instead; None goes back to before."""
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
        rgb, bar = share_colouring(*self.delta) if share else delta_colouring(*self.delta)
        self.view.set_machine_colours(rgb)
        self._bar = None
        self._show_bar(bar)

    def recolour(self, now: float | None = None) -> None:
        """Colour every machine by its state (or the heat-map signal) — live, or as recorded at the replay
        time — in one array write."""
        if self.delta is not None or self.paused:
            return  # a what-if difference (or the layout editor's verdicts) is on view
        shown = self.session.shown(now)
        if shown is None:
            return
        store, t = shown
        if self.heat is not None:
            plugins, heat = self.plugins, self.heat
            layer = plugins.heat_values(heat.signal, store, t, self.factory) if plugins is not None else None
            rgb, bar = heat_colouring(store, heat, t, self.max_age_s, layer)  # a plugin's layer, or a signal
            self.view.set_machine_colours(rgb)
            self._show_bar(bar)
        elif self.replay_time is not None:  # an alarm then showed steadily; acknowledgement is a live matter
            self.view.set_machine_colours(state_colouring(store, t, self.max_age_s, recorded_alarms(store), True))
        else:
            self.view.set_machine_colours(state_colouring(store, t, self.max_age_s, self.alarms.shown(store), self._blink))

    def label_texts(self) -> list[str]:
        """Machine labels with their value (``CNC-01 · 41.2 °C``), live or at the replay time; stale values are not shown."""
        shown = self.session.shown()
        if shown is None:
            return list(self._base_labels)
        store, t = shown
        return labels.label_texts(store, self._base_labels, t, self.max_age_s)

    def units_of(self, machine_id: str) -> dict[str, str]:
        """The engineering units the server gives for a machine's signals (those it gives)."""
        return {} if self.store is None else labels.units_of(self.store, machine_id)

    @staticmethod
    def unit_of(store: StateStore, signal: str) -> str:
        """The unit of a signal across machines: the server's (the most common one it gives), else floortwin's."""
        return labels.unit_of(store, signal)

    # -- replay ---------------------------------------------------------------------------------------
    def show_time(self, t: float | None) -> None:
        """Show the factory as recorded at time ``t`` (UNIX s), or live again with None.

        The history is queried off the GUI thread; while a query runs only the latest requested time is
        remembered, so dragging a slider never queues up work.
        """
        replayer = self.session.replayer
        if t is None:
            self.session.show_recorded(None)
            self.recolour()
            self.view.set_label_texts(self.label_texts())
            self.replay_shown.emit(math.nan)
            return
        if replayer is None or self.store is None:
            return
        replayer.request(t)

    def _on_recorded(self, recorded: Recorded) -> None:
        replayer = self.session.replayer
        if replayer is None or recorded.epoch != replayer.epoch:
            return  # went live (or the session stopped or restarted) meanwhile
        self.session.show_recorded(recorded)
        self.recolour()
        self.view.set_label_texts(self.label_texts())
        self.replay_shown.emit(recorded.time)

    def shown(self) -> tuple[StateStore, float] | None:
        """The state on view and its time: the live store now, or the replayed one at the replay time."""
        return self.session.shown()

    def output_rates(self) -> np.ndarray | None:
        """Parts per hour each machine put out over the last ``app.live.session.RATE_WINDOW_S`` (live, or before the replay
        time); NaN where unknown; None before there is anything to compare."""
        return self.session.output_rates()

    def rates_counting(self) -> np.ndarray | None:
        """Machines whose live output rate still waits for enough parts (None in a replay or before data)."""
        return self.session.rates_counting()

    def _on_tick(self) -> None:
        self.session.tick(time.time())
        self.recolour()
        self.view.set_label_texts(self.label_texts())

    def _on_blink(self) -> None:
        if self.alarms.unacknowledged_machines():
            self._blink = not self._blink
            self.recolour()
