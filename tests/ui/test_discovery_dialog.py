"""Connect ▸ Discover…: a real plant simulator's endpoints listed off the GUI thread; the one picked fills in
the form; nothing listening gives a clear message."""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtWidgets

from app.model.factory import OpcUaSettings
from app.plant.server import free_port
from app.ui.connection_dialog import ConnectionDialog
from app.ui.discovery_dialog import CHOICE_ROLE, DiscoveryDialog

pytestmark = pytest.mark.gui


def _endpoint_rows(dialog: DiscoveryDialog) -> list[QtWidgets.QTreeWidgetItem]:
    rows = []
    for k in range(dialog.tree.topLevelItemCount()):
        top = dialog.tree.topLevelItem(k)
        rows += [top.child(j) for j in range(top.childCount())]
    return rows


def test_discover_lists_the_endpoints_and_fills_in_the_form(qtbot, tmp_path, plant_endpoint):
    port = plant_endpoint.split(":")[2].split("/")[0]
    conn = ConnectionDialog(OpcUaSettings(endpoint=f"opc.tcp://127.0.0.1:{port}"), tmp_path / "c.der", tmp_path / "k.pem")
    qtbot.addWidget(conn)
    conn.user_login.setChecked(True)
    seen: dict = {}

    def pick():  # the Discover dialog runs its own loop: act inside it once the look-up has answered
        dialog = conn.discovery_dialog
        if dialog is None or not dialog.find.isEnabled():
            QtCore.QTimer.singleShot(50, pick)
            return
        rows = _endpoint_rows(dialog)
        seen["rows"] = [(r.text(0), r.text(1), r.text(2), r.text(3)) for r in rows]
        seen["status"] = dialog.status.text()
        seen["host"] = dialog.host.text()
        dialog.use.click()

    QtCore.QTimer.singleShot(50, pick)
    choice = conn.discover_endpoints()
    assert seen["host"] == f"127.0.0.1:{port}"  # started from the form's endpoint
    assert seen["rows"] == [(plant_endpoint, "None", "None", "Anonymous")]
    assert seen["status"].startswith("1 server, 1 endpoint (1 floortwin can use)")
    assert choice is not None and conn.endpoint.text() == plant_endpoint
    assert conn.security.currentIndex() == 0 and conn.anonymous.isChecked()  # the plant takes anonymous logins only


def test_the_most_secure_usable_endpoint_is_preselected_and_fills_security(qtbot, tmp_path):
    from app.live.discovery import DiscoveredServer, EndpointChoice

    conn = ConnectionDialog(OpcUaSettings(), tmp_path / "c.der", tmp_path / "k.pem")
    qtbot.addWidget(conn)
    dialog = DiscoveryDialog("opc.tcp://plc:4840/", conn)
    qtbot.addWidget(dialog)
    url = "opc.tcp://plc:4840/"
    server = DiscoveredServer(
        "PLC",
        "urn:plc",
        "Server",
        url,
        (
            EndpointChoice(url, "Aes256_Sha256_RsaPss", "SignAndEncrypt", ("User name",), 9),
            EndpointChoice(url, "Basic256Sha256", "SignAndEncrypt", ("User name",), 8),
            EndpointChoice(url, "None", "None", ("Anonymous",), 0),
        ),
    )
    dialog._number = 1
    dialog._on_found(1, [server])  # as the look-up's answer arrives on the GUI thread
    current = dialog.tree.currentItem().data(0, CHOICE_ROLE)
    assert current.security_policy == "Basic256Sha256"  # not the Aes endpoint floortwin does not speak
    aes = _endpoint_rows(dialog)[0]
    dialog.tree.setCurrentItem(aes)
    assert not dialog.use.isEnabled() and "does not speak Aes256_Sha256_RsaPss" in dialog.status.text()
    dialog.tree.setCurrentItem(_endpoint_rows(dialog)[1])
    conn.use_endpoint(dialog.chosen())
    assert conn.security.currentIndex() == 2 and conn.user_login.isChecked() and conn.username.isEnabled()
    conn.use_endpoint(server.endpoints[2])
    assert conn.security.currentIndex() == 0 and conn.anonymous.isChecked()


def test_nothing_listening_gives_a_clear_message(qtbot):
    port = free_port()
    dialog = DiscoveryDialog(f"opc.tcp://127.0.0.1:{port}/")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    assert not dialog.find.isEnabled()
    qtbot.waitUntil(dialog.find.isEnabled, timeout=20000)
    assert "nothing listens there" in dialog.status.text() and dialog.tree.topLevelItemCount() == 0
    assert not dialog.use.isEnabled()
