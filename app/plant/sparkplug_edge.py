"""The plant simulator as a Sparkplug B edge node: it publishes what it serves over OPC UA to an MQTT broker
too (``--mqtt mqtt://HOST:PORT``), so the demo shows both protocols.

Group ``floortwin``, edge node ``plantsim``, one device per machine (its id), one metric per signal with the
OPC UA variable's name (``State``, ``PartCount``, ``Temperature``…): a machine signal binds as
``mqtt:spBv1.0/floortwin/plantsim/CNC-01#Temperature``. The edge node follows Sparkplug B 3.0: its will is
the NDEATH of its ``bdSeq``; NBIRTH and a DBIRTH per machine define every metric with an alias; DDATA carries
the changed values by alias; every message but the death carries the next ``seq``; a ``Node
Control/Rebirth`` command publishes the births again. Payloads are Eclipse Tahu's protobuf definitions.
paho-mqtt keeps the connection on its own thread (and reconnects, births again, by itself).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from google.protobuf.message import DecodeError
from tahutils.tahu import sparkplug_b_pb2

log = logging.getLogger(__name__)

GROUP, EDGE = "floortwin", "plantsim"
#: Sparkplug B data types (the specification's numbers) of the plant's OPC UA variant types.
DATA_TYPES = {"Double": 10, "String": 12, "Int32": 3, "UInt32": 7, "Boolean": 11}
_FIELDS = {10: "double_value", 12: "string_value", 3: "int_value", 7: "int_value", 11: "boolean_value"}


class SparkplugEdge:
    """Publishes machine signals as Sparkplug B.

    Parameters
    ----------
    url
        ``mqtt://HOST:PORT`` of the broker.
    devices
        The machine ids, in the order ``publish`` numbers them.
    metrics
        Per machine: (signal name, Sparkplug data type) pairs.
    """

    def __init__(self, url: str, devices: Sequence[str], metrics: Sequence[Sequence[tuple[str, int]]]):
        u = urlparse(url)
        if u.scheme != "mqtt" or not u.hostname:
            raise ValueError(f"{url}: the plant publishes to mqtt://HOST:PORT")
        self.host, self.port = u.hostname, u.port or 1883
        self.url = f"mqtt://{self.host}:{self.port}"
        self.devices = list(devices)
        self.metrics = [list(m) for m in metrics]
        self.aliases = [{name: k + 1 for k, (name, _t) in enumerate(m)} for m in self.metrics]
        self.last: list[dict[str, object]] = [{} for _ in self.devices]
        self.bd_seq = 0
        self._seq = 0
        self._lock = threading.Lock()  # births (paho's thread) and data (the server's loop) share seq
        self._online = False
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"floortwin-{EDGE}-{int(time.time())}")
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 10)

    def topic(self, kind: str, device: str | None = None) -> str:
        return f"spBv1.0/{GROUP}/{kind}/{EDGE}" + (f"/{device}" if device else "")

    def start(self) -> None:
        self.client.will_set(self.topic("NDEATH"), self._death(), qos=1)
        self.client.connect_async(self.host, self.port, keepalive=10)
        self.client.loop_start()

    def stop(self) -> None:
        """Publish the death certificate (a clean stop sends no will) and disconnect."""
        if self._online:
            self.client.publish(self.topic("NDEATH"), self._death(), qos=1).wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, changes: Sequence[tuple[int, str, object, bool]]) -> None:
        """(machine index, signal, value, good) of the values that changed: one DDATA per machine. A reading
        that is not good is published as a null metric."""
        if not self._online:
            for i, name, value, good in changes:
                self.last[i][name] = value if good else None  # the next births carry them
            return
        by_machine: dict[int, list[tuple[str, object, bool]]] = {}
        for i, name, value, good in changes:
            self.last[i][name] = value if good else None
            by_machine.setdefault(i, []).append((name, value, good))
        now = int(time.time() * 1000)
        with self._lock:
            for i, items in by_machine.items():
                p = sparkplug_b_pb2.Payload(timestamp=now, seq=self._next())
                types = dict(self.metrics[i])
                for name, value, good in items:
                    if name in types:
                        self._add(p, None, self.aliases[i][name], types[name], value if good else None, now)
                self.client.publish(self.topic("DDATA", self.devices[i]), p.SerializeToString())

    # -- paho's thread ------------------------------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, _u: object, _f: object, reason, _p: object) -> None:
        if reason.is_failure:
            log.warning("Sparkplug B edge: %s refused the connection (%s)", self.url, reason)
            return
        client.subscribe(self.topic("NCMD"))
        self._births()
        log.info("Sparkplug B edge: %d machines on %s (group %s, edge node %s)", len(self.devices), self.url, GROUP, EDGE)

    def _on_disconnect(self, _c: mqtt.Client, _u: object, _f: object, reason, _p: object) -> None:
        self._online = False
        log.info("Sparkplug B edge: disconnected from %s (%s)", self.url, reason)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        try:
            p = sparkplug_b_pb2.Payload.FromString(msg.payload)
        except DecodeError:  # a command that is no Sparkplug payload is ignored
            return
        if any(m.name == "Node Control/Rebirth" and m.boolean_value for m in p.metrics):
            log.info("Sparkplug B edge: rebirth asked")
            self._births()

    def _births(self) -> None:
        now = int(time.time() * 1000)
        with self._lock:
            self._seq = 0
            p = sparkplug_b_pb2.Payload(timestamp=now, seq=self._next())
            self._add(p, "bdSeq", None, 4, self.bd_seq, now)
            self._add(p, "Node Control/Rebirth", None, 11, False, now)
            self.client.publish(self.topic("NBIRTH"), p.SerializeToString())
            for i, device in enumerate(self.devices):
                d = sparkplug_b_pb2.Payload(timestamp=now, seq=self._next())
                for name, dtype in self.metrics[i]:
                    self._add(d, name, self.aliases[i][name], dtype, self.last[i].get(name), now)
                self.client.publish(self.topic("DBIRTH", device), d.SerializeToString())
            self._online = True

    def _next(self) -> int:
        seq, self._seq = self._seq, (self._seq + 1) % 256
        return seq

    def _death(self) -> bytes:
        p = sparkplug_b_pb2.Payload(timestamp=int(time.time() * 1000))
        self._add(p, "bdSeq", None, 4, self.bd_seq, None)
        return p.SerializeToString()

    @staticmethod
    def _add(p: sparkplug_b_pb2.Payload, name: str | None, alias: int | None, dtype: int, value: object, now: int | None) -> None:
        m = p.metrics.add(datatype=dtype)
        if name is not None:
            m.name = name
        if alias is not None:
            m.alias = alias
        if now is not None:
            m.timestamp = now
        if value is None:
            m.is_null = True
            return
        field = _FIELDS.get(dtype, "long_value")
        if field == "int_value" and isinstance(value, int) and value < 0:
            value += 1 << 32  # Sparkplug's signed integers travel as two's complement
        setattr(m, field, value)
