"""The window on an MQTT broker: a factory bound to Sparkplug B metrics connects through Live ▸ Connect's
path (the built-in data source for mqtt://), its machines take their states and values, and the Browse dock
lists the edge node's metrics with the addresses a drop binds."""

from __future__ import annotations

import pytest
from PySide6 import QtWidgets
from tahutils.tahu import sparkplug_b as spb

from app.live.client import LinkState
from app.mqtt.source import STALE, MqttSource
from tests.mqtt.conftest import EdgeNode
from tests.mqtt.test_session_mqtt import SPB, _factory

pytestmark = pytest.mark.gui


def _rows(model, parent=None) -> list[str]:
    from PySide6 import QtCore

    parent = parent or QtCore.QModelIndex()
    return [model.index(r, 0, parent).data() for r in range(model.rowCount(parent))]


def test_the_window_shows_sparkplug_metrics_and_browses_them(qloop, make_window, qtbot, broker, edge: EdgeNode, tmp_path):
    w = make_window(open_demo=False)
    factory = _factory({"Temperature": f"{SPB}#Temperature", "State": f"{SPB}#State"})
    w.files.open_loaded(factory, tmp_path / "mqtt-plant.json", connect=False)
    assert w.console.connect_from_file(broker.url)
    qtbot.waitUntil(lambda: w.live.active and w.live.store is not None, timeout=10000)
    store = w.live.store
    qtbot.waitUntil(lambda: store.value("CNC-01", "Temperature") == 41.5, timeout=15000)
    assert isinstance(w.live.session.client, MqttSource) and w.live.session.state == LinkState.CONNECTED
    assert store.state("CNC-01") == "running"

    dock = w.browse_dock
    qtbot.waitUntil(lambda: _rows(dock.model) == ["Plant"], timeout=10000)
    plant = dock.model.index(0, 0)
    dock.tree.expand(plant)
    qtbot.waitUntil(lambda: _rows(dock.model, plant) == ["Edge-1"], timeout=10000)
    node = dock.model.index(0, 0, plant)
    dock.tree.expand(node)
    qtbot.waitUntil(lambda: "CNC-01" in _rows(dock.model, node), timeout=10000)
    device = dock.model.index(_rows(dock.model, node).index("CNC-01"), 0, node)
    dock.tree.expand(device)
    qtbot.waitUntil(lambda: "Temperature" in _rows(dock.model, device), timeout=10000)
    dock.raise_()
    dock.tree.setCurrentIndex(dock.model.index(_rows(dock.model, device).index("Temperature"), 0, device))
    assert dock.current_node()[0] == f"{SPB}#Temperature" and dock.current_node()[2] == "Variable"

    edge.data({1: (spb.MetricDataType.Double, 52.5)})
    qtbot.waitUntil(lambda: store.value("CNC-01", "Temperature") == 52.5, timeout=10000)
    edge.device_death()
    i, j = store.machine_index["CNC-01"], store.signal_index["Temperature"]
    qtbot.waitUntil(lambda: store.status[i, j] == STALE, timeout=10000)
    QtWidgets.QApplication.processEvents()
    w.grab().save(str(tmp_path / "window.png"))


def test_live_connect_takes_a_broker_url_in_the_dialog(qloop, make_window, qtbot, broker, edge: EdgeNode, tmp_path):
    """Live ▸ Connect…: an mqtt:// URL typed in the dialog connects through the built-in MQTT data source."""
    from PySide6 import QtCore

    from app.ui.connection_dialog import ConnectionDialog

    w = make_window(open_demo=False)
    w.files.open_loaded(_factory({"Temperature": f"{SPB}#Temperature"}), tmp_path / "mqtt-plant.json", connect=False)
    seen: list[str] = []

    def fill() -> None:
        shown = [t for t in QtWidgets.QApplication.topLevelWidgets() if isinstance(t, ConnectionDialog) and t.isVisible()]
        if not shown:
            QtCore.QTimer.singleShot(50, fill)
            return
        dialog = shown[-1]
        dialog.endpoint.setText(broker.url)
        dialog._validate()  # OK: the form must take the broker's URL
        seen.append(dialog.error.text())

    QtCore.QTimer.singleShot(50, fill)
    w.actions_by_id["live.connect"].trigger()
    qtbot.waitUntil(lambda: bool(seen), timeout=10000)
    assert seen == [""], seen
    qtbot.waitUntil(lambda: w.live.store is not None and w.live.store.value("CNC-01", "Temperature") == 41.5, timeout=20000)
    assert isinstance(w.live.session.client, MqttSource)
    assert w.document.factory.opcua.endpoint == broker.url  # remembered with the factory, as a server's is
