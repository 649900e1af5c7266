"""UaExpert basics in the window against a real, secure plant simulator: the selected node's attributes under
the Server tree, Add to Watch List from the tree's context menu, Write Value… confirmed, with the server's
status shown, and a write refused before it is sent over a link that may not write."""

from __future__ import annotations

import asyncio
import concurrent.futures

import pytest
from PySide6 import QtCore, QtWidgets

from app.live.client import ConnectionSettings
from tests.plant.secure import CLIENT_URI, client_files, plant_process

pytestmark = pytest.mark.gui


def _settings(endpoint: str, tmp, user: str | None, password: str = "", secure: bool = True) -> ConnectionSettings:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # (the GUI thread's loop is running: not here)
        cert, key, server_cert = pool.submit(asyncio.run, client_files(tmp)).result(60)
    return ConnectionSettings(
        endpoint,
        "Basic256Sha256" if secure else "None",
        "SignAndEncrypt" if secure else "None",
        user,
        password or None,
        cert if secure else None,
        key if secure else None,
        server_cert if secure else None,
        application_uri=CLIENT_URI,
    )


def _open(qtbot, dock, path: list[str]):
    """Expand the Server tree along ``path`` (display names), waiting for each level to load."""
    for depth in range(1, len(path) + 1):
        qtbot.waitUntil(lambda d=depth: dock.find(path[:d]) is not None, timeout=20000)
        item = dock.find(path[:depth])
        if depth < len(path):
            dock.tree.expand(item.index())
    return dock.find(path)


def _rows(panel) -> dict[str, str]:
    return {panel.table.item(r, 0).text(): panel.table.item(r, 1).text() for r in range(panel.table.rowCount())}


def _when(qtbot, ready, act, timeout_ms: int = 20000) -> list:
    """Call ``act`` once ``ready()`` gives something (inside a dialog's own loop); the list gets what it gave."""
    done: list = []
    deadline = QtCore.QDeadlineTimer(timeout_ms)

    def poll():
        got = ready()
        if got:
            done.append(got)
            act(got)
        elif not deadline.hasExpired():
            QtCore.QTimer.singleShot(50, poll)

    QtCore.QTimer.singleShot(50, poll)
    return done


def test_attributes_watch_and_a_confirmed_write(qloop, make_window, qtbot, tmp_path):
    w = make_window()
    tools, dock = w.node_tools, w.browse_dock
    with plant_process(tmp_path, speed=60.0) as plant:
        w.console.connect_live(_settings(plant.endpoint, tmp_path, "engineer", "eng-pw"))
        setpoint = _open(qtbot, dock, ["Factory", "Machining", "CNC-02", "CycleTimeSetpoint"])

        # Selecting a variable shows its attributes, read off the GUI thread.
        dock.tree.setCurrentIndex(setpoint.index())
        qtbot.waitUntil(lambda: "EU range" in _rows(tools.panel), timeout=20000)
        rows = _rows(tools.panel)
        assert rows["Data type"] == "Double" and rows["Access"] == "read, write" and rows["Your access"] == "read, write"
        assert rows["Engineering units"] == "s" and rows["Status"] == "Good" and rows["Source time"] != "—"
        assert "writable by an engineer" in rows["Description"] and tools.panel.write.isEnabled()
        old = float(rows["Value"])

        # The tree's context menu adds a variable to the Watch dock, which fills in as values arrive.
        temperature = _open(qtbot, dock, ["Factory", "Machining", "CNC-02", "Temperature"])
        rect = dock.tree.visualRect(temperature.index())
        dock.tree.customContextMenuRequested.emit(rect.center())
        actions = {a.text(): a for a in dock.menu.actions()}
        assert actions["&Write Value…"].isEnabled()
        actions["Add to &Watch List"].trigger()
        watch = tools.watch_dock
        assert watch.table.rowCount() == 1 and watch.table.item(0, 0).text() == "Temperature"
        qtbot.waitUntil(lambda: watch.table.item(0, 2).text() == "Good", timeout=20000)
        assert 0 <= float(watch.table.item(0, 1).text()) <= 100 and watch.table.item(0, 3).text() != ""
        assert w.settings.store.value("live/watch_lists")  # kept for this server

        # Write Value…: the dialog shows the old value; the confirmation names node, old and new value.
        dock.tree.setCurrentIndex(setpoint.index())
        qtbot.waitUntil(lambda: "EU range" in _rows(tools.panel), timeout=20000)
        tools.panel.write.click()
        qtbot.waitUntil(lambda: tools.write_dialog is not None, timeout=20000)
        dialog = tools.write_dialog
        assert dialog.old.text().startswith(str(old)) and dialog.old.text().endswith(" s")
        dialog.value.setText("fast")
        dialog._check()
        assert "not a number" in dialog.error.text() and dialog.isVisible()
        dialog.value.setText("300")
        asked = _when(qtbot, lambda: dialog.confirm, lambda box: box.button(QtWidgets.QMessageBox.StandardButton.Yes).click())
        dialog._check()
        box_text = asked[0].text()
        assert f"Old value: {old} s" in box_text and "New value: 300.0 s (Double)" in box_text and "engineer" in box_text
        qtbot.waitUntil(lambda: _rows(tools.panel).get("Value") == "300.0", timeout=20000)
        assert "Written: CycleTimeSetpoint = 300.0" in w.statusBar().currentMessage()

        # Out of range: the confirmation warns, the server refuses, and its status is shown.
        tools.panel.write.click()
        qtbot.waitUntil(lambda: tools.write_dialog is not None and tools.write_dialog is not dialog, timeout=20000)
        dialog = tools.write_dialog
        dialog.value.setText("1")
        asked = _when(qtbot, lambda: dialog.confirm, lambda box: box.button(QtWidgets.QMessageBox.StandardButton.Yes).click())
        dialog._check()
        assert "outside the node's EU range" in asked[0].text()
        qtbot.waitUntil(lambda: w.last_error is not None and "BadOutOfRange" in w.last_error.text(), timeout=20000)
        assert w.last_error.windowTitle().endswith("The server refused the write") or "refused" in w.last_error.text()
        w.last_error.close()
        w.console.disconnect_live()
        assert "not updated while the link is down" in watch.table.item(0, 1).toolTip()  # the last value, greyed


def test_a_write_over_an_insecure_link_is_refused_before_it_is_sent(qloop, make_window, qtbot, tmp_path):
    w = make_window()
    with plant_process(tmp_path, speed=60.0) as plant:
        w.console.connect_live(_settings(plant.endpoint, tmp_path, None, secure=False))
        qtbot.waitUntil(lambda: w.live.state.value == "connected", timeout=20000)
        w.node_tools.ask_write("nsu=urn:floortwin:plantsim;s=Machines/CNC-02/CycleTimeSetpoint", "CycleTimeSetpoint")
        assert w.node_tools.write_dialog is None
        assert "writes need a secure channel" in w.last_error.text() and "Nothing was written" in w.last_error.text()
        w.last_error.close()
        w.console.disconnect_live()
