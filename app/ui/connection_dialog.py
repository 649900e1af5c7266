"""Connect to an OPC UA server: endpoint, security, login. Passwords go to the keyring or nowhere."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6 import QtWidgets

from app.live.client import ConnectionSettings
from app.live.connection_form import (
    DEFAULT_ENDPOINT,
    PLANT_CLOCK_RANGE,
    SECURITY_CHOICES,
    connection_settings,
    file_settings,
    form_problem,
    login_in_clear,
    security_index,
)
from app.live.discovery import EndpointChoice
from app.model.factory import OpcUaSettings
from app.ui import credentials
from app.ui.discovery_dialog import DiscoveryDialog
from app.ui.widgets import number_field


class ConnectionDialog(QtWidgets.QDialog):
    """Asks where and how to connect; ``settings()`` gives the result after ``accept``, ``time_scale()`` the
    plant clock's speed the user gave. ``plant_clock`` says the speed known for an endpoint (the embedded plant
    simulator's, or the one last given for it); without it the field starts at real time."""

    def __init__(
        self,
        defaults: OpcUaSettings,
        client_cert: Path,
        client_key: Path,
        parent: QtWidgets.QWidget | None = None,
        plant_clock: Callable[[str], float] | None = None,
    ):
        super().__init__(parent)
        self._plant_clock = plant_clock
        self.discovery_dialog: DiscoveryDialog | None = None
        self.setWindowTitle("Connect to OPC UA server")
        self.client_cert, self.client_key = client_cert, client_key
        form = QtWidgets.QFormLayout()
        self.endpoint = QtWidgets.QLineEdit(defaults.endpoint or DEFAULT_ENDPOINT)
        self.endpoint.setPlaceholderText("opc.tcp://host:port/path, or mqtt://host:port for an MQTT broker")
        self.endpoint.setToolTip("The server's endpoint URL")
        self.discover = QtWidgets.QPushButton("D&iscover…")
        self.discover.setAutoDefault(False)
        self.discover.setToolTip(
            "List the servers on a host and their endpoints (security, logins); pick one to fill in the form"
        )
        self.discover.clicked.connect(self.discover_endpoints)
        endpoint_row = QtWidgets.QHBoxLayout()
        endpoint_row.addWidget(self.endpoint, 1)
        endpoint_row.addWidget(self.discover)
        endpoint_label = QtWidgets.QLabel("&Endpoint")
        endpoint_label.setBuddy(self.endpoint)
        form.addRow(endpoint_label, endpoint_row)
        lo, hi = PLANT_CLOCK_RANGE
        self.plant_clock = number_field(1.0, lo, hi, " × real time", 1)
        self.plant_clock.setToolTip(
            "How fast the plant's clock runs: 1 for a real plant; a simulator run N× faster: N.\n"
            "Rates, the drift watchdog, the shift forecast, comparisons and deployment count plant time by it.\n"
            "floortwin's plant simulator publishes its own speed: on a link to it that one is used."
        )
        form.addRow("Plant c&lock", self.plant_clock)
        self.security = QtWidgets.QComboBox()
        for label, _policy, _mode in SECURITY_CHOICES:
            self.security.addItem(label)
        self.security.setCurrentIndex(security_index(defaults.security_policy, defaults.security_mode))
        form.addRow("&Security", self.security)
        self.cert_label = QtWidgets.QLabel(f"Client certificate: {client_cert}")
        self.cert_label.setWordWrap(True)
        self.cert_label.setToolTip("Made on first use and kept in your configuration folder; the server may need to trust it")
        form.addRow("", self.cert_label)
        self.anonymous = QtWidgets.QRadioButton("&Anonymous")
        self.user_login = QtWidgets.QRadioButton("&User name and password")
        (self.user_login if defaults.username else self.anonymous).setChecked(True)
        auth = QtWidgets.QVBoxLayout()
        auth.addWidget(self.anonymous)
        auth.addWidget(self.user_login)
        form.addRow("Login", auth)
        self.username = QtWidgets.QLineEdit(defaults.username or "")
        self.password = QtWidgets.QLineEdit()
        self.password.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        form.addRow("User &name", self.username)
        form.addRow("&Password", self.password)
        self.remember = QtWidgets.QCheckBox("Remember the password in the system keyring")
        if not credentials.keyring_available():
            self.remember.setEnabled(False)
            self.remember.setText("Remember the password (no system keyring here: it will be asked each time)")
        form.addRow("", self.remember)
        self.insecure_login = QtWidgets.QCheckBox("Send the user name and password without encryption")
        self.insecure_login.setToolTip(
            "With security None, the password may cross the network readable by anyone on it.\n"
            "Choose a Basic256Sha256 mode instead, or tick this for a test server on a network you trust."
        )
        form.addRow("", self.insecure_login)

        # How values arrive and when they count as stale.
        sub = QtWidgets.QGroupBox("Subscription")
        sub_form = QtWidgets.QFormLayout(sub)
        self.publishing = number_field(defaults.publishing_ms, 10, 3_600_000, " ms", tip="How often the server sends changes")
        self.sampling = number_field(defaults.sampling_ms, 0, 3_600_000, " ms", tip="How often the server samples each variable")
        self.deadband = number_field(
            defaults.deadband, 0, 1e12, "", 3, "Ignore numeric changes smaller than this (0: every change)"
        )
        self.stale_after = number_field(
            defaults.stale_after_s, 0.5, 86_400, " s", tip="Grey out a value no live link has vouched for this long"
        )
        sub_form.addRow("P&ublishing interval", self.publishing)
        sub_form.addRow("Sa&mpling interval", self.sampling)
        sub_form.addRow("&Deadband (absolute)", self.deadband)
        sub_form.addRow("S&tale after", self.stale_after)
        self.error = QtWidgets.QLabel("")
        self.error.setStyleSheet("color: #d03030")
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Connect")
        buttons.accepted.connect(self._validate)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(sub)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.anonymous.toggled.connect(self._update_enabled)
        self.security.currentIndexChanged.connect(self._update_enabled)
        self.username.editingFinished.connect(self._prefill_password)
        self.endpoint.editingFinished.connect(self._prefill_clock)
        self._prefill_clock()
        self._update_enabled()
        self._prefill_password()

    def discover_endpoints(self) -> EndpointChoice | None:
        """Discover…: the endpoint the user picks among a host's fills in the form (None: none picked)."""
        dialog = DiscoveryDialog(self.endpoint.text(), self)
        self.discovery_dialog = dialog  # (for tests: the dialog runs its own loop)
        dialog.start()
        picked = dialog.chosen() if dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted else None
        self.discovery_dialog = None
        dialog.deleteLater()
        if picked is not None:
            self.use_endpoint(picked)
        return picked

    def use_endpoint(self, choice: EndpointChoice) -> None:
        """Fill in the form for a discovered endpoint: its URL, security and the login it takes."""
        self.endpoint.setText(choice.url)
        if choice.security is not None:
            self.security.setCurrentIndex(choice.security)
        (self.user_login if choice.login(self.user_login.isChecked()) else self.anonymous).setChecked(True)
        self.error.setText("")
        self._prefill_clock()
        self._update_enabled()
        self._prefill_password()

    def _update_enabled(self) -> None:
        users = self.user_login.isChecked()
        for w in (self.username, self.password):
            w.setEnabled(users)
        # Only shown when it matters: a login over a channel without security.
        self.insecure_login.setVisible(login_in_clear(users, self.security.currentIndex()))
        self.remember.setEnabled(users and credentials.keyring_available())
        self.cert_label.setVisible(self.security.currentIndex() > 0)

    def _prefill_clock(self) -> None:
        """The plant clock known for the endpoint typed (the embedded simulator's, or the last one given)."""
        if self._plant_clock is not None:
            self.plant_clock.setValue(self._plant_clock(self.endpoint.text().strip()))

    def time_scale(self) -> float:
        """Plant seconds per clock second, as the user gave it."""
        return self.plant_clock.value()

    def _prefill_password(self) -> None:
        if self.user_login.isChecked() and self.username.text() and not self.password.text():
            stored = credentials.load_password(self.username.text(), self.endpoint.text().strip())
            if stored:
                self.password.setText(stored)
                self.remember.setChecked(True)

    def _validate(self) -> None:
        url = self.endpoint.text().strip()
        users = self.user_login.isChecked()
        problem = form_problem(url, self.security.currentIndex(), users, self.username.text(), self.insecure_login.isChecked())
        if problem is not None:
            self.error.setText(problem)
            self.insecure_login.setVisible(login_in_clear(users, self.security.currentIndex()))
            return
        if self.remember.isChecked() and self.user_login.isChecked():
            credentials.save_password(self.username.text().strip(), url, self.password.text())
        elif self.user_login.isChecked():
            credentials.forget_password(self.username.text().strip(), url)
        self.accept()

    def settings(self) -> ConnectionSettings:
        users = self.user_login.isChecked()
        return connection_settings(
            self.endpoint.text(),
            self.security.currentIndex(),
            self.username.text() if users else None,
            self.password.text() if users else None,
            self.client_cert,
            self.client_key,
            self.publishing.value(),
            self.sampling.value(),
            self.deadband.value(),
        )

    def opcua_settings(self) -> OpcUaSettings:
        """What goes into the factory file (never the password)."""
        return file_settings(self.settings(), self.stale_after.value())
