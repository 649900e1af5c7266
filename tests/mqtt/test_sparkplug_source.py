"""The Sparkplug B source against a real broker process and an edge node publishing with Eclipse Tahu's
payload helpers: births define metrics and aliases, data updates them, deaths and sequence gaps make them
stale and bring a rebirth request, malformed payloads and unknown aliases are counted. Bounded in time."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

from tahutils.tahu import sparkplug_b as spb

from app.live.client import ConnectionSettings, LinkState
from app.live.netloop import NetworkLoop
from app.mqtt.source import STALE, MqttSource
from app.plant.broker import Broker
from app.state.store import Update
from tests.mqtt.conftest import EdgeNode, wait_for

BASE = "mqtt:spBv1.0/Plant/Edge-1"
BINDINGS = [
    (0, f"{BASE}/CNC-01#Temperature"),
    (1, f"{BASE}/CNC-01#State"),
    (2, f"{BASE}/CNC-01#PartCount"),
    (3, f"{BASE}#Uptime"),  # the edge node's own metric
    (4, f"{BASE}/CNC-01#NoSuchMetric"),
    (5, "ns=2;s=Machines/CNC-02/State"),  # an OPC UA node id on an MQTT link
]


@dataclass
class Heard:
    """What the source reported, from the network loop's thread."""

    updates: list[Update] = field(default_factory=list)
    states: list[tuple[LinkState, str]] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)
    threads: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def latest(self, k: int) -> Update | None:
        with self.lock:
            return next((u for u in reversed(self.updates) if u.binding == k), None)

    def value(self, k: int) -> object:
        u = self.latest(k)
        return None if u is None else u.value

    def got(self, k: int, value: object) -> bool:
        """Whether ``value`` arrived for binding ``k`` at some time (a rebirth may have replaced it since)."""
        with self.lock:
            return any(u.binding == k and u.value == value for u in self.updates)

    def good(self, k: int) -> bool:
        u = self.latest(k)
        return u is not None and u.status == 0


def _source(broker: Broker, net: NetworkLoop, bindings=BINDINGS, settings=None) -> tuple[MqttSource, Heard]:
    heard = Heard()

    def values(batch: list[Update]) -> None:
        with heard.lock:
            heard.threads.add(threading.current_thread().name)
            heard.updates.extend(batch)

    source = MqttSource(
        settings or ConnectionSettings(broker.url),
        values,
        lambda state, message: heard.states.append((state, message)),
        lambda k, message: heard.errors.__setitem__(k, message),
    )
    source.set_bindings(bindings)
    net.call(source.start)
    return source, heard


def _stop(source: MqttSource, net: NetworkLoop) -> None:
    net.submit(source.stop()).result(10)


def test_births_define_the_metrics_and_data_updates_them_by_alias(broker, edge: EdgeNode, net):
    source, heard = _source(broker, net)
    try:
        wait_for(lambda: any(s == LinkState.CONNECTED for s, _ in heard.states), what="the connection")
        # The edge node was born before the host listened: the host asks it for a rebirth to learn its values.
        wait_for(lambda: edge.rebirths >= 1, what="a rebirth request on connecting")
        wait_for(lambda: heard.value(0) == 41.5 and heard.value(3) == 12, what="the births' values")
        assert heard.value(1) == "running" and heard.value(2) == 7
        assert heard.threads == {"mqtt-test-network"}, "values are reported on the network loop, not paho's thread"
        assert "not in the birth" in heard.errors[4] and "OPC UA node id" in heard.errors[5]

        edge.data({1: (spb.MetricDataType.Double, 43.25), 3: (spb.MetricDataType.Int32, -5)})
        wait_for(lambda: heard.value(0) == 43.25 and heard.value(2) == -5, what="DDATA by alias")
        u = heard.latest(0)
        assert u is not None and u.status == 0 and u.source_ts > 0  # the metric's own timestamp
        edge.data({100: (spb.MetricDataType.Int64, 13)}, device=False)
        wait_for(lambda: heard.value(3) == 13, what="NDATA by alias")
        assert source.counts.seq_gaps == 0 and source.counts.malformed == 0 and source.counts.unknown_aliases == 0
    finally:
        _stop(source, net)
    assert heard.states[-1][0] == LinkState.DISCONNECTED


def test_deaths_make_metrics_stale_until_the_next_birth(broker, edge: EdgeNode, net):
    source, heard = _source(broker, net)
    try:
        wait_for(lambda: heard.good(0) and heard.good(3), what="the births")
        edge.device_death()
        wait_for(lambda: heard.latest(0).status == STALE, what="DDEATH")
        assert heard.value(0) == 41.5, "a stale metric keeps its last value"
        assert heard.good(3), "the edge node's own metrics stay good when only its device dies"

        edge.node_death(bd_seq=edge.bd_seq + 7)  # the will of an older session: changes nothing
        edge.birth()
        wait_for(lambda: heard.good(0), what="the rebirth")
        edge.node_death()
        wait_for(lambda: heard.latest(3).status == STALE and heard.latest(0).status == STALE, what="NDEATH")
        assert source.counts.deaths == 2
        edge.birth()
        wait_for(lambda: heard.good(0) and heard.good(3), what="the node born again")
    finally:
        _stop(source, net)


def test_an_edge_node_that_drops_off_is_declared_dead_by_its_will(broker, edge: EdgeNode, net):
    source, heard = _source(broker, net)
    try:
        wait_for(lambda: heard.good(0), what="the births")
        edge.client.socket().shutdown(socket.SHUT_RDWR)  # no DISCONNECT: the broker publishes the will
        wait_for(lambda: heard.latest(0).status == STALE and heard.latest(3).status == STALE, what="the will (NDEATH)")
    finally:
        _stop(source, net)


def test_a_sequence_gap_makes_the_node_stale_and_asks_for_a_rebirth(broker, edge: EdgeNode, net):
    source, heard = _source(broker, net)
    try:
        wait_for(lambda: heard.good(0), what="the births")
        asked = edge.rebirths
        edge.data({1: (spb.MetricDataType.Double, 50.0)}, seq=(edge.seq + 3) % 256)  # two messages lost
        wait_for(lambda: source.counts.seq_gaps == 1, what="the gap counted")
        wait_for(lambda: edge.rebirths == asked + 1, what="the rebirth request")

        def statuses() -> list[int]:
            with heard.lock:
                return [u.status for u in heard.updates if u.binding == 0]

        wait_for(lambda: STALE in statuses(), what="stale between the gap and the rebirth")
        wait_for(lambda: statuses()[-1] == 0 and statuses().index(STALE) < len(statuses()) - 1, what="the rebirth's values")
        assert heard.value(0) == 41.5, "the rebirth's value"
        assert all(not (u.binding == 0 and u.value == 50.0) for u in heard.updates), "a message after a gap is not trusted"
    finally:
        _stop(source, net)


def test_malformed_payloads_and_unknown_aliases_are_counted_and_reported(broker, edge: EdgeNode, net, caplog):
    source, heard = _source(broker, net)
    reported = []
    source.counts_changed.connect(reported.append)
    try:
        wait_for(lambda: heard.good(0), what="the births")
        edge.raw(edge.topic("DDATA", device=True), b"\xff\xff\xff not protobuf")
        edge.raw("spBv1.0/Plant/NOPE/Edge-1", b"")
        edge.data({77: (spb.MetricDataType.Double, 1.0), 1: (spb.MetricDataType.Double, 44.0)})
        # (the unknown alias asks for a rebirth, whose birth may bring the birth's value back at once)
        wait_for(lambda: heard.got(0, 44.0), what="the good metric of the same message")
        wait_for(lambda: source.counts.malformed == 2 and source.counts.unknown_aliases == 1, what="the counts")
        said = "2 malformed payloads, 1 unknown alias"
        wait_for(lambda: any(c.problems().startswith(said) for c in reported), what="counts_changed")
        wait_for(lambda: any(said in r.getMessage() for r in caplog.records), what="the log line")
        assert heard.states[-1][0] == LinkState.CONNECTED
        edge.data({1: (spb.MetricDataType.Double, 45.0)})
        wait_for(lambda: heard.got(0, 45.0), what="values after the bad ones")
    finally:
        _stop(source, net)


def test_a_broker_that_goes_away_makes_everything_stale_and_the_link_comes_back(broker, edge: EdgeNode, net):
    source, heard = _source(broker, net)
    try:
        wait_for(lambda: heard.good(0), what="the births")
        port = broker.port
        broker.process.kill()
        broker.process.wait(5)
        wait_for(lambda: heard.latest(0).status == STALE and heard.latest(3).status == STALE, what="stale on disconnection")
        assert any(s == LinkState.RECONNECTING for s, _ in heard.states)
        from app.plant.broker import start_broker

        edge.connected.clear()
        again = start_broker(port)
        try:
            wait_for(edge.connected.is_set, timeout_s=30, what="the edge node back on the broker")
            wait_for(lambda: heard.states[-1][0] == LinkState.CONNECTED, timeout_s=30, what="the reconnection")
            wait_for(lambda: heard.good(0), timeout_s=30, what="values after the rebirth asked on reconnecting")
            assert source.counts.disconnects == 1 and source.counts.connects == 2
        finally:
            again.stop()
    finally:
        _stop(source, net)


def test_the_browse_tree_lists_groups_edge_nodes_devices_and_metrics_with_their_addresses(broker, edge: EdgeNode, net):
    source, heard = _source(broker, net, bindings=[(0, f"{BASE}/CNC-01#Temperature")])
    try:
        wait_for(lambda: heard.good(0), what="the births")
        browse = lambda node: net.submit(source.browse(node)).result(5)  # noqa: E731
        groups = browse(None)
        assert [(g.node_id, g.node_class) for g in groups] == [("mqtt:spBv1.0/Plant", "Object")]
        assert [e.display_name for e in browse(groups[0].node_id)] == ["Edge-1"]
        node = browse("mqtt:spBv1.0/Plant/Edge-1")
        assert [(i.display_name, i.node_class) for i in node] == [
            ("CNC-01", "Object"), ("Node Control/Rebirth", "Variable"), ("Uptime", "Variable")
        ]
        metrics = {i.display_name: i for i in browse("mqtt:spBv1.0/Plant/Edge-1/CNC-01")}
        assert set(metrics) == {"Temperature", "State", "PartCount"}
        t = metrics["Temperature"]
        assert (t.node_id, t.data_type) == (f"{BASE}/CNC-01#Temperature", "Double"), "a browsed variable binds as it is"
        assert metrics["PartCount"].data_type == "Int32" and "41.5" in t.description
        edge.device_death()
        wait_for(lambda: "stale" in browse("mqtt:spBv1.0/Plant/Edge-1/CNC-01")[0].description, what="offline shown")
    finally:
        _stop(source, net)
