"""Connecting from the GUI: the dialog, a secure connection with a login, trusting the server's certificate."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from PySide6 import QtCore, QtWidgets

from app.model.factory import OpcUaSettings
from app.model.io import load_factory
from app.plant.server import free_port
from app.ui import credentials
from app.ui.connection_dialog import ConnectionDialog
from tests.conftest import DEMO, ROOT

pytestmark = pytest.mark.gui


class MemoryKeyring(KeyringBackend):
    """A keyring backend in memory, standing in for the desktop's (this machine has none)."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.passwords.get((service, username))

    def set_password(self, service, username, password):
        self.passwords[(service, username)] = password

    def delete_password(self, service, username):
        self.passwords.pop((service, username), None)


@pytest.fixture
def memory_keyring():
    import keyring

    before = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(before)


def _secure_plant(port: int, cert_dir) -> subprocess.Popen:
    args = ["--secure-only", "--no-anonymous", "--user", "alice:s3cret", "--cert-dir", str(cert_dir)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.plant.server", "--factory", str(DEMO), "--port", str(port), "--speed", "20", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    assert "serving" in proc.stdout.readline()
    return proc


_POLLERS: list[list] = []


@pytest.fixture(autouse=True)
def _stop_pollers():
    yield
    for seen in _POLLERS:
        seen.append("stopped")  # a poller still waiting must not answer the next test's dialogs
    _POLLERS.clear()


def _when_modal(qtbot, kind: type, act, timeout_ms: int = 15000) -> list:
    """Call ``act`` on the next modal widget of ``kind`` to appear (dialogs block in their own loop);
    the returned list gets the widget's text (message boxes) or title once it was handled."""
    seen: list = []
    _POLLERS.append(seen)
    deadline = time.monotonic() + timeout_ms / 1000

    def find():
        w = QtWidgets.QApplication.activeModalWidget()
        if isinstance(w, kind):
            return w
        # Without a window manager a dialog is not always made the active window: look at all of them.
        shown = [t for t in QtWidgets.QApplication.topLevelWidgets() if isinstance(t, kind) and t.isVisible() and t.isModal()]
        return shown[-1] if shown else None

    def poll():
        if seen:
            return
        w = find()
        if w is not None:
            seen.append(w.text() if isinstance(w, QtWidgets.QMessageBox) else w.windowTitle())
            act(w)
        elif time.monotonic() < deadline:
            QtCore.QTimer.singleShot(50, poll)

    QtCore.QTimer.singleShot(50, poll)
    return seen


def test_dialog_refuses_a_bad_endpoint_and_a_missing_user_name(qtbot, tmp_path):
    d = ConnectionDialog(OpcUaSettings(), tmp_path / "c.der", tmp_path / "k.pem")
    qtbot.addWidget(d)
    d.endpoint.setText("http://example")
    d._validate()
    assert "opc.tcp://" in d.error.text() and d.result() == 0
    d.endpoint.setText("opc.tcp://127.0.0.1:4840/")
    d.user_login.setChecked(True)
    d._validate()
    assert "user name" in d.error.text()
    d.username.setText("bob")
    d.deadband.setValue(0.5)
    d.stale_after.setValue(30)
    d._validate()  # a login over security None: refused until the user says to send it unencrypted
    assert "unencrypted" in d.error.text() and d.result() == 0 and not d.insecure_login.isHidden()
    d.insecure_login.setChecked(True)
    d._validate()
    assert d.result() == QtWidgets.QDialog.DialogCode.Accepted
    s = d.settings()
    assert (s.username, s.deadband) == ("bob", 0.5)
    o = d.opcua_settings()
    assert o.stale_after_s == 30 and o.deadband == 0.5 and not hasattr(o, "password")


def test_secure_connection_with_a_login_trust_once_and_the_keyring(
    qloop, make_window, qtbot, tmp_path, memory_keyring, monkeypatch
):
    import threading

    import app.ui.secure_connect as console

    real_fetch, fetched_on = console.fetch_server_certificate, []

    async def fetch_spy(*args, **kw):  # the real fetch, noting which thread runs it
        fetched_on.append(threading.current_thread().name)
        return await real_fetch(*args, **kw)

    monkeypatch.setattr(console, "fetch_server_certificate", fetch_spy)
    port = free_port()
    server = _secure_plant(port, tmp_path / "server-pki")
    endpoint = f"opc.tcp://127.0.0.1:{port}/floortwin/"
    try:
        w = make_window()

        def fill(d: ConnectionDialog) -> None:
            d.endpoint.setText(endpoint)
            d.security.setCurrentIndex(2)  # Basic256Sha256 — Sign & Encrypt
            d.user_login.setChecked(True)
            d.username.setText("alice")
            d.password.setText("s3cret")
            d.remember.setChecked(True)
            d.stale_after.setValue(20)
            d._validate()

        asked = _when_modal(qtbot, QtWidgets.QMessageBox, lambda b: b.button(QtWidgets.QMessageBox.StandardButton.Yes).click())
        _when_modal(qtbot, ConnectionDialog, fill)
        w.console.connect_dialog()
        qtbot.waitUntil(lambda: len(asked) == 1, timeout=15000)
        assert "SHA-256" in asked[0] and "urn:floortwin:plantsim" in asked[0]
        assert fetched_on == ["opcua-network"]  # the server's first answer is awaited off the GUI thread
        qtbot.waitUntil(w.console.live_ready, timeout=20000)
        assert w.live.client.settings.security_mode == "SignAndEncrypt" and w.live.max_age_s == 20
        assert credentials.load_password("alice", endpoint) == "s3cret"  # in the keyring...
        saved = tmp_path / "plant.json"
        assert w.files.save_to(saved)
        text = saved.read_text()
        assert "s3cret" not in text  # ...never in the factory file
        assert load_factory(saved).opcua.username == "alice"
        w.settings.q.sync()
        assert "s3cret" not in Path(w.settings.q.fileName()).read_text(encoding="utf-8", errors="replace")

        # Again: the certificate is trusted now (no question) and the password comes from the keyring.
        w.console.disconnect_live()
        again = _when_modal(qtbot, QtWidgets.QMessageBox, lambda b: b.reject(), timeout_ms=4000)

        def reconnect(d: ConnectionDialog) -> None:
            assert d.password.text() == "s3cret" and d.username.text() == "alice"
            d._validate()

        _when_modal(qtbot, ConnectionDialog, reconnect)
        w.console.connect_dialog()
        qtbot.waitUntil(w.console.live_ready, timeout=20000)
        assert again == []
    finally:
        server.kill()
        server.wait(10)


def test_refusing_the_certificate_does_not_connect_and_a_wrong_password_is_reported(qloop, make_window, qtbot, tmp_path):
    port = free_port()
    server = _secure_plant(port, tmp_path / "server-pki")
    endpoint = f"opc.tcp://127.0.0.1:{port}/floortwin/"
    try:
        w = make_window()

        def fill(password: str):
            def act(d: ConnectionDialog) -> None:
                d.endpoint.setText(endpoint)
                d.security.setCurrentIndex(1)  # Sign
                d.user_login.setChecked(True)
                d.username.setText("alice")
                d.password.setText(password)
                d._validate()

            return act

        refused = _when_modal(qtbot, QtWidgets.QMessageBox, lambda b: b.button(QtWidgets.QMessageBox.StandardButton.No).click())
        _when_modal(qtbot, ConnectionDialog, fill("s3cret"))
        w.console.connect_dialog()
        qtbot.waitUntil(lambda: len(refused) == 1, timeout=15000)
        qtbot.waitUntil(lambda: w.console.connect_task.done(), timeout=5000)  # the connect attempt has ended…
        assert not w.live.active  # …without connecting

        # Trusted, but the password is wrong: the link says why and stops (retrying a wrong password can lock
        # the account on a real server); Live ▸ Connect is offered again.
        _when_modal(qtbot, QtWidgets.QMessageBox, lambda b: b.button(QtWidgets.QMessageBox.StandardButton.Yes).click())
        _when_modal(qtbot, ConnectionDialog, fill("guess"))
        w.console.connect_dialog()
        qtbot.waitUntil(lambda: "Link failed" in w.status_link.text() and not w.live.active, timeout=20000)
        tip = w.status_link.toolTip().lower()
        assert "user name or password" in tip and "not retried" in tip, tip
        qtbot.waitUntil(lambda: w.last_error is not None and w.last_error.windowTitle() == "Login refused", timeout=5000)
        w.last_error.close()
        assert w.actions_by_id["live.connect"].isEnabled()
    finally:
        server.kill()
        server.wait(10)
