"""MQTT metrics feed the live session as OPC UA values do: a machine bound to a Sparkplug B metric (or a JSON
topic) shows it in the state store, the SQLite history records it, and it goes stale when its edge node dies.
This thread plays the GUI thread (``psygnal.emit_queued``), as in tests/live/test_session.py."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import numpy as np
import paho.mqtt.client as mqtt
import psygnal
from tahutils.tahu import sparkplug_b as spb

from app.history.recorder import History
from app.live.client import ConnectionSettings, LinkState
from app.live.session import LiveSession
from app.model.io import load_factory
from app.mqtt.source import STALE, MqttSource
from tests.conftest import DEMO
from tests.mqtt.conftest import EdgeNode, wait_for

SPB = "mqtt:spBv1.0/Plant/Edge-1/CNC-01"


def _factory(tags: dict[str, str]):
    """The demo plant with CNC-01 bound to ``tags`` and no other machine bound."""
    factory = load_factory(DEMO)
    machines = [m.model_copy(update={"tags": tags if m.id == "CNC-01" else {}, "states": {}}) for m in factory.machines]
    return factory.model_copy(update={"machines": machines})


def _wire(session: LiveSession) -> None:
    def values(generation: int, batch: list) -> None:
        if generation == session.generation:
            session.ingest(batch)

    def link(generation: int, state: LinkState, _message: str, at: float) -> None:
        if generation == session.generation:
            session.apply_link(state, at)

    session.values_received.connect(values, thread="current")
    session.link_changed.connect(link, thread="current")


def _pump(session: LiveSession, until: Callable[[], bool], timeout_s: float = 20.0) -> None:
    def check() -> bool:
        psygnal.emit_queued()
        session.flush(time.time())
        return until()

    wait_for(check, timeout_s, "the live session")


def test_a_sparkplug_metric_reaches_the_store_and_the_history_and_goes_stale_on_death(broker, edge: EdgeNode, tmp_path):
    factory = _factory({"Temperature": f"{SPB}#Temperature", "State": f"{SPB}#State", "PartCount": f"{SPB}#PartCount"})
    session = LiveSession(max_age_s=10.0)
    _wire(session)
    path = tmp_path / "history.sqlite"
    assert session.start(factory, ConnectionSettings(broker.url), path, make_client=MqttSource)
    try:
        store = session.store
        assert store is not None and isinstance(session.client, MqttSource)
        _pump(session, lambda: store.value("CNC-01", "Temperature") == 41.5)
        assert session.state == LinkState.CONNECTED
        assert store.state("CNC-01") == "running" and store.value("CNC-01", "PartCount") == 7
        fresh = store.fresh("Temperature", time.time(), session.max_age_s)
        assert fresh[store.machine_index["CNC-01"]]

        edge.data({1: (spb.MetricDataType.Double, 47.0), 2: (spb.MetricDataType.String, "down")})
        _pump(session, lambda: store.value("CNC-01", "Temperature") == 47.0)
        assert store.state("CNC-01") == "down"

        edge.node_death()
        i = store.machine_index["CNC-01"]
        _pump(session, lambda: store.status[i, store.signal_index["Temperature"]] == STALE)
        assert not store.fresh("Temperature", time.time(), session.max_age_s)[i], "a dead node's metric is not fresh: grey"
        assert store.value("CNC-01", "Temperature") == 47.0, "its last value is kept"

        assert session.recorder is not None and session.recorder.flush(10)
        history = History(path)
        _t, values, status = history.series("CNC-01", "Temperature")
        assert 41.5 in values and 47.0 in values
        assert status[-1] == STALE, "the death is recorded: nothing says the value was current after it"
        _t, texts = history.text_series("CNC-01", "State")
        assert "running" in texts and "down" in texts
        assert ("CNC-01", "Temperature", f"{SPB}#Temperature") in history.signals()
    finally:
        asyncio.run(session.aclose())


def test_a_json_topic_mapping_feeds_the_store_and_the_history(broker, tmp_path):
    factory = _factory({"Temperature": "mqtt:plant/cnc01/telemetry#spindle.temp", "State": "mqtt:plant/cnc01/state"})
    session = LiveSession(max_age_s=10.0)
    _wire(session)
    path = tmp_path / "history.sqlite"
    assert session.start(factory, ConnectionSettings(broker.url), path, make_client=MqttSource)
    device = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="json-device")
    device.connect("127.0.0.1", broker.port)
    device.loop_start()
    try:
        store = session.store
        assert store is not None
        _pump(session, lambda: session.state == LinkState.CONNECTED)

        def publish() -> bool:
            device.publish("plant/cnc01/telemetry", json.dumps({"spindle": {"temp": 38.25}, "load": 0.4}))
            device.publish("plant/cnc01/state", b"blocked")  # a bare word, no JSON document
            time.sleep(0.05)
            return True

        _pump(session, lambda: publish() and store.value("CNC-01", "Temperature") == 38.25)
        _pump(session, lambda: store.state("CNC-01") == "blocked")
        device.publish("plant/cnc01/telemetry", b"{broken").wait_for_publish(5)
        device.publish("plant/cnc01/telemetry", json.dumps({"spindle": {}})).wait_for_publish(5)
        client = session.client
        assert isinstance(client, MqttSource)
        wait_for(lambda: client.counts.malformed == 1 and client.counts.json_missing == 1, what="the bad documents counted")
        assert store.value("CNC-01", "Temperature") == 38.25
        assert session.recorder is not None and session.recorder.flush(10)
        _t, values, _status = History(path).series("CNC-01", "Temperature")
        assert np.any(values == 38.25)
    finally:
        device.loop_stop()
        device.disconnect()
        asyncio.run(session.aclose())


def test_a_json_value_not_published_again_within_stale_s_goes_stale_and_comes_back(broker):
    factory = _factory({"Temperature": "mqtt:plant/cnc01/telemetry#temp"})
    session = LiveSession(max_age_s=60.0)
    _wire(session)
    assert session.start(factory, ConnectionSettings(f"{broker.url}?stale_s=1.5"), None, make_client=MqttSource)
    device = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="json-device")
    device.connect("127.0.0.1", broker.port)
    device.loop_start()
    try:
        store = session.store
        assert store is not None
        i, j = store.machine_index["CNC-01"], store.signal_index["Temperature"]
        _pump(session, lambda: session.state == LinkState.CONNECTED)
        topic = "plant/cnc01/telemetry"
        _pump(session, lambda: device.publish(topic, b'{"temp": 30.5}') and store.value("CNC-01", "Temperature") == 30.5)
        assert store.status[i, j] == 0
        _pump(session, lambda: store.status[i, j] == STALE)  # the device went quiet
        assert store.value("CNC-01", "Temperature") == 30.5 and not store.fresh("Temperature", time.time(), 60.0)[i]
        device.publish("plant/cnc01/telemetry", b'{"temp": 31.0}').wait_for_publish(5)
        _pump(session, lambda: store.value("CNC-01", "Temperature") == 31.0 and store.status[i, j] == 0)
        broker.process.kill()  # the broker goes away: its JSON values are stale at once
        _pump(session, lambda: store.status[i, j] == STALE and session.state == LinkState.RECONNECTING, 10)
    finally:
        device.loop_stop()
        device.disconnect()
        asyncio.run(session.aclose())


def test_the_connect_form_takes_a_broker_and_asks_for_tls_before_sending_a_password():
    from app.live.connection_form import form_problem

    assert form_problem("mqtt://127.0.0.1:1883", 0, False, "", False) is None
    assert form_problem("mqtts://broker:8883", 0, True, "operator", False) is None
    clear = form_problem("mqtt://broker", 0, True, "operator", False)
    assert clear is not None and "unencrypted" in clear and "mqtts://" in clear
    assert form_problem("mqtt://broker", 0, True, "operator", True) is None
    assert form_problem("mqtt://", 0, False, "", False) is not None
