"""What a machine binding says when it names an MQTT value instead of an OPC UA node.

A binding (``Machine.tags``) is an ``mqtt:`` address, so existing factories (OPC UA node ids) stay valid:

- ``mqtt:spBv1.0/<group>/<edge node>/<device>#<metric name>`` — a Sparkplug B metric of a device, or
  ``mqtt:spBv1.0/<group>/<edge node>#<metric name>`` one of the edge node itself. Sparkplug ids may not
  hold ``/``, ``+`` or ``#``, so the first ``#`` ends the node's path; the metric name is the rest (metric
  names may hold ``/``: ``Node Control/Rebirth``).
- ``mqtt:<topic>#<JSON path>`` — a plain topic carrying JSON (or a bare number or text): the path picks the
  value out of the document, ``temperature``, ``data.axes[0].load``; no path (``mqtt:<topic>``) takes the
  whole payload.

Examples
--------
>>> parse_address("mqtt:spBv1.0/Plant/Edge-1/CNC-01#Spindle/Temperature")
SparkplugAddress(group='Plant', edge='Edge-1', device='CNC-01', metric='Spindle/Temperature')
>>> parse_address("mqtt:plant/line1/cnc01/telemetry#data.temp[1]")
JsonAddress(topic='plant/line1/cnc01/telemetry', path=('data', 'temp', 1))
>>> is_mqtt("ns=2;s=Machines/CNC-01/State")
False
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "mqtt:"
#: The Sparkplug B topic namespace (spec 3.0: ``spBv1.0``).
SPB_NAMESPACE = "spBv1.0"
_ID = re.compile(r"[^/+#]+")
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass(frozen=True)
class SparkplugAddress:
    """A Sparkplug B metric: of a device (``device``), or of the edge node itself (``device`` None)."""

    group: str
    edge: str
    device: str | None
    metric: str

    @property
    def node(self) -> tuple[str, str]:
        return self.group, self.edge

    def __str__(self) -> str:
        path = "/".join(p for p in (SPB_NAMESPACE, self.group, self.edge, self.device) if p is not None)
        return f"{PREFIX}{path}#{self.metric}"


@dataclass(frozen=True)
class JsonAddress:
    """A value in the JSON documents published on ``topic``: ``path`` (keys and list indices) picks it."""

    topic: str
    path: tuple[str | int, ...] = ()

    def __str__(self) -> str:
        text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.path).lstrip(".")
        return f"{PREFIX}{self.topic}" + (f"#{text}" if text else "")


Address = SparkplugAddress | JsonAddress


def is_mqtt(binding: str) -> bool:
    """Whether a binding names an MQTT value (else it is an OPC UA node id)."""
    return binding.startswith(PREFIX)


def parse_address(binding: str) -> Address:
    """The MQTT value a binding names; ``ValueError`` saying what is wrong with it otherwise."""
    if not is_mqtt(binding):
        raise ValueError(f"{binding!r} is not an MQTT address (they start with {PREFIX!r})")
    rest = binding[len(PREFIX) :]
    topic, sep, tail = rest.partition("#")
    if not topic:
        raise ValueError(f"{binding!r} names no topic")
    if any(c in topic for c in "+") or topic != topic.strip():
        raise ValueError(f"{binding!r}: a binding names one topic, not a filter (no '+', no spaces around it)")
    parts = topic.split("/")
    if parts[0] == SPB_NAMESPACE:
        if not sep or not tail:
            raise ValueError(f"{binding!r}: a Sparkplug B address ends in #<metric name>")
        if len(parts) not in (3, 4) or not all(_ID.fullmatch(p) for p in parts[1:]):
            raise ValueError(f"{binding!r}: expected {PREFIX}{SPB_NAMESPACE}/<group>/<edge node>[/<device>]#<metric>")
        return SparkplugAddress(parts[1], parts[2], parts[3] if len(parts) == 4 else None, tail)
    return JsonAddress(topic, parse_path(tail) if sep else ())


def parse_path(text: str) -> tuple[str | int, ...]:
    """``data.axes[0].load`` → ``("data", "axes", 0, "load")``; a leading ``$`` or ``$.`` (JSONPath's root) is
    allowed."""
    text = text.removeprefix("$").removeprefix(".")
    steps: list[str | int] = []
    pos = 0
    while pos < len(text):
        if text[pos] == "." and steps:
            pos += 1
        m = _STEP.match(text, pos)
        if m is None:
            raise ValueError(f"JSON path {text!r}: cannot read it at character {pos + 1}")
        steps.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    return tuple(steps)


def pick(document: object, path: tuple[str | int, ...]) -> object:
    """The value at ``path`` in a decoded JSON document; ``LookupError`` when it is not there.

    >>> pick({"data": {"axes": [{"load": 0.4}]}}, ("data", "axes", 0, "load"))
    0.4
    """
    value = document
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                raise LookupError(f"no item [{step}]")
            value = value[step]
        else:
            if not isinstance(value, dict) or step not in value:
                raise LookupError(f"no key {step!r}")
            value = value[step]
    return value
