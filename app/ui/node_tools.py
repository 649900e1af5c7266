"""UaExpert's basics inside the twin: the selected node's attributes under the Server tree, a Watch dock of any
nodes, Write Value… with confirmation, and the server's own alarms in the Alarms dock — wired to the live
link's connection (``app.live.node_service``, ``app.live.watch_list``, ``app.live.conditions``). Composed
into the main window; it gets the docks and the link, nothing else."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6 import QtCore, QtWidgets

from app.live.client import LiveClient
from app.live.conditions import ServerAlarms
from app.live.node_attributes import NodeAttributes
from app.live.node_service import NodeService
from app.live.node_write import WriteOutcome, channel_refusal
from app.live.watch_list import WatchList
from app.preferences import KeyValueStore
from app.ui.alarms_dock import AlarmsDock
from app.ui.attribute_panel import AttributePanel
from app.ui.browse_dock import BrowseDock
from app.ui.gui_thread import connect_on_gui
from app.ui.live_link import LiveLink
from app.ui.server_alarms_panel import ServerAlarmsPanel
from app.ui.watch_dock import WatchDock
from app.ui.write_dialog import WriteValueDialog

log = logging.getLogger(__name__)


class NodeTools(QtCore.QObject):
    """The attribute panel, the watch list and writes, over the live link.

    Parameters
    ----------
    link
        The live link: its session's connection carries the reads, writes and the watch subscription.
    browse
        The Server dock: its selection and context menu drive the tools; the attribute panel goes under it.
    store
        The preferences (the watch lists, per server).
    alarms_dock
        The Alarms dock: the server's own alarms (Alarms & Conditions) are a section of it.
    say, show_error
        The status bar's message, and the window's error box (title, text).
    """

    def __init__(
        self,
        link: LiveLink,
        browse: BrowseDock,
        store: KeyValueStore,
        alarms_dock: AlarmsDock,
        say: Callable[[str], None],
        show_error: Callable[[str, str], None],
        parent: QtWidgets.QWidget,
    ):
        super().__init__(parent)
        self.link, self.browse, self.say, self.show_error = link, browse, say, show_error
        self.window = parent
        self.service = NodeService(link.session)
        self.watch = WatchList(link.session, store)
        self.panel = AttributePanel(self.service, browse)
        browse.set_details(self.panel)
        self.watch_dock = WatchDock(self.watch, parent)
        self.server_alarms = ServerAlarms(link.session)
        self.alarms_panel = ServerAlarmsPanel(self.server_alarms, alarms_dock)
        alarms_dock.add_section(self.alarms_panel)
        self.write_dialog: WriteValueDialog | None = None  # (while open, and for tests)
        self._write_read = -1  # the read whose attributes open the write dialog
        browse.node_selected.connect(self.panel.show_node)
        browse.watch_requested.connect(self.add_watch)
        browse.write_requested.connect(self.ask_write)
        self.panel.watch_requested.connect(self.add_watch)
        self.panel.write_requested.connect(self.ask_write)
        link.state_changed.connect(self._on_link_state)
        browse.browsing.connect(self._on_browsing)
        connect_on_gui(self.service.attributes_read, self._on_read)
        connect_on_gui(self.service.read_failed, self._on_read_failed)
        connect_on_gui(self.service.written, self._on_written)

    def _settings(self):
        client = self.link.session.client
        return client.settings if isinstance(client, LiveClient) else None

    def _on_link_state(self, state: str, _message: str) -> None:
        if state == "connected":
            settings = self._settings()
            if settings is not None:
                self.watch.use_endpoint(settings.endpoint)
            self.watch.attach()
            self.server_alarms.attach()
        elif state in ("reconnecting", "failed", "disconnected"):
            self.watch.detach()
            self.server_alarms.detach()

    def _on_browsing(self, browsing: bool) -> None:
        """The link was ended (Live ▸ Disconnect, another factory opened, a refused login): the watch list and
        the server's alarms stop with it (a stopped link reports no state of its own)."""
        if not browsing:
            self.watch.detach()
            self.server_alarms.detach()

    def add_watch(self, node_id: str, name: str) -> None:
        if not node_id:
            return
        if self.watch.add(node_id, name):
            self.say(f"Watching {name or node_id}")
        self.watch_dock.show()
        self.watch_dock.raise_()

    def ask_write(self, node_id: str, name: str) -> None:
        """Write Value…: refused at once over a link that may not write (insecure, anonymous); otherwise the
        node's attributes are read afresh and the dialog opens with them."""
        settings = self._settings()
        why = self.service.offline_reason if settings is None else channel_refusal(settings)
        if why is not None:
            self.show_error("Cannot write", f"{name or node_id}: {why}. Nothing was written.")
            return
        self._write_read = self.service.read(node_id)

    def _on_read(self, number: int, attrs: NodeAttributes) -> None:
        if number != self._write_read:
            return
        self._write_read = -1
        dialog = WriteValueDialog(attrs, self.service.write_user, self.window)
        self.write_dialog = dialog
        dialog.setModal(True)
        dialog.accepted.connect(lambda: self.service.write(attrs.node_id, dialog.text()))
        dialog.finished.connect(lambda _r: self._closed(dialog))
        dialog.show()

    def _closed(self, dialog: WriteValueDialog) -> None:
        if self.write_dialog is dialog:
            self.write_dialog = None
        dialog.deleteLater()

    def _on_read_failed(self, number: int, message: str) -> None:
        if number == self._write_read:
            self._write_read = -1
            self.show_error("Cannot write", message)

    def _on_written(self, outcome: WriteOutcome) -> None:
        self.say(outcome.text)
        if outcome.ok:
            if self.panel.node_id == outcome.node_id:
                self.panel.read_again()  # the new value, with the server's timestamps
        else:
            self.show_error("Not written" if outcome.status is None else "The server refused the write", outcome.text)
