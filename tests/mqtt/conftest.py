"""MQTT fixtures: a real broker process (mosquitto) on 127.0.0.1, and a Sparkplug B edge node written with
the Eclipse Tahu payload helpers (``tahutils.tahu.sparkplug_b``) over paho-mqtt — not with floortwin's
decoder — that answers rebirth commands as an edge node must."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import paho.mqtt.client as mqtt
import pytest
from tahutils.tahu import sparkplug_b as spb
from tahutils.tahu import sparkplug_b_pb2

from app.live.netloop import NetworkLoop
from app.plant.broker import Broker, start_broker


@pytest.fixture
def net() -> Iterator[NetworkLoop]:
    """The network loop a source runs on (its reports come from this thread, as in the app)."""
    loop = NetworkLoop("mqtt-test-network")
    try:
        yield loop
    finally:
        loop.shutdown()


@pytest.fixture
def broker() -> Iterator[Broker]:
    b = start_broker()
    try:
        yield b
    finally:
        b.stop()


def wait_for(check: Callable[[], bool], timeout_s: float = 15.0, what: str = "the condition") -> None:
    """Poll until ``check()`` holds; fail the test after ``timeout_s`` (no test waits for ever)."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


#: (name, alias, Tahu data type, value) of a metric.
Metric = tuple[str, int, int, object]


class EdgeNode:
    """A Sparkplug B edge node with one device, publishing through ``port``'s broker.

    Its births carry the metrics given; ``data`` publishes values by alias; every message but NDEATH carries
    the next ``seq``; its will is the NDEATH of its ``bd_seq``. A Node Control/Rebirth command makes it
    publish its births again (counted in ``rebirths``)."""

    def __init__(self, port: int, group: str, edge: str, device: str, node_metrics: list[Metric], device_metrics: list[Metric]):
        self.group, self.edge, self.device = group, edge, device
        self.node_metrics, self.device_metrics = node_metrics, device_metrics
        self.bd_seq = 0
        self.seq = 0
        self.rebirths = 0
        self.lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"edge-{edge}")
        self.client.on_message = self._on_command
        self.port = port
        self.connected = threading.Event()
        self.was_connected = False  # (the first connection publishes no birth: the host's rebirth request does)
        self.client.on_connect = self._on_connect

    def _on_connect(self, client: mqtt.Client, _userdata: object, _flags: object, _reason: object, _props: object) -> None:
        client.subscribe(self.topic("NCMD"), qos=0)  # at every connection: a new broker knows nothing of it
        if self.was_connected:  # back on the broker: born again, as an edge node must (the host may have missed it)
            threading.Thread(target=self.birth, daemon=True).start()
        self.was_connected = True
        self.connected.set()

    def topic(self, kind: str, device: bool = False) -> str:
        base = f"spBv1.0/{self.group}/{kind}/{self.edge}"
        return f"{base}/{self.device}" if device else base

    def _death(self) -> bytes:
        p = sparkplug_b_pb2.Payload()
        spb.addMetric(p, "bdSeq", None, spb.MetricDataType.Int64, self.bd_seq)
        return p.SerializeToString()

    def connect(self) -> None:
        self.client.will_set(self.topic("NDEATH"), self._death(), qos=1)
        self.client.connect("127.0.0.1", self.port, keepalive=5)
        self.client.loop_start()
        assert self.connected.wait(10), "the edge node could not connect to the broker"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def next_seq(self) -> int:
        seq, self.seq = self.seq, (self.seq + 1) % 256
        return seq

    def birth(self) -> None:
        with self.lock:
            self.seq = 0
            p = sparkplug_b_pb2.Payload(timestamp=int(time.time() * 1000), seq=self.next_seq())
            spb.addMetric(p, "bdSeq", None, spb.MetricDataType.Int64, self.bd_seq)
            spb.addMetric(p, "Node Control/Rebirth", None, spb.MetricDataType.Boolean, False)
            for name, alias, dtype, value in self.node_metrics:
                spb.addMetric(p, name, alias, dtype, value)
            self.client.publish(self.topic("NBIRTH"), p.SerializeToString(), qos=0).wait_for_publish(5)
            d = sparkplug_b_pb2.Payload(timestamp=int(time.time() * 1000), seq=self.next_seq())
            for name, alias, dtype, value in self.device_metrics:
                spb.addMetric(d, name, alias, dtype, value)
            self.client.publish(self.topic("DBIRTH", device=True), d.SerializeToString(), qos=0).wait_for_publish(5)

    def data(self, values: dict[int, tuple[int, object]], device: bool = True, seq: int | None = None) -> None:
        """Publish ``{alias: (data type, value)}`` as DDATA (NDATA with ``device=False``); ``seq`` forces one."""
        with self.lock:
            p = sparkplug_b_pb2.Payload(timestamp=int(time.time() * 1000), seq=self.next_seq() if seq is None else seq)
            for alias, (dtype, value) in values.items():
                spb.addMetric(p, None, alias, dtype, value)
            kind = "DDATA" if device else "NDATA"
            self.client.publish(self.topic(kind, device), p.SerializeToString(), qos=0).wait_for_publish(5)

    def device_death(self) -> None:
        with self.lock:
            p = sparkplug_b_pb2.Payload(timestamp=int(time.time() * 1000), seq=self.next_seq())
            self.client.publish(self.topic("DDEATH", device=True), p.SerializeToString(), qos=0).wait_for_publish(5)

    def node_death(self, bd_seq: int | None = None) -> None:
        p = sparkplug_b_pb2.Payload()
        spb.addMetric(p, "bdSeq", None, spb.MetricDataType.Int64, self.bd_seq if bd_seq is None else bd_seq)
        self.client.publish(self.topic("NDEATH"), p.SerializeToString(), qos=0).wait_for_publish(5)

    def raw(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=0).wait_for_publish(5)

    def _on_command(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        p = sparkplug_b_pb2.Payload.FromString(msg.payload)
        if any(m.name == "Node Control/Rebirth" and m.boolean_value for m in p.metrics):
            self.rebirths += 1
            threading.Thread(target=self.birth, daemon=True).start()  # not on paho's thread: births wait for it


CNC = [("Temperature", 1, spb.MetricDataType.Double, 41.5), ("State", 2, spb.MetricDataType.String, "running"),
       ("PartCount", 3, spb.MetricDataType.Int32, 7)]  # fmt: skip
NODE = [("Uptime", 100, spb.MetricDataType.Int64, 12)]


@pytest.fixture
def edge(broker: Broker) -> Iterator[EdgeNode]:
    node = EdgeNode(broker.port, "Plant", "Edge-1", "CNC-01", NODE, CNC)
    node.connect()
    try:
        yield node
    finally:
        node.close()
