"""Discover…: the servers on a host and their endpoints (security mode, policy, logins); the one picked fills
in the connection form. The look-up runs on the network thread (``app.live.discovery``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from PySide6 import QtCore, QtGui, QtWidgets

from app.live.discovery import DISCOVERY_TIMEOUT_S, DiscoveredServer, Discovery, EndpointChoice, mode_label, summary
from app.ui.gui_thread import connect_on_gui

CHOICE_ROLE = QtCore.Qt.ItemDataRole.UserRole + 20


def host_of(endpoint: str) -> str:
    """``host:port`` of an endpoint URL (what the Discover field starts with).

    >>> host_of("opc.tcp://127.0.0.1:4840/floortwin/")
    '127.0.0.1:4840'
    """
    parts = urlsplit(endpoint.strip())
    return parts.netloc if parts.scheme == "opc.tcp" and parts.netloc else endpoint.strip()


class DiscoveryDialog(QtWidgets.QDialog):
    """Lists what a host serves; ``chosen()`` is the endpoint picked after ``accept``."""

    def __init__(self, endpoint: str, parent: QtWidgets.QWidget | None = None, discovery: Discovery | None = None):
        super().__init__(parent)
        self.setWindowTitle("Discover OPC UA servers")
        self.discovery = discovery or Discovery()
        self._number = 0
        self._summary = ""
        self.host = QtWidgets.QLineEdit(host_of(endpoint))
        self.host.setPlaceholderText("host:port, e.g. 127.0.0.1:4840 (a discovery server listens on 4840)")
        self.host.setToolTip("The computer to ask: its servers (FindServers) and each one's endpoints (GetEndpoints)")
        self.find = QtWidgets.QPushButton("&Find Servers")
        self.find.setDefault(True)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("&Host"))
        row.itemAt(0).widget().setBuddy(self.host)  # type: ignore[union-attr]
        row.addWidget(self.host, 1)
        row.addWidget(self.find)
        self.tree = QtWidgets.QTreeWidget()
        self.tree.setHeaderLabels(["Server / endpoint", "Security", "Policy", "Logins"])
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        for col in range(4):  # URLs are never cut: the list scrolls sideways when narrower than they are
            header.setSectionResizeMode(col, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.status = QtWidgets.QLabel("Find the servers a host offers, then pick an endpoint.")
        self.status.setWordWrap(True)
        self.buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        self.use = self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        self.use.setText("&Use Endpoint")
        self.use.setEnabled(False)
        self.use.setAutoDefault(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.find.clicked.connect(self.start)
        self.host.returnPressed.connect(self.start)
        self.tree.currentItemChanged.connect(self._on_current)
        self.tree.itemDoubleClicked.connect(self._on_double_click)
        connect_on_gui(self.discovery.found, self._on_found)
        connect_on_gui(self.discovery.failed, self._on_failed)
        self.resize(820, 380)

    def start(self) -> None:
        """Look up the host typed (off the GUI thread; at most ``DISCOVERY_TIMEOUT_S``)."""
        self.tree.clear()
        self.use.setEnabled(False)
        self.find.setEnabled(False)
        self._set_status(f"Asking {self.host.text().strip()} (at most {DISCOVERY_TIMEOUT_S:g} s)…")
        self._number = self.discovery.start(self.host.text())

    def chosen(self) -> EndpointChoice | None:
        item = self.tree.currentItem()
        choice = item.data(0, CHOICE_ROLE) if item is not None else None
        return choice if isinstance(choice, EndpointChoice) and not choice.problem else None

    def done(self, result: int) -> None:  # Qt override: a look-up still running is of no use any more
        self.discovery.cancel()
        self.discovery.found.disconnect(self._on_found)
        self.discovery.failed.disconnect(self._on_failed)
        super().done(result)

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #d03030" if error else "")

    def _on_failed(self, number: int, message: str) -> None:
        if number != self._number:
            return
        self.find.setEnabled(True)
        self._set_status(message, error=True)

    def _on_found(self, number: int, servers: list[DiscoveredServer]) -> None:
        if number != self._number:
            return
        self.find.setEnabled(True)
        best: QtWidgets.QTreeWidgetItem | None = None
        for server in servers:
            top = QtWidgets.QTreeWidgetItem([server.name, server.kind, "", ""])
            top.setToolTip(0, f"{server.application_uri}\n{server.discovery_url}".strip())
            top.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled)
            self.tree.addTopLevelItem(top)
            if server.problem:
                QtWidgets.QTreeWidgetItem(top, [f"(cannot list endpoints: {server.problem})", "", "", ""])
            for ep in server.endpoints:
                item = QtWidgets.QTreeWidgetItem(
                    top, [ep.url, mode_label(ep.security_mode), ep.security_policy, ", ".join(ep.user_tokens)]
                )
                item.setData(0, CHOICE_ROLE, ep)
                if ep.problem:
                    item.setToolTip(0, ep.problem)
                    for col in range(4):
                        item.setForeground(
                            col, self.palette().brush(QtGui.QPalette.ColorGroup.Disabled, QtGui.QPalette.ColorRole.Text)
                        )
                elif best is None:
                    best = item  # the server's most secure usable endpoint
            top.setExpanded(True)
        self._summary = summary(servers)
        self._set_status(self._summary)
        if best is not None:
            self.tree.setCurrentItem(best)

    def _on_current(self, item: QtWidgets.QTreeWidgetItem | None, _previous: object) -> None:
        choice = item.data(0, CHOICE_ROLE) if item is not None else None
        usable = isinstance(choice, EndpointChoice) and not choice.problem
        self.use.setEnabled(usable)
        if isinstance(choice, EndpointChoice) and choice.problem:
            self._set_status(f"This endpoint cannot be used: {choice.problem}", error=True)
        elif usable:
            picked = f"{choice.url} — {mode_label(choice.security_mode)}, {choice.security_policy}"
            self._set_status(f"{self._summary}\nSelected: {picked}")

    def _on_double_click(self, item: QtWidgets.QTreeWidgetItem, _column: int) -> None:
        if self.chosen() is not None and item is self.tree.currentItem():
            self.accept()
