"""Plain MQTT topics carrying JSON: each bound address picks one value out of its topic's documents.

The simpler alternative to Sparkplug B, for devices that publish ``{"temperature": 41.5, "state":
"running"}`` on a topic of their own. There is no birth and no death: a value is as current as the last
document, and a document that is no JSON, or lacks the path, is counted and skipped.

Examples
--------
>>> from app.mqtt.addresses import parse_address
>>> topics = JsonTopics()
>>> topics.add(parse_address("mqtt:plant/cnc01#data.temp"))
>>> topics.add(parse_address("mqtt:plant/cnc01#state"))
>>> sorted(topics.topics())
['plant/cnc01']
>>> [(str(a), v) for a, v in topics.handle("plant/cnc01", b'{"data": {"temp": 41.5}, "state": "running"}')]
[('mqtt:plant/cnc01#data.temp', 41.5), ('mqtt:plant/cnc01#state', 'running')]
>>> topics.handle("plant/cnc01", b"not json"), topics.counts.malformed
([], 1)
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from app.mqtt.addresses import JsonAddress, pick

log = logging.getLogger(__name__)


@dataclass
class JsonCounts:
    messages: int = 0
    malformed: int = 0  # a payload that is no JSON (nor a bare number or text)
    missing: int = 0  # a bound path absent from a document, or holding an object or list
    unsupported: int = 0


class JsonTopics:
    """The JSON addresses bound, by topic."""

    def __init__(self) -> None:
        self._by_topic: dict[str, list[JsonAddress]] = {}
        self.counts = JsonCounts()

    def add(self, address: JsonAddress) -> None:
        bound = self._by_topic.setdefault(address.topic, [])
        if address not in bound:
            bound.append(address)

    def topics(self) -> list[str]:
        return list(self._by_topic)

    def handle(self, topic: str, payload: bytes) -> list[tuple[JsonAddress, object]]:
        """The bound values in one document published on ``topic``."""
        addresses = self._by_topic.get(topic)
        if not addresses:
            return []
        self.counts.messages += 1
        try:
            document = json.loads(payload)
        except (UnicodeDecodeError, ValueError):
            text = payload.decode("utf-8", "replace").strip()
            if not text or any(a.path for a in addresses) or "\ufffd" in text:
                self.counts.malformed += 1
                log.debug("MQTT %s: the payload is no JSON (%d malformed so far)", topic, self.counts.malformed)
                return []
            document = text  # a bare text (a state word) published as it is
        out: list[tuple[JsonAddress, object]] = []
        for a in addresses:
            try:
                value = pick(document, a.path)
            except LookupError as e:
                self.counts.missing += 1
                log.debug("MQTT %s: %s in the document (%d missing so far)", a, e, self.counts.missing)
                continue
            if isinstance(value, (dict, list)):
                self.counts.missing += 1
                log.debug("MQTT %s: the path holds an %s, not a value", a, "object" if isinstance(value, dict) else "array")
                continue
            out.append((a, value))
        return out
