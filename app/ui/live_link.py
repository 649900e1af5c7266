"""The live link: OPC UA client → state store → 3D colours and labels, alarms, history.

Runs the asyncua client on the application's asyncio loop (qasync: the Qt loop), so the network never
blocks the GUI thread and no value crosses threads. The store is flushed at most 30 times a second; the
3D view is recoloured in one array write per flush; labels and staleness are refreshed every second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from pathlib import Path

import numpy as np
from PySide6 import QtCore

from app.history.recorder import Recorder, Sample
from app.live.client import ConnectionSettings, LinkState, LiveClient
from app.model.factory import Factory
from app.scene.view import FactoryView
from app.state.alarms import AlarmLog
from app.state.colours import LEGEND, state_colours
from app.state.store import StateStore, Update

log = logging.getLogger(__name__)

SIGNALS = ("State", "Temperature", "Power", "PartCount", "Level", "Alarm", "AlarmText", "SpindleLoad", "PressForce", "AxisLoad")
UNITS = {"Temperature": "°C", "Power": "kW", "SpindleLoad": "%", "PressForce": "kN", "AxisLoad": "%"}
LABEL_SIGNAL = "Temperature"


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
    """

    state_changed = QtCore.Signal(str, str)
    values_flushed = QtCore.Signal(object)
    binding_failed = QtCore.Signal(str)

    def __init__(self, view: FactoryView, parent: QtCore.QObject | None = None, max_age_s: float = 10.0):
        super().__init__(parent)
        self.view = view
        self.max_age_s = max_age_s
        self.store: StateStore | None = None
        self.client: LiveClient | None = None
        self.recorder: Recorder | None = None
        self.alarms = AlarmLog()
        self.factory: Factory | None = None
        self.state = LinkState.DISCONNECTED
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

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self, factory: Factory, settings: ConnectionSettings, history_path: Path | None) -> None:
        """Bind every tag of ``factory`` and keep the link up until ``stop``."""
        self.stop()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            log.error("the live link needs the application's asyncio loop (qasync); not connecting to %s", settings.endpoint)
            self.state_changed.emit(LinkState.FAILED.value, "no asyncio event loop in this application")
            return
        self.factory = factory
        store = StateStore([m.id for m in factory.machines], SIGNALS)
        bindings = []
        for m in factory.machines:
            for signal, node in m.tags.items():
                bindings.append((store.bind(m.id, signal, node), node))
        store.rejected.connect(self._on_rejected)
        self.store = store
        self.alarms = AlarmLog()
        self.recorder = Recorder(history_path) if history_path is not None else None
        self._base_labels = [m.id for m in factory.machines]
        self.client = LiveClient(settings, self._on_values, self._on_state, self._on_binding_error)
        self.client.set_bindings(bindings)
        self.client.start()
        self._flush.start()
        self._tick.start()
        self._blinker.start()
        self.view.set_legend(LEGEND, "Machine state")
        self.recolour()
        log.info("live link: %d bindings of %d machines to %s", len(bindings), len(factory.machines), settings.endpoint)

    def stop(self) -> None:
        """Stop updating; the client closes in the background (``aclose`` awaits it)."""
        self._flush.stop()
        self._tick.stop()
        self._blinker.stop()
        client, self.client = self.client, None
        if client is not None:
            try:
                self._closing = asyncio.get_running_loop().create_task(client.stop())
            except RuntimeError:  # no event loop any more (shutdown): drop the connection where it stands
                client.abandon()
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None
        if self.store is not None:
            self.flush()

    async def aclose(self) -> None:
        """Stop and wait until the client has disconnected."""
        self.stop()
        closing = getattr(self, "_closing", None)
        if closing is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(closing, 5)

    @property
    def active(self) -> bool:
        return self.client is not None

    # -- incoming ---------------------------------------------------------------------------------
    def _on_values(self, updates: list[Update]) -> None:
        store = self.store
        if store is None:
            return
        store.ingest(updates)
        if self.recorder is not None:
            samples = []
            for u in updates:
                machine, signal, node = store.binding_of(u.binding)
                v = u.value
                if isinstance(v, (bool, int, float)):
                    value, text = float(v), None
                else:
                    value, text = None, None if v is None else str(v)
                t = u.source_ts if math.isfinite(u.source_ts) else u.received_ts
                samples.append(Sample(machine, signal, node, t, u.received_ts, value, text, int(u.status)))
            self.recorder.record(samples)

    def _on_state(self, state: LinkState, message: str) -> None:
        self.state = state
        self.state_changed.emit(state.value, message)
        if state in (LinkState.RECONNECTING, LinkState.FAILED, LinkState.DISCONNECTED):
            self.recolour()  # values age into "no data" as the link stays down

    def _on_binding_error(self, index: int, message: str) -> None:
        if self.store is not None:
            machine, signal, _node = self.store.binding_of(index)
            self.store.mark_bad(index, 0x80340000)  # BadNodeIdUnknown
            self.binding_failed.emit(f"{machine}.{signal}: {message}")

    def _on_rejected(self, count: int) -> None:
        self.nan_count += count
        log.warning("ignored %d NaN/infinite readings (%d so far)", count, self.nan_count)

    # -- outgoing ---------------------------------------------------------------------------------
    def flush(self) -> None:
        store = self.store
        if store is None:
            return
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

    def recolour(self, now: float | None = None) -> None:
        """Colour every machine by its live state (one array write)."""
        store = self.store
        if store is None:
            return
        now = time.time() if now is None else now
        j = store.signal_index["State"]
        age = now - store.received_ts[:, j]
        age = np.where(np.isfinite(age), age, np.inf)
        alarm = np.zeros(len(store.machines), dtype=bool)
        unacked = self.alarms.unacknowledged_machines()
        if unacked:
            alarm[[store.machine_index[m] for m in unacked]] = True
        rgb = state_colours(store.values[:, j], store.status[:, j], age, self.max_age_s, alarm, self._blink)
        self.view.set_machine_colours(rgb)

    def label_texts(self) -> list[str]:
        """Machine labels with their live value (``CNC-01 · 41.2 °C``); stale values are not shown."""
        store = self.store
        if store is None:
            return list(self._base_labels)
        j = store.signal_index[LABEL_SIGNAL]
        fresh = store.fresh(LABEL_SIGNAL, time.time(), self.max_age_s)
        vals = store.values[:, j]
        unit = UNITS.get(LABEL_SIGNAL, "")
        return [f"{b} · {v:.1f} {unit}" if ok else b for b, v, ok in zip(self._base_labels, vals, fresh, strict=True)]

    def _on_tick(self) -> None:
        self.recolour()
        self.view.set_label_texts(self.label_texts())

    def _on_blink(self) -> None:
        if self.alarms.unacknowledged_machines():
            self._blink = not self._blink
            self.recolour()
