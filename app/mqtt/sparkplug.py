"""Sparkplug B as a host application reads it: births define metrics and their aliases, data updates them
by alias, deaths and sequence gaps make them stale and ask the edge node to be born again.

Pure protocol bookkeeping (no network, no thread of its own): ``SparkplugTracker.handle`` takes one MQTT
message (topic and payload bytes) and returns what it means — metric values, metrics gone stale, edge
nodes to ask for a rebirth — and counts what was wrong with it. Payloads are the Eclipse Tahu protobuf
definitions (``tahutils``' unmodified copy of Tahu's ``sparkplug_b_pb2``).

Sequence numbers (Sparkplug 3.0): every message of an edge node but its death carries ``seq``, 0–255 and
wrapping, starting at 0 with NBIRTH; a message whose ``seq`` is not the last one's successor means messages
were lost, so the node's values cannot be trusted until it is born again. NDEATH carries the ``bdSeq`` of
the NBIRTH it ends: a death certificate of an older session (the broker's will of a link already replaced)
changes nothing.

Examples
--------
>>> from tahutils.tahu import sparkplug_b as spb
>>> birth = spb.Payload(seq=0)
>>> _ = spb.addMetric(birth, "bdSeq", None, spb.MetricDataType.Int64, 3)
>>> _ = spb.addMetric(birth, "Temperature", 1, spb.MetricDataType.Double, 41.5, 1_700_000_000_000)
>>> t = SparkplugTracker()
>>> out = t.handle("spBv1.0/Plant/NBIRTH/Edge-1", birth.SerializeToString(), now=1.0)
>>> [(v.key, v.value) for v in out.values]
[(('Plant', 'Edge-1', None, 'Temperature'), 41.5)]
>>> data = spb.Payload(seq=1)
>>> _ = spb.addMetric(data, None, 1, spb.MetricDataType.Double, 42.0)
>>> [v.value for v in t.handle("spBv1.0/Plant/NDATA/Edge-1", data.SerializeToString(), now=2.0).values]
[42.0]
>>> gap = spb.Payload(seq=5)
>>> out = t.handle("spBv1.0/Plant/NDATA/Edge-1", gap.SerializeToString(), now=3.0)
>>> out.rebirth, len(out.stale), t.counts.seq_gaps
([('Plant', 'Edge-1')], 1, 1)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from google.protobuf.message import DecodeError
from tahutils.tahu import sparkplug_b_pb2

from app.mqtt.addresses import SPB_NAMESPACE

log = logging.getLogger(__name__)

#: Metric keys: (group, edge node, device or None, metric name).
MetricKey = tuple[str, str, str | None, str]
NodeKey = tuple[str, str]

#: Sparkplug B data types (the specification's numbers) by name, for what the browse dock shows.
DATA_TYPES = {
    1: "Int8", 2: "Int16", 3: "Int32", 4: "Int64", 5: "UInt8", 6: "UInt16", 7: "UInt32", 8: "UInt64",
    9: "Float", 10: "Double", 11: "Boolean", 12: "String", 13: "DateTime", 14: "Text", 15: "UUID",
    16: "DataSet", 17: "Bytes", 18: "File", 19: "Template",
}  # fmt: skip
_SIGNED_BITS = {1: 8, 2: 16, 3: 32, 4: 64}  # signed integers travel as two's complement in an unsigned field
REBIRTH_METRIC = "Node Control/Rebirth"
#: Ask one edge node for a rebirth at most this often (s): it may take a moment to answer.
REBIRTH_INTERVAL_S = 5.0


class MetricValue(NamedTuple):
    key: MetricKey
    value: object  # int, float, bool, str; None: the metric is null
    timestamp: float  # UNIX s: the metric's (else the payload's, else reception) time


@dataclass
class Outcome:
    """What one message meant."""

    values: list[MetricValue] = field(default_factory=list)
    stale: list[MetricKey] = field(default_factory=list)  # metrics whose last value is no longer vouched for
    rebirth: list[NodeKey] = field(default_factory=list)  # edge nodes to send a Rebirth command
    born: list[MetricKey] = field(default_factory=list)  # the metrics a birth defined
    birth_of: tuple[str, str, str | None] | None = None  # (group, edge node, device) when it was a birth


@dataclass
class Counts:
    """What went wrong (and right) so far; shown to the user and logged."""

    messages: int = 0
    births: int = 0
    deaths: int = 0
    malformed: int = 0  # a payload protobuf cannot decode, or a topic Sparkplug does not define
    unknown_aliases: int = 0  # a data metric whose alias (or name) no birth defined
    seq_gaps: int = 0  # a message whose seq does not follow the last one's
    data_before_birth: int = 0  # data of an edge node or device not born (since this host listens)
    rebirths_requested: int = 0
    unsupported: int = 0  # metrics of a type the twin shows no value of (data sets, templates, bytes)


@dataclass
class _Device:
    online: bool = False
    names: dict[int, str] = field(default_factory=dict)  # alias → metric name
    types: dict[str, int] = field(default_factory=dict)  # metric name → data type
    last: dict[str, object] = field(default_factory=dict)  # metric name → last value


@dataclass
class _Node:
    bd_seq: int | None = None
    seq: int | None = None  # the last message's
    online: bool = False
    last_rebirth: float = -math.inf
    devices: dict[str | None, _Device] = field(default_factory=dict)  # None: the node's own metrics


def parse_topic(topic: str) -> tuple[str, str, str, str | None] | None:
    """(message type, group, edge node, device or None) of a Sparkplug B topic; None for another topic
    (the host's ``STATE``, a stray publication).

    >>> parse_topic("spBv1.0/Plant/DDATA/Edge-1/CNC-01")
    ('DDATA', 'Plant', 'Edge-1', 'CNC-01')
    """
    parts = topic.split("/")
    if len(parts) not in (4, 5) or parts[0] != SPB_NAMESPACE:
        return None
    device = parts[4] if len(parts) == 5 else None
    return parts[2], parts[1], parts[3], device


def metric_value(metric: sparkplug_b_pb2.Payload.Metric) -> tuple[bool, object]:
    """(supported, value) of a metric as the twin shows it: numbers, Booleans and texts (None: null)."""
    if metric.is_null:
        return True, None
    which = metric.WhichOneof("value")
    if which in ("int_value", "long_value"):
        raw = getattr(metric, which)
        bits = _SIGNED_BITS.get(metric.datatype)
        if bits is not None and raw >= 1 << (bits - 1):
            raw -= 1 << bits
        return True, raw
    if which in ("float_value", "double_value", "boolean_value", "string_value"):
        return True, getattr(metric, which)
    return False, None


def rebirth_payload(now_ms: int) -> bytes:
    """An NCMD payload asking an edge node to publish its births again (``Node Control/Rebirth`` = true)."""
    payload = sparkplug_b_pb2.Payload(timestamp=now_ms)
    metric = payload.metrics.add(name=REBIRTH_METRIC, timestamp=now_ms, datatype=11)
    metric.boolean_value = True
    return payload.SerializeToString()


class SparkplugTracker:
    """The births, aliases, sequence numbers and liveness of every edge node of the groups listened to.

    Call ``handle`` from one thread (the MQTT client's): it is not locked. Each bad message is logged at
    debug level only (a broken node can send thousands a second); the source logs the counts.
    """

    def __init__(self) -> None:
        self.nodes: dict[NodeKey, _Node] = {}
        self.counts = Counts()

    # -- what is known -----------------------------------------------------------------------------
    def metrics(self) -> list[tuple[MetricKey, str, object, bool]]:
        """Every metric born so far: key, data type name, last value, whether its node and device are online."""
        out = []
        for (group, edge), node in self.nodes.items():
            for device, d in node.devices.items():
                online = node.online and d.online
                for name, dtype in d.types.items():
                    out.append(((group, edge, device, name), DATA_TYPES.get(dtype, str(dtype)), d.last.get(name), online))
        return out

    def last_value(self, key: MetricKey) -> object:
        """The last value received of a metric (None: none, or null)."""
        node = self.nodes.get(key[:2])  # type: ignore[arg-type]
        d = None if node is None else node.devices.get(key[2])
        return None if d is None else d.last.get(key[3])

    def lost_link(self) -> list[MetricKey]:
        """The link to the broker dropped: every metric is stale until its node is born again (a host that
        reconnects asks every node for a rebirth: ``rebirth_all``)."""
        stale = []
        for key, node in self.nodes.items():
            stale += self._offline(key, node, None, whole_node=True)
        return stale

    def rebirth_all(self, now: float, also: Iterable[NodeKey] = ()) -> list[NodeKey]:
        """The edge nodes to ask for a rebirth now: every one known (marked as asked: not again before
        ``REBIRTH_INTERVAL_S``) and those in ``also`` (bound but not heard of yet: whatever they send before
        their birth asks again, in case this request came before they were listening)."""
        for node in self.nodes.values():
            node.last_rebirth = now
        asked = list(dict.fromkeys([*self.nodes, *also]))
        self.counts.rebirths_requested += len(asked)
        return asked

    # -- messages ----------------------------------------------------------------------------------
    def handle(self, topic: str, payload: bytes, now: float) -> Outcome:
        """What one message on ``spBv1.0/<group>/#`` means (``now``: UNIX s, for values without a time)."""
        out = Outcome()
        self.counts.messages += 1
        parsed = parse_topic(topic)
        if parsed is None:
            if not topic.startswith(f"{SPB_NAMESPACE}/STATE/"):  # a primary host's state: not ours to read
                self._malformed(topic, "not a Sparkplug B topic")
            return out
        kind, group, edge, device = parsed
        if kind in ("NCMD", "DCMD"):
            return out  # commands to the edge (ours too): nothing to show
        try:
            p = sparkplug_b_pb2.Payload.FromString(payload)
        except DecodeError as e:
            self._malformed(topic, f"payload is not a Sparkplug B protobuf: {e}")
            return out
        key = (group, edge)
        node = self.nodes.get(key)
        if kind == "NBIRTH":
            self._node_birth(key, p, now, out)
        elif kind == "NDEATH":
            self._node_death(key, node, p, out)
        elif kind not in ("DBIRTH", "DDEATH", "NDATA", "DDATA"):
            self._malformed(topic, f"unknown message type {kind}")
        elif node is None or not node.online:
            self.counts.data_before_birth += 1
            self._ask_rebirth(key, now, out)
        elif (kind.startswith("D") and device is None) or (kind == "NDATA" and device is not None):
            self._malformed(topic, f"{kind} on a topic {'without' if device is None else 'with'} a device")
        elif not self._in_sequence(key, node, p, topic, now, out):
            pass
        elif kind == "DBIRTH":
            self._device_birth(key, node, device, p, now, out)
        elif kind == "DDEATH":
            self.counts.deaths += 1
            out.stale += self._offline(key, node, device)
        else:
            self._data(key, node, device, p, now, out)
        return out

    def _malformed(self, topic: str, why: str) -> None:
        self.counts.malformed += 1
        log.debug("Sparkplug B: %s: %s (%d malformed so far)", topic, why, self.counts.malformed)

    def _ask_rebirth(self, key: NodeKey, now: float, out: Outcome) -> None:
        node = self.nodes.setdefault(key, _Node())
        if now - node.last_rebirth >= REBIRTH_INTERVAL_S:
            node.last_rebirth = now
            self.counts.rebirths_requested += 1
            out.rebirth.append(key)

    def _in_sequence(self, key: NodeKey, node: _Node, p: sparkplug_b_pb2.Payload, topic: str, now: float, out: Outcome) -> bool:
        seq = p.seq if p.HasField("seq") else None
        expected = None if node.seq is None else (node.seq + 1) % 256
        if seq is not None and seq == expected:
            node.seq = seq
            return True
        self.counts.seq_gaps += 1
        log.info(
            "Sparkplug B: %s: seq %s after %s — messages were lost; its values are stale until it is born again",
            topic, seq, node.seq,
        )  # fmt: skip
        out.stale += self._offline(key, node, None, whole_node=True)
        node.online = False
        self._ask_rebirth(key, now, out)
        return False

    def _node_birth(self, key: NodeKey, p: sparkplug_b_pb2.Payload, now: float, out: Outcome) -> None:
        old = self.nodes.get(key)
        node = self.nodes[key] = _Node(last_rebirth=old.last_rebirth if old is not None else -math.inf)
        node.seq = p.seq if p.HasField("seq") else 0
        node.online = True
        self.counts.births += 1
        for m in p.metrics:
            if m.name == "bdSeq":
                node.bd_seq = metric_value(m)[1]  # type: ignore[assignment]
        self._define(key, node.devices.setdefault(None, _Device()), None, p, now, out)

    def _device_birth(
        self, key: NodeKey, node: _Node, device: str | None, p: sparkplug_b_pb2.Payload, now: float, out: Outcome
    ) -> None:
        self.counts.births += 1
        d = node.devices[device] = _Device()
        self._define(key, d, device, p, now, out)

    def _define(self, key: NodeKey, d: _Device, device: str | None, p: sparkplug_b_pb2.Payload, now: float, out: Outcome) -> None:
        d.online = True
        out.birth_of = (*key, device)
        t0 = p.timestamp / 1000 if p.HasField("timestamp") else now
        for m in p.metrics:
            if not m.name or (m.name == "bdSeq" and device is None):
                continue
            if m.HasField("alias"):
                d.names[m.alias] = m.name
            d.types[m.name] = m.datatype
            mkey = (*key, device, m.name)
            out.born.append(mkey)
            self._value(d, mkey, m, t0, out)

    def _value(self, d: _Device, mkey: MetricKey, m: sparkplug_b_pb2.Payload.Metric, t0: float, out: Outcome) -> None:
        supported, value = metric_value(m)
        if not supported:
            self.counts.unsupported += 1
            return
        d.last[mkey[3]] = value
        out.values.append(MetricValue(mkey, value, m.timestamp / 1000 if m.HasField("timestamp") else t0))

    def _data(self, key: NodeKey, node: _Node, device: str | None, p: sparkplug_b_pb2.Payload, now: float, out: Outcome) -> None:
        d = node.devices.get(device)
        if d is None or not d.online:
            self.counts.data_before_birth += 1
            self._ask_rebirth(key, now, out)
            return
        t0 = p.timestamp / 1000 if p.HasField("timestamp") else now
        for m in p.metrics:
            name = d.names.get(m.alias) if m.HasField("alias") else m.name
            if name is None or name not in d.types:
                self.counts.unknown_aliases += 1
                log.debug(
                    "Sparkplug B: %s/%s%s: metric %s was not in its birth (%d unknown so far)",
                    key[0], key[1], f"/{device}" if device else "",
                    f"alias {m.alias}" if m.HasField("alias") else repr(m.name), self.counts.unknown_aliases,
                )  # fmt: skip
                self._ask_rebirth(key, now, out)
                continue
            self._value(d, (*key, device, name), m, t0, out)

    def _node_death(self, key: NodeKey, node: _Node | None, p: sparkplug_b_pb2.Payload, out: Outcome) -> None:
        if node is None:
            return
        bd_seq = next((metric_value(m)[1] for m in p.metrics if m.name == "bdSeq"), None)
        if bd_seq is not None and node.bd_seq is not None and bd_seq != node.bd_seq:
            log.info("Sparkplug B: %s/%s: the death of an older session (bdSeq %s, born %s): ignored", *key, bd_seq, node.bd_seq)
            return
        self.counts.deaths += 1
        out.stale += self._offline(key, node, None, whole_node=True)
        node.online = False
        node.seq = None

    def _offline(self, key: NodeKey, node: _Node, device: str | None, whole_node: bool = False) -> list[MetricKey]:
        stale = []
        for dev, d in node.devices.items():
            if whole_node or dev == device:
                if d.online or whole_node:
                    stale += [(*key, dev, name) for name in d.types]
                d.online = False
        return stale
