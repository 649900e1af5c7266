"""The operator console: the embedded plant, connecting (with trust and logins), binding, the link's status.

A ``LiveController`` composed into the main window (``window.console``): it gets the live link, the
settings, the docks and bars it fills and the undo stack it pushes bindings on — nothing else of the
window — and tells the window what to redraw through its signals.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs
from PySide6 import QtCore, QtGui, QtWidgets

from app.history.recorder import History
from app.live import console_text
from app.live.client import ClientNotTrusted, ConnectionSettings
from app.live.connection_form import remember_plant_clock, remembered_plant_clock
from app.model.document import FactoryDocument
from app.paths import user_data_dir
from app.scene.view import FactoryView
from app.ui import credentials
from app.ui.alarms_dock import AlarmsDock
from app.ui.browse_dock import BrowseDock, node_payload
from app.ui.connection_dialog import ConnectionDialog
from app.ui.embedded_plant import EmbeddedPlant
from app.ui.forecast_dock import ForecastDock
from app.ui.layout_commands import BindCommand
from app.ui.live_link import LiveLink
from app.ui.secure_connect import checked_server
from app.ui.settings import Settings
from app.ui.timeline_bar import TimelineBar
from app.ui.trends_dock import TrendsDock
from app.ui.trust_dialog import ClientNotTrustedDialog
from app.ui.watchdog_view import WatchdogPanel
from app.watchdog.service import plant_time_scale

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveViews:
    """The docks and bars the live console fills."""

    alarms: AlarmsDock
    trends: TrendsDock
    timeline: TimelineBar
    browse: BrowseDock
    forecast: ForecastDock


class LiveController(QtCore.QObject):
    """The operator console's commands and status, over a ``LiveLink``.

    Parameters
    ----------
    link
        The live link (its session and its drawing on the 3D view).
    document
        Gives the open document (None: no factory open).
    settings
        History limits and "connect when opening a file".
    view, views, status_bar, undo_stack
        What the console draws on and fills; bindings are undo steps on ``undo_stack``.
    show_error
        Shows a non-blocking error box (the window's, so that it is the one on top).
    window
        The parent of the console's dialogs.

    Signals
    -------
    actions_changed()
        What can be done changed (connected, replaying…): menus and buttons follow.
    went_offline()
        The link was ended: draw the factory as it is shown without live values.
    binding_applied(str)
        A machine's binding changed (its properties are shown anew).
    """

    actions_changed = QtCore.Signal()
    went_offline = QtCore.Signal()
    binding_applied = QtCore.Signal(str)

    def __init__(
        self,
        link: LiveLink,
        document: Callable[[], FactoryDocument | None],
        settings: Settings,
        view: FactoryView,
        views: LiveViews,
        status_bar: QtWidgets.QStatusBar,
        undo_stack: QtGui.QUndoStack,
        show_error: Callable[[str, str, str], object],
        window: QtWidgets.QWidget,
    ):
        super().__init__(window)
        self.live, self._document, self.settings = link, document, settings
        self.view, self.views, self.status_bar, self.undo_stack = view, views, status_bar, undo_stack
        self.show_error, self.window = show_error, window
        self.plant: EmbeddedPlant | None = None
        self.live_settings: ConnectionSettings | None = None  # of the running link (a re-binding may reconnect)
        self.connect_task: asyncio.Future | None = None  # the last connection attempt (trust check included)
        self.trust_dialog: ClientNotTrustedDialog | None = None  # kept while open (and for tests)
        self.link_label = QtWidgets.QLabel("")
        self.plant_label = QtWidgets.QLabel("")
        self.plant_time_scale = 1.0  # the embedded plant simulator's --speed
        self.forecast_pending = False  # a link was started whose shift forecast is not attached yet
        self.shift_start = 0.0  # when the shift forecast's shift began (UNIX s)
        self.watchdog = WatchdogPanel(link.session, document, undo_stack, self._history_path_if_open, views.alarms)
        views.alarms.add_section(self.watchdog)
        self.watchdog.machine_selected.connect(views.alarms.machine_activated)
        self.watchdog.waiting_changed.connect(views.alarms.set_drifts)
        link.state_changed.connect(self._on_link_state)
        link.binding_failed.connect(lambda msg: self.status_bar.showMessage(f"Binding failed: {msg}", 10000))
        link.replay_shown.connect(self._on_replay_shown)
        link.time_scale_changed.connect(self._on_time_scale)
        view.dropped_on_machine.connect(self.on_drop)

    @property
    def document(self) -> FactoryDocument | None:
        return self._document()

    @property
    def link_time_scale(self) -> float:
        """Plant seconds per second of the clock on the current link: the one its server publishes (floortwin's
        plant simulator), else the one given when connecting (1: a real plant)."""
        return self.live.time_scale

    def plant_clock_for(self, endpoint: str) -> float:
        """The plant clock speed known for ``endpoint`` before connecting: the embedded plant simulator's
        ``--speed`` at its endpoint, else the one last given for that endpoint (1: real time)."""
        plant = self.plant
        if plant is not None and plant.endpoint is not None and endpoint.strip() == plant.endpoint:
            return self.plant_time_scale
        return remembered_plant_clock(self.settings.store, endpoint)

    @property
    def plant_logins(self) -> list[tuple[str, str]]:
        """The (login, role) pairs of the plant on the current link when it is the embedded plant simulator
        (the demo's operator and engineer); empty for another plant, whose logins floortwin cannot know."""
        plant, live = self.plant, self.live_settings
        if plant is None or live is None or plant.endpoint is None or live.endpoint != plant.endpoint:
            return []
        from app.deploy.text import plant_logins

        return plant_logins(plant.args)

    def close(self) -> None:
        """At the window's end: the link and the plant simulator stop."""
        self.live.stop()
        self.views.forecast.close_service()
        if self.plant is not None:
            self.plant.stop()

    # -- embedded plant simulator ------------------------------------------------------------------------
    def start_embedded_plant(self, factory_path: str | os.PathLike[str], extra_args: tuple[str, ...] = ()) -> EmbeddedPlant:
        """Start the plant simulator for ``factory_path`` in a child process (``--demo`` does this)."""
        if self.plant is None:
            self.plant = EmbeddedPlant(self)
            self.plant.started.connect(self._on_plant_started)
            self.plant.failed.connect(self._on_plant_failed)
        self.plant.stop()
        self.plant_time_scale = plant_time_scale(extra_args)
        self.plant_label.setText("Plant simulator: starting…")
        self.plant.start(Path(factory_path), extra_args)
        return self.plant

    def _on_plant_started(self, endpoint: str) -> None:
        self.plant_label.setText("Plant simulator running")
        self.plant_label.setToolTip(f"The embedded OPC UA plant simulator serves the demo plant's live data on {endpoint}")
        if self.document is not None and any(m.tags for m in self.document.factory.machines):
            o = self.document.factory.opcua
            self.live.max_age_s = o.stale_after_s
            settings = ConnectionSettings(endpoint, publishing_ms=o.publishing_ms, sampling_ms=o.sampling_ms, deadband=o.deadband)
            self.connect_live(settings, self.plant_time_scale)

    # -- live link -------------------------------------------------------------------------------------
    def history_path(self) -> Path:
        """Where the open factory's history is recorded (one SQLite file per factory name)."""
        folder = user_data_dir() / "history"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / console_text.history_file_name(self.document.factory.name if self.document else None)

    def _history_path_if_open(self) -> Path | None:
        return self.history_path() if self.document is not None else None

    def connect_live(self, settings: ConnectionSettings, time_scale: float | None = None) -> None:
        """Subscribe to every tag bound in the open factory and show the plant live; ``time_scale`` is the
        plant's simulated seconds per second (a plant simulator's ``--speed``; None: the running link's
        when subscribing anew to it, else the one known for the endpoint, ``plant_clock_for``). A server
        that publishes its speed (floortwin's plant simulator) is taken at its word at each connection."""
        if self.document is None:
            return
        same = settings is self.live_settings
        if time_scale is None:
            time_scale = self.live.time_scale if same else self.plant_clock_for(settings.endpoint)
        path = self.history_path()
        self.live_settings = settings
        days, mb = self.settings.history_retention_days, self.settings.history_max_mb
        self.live.history_retention_s = days * 86_400 if days > 0 else None
        self.live.history_max_bytes = int(mb * 2**20) if mb > 0 else None
        self.live.start(self.document.factory, settings, path, time_scale)
        self.forecast_pending = True  # the shift forecast starts once the link is up
        self.views.alarms.set_log(self.live.alarms)
        self.views.trends.set_history(History(path))
        self.views.timeline.set_history(History(path))
        self.actions_changed.emit()

    def resubscribe(self) -> None:
        """The factory's machines changed: the running link follows them without reconnecting (a data source
        that cannot subscribes anew); the watchdog and the shift forecast go on with the new version."""
        document = self.document
        if self.live.active and self.live_settings is not None and document is not None:
            if not self.live.follow(document.factory):
                self.connect_live(self.live_settings)
            elif self.views.forecast.shift_forecast is not None:
                self._start_forecast(again=True)  # the same shift, forecast for the new machines

    def live_ready(self, share: float = 0.9) -> bool:
        """True once the live link shows a state for at least ``share`` of the machines."""
        return self.live.session.ready(share, time.time())

    def disconnect_live(self) -> None:
        self.live.stop()
        self.views.forecast.detach()
        self.watchdog.refresh()
        self.views.timeline.set_history(None)
        self.views.trends.set_cursor(None)
        self.views.browse.set_browser(None)
        self.view.set_legend(None)
        self.view.set_colour_bar(None)
        self.went_offline.emit()  # what is drawn offline (kind colours), with its legend
        self.link_label.setText("")
        self.actions_changed.emit()

    def connect_from_file(self, endpoint: str | None = None) -> bool:
        """Connect to ``endpoint``, or to the server the open factory file names, with the file's settings.

        A user login takes its password from the keyring; without one stored the connection dialog opens
        (pre-filled), as it does for anything the file cannot say. A secure connection checks the server's
        certificate first, as from the dialog. Returns False when there is nothing to connect to.
        """
        if self.document is None:
            return False
        o = self.document.factory.opcua
        url = endpoint or o.endpoint
        if not url:
            return False
        password = credentials.load_password(o.username, url) if o.username else None
        if console_text.asks_for_login(o, password):
            if endpoint and endpoint != o.endpoint:
                self.document.set_opcua(o.model_copy(update={"endpoint": endpoint}))
            self.connect_dialog()
            return True
        settings = console_text.file_connection(o, url, password, *self.client_certificate_paths())
        self.live.max_age_s = o.stale_after_s
        log.info("connecting to %s (%s)", url, "given on the command line" if endpoint else "named by the factory file")
        self.connect_task = asyncio.ensure_future(self._connect_checked(settings))
        return True

    def toggle_connect_on_open(self) -> None:
        """Live ▸ Connect When Opening a File: remembered for the next start too."""
        self.settings.connect_on_open = not self.settings.connect_on_open
        self.actions_changed.emit()

    def has_live_values(self) -> bool:
        """True once any bound variable has delivered a value (what a screenshot of a live server waits for)."""
        return self.live.session.has_values()

    def connect_dialog(self) -> None:
        """Ask for a server and connect (secure connections check the server certificate first)."""
        if self.document is None:
            self.show_error("No factory open", "Open a factory first: live values are shown on its machines.", "")
            return
        cert, key = self.client_certificate_paths()
        defaults = self.document.factory.opcua
        plant = self.plant
        if not defaults.endpoint and plant is not None and plant.endpoint is not None:
            defaults = defaults.model_copy(update={"endpoint": plant.endpoint})  # the demo's plant, not a guess
        dialog = ConnectionDialog(defaults, cert, key, self.window, plant_clock=self.plant_clock_for)
        if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return
        settings, scale = dialog.settings(), dialog.time_scale()
        if plant is None or settings.endpoint != plant.endpoint:  # the embedded plant's speed is known anyway
            remember_plant_clock(self.settings.store, settings.endpoint, scale)
            self.document.set_opcua(dialog.opcua_settings())  # the embedded plant's port is new every start: not the file's
        self.live.max_age_s = self.document.factory.opcua.stale_after_s
        self.connect_task = asyncio.ensure_future(self._connect_checked(settings, scale))

    def client_certificate_paths(self) -> tuple[Path, Path]:
        """Where floortwin's client certificate and key are (made at the first secure connection)."""
        folder = Path(platformdirs.user_config_dir("floortwin")) / "pki"
        return folder / "client_cert.der", folder / "client_key.pem"

    async def _connect_checked(self, settings: ConnectionSettings, time_scale: float | None = None) -> None:
        trusted = await checked_server(settings, self.window, self.show_error)
        if trusted is not None:
            self.connect_live(trusted, time_scale)

    async def _browse(self, node_id: str | None):
        return await self.live.browse(node_id)

    def on_drop(self, machine_id: str, mime) -> None:
        payload = node_payload(mime)
        if payload is None or self.document is None:
            return
        known, first = console_text.bind_choices(self.document.factory.machine(machine_id).tags, payload.get("name"))
        prompt = f"Signal of {machine_id} shown by {payload['node_id']}:"
        signal, ok = QtWidgets.QInputDialog.getItem(self.window, "Bind variable", prompt, known, first, True)
        if ok and signal.strip():
            self.bind_tag(machine_id, signal.strip(), payload["node_id"])

    def bind_tag(self, machine_id: str, signal: str, node_id: str | None) -> None:
        """Bind (or with None unbind) a machine signal; the binding is saved with the factory. One undo step."""
        if self.document is None:
            return
        old = self.document.factory.machine(machine_id).tags.get(signal)
        if old == node_id:
            return
        text = f"Bind {machine_id}.{signal}" if node_id else f"Unbind {machine_id}.{signal}"
        self.undo_stack.push(BindCommand(self, machine_id, signal, old, node_id, text))

    def apply_binding(self, machine_id: str, signal: str, node_id: str | None) -> None:
        """Set one binding now (the undo command calls this)."""
        document = self.document
        if document is None:
            return
        document.set_tag(machine_id, signal, node_id)
        log.info("%s.%s %s", machine_id, signal, f"bound to {node_id}" if node_id else "unbound")
        self.binding_applied.emit(machine_id)
        if self.live.active and self.live_settings is not None:
            states = document.factory.machine(machine_id).states.get(signal)
            if not self.live.rebind(machine_id, signal, node_id, states):  # on the running subscription
                self.connect_live(self.live_settings)  # a data source that cannot: subscribe anew

    def _on_link_state(self, state: str, message: str) -> None:
        if state == "connected":
            self.views.browse.set_browser(self._browse)  # (re)load the server's tree on every (re)connection
            self._start_forecast()
        self.link_label.setText(console_text.link_badge(state, self.live.time_scale))
        self.link_label.setToolTip(message)
        if state in ("reconnecting", "failed") and message:
            self.status_bar.showMessage(message, 8000)
            log.warning("OPC UA link %s: %s", state, message)
        failure = getattr(self.live.client, "failure", None) if state == "failed" else None
        if console_text.is_final(failure):
            # The link gave up for good: end it (Live ▸ Connect is offered again) and say what to do.
            settings = self.live_settings
            QtCore.QTimer.singleShot(0, lambda: self._explain_failure(failure, settings))

    def _start_forecast(self, again: bool = False) -> None:
        """Forecast the shift from the live store: its shift begins when the link first came up (``again``:
        the same shift, for a new version of the factory)."""
        store, document = self.live.session.store, self.document
        if (self.forecast_pending or again) and store is not None and document is not None:
            self.forecast_pending = False
            self.shift_start = self.shift_start if again else time.time()
            history, scale = History(self.history_path()), self.live.time_scale
            self.views.forecast.attach(
                document.factory, store, history, self.shift_start, scale, ready=self.live_ready, document=document
            )

    def _on_time_scale(self, scale: float) -> None:
        """The server published another plant clock speed than was given: everything measured follows it."""
        self.status_bar.showMessage(console_text.plant_clock_note(scale), 10000)
        log.info("%s", console_text.plant_clock_note(scale))
        self.link_label.setText(console_text.link_badge(self.live.state.value, scale))
        if self.views.forecast.shift_forecast is not None:
            self._start_forecast(again=True)  # the same shift, on the plant's clock

    def _explain_failure(self, failure: BaseException, settings: ConnectionSettings | None) -> None:
        self.disconnect_live()
        self.link_label.setText(console_text.link_badge("failed"))
        endpoint = settings.endpoint if settings is not None else "The server"
        if isinstance(failure, ClientNotTrusted):
            cert = settings.client_certificate if settings is not None and settings.client_certificate else None
            dialog = ClientNotTrustedDialog(endpoint, cert or self.client_certificate_paths()[0], self.window)
            dialog.setModal(True)
            dialog.show()
            self.trust_dialog = dialog  # kept for tests and so that it is not collected while open
        else:
            self.show_error("Login refused", console_text.login_refused(endpoint), "")

    def _on_replay_shown(self, t: float) -> None:
        replaying = not np.isnan(t)
        self.views.trends.set_cursor(t if replaying else None)
        if replaying:
            self.link_label.setText(console_text.replay_badge())
            self.link_label.setToolTip(console_text.replay_tip(t))
        else:
            self._on_link_state(self.live.state.value, "")
        self.actions_changed.emit()

    def _on_plant_failed(self, message: str) -> None:
        self.plant_label.setText("Plant simulator: stopped")
        self.plant_label.setToolTip(message)
        self.status_bar.showMessage(f"Plant simulator stopped: {message}", 15000)
