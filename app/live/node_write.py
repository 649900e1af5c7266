"""Writing one value to a node, as a user does it by hand: the text typed becomes the node's own data type, the
same rules as a deployment's setpoint writes decide whether floortwin sends it at all (a secure channel, a
user login, a node this login may write), and the server's answer — ``Good``, ``BadOutOfRange``,
``BadUserAccessDenied``, ``BadNotWritable``… — is what the user is told, and what is logged.

Examples
--------
>>> parse_value("42", "UInt16")
Variant(Value=42, VariantType=<VariantType.UInt16: 5>, Dimensions=None, is_array=False)
>>> parse_value("on", "Boolean").Value, parse_value(" 2.5 ", "Double").Value
(True, 2.5)
>>> parse_value("70000", "UInt16")
Traceback (most recent call last):
...
ValueError: 70000 is outside a UInt16's range (0 to 65535)
"""

from __future__ import annotations

import datetime
import logging
import math
import time
from dataclasses import dataclass

from asyncua import ua

from app.live.client import ConnectionSettings, LiveClient
from app.live.node_attributes import NodeAttributes, read_node_attributes, status_text, value_text

log = logging.getLogger(__name__)

_INTEGERS = {
    "SByte": (-(2**7), 2**7 - 1),
    "Byte": (0, 2**8 - 1),
    "Int16": (-(2**15), 2**15 - 1),
    "UInt16": (0, 2**16 - 1),
    "Int32": (-(2**31), 2**31 - 1),
    "UInt32": (0, 2**32 - 1),
    "Int64": (-(2**63), 2**63 - 1),
    "UInt64": (0, 2**64 - 1),
}
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")
#: The data types a value can be typed for.
WRITABLE_TYPES = ("Boolean", *_INTEGERS, "Float", "Double", "String", "LocalizedText", "DateTime")


def channel_refusal(settings: ConnectionSettings) -> str | None:
    """Why no write goes out over this connection (None: it may): floortwin writes only over a secure channel
    and as a user who logged in — the rules a deployment's setpoint writes follow too.

    >>> channel_refusal(ConnectionSettings("opc.tcp://h:1"))
    'writes need a secure channel (Basic256Sha256, Sign or SignAndEncrypt)'
    >>> channel_refusal(ConnectionSettings("opc.tcp://h:1", "Basic256Sha256", "Sign"))
    'an anonymous session never writes: log in as a user who may write'
    """
    if settings.security_policy == "None" or settings.security_mode == "None":
        return "writes need a secure channel (Basic256Sha256, Sign or SignAndEncrypt)"
    if not settings.username:
        return "an anonymous session never writes: log in as a user who may write"
    return None


def access_refusal(user: str | None, attrs: NodeAttributes) -> str | None:
    """Why this login may not write ``attrs``' node, as the server says it (``UserAccessLevel``)."""
    name = attrs.display_name or attrs.node_id
    if not attrs.is_variable:
        return f"{name} is a{'n' if attrs.node_class[:1] in 'AEIOU' else ''} {attrs.node_class}, not a variable"
    if not attrs.writable:
        return f"{user or 'this login'} may not write {name} (the server grants this login read access only)"
    return None


def data_type_of(attrs: NodeAttributes) -> str:
    """The type a written value must have: the value's own encoding when it has one, else the node's data type."""
    return attrs.variant_type or attrs.data_type


def parse_value(text: str, type_name: str) -> ua.Variant:
    """``text`` as a value of ``type_name`` (OPC UA converts no types on a write); ``ValueError`` says why not."""
    raw = text.strip()
    if type_name == "Boolean":
        if raw.lower() in _TRUE:
            return ua.Variant(True, ua.VariantType.Boolean)
        if raw.lower() in _FALSE:
            return ua.Variant(False, ua.VariantType.Boolean)
        raise ValueError(f"{text!r} is not a Boolean: type true or false")
    if type_name in _INTEGERS:
        try:
            number = int(raw, 0)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number ({type_name})") from None
        lo, hi = _INTEGERS[type_name]
        if not lo <= number <= hi:
            raise ValueError(f"{number} is outside a {type_name}'s range ({lo} to {hi})")
        return ua.Variant(number, getattr(ua.VariantType, type_name))
    if type_name in ("Float", "Double"):
        try:
            real = float(raw)
        except ValueError:
            raise ValueError(f"{text!r} is not a number ({type_name})") from None
        if not math.isfinite(real):
            raise ValueError(f"{text!r} is not a finite number")
        return ua.Variant(real, getattr(ua.VariantType, type_name))
    if type_name == "String":
        return ua.Variant(text, ua.VariantType.String)
    if type_name == "LocalizedText":
        return ua.Variant(ua.LocalizedText(text), ua.VariantType.LocalizedText)
    if type_name == "DateTime":
        try:
            when = datetime.datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"{text!r} is not a date and time (e.g. 2026-11-29 14:30:00)") from None
        return ua.Variant(when if when.tzinfo else when.astimezone(), ua.VariantType.DateTime)
    raise ValueError(f"floortwin writes numbers, Booleans, text and times; this node holds {type_name or 'no value'}")


def range_warning(attrs: NodeAttributes, variant: ua.Variant) -> str:
    """What the confirmation says of a number outside the node's EURange ("" when inside, or no range)."""
    value = variant.Value
    if not attrs.has_range or isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    if attrs.eu_low <= value <= attrs.eu_high:
        return ""
    unit = f" {attrs.unit}" if attrs.unit else ""
    return (
        f"{value:g}{unit} is outside the node's EU range ({attrs.eu_low:g} – {attrs.eu_high:g}{unit}): the server may refuse it"
    )


def confirmation_text(attrs: NodeAttributes, variant: ua.Variant, user: str | None) -> str:
    """What the confirmation asks before a write: the node, its value now and the new one (and a number out
    of the node's EU range said so)."""
    unit = f" {attrs.unit}" if attrs.unit else ""
    lines = [
        f"Write to {attrs.display_name or attrs.node_id} ({attrs.node_id})?",
        "",
        f"Old value: {value_text(attrs.value)}{unit}",
        f"New value: {value_text(variant.Value)}{unit} ({variant.VariantType.name})",
        "",
        f"The plant acts on it at once. Written as {user or 'anonymous'}; the server's answer is logged.",
    ]
    if warning := range_warning(attrs, variant):
        lines.insert(4, f"Warning: {warning}.")
    return "\n".join(lines)


@dataclass(frozen=True)
class WriteOutcome:
    """What became of one write: the server's status (None: floortwin did not send it, ``message`` says why)."""

    node_id: str
    name: str
    user: str
    old: str
    new: str
    status: int | None
    message: str
    at: float

    @property
    def ok(self) -> bool:
        return self.status == 0

    @property
    def text(self) -> str:
        """One line for the status bar and the log."""
        if self.status is None:
            return f"Not written: {self.name}: {self.message}"
        if self.ok:
            return f"Written: {self.name} = {self.new} (was {self.old}) by {self.user}"
        return f"The server refused {self.name} = {self.new}: {self.message}"


async def write_node(client: LiveClient, node_id: str, text: str) -> WriteOutcome:
    """Write ``text`` to ``node_id`` over ``client``'s running session, if the rules allow: the node's value is
    read just before (the old value logged), the write goes out in the node's data type, and the outcome says
    what the server answered. Every attempt is logged."""
    settings = client.settings
    user = settings.username or "anonymous"
    refused = channel_refusal(settings)
    if refused is None and client.client is None:
        refused = "not connected"
    if refused is not None:
        return _logged(WriteOutcome(node_id, node_id, user, "", text, None, f"{refused}; nothing was written", time.time()))
    assert client.client is not None
    nid = client.resolve(node_id)
    attrs = await read_node_attributes(client.client, nid, node_id)
    name = attrs.display_name or node_id
    refused = access_refusal(settings.username, attrs)
    try:
        variant = parse_value(text, data_type_of(attrs)) if refused is None else None
    except ValueError as e:
        refused = str(e)
        variant = None
    old = value_text(attrs.value)
    if refused is not None or variant is None:
        return _logged(WriteOutcome(node_id, name, user, old, text, None, f"{refused}; nothing was written", time.time()))
    params = ua.WriteParameters()
    params.NodesToWrite = [ua.WriteValue(NodeId=nid, AttributeId=ua.AttributeIds.Value, Value=ua.DataValue(variant))]
    (status,) = await client.client.uaclient.write(params)
    code = status.value
    message = "Good" if code == 0 else f"{status_text(code)}: {status.doc}"
    return _logged(WriteOutcome(node_id, name, user, old, value_text(variant.Value), code, message, time.time()))


def _logged(outcome: WriteOutcome) -> WriteOutcome:
    level = logging.INFO if outcome.ok else logging.WARNING
    log.log(
        level,
        "write %s (%s) by %s: %s → %s: %s",
        outcome.name,
        outcome.node_id,
        outcome.user,
        outcome.old or "—",
        outcome.new,
        outcome.message,
    )
    return outcome
