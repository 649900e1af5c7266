"""The Live menu: connect (Ctrl+K) after a disconnect, without going through the welcome page."""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from app.ui.connection_dialog import ConnectionDialog

pytestmark = pytest.mark.gui


def _live_menu(w) -> QtWidgets.QMenu:
    return w.menuBar().findChild(QtWidgets.QMenu, "menu_live")


def _accept_next_dialog(qtbot, endpoint: str) -> list[str]:
    """Fill in and accept the next connection dialog (it runs its own modal loop)."""
    seen: list[str] = []

    def poll():
        shown = [t for t in QtWidgets.QApplication.topLevelWidgets() if isinstance(t, ConnectionDialog) and t.isVisible()]
        if not shown:
            QtCore.QTimer.singleShot(50, poll)
            return
        d = shown[-1]
        seen.append(d.windowTitle())
        d.endpoint.setText(endpoint)
        d._validate()

    QtCore.QTimer.singleShot(50, poll)
    return seen


def test_connect_to_server_is_in_the_live_menu_with_ctrl_k(make_window):
    w = make_window()
    titles = [a.text() for a in _live_menu(w).actions() if not a.isSeparator()]
    assert titles[0] == "&Connect to Server…"
    act = w.actions_by_id["live.connect"]
    assert act.shortcut() == QtGui.QKeySequence("Ctrl+K")
    assert act.isEnabled() and not w.actions_by_id["live.disconnect"].isEnabled()


def test_after_disconnect_ctrl_k_connects_again(qloop, make_window, qtbot, plant_endpoint):
    w = make_window()
    connect, disconnect = w.actions_by_id["live.connect"], w.actions_by_id["live.disconnect"]
    for _round in range(2):
        seen = _accept_next_dialog(qtbot, plant_endpoint)
        with qtbot.waitActive(w):
            w.activateWindow()
        w.view.plotter.setFocus()
        qtbot.keyClick(w.view.plotter, QtCore.Qt.Key.Key_K, QtCore.Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda seen=seen: bool(seen), timeout=10000)
        qtbot.waitUntil(lambda: w.console.connect_task.done() and w.live.active, timeout=15000)
        qtbot.waitUntil(w.console.live_ready, timeout=20000)
        assert not connect.isEnabled() and disconnect.isEnabled()  # connected: only Disconnect makes sense
        disconnect.trigger()
        assert not w.live.active
        assert connect.isEnabled() and not disconnect.isEnabled()  # and the way back is right there


def test_a_variable_dropped_on_a_machine_binds_it_in_one_undo_step(make_window, monkeypatch):
    """The operator console is composed into the window (``window.console``): a dropped variable is bound
    through it, the properties follow, and undo and redo go through the same console."""
    import json

    from app.ui.browse_dock import MIME_NODE

    w = make_window()
    assert w.console.parent() is w and not hasattr(w, "_on_drop")  # composed, not mixed into the window
    asked = []

    def answer(parent, title, label, items, current, editable):
        asked.append((parent, label, items[current]))
        return "Temperature", True

    monkeypatch.setattr(QtWidgets.QInputDialog, "getItem", answer)
    applied: list[str] = []
    w.console.binding_applied.connect(applied.append)
    mime = QtCore.QMimeData()
    node = "ns=2;s=Mill7/Temperature"
    mime.setData(MIME_NODE, json.dumps({"node_id": node, "name": "Temperature"}).encode())
    w.view.dropped_on_machine.emit("CNC-02", mime)
    assert asked == [(w, f"Signal of CNC-02 shown by {node}:", "Temperature")]  # the variable's name preselected
    assert w.document.factory.machine("CNC-02").tags["Temperature"] == node and applied == ["CNC-02"]
    stack = w.layout_editor.stack
    assert stack.text(stack.count() - 1) == "Bind CNC-02.Temperature"
    before = stack.count()
    w.console.bind_tag("CNC-02", "Temperature", node)  # the same binding again: no new step
    assert stack.count() == before
    stack.undo()
    assert w.document.factory.machine("CNC-02").tags["Temperature"] != node and applied == ["CNC-02", "CNC-02"]
    stack.redo()
    assert w.document.factory.machine("CNC-02").tags["Temperature"] == node
