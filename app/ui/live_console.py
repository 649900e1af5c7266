"""The operator console's behaviour in the main window: embedded plant, live link, connecting, binding.

A mixin of ``MainWindow`` so the window module stays an assembly of parts; everything here talks to the
window's docks, view and document through the attributes the window creates.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path

import numpy as np
import platformdirs
from PySide6 import QtCore, QtGui, QtWidgets

from app.history.recorder import History
from app.live.client import ClientNotTrusted, ConnectionSettings, LoginRejected, explain
from app.live.netloop import network_loop
from app.live.trust import TrustStore, describe, fetch_server_certificate
from app.paths import user_data_dir
from app.plant.server import ensure_certificate
from app.ui import credentials
from app.ui.browse_dock import node_payload
from app.ui.connection_dialog import ConnectionDialog
from app.ui.embedded_plant import EmbeddedPlant
from app.ui.live_link import SIGNALS
from app.ui.trust_dialog import ClientNotTrustedDialog

log = logging.getLogger(__name__)


class BindCommand(QtGui.QUndoCommand):
    """A machine signal bound to another OPC UA node (or unbound)."""

    def __init__(self, window, machine_id: str, signal: str, old: str | None, new: str | None, text: str):
        super().__init__(text)
        self.window, self.args = window, (machine_id, signal, old, new)

    def redo(self) -> None:
        machine_id, signal, _old, new = self.args
        self.window.apply_binding(machine_id, signal, new)

    def undo(self) -> None:
        machine_id, signal, old, _new = self.args
        self.window.apply_binding(machine_id, signal, old)


class LiveConsole:
    """Operator-console commands of the main window (mixed into ``MainWindow``)."""

    # -- embedded plant simulator ------------------------------------------------------------------------
    def start_embedded_plant(self, factory_path: str | os.PathLike[str], extra_args: tuple[str, ...] = ()) -> EmbeddedPlant:
        """Start the plant simulator for ``factory_path`` in a child process (``--demo`` does this)."""
        if self.plant is None:
            self.plant = EmbeddedPlant(self)
            self.plant.started.connect(self._on_plant_started)
            self.plant.failed.connect(self._on_plant_failed)
        self.plant.stop()
        self.status_plant.setText("Plant simulator: starting…")
        self.plant.start(Path(factory_path), extra_args)
        return self.plant

    def _on_plant_started(self, endpoint: str) -> None:
        self.status_plant.setText("Plant simulator running")
        self.status_plant.setToolTip(f"The embedded OPC UA plant simulator serves the demo plant's live data on {endpoint}")
        if self.document is not None and any(m.tags for m in self.document.factory.machines):
            o = self.document.factory.opcua
            self.live.max_age_s = o.stale_after_s
            settings = ConnectionSettings(endpoint, publishing_ms=o.publishing_ms, sampling_ms=o.sampling_ms, deadband=o.deadband)
            self.connect_live(settings)

    # -- live link -------------------------------------------------------------------------------------
    def history_path(self) -> Path:
        """Where the open factory's history is recorded (one SQLite file per factory name)."""
        name = "".join(
            c if c.isalnum() or c in "-_" else "_" for c in (self.document.factory.name if self.document else "factory")
        )
        folder = user_data_dir() / "history"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{name}.sqlite"

    def connect_live(self, settings: ConnectionSettings) -> None:
        """Subscribe to every tag bound in the open factory and show the plant live."""
        if self.document is None:
            return
        path = self.history_path()
        self._live_settings = settings
        days, mb = self.settings.history_retention_days, self.settings.history_max_mb
        self.live.history_retention_s = days * 86_400 if days > 0 else None
        self.live.history_max_bytes = int(mb * 2**20) if mb > 0 else None
        self.live.start(self.document.factory, settings, path)
        self.alarms_dock.set_log(self.live.alarms)
        self.trends_dock.set_history(History(path))
        self.timeline.set_history(History(path))
        self.refresh_actions()

    def live_ready(self, share: float = 0.9) -> bool:
        """True once the live link shows a state for at least ``share`` of the machines."""
        store = self.live.store
        if store is None:
            return False
        return bool(store.fresh("State", time.time(), self.live.max_age_s).mean() >= share)

    def disconnect_live(self) -> None:
        self.live.stop()
        self.timeline.set_history(None)
        self.trends_dock.set_cursor(None)
        self.browse_dock.set_browser(None)
        self.view.set_legend(None)
        self.view.set_colour_bar(None)
        if self.document is not None:
            self.view.show_kind_colours(self.document.factory, self.asset_of)  # what is drawn offline, with its legend
        self.status_link.setText("")
        self.refresh_actions()

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
        # No stored password, or a login over a channel without security: the user decides in the dialog.
        if o.username and (password is None or o.security_policy == "None"):
            if endpoint and endpoint != o.endpoint:
                self.document.set_opcua(o.model_copy(update={"endpoint": endpoint}))
            self.connect_dialog()
            return True
        secure = o.security_policy != "None"
        cert, key = self._client_certificate_paths()
        settings = ConnectionSettings(
            url,
            security_policy=o.security_policy,
            security_mode=o.security_mode,
            username=o.username,
            password=password,
            client_certificate=cert if secure else None,
            client_key=key if secure else None,
            publishing_ms=o.publishing_ms,
            sampling_ms=o.sampling_ms,
            deadband=o.deadband,
        )
        self.live.max_age_s = o.stale_after_s
        log.info("connecting to %s (%s)", url, "given on the command line" if endpoint else "named by the factory file")
        self._connect_task = asyncio.ensure_future(self._connect_checked(settings))
        return True

    def toggle_connect_on_open(self) -> None:
        """Live ▸ Connect When Opening a File: remembered for the next start too."""
        self.settings.connect_on_open = not self.settings.connect_on_open
        self.refresh_actions()

    def has_live_values(self) -> bool:
        """True once any bound variable has delivered a value (what a screenshot of a live server waits for)."""
        store = self.live.store
        return store is not None and bool(np.isfinite(store.received_ts).any())

    def connect_dialog(self) -> None:
        """Ask for a server and connect (secure connections check the server certificate first)."""
        if self.document is None:
            self.show_error("No factory open", "Open a factory first: live values are shown on its machines.", "")
            return
        cert, key = self._client_certificate_paths()
        dialog = ConnectionDialog(self.document.factory.opcua, cert, key, self)
        if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return
        self.document.set_opcua(dialog.opcua_settings())
        self.live.max_age_s = self.document.factory.opcua.stale_after_s
        self._connect_task = asyncio.ensure_future(self._connect_checked(dialog.settings()))

    def _client_certificate_paths(self) -> tuple[Path, Path]:
        folder = Path(platformdirs.user_config_dir("floortwin")) / "pki"
        return folder / "client_cert.der", folder / "client_key.pem"

    async def _connect_checked(self, settings: ConnectionSettings) -> None:
        if settings.security_policy != "None":
            try:
                # Key generation and the server's first answer run on the network thread, never on the GUI loop.
                net = network_loop()
                await asyncio.wrap_future(
                    net.submit(
                        ensure_certificate(
                            settings.client_certificate.parent, "client", settings.application_uri, "localhost", server=False
                        )
                    )
                )
                der = await asyncio.wrap_future(net.submit(fetch_server_certificate(settings.endpoint, settings.timeout_s)))
            except Exception as e:  # any network failure here is "cannot reach the server"
                self.show_error("Cannot connect", explain(e, settings.endpoint), "")
                return
            if der is None:
                self.show_error("Cannot connect", f"{settings.endpoint} offers no Basic256Sha256 endpoint", "")
                return
            store = TrustStore(Path(platformdirs.user_config_dir("floortwin")) / "pki" / "trusted")
            if not store.is_trusted(der):
                info = describe(der)
                answer = QtWidgets.QMessageBox.question(
                    self,
                    "Trust this server?",
                    f"The server presents a certificate floortwin has not seen before.\n\nSubject: {info.subject}\n"
                    f"Application: {info.application_uri}\nValid until: {info.not_after}\nSHA-256: {info.thumbprint}\n\n"
                    "Trust it for future connections?",
                )
                if answer != QtWidgets.QMessageBox.StandardButton.Yes:
                    log.info("server certificate of %s not trusted: not connecting", settings.endpoint)
                    return
                store.trust(der)
            settings.server_certificate = store.path_of(der)
        self.connect_live(settings)

    async def _browse(self, node_id: str | None):
        return await self.live.browse(node_id)

    def _on_drop(self, machine_id: str, mime) -> None:
        payload = node_payload(mime)
        if payload is None or self.document is None:
            return
        known = sorted(set(SIGNALS) | set(self.document.factory.machine(machine_id).tags))
        default = payload.get("name") if payload.get("name") in known else None
        signal, ok = QtWidgets.QInputDialog.getItem(
            self,
            "Bind variable",
            f"Signal of {machine_id} shown by {payload['node_id']}:",
            known,
            known.index(default) if default else 0,
            True,
        )
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
        self.layout_editor.stack.push(BindCommand(self, machine_id, signal, old, node_id, text))

    def apply_binding(self, machine_id: str, signal: str, node_id: str | None) -> None:
        """Set one binding now (the undo command calls this)."""
        self.document.set_tag(machine_id, signal, node_id)
        log.info("%s.%s %s", machine_id, signal, f"bound to {node_id}" if node_id else "unbound")
        self._on_selection_changed(self.selection.ids)
        if self.live.active and getattr(self, "_live_settings", None) is not None:
            states = self.document.factory.machine(machine_id).states.get(signal)
            if not self.live.rebind(machine_id, signal, node_id, states):  # on the running subscription
                self.connect_live(self._live_settings)  # a data source that cannot: subscribe anew

    def _on_link_state(self, state: str, message: str) -> None:
        if state == "connected":
            self.browse_dock.set_browser(self._browse)  # (re)load the server's tree on every (re)connection
        colours = {"connected": "#1b8a3a", "reconnecting": "#c77c00", "connecting": "#c77c00", "failed": "#d03030"}
        text = {
            "connected": "Live",
            "reconnecting": "Reconnecting…",
            "connecting": "Connecting…",
            "failed": "Link failed",
            "disconnected": "Offline",
        }.get(state, state)
        self.status_link.setText(f'<b style="color:{colours.get(state, "#777")}">● {text}</b>')
        self.status_link.setToolTip(message)
        if state in ("reconnecting", "failed") and message:
            self.statusBar().showMessage(message, 8000)
            log.warning("OPC UA link %s: %s", state, message)
        failure = getattr(self.live.client, "failure", None) if state == "failed" else None
        if isinstance(failure, (LoginRejected, ClientNotTrusted)):
            # The link gave up for good: end it (Live ▸ Connect is offered again) and say what to do.
            settings = getattr(self, "_live_settings", None)
            QtCore.QTimer.singleShot(0, lambda: self._explain_failure(failure, settings))

    def _explain_failure(self, failure: BaseException, settings: ConnectionSettings | None) -> None:
        self.disconnect_live()
        self.status_link.setText('<b style="color:#d03030">● Link failed</b>')
        endpoint = settings.endpoint if settings is not None else "The server"
        if isinstance(failure, ClientNotTrusted):
            cert = settings.client_certificate if settings is not None and settings.client_certificate else None
            dialog = ClientNotTrustedDialog(endpoint, cert or self._client_certificate_paths()[0], self)
            dialog.setModal(True)
            dialog.show()
            self._trust_dialog = dialog  # kept for tests and so that it is not collected while open
        else:
            self.show_error(
                "Login refused",
                f"{endpoint} refused the user name or password.\n\nfloortwin does not retry a refused login: "
                "repeated attempts can lock the account. Check them and connect again (Live ▸ Connect to Server, Ctrl+K).",
                "",
            )

    def _on_replay_shown(self, t: float) -> None:
        replaying = not np.isnan(t)
        self.trends_dock.set_cursor(t if replaying else None)
        if replaying:
            self.status_link.setText('<b style="color:#0072b2">◀◀ Replay</b>')
            self.status_link.setToolTip(f"Showing the recorded state of {time.strftime('%H:%M:%S', time.localtime(t))}")
        else:
            self._on_link_state(self.live.state.value, "")
        self.refresh_actions()

    def _on_plant_failed(self, message: str) -> None:
        self.status_plant.setText("Plant simulator: stopped")
        self.status_plant.setToolTip(message)
        self.statusBar().showMessage(f"Plant simulator stopped: {message}", 15000)
