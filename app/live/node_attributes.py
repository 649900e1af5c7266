"""What a node is, as UaExpert's attribute view shows it: data type, access levels, engineering units, EURange,
description, the value with its status and timestamps. Read in one request (plus one for the standard
properties and one for the data type's name); no widgets: the attribute panel shows ``attribute_rows``.

Examples
--------
>>> access_text(ua.AccessLevel.CurrentRead.mask | ua.AccessLevel.CurrentWrite.mask)
'read, write'
>>> access_text(0)
'none'
>>> value_text([1.5, 2.0]), value_text(ua.LocalizedText("running")), value_text(None)
('[1.5, 2.0]', 'running', '(no value)')
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import Any

from asyncua import Client, ua

from app.ua.values import node_id

#: The attributes read for every node, in this order.
_ATTRIBUTES = (
    ua.AttributeIds.NodeClass,
    ua.AttributeIds.BrowseName,
    ua.AttributeIds.DisplayName,
    ua.AttributeIds.Description,
    ua.AttributeIds.DataType,
    ua.AttributeIds.ValueRank,
    ua.AttributeIds.AccessLevel,
    ua.AttributeIds.UserAccessLevel,
    ua.AttributeIds.MinimumSamplingInterval,
    ua.AttributeIds.Value,
)

_ACCESS = (
    ("read", ua.AccessLevel.CurrentRead),
    ("write", ua.AccessLevel.CurrentWrite),
    ("history read", ua.AccessLevel.HistoryRead),
    ("history write", ua.AccessLevel.HistoryWrite),
)


@dataclass(frozen=True)
class NodeAttributes:
    """A node's attributes and, for a variable, its value and standard properties."""

    node_id: str
    node_class: str  # "Variable", "Object", …
    browse_name: str
    display_name: str
    description: str = ""
    data_type: str = ""  # the data type's name ("Double", "UInt32", a structure's name); "" for a non-variable
    value_rank: int | None = None
    access_level: int | None = None  # AccessLevel bits (None: not a variable)
    user_access_level: int | None = None  # what this session's login may do
    minimum_sampling_ms: float | None = None
    unit: str = ""  # EngineeringUnits' display name ("°C")
    unit_description: str = ""  # its description ("degree Celsius")
    eu_low: float = math.nan
    eu_high: float = math.nan
    value: Any = None
    variant_type: str = ""  # the value's encoding ("Double", "Float", "Int32"…)
    status: int = 0  # of the value
    source_ts: datetime.datetime | None = None
    server_ts: datetime.datetime | None = None

    @property
    def is_variable(self) -> bool:
        return self.node_class == "Variable"

    @property
    def readable(self) -> bool:
        return self.user_access_level is not None and bool(self.user_access_level & ua.AccessLevel.CurrentRead.mask)

    @property
    def writable(self) -> bool:
        """Whether this session's login may write the value (``UserAccessLevel``)."""
        return self.user_access_level is not None and bool(self.user_access_level & ua.AccessLevel.CurrentWrite.mask)

    @property
    def has_range(self) -> bool:
        return math.isfinite(self.eu_low) and math.isfinite(self.eu_high)


def access_text(level: int | None) -> str:
    """AccessLevel bits in words."""
    if level is None:
        return "—"
    words = [name for name, flag in _ACCESS if level & flag.mask]
    return ", ".join(words) if words else "none"


def value_text(value: Any) -> str:
    """A value as the server sent it, in words a user reads (full precision: this is the raw value)."""
    if value is None:
        return "(no value)"
    if isinstance(value, ua.LocalizedText):
        return value.Text or ""
    if isinstance(value, ua.QualifiedName):
        return value.to_string()
    if isinstance(value, ua.NodeId):
        return value.to_string()
    if isinstance(value, bytes):
        return f"{len(value)} bytes"
    if isinstance(value, list):
        shown = ", ".join(value_text(v) for v in value[:20])
        return f"[{shown}{', …' if len(value) > 20 else ''}]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return time_text(value)
    return str(value)


def status_text(code: int) -> str:
    """A status code's name, with its number when it is not Good.

    >>> status_text(0), status_text(ua.StatusCodes.BadNotWritable)
    ('Good', 'BadNotWritable (0x803B0000)')
    """
    if code == 0:
        return "Good"
    return f"{ua.StatusCode(ua.UInt32(code)).name} (0x{code:08X})"


def time_text(t: datetime.datetime | None) -> str:
    """A timestamp in local time to the millisecond, with its zone."""
    if t is None:
        return "—"
    if t.tzinfo is None:  # asyncua gives UTC
        t = t.replace(tzinfo=datetime.timezone.utc)
    local = t.astimezone()
    return f"{local:%Y-%m-%d %H:%M:%S}.{local.microsecond // 1000:03d} {local.tzname() or ''}".rstrip()


def range_text(a: NodeAttributes) -> str:
    if not a.has_range:
        return "—"
    unit = f" {a.unit}" if a.unit else ""
    return f"{a.eu_low:g} – {a.eu_high:g}{unit}"


def rank_text(rank: int | None) -> str:
    if rank is None:
        return ""
    return {-1: "scalar", -2: "any", -3: "scalar or array", 0: "array", 1: "array"}.get(rank, f"{rank}-dimensional array")


def attribute_rows(a: NodeAttributes) -> list[tuple[str, str]]:
    """(label, text) rows of the attribute panel: the node, then for a variable its type, access, units,
    range, value, status and timestamps."""
    rows = [
        ("Node", a.node_id),
        ("Display name", a.display_name),
        ("Browse name", a.browse_name),
        ("Node class", a.node_class),
        ("Description", a.description or "—"),
    ]
    if not a.is_variable:
        return rows
    rank = rank_text(a.value_rank)
    unit = a.unit + (f" ({a.unit_description})" if a.unit_description and a.unit_description != a.unit else "")
    rows += [
        ("Data type", a.data_type + (f" ({rank})" if rank and rank != "scalar" else "")),
        ("Access", access_text(a.access_level)),
        ("Your access", ("read, write" if a.writable else "read only") if a.readable else access_text(a.user_access_level)),
        ("Engineering units", unit or "—"),
        ("EU range", range_text(a)),
        ("Value", value_text(a.value)),
        ("Status", status_text(a.status)),
        ("Source time", time_text(a.source_ts)),
        ("Server time", time_text(a.server_ts)),
    ]
    if a.minimum_sampling_ms is not None and math.isfinite(a.minimum_sampling_ms):
        rows.append(("Fastest sampling", f"{a.minimum_sampling_ms:g} ms" if a.minimum_sampling_ms > 0 else "as fast as changes"))
    return rows


def _property_path(start: ua.NodeId, name: str) -> ua.BrowsePath:
    element = ua.RelativePathElement(
        ReferenceTypeId=node_id(ua.ObjectIds.HasProperty),
        IsInverse=False,  # type: ignore[arg-type]  # asyncua's ua.Boolean marker: it encodes a plain bool
        IncludeSubtypes=True,  # type: ignore[arg-type]
        TargetName=ua.QualifiedName(name, 0),
    )
    return ua.BrowsePath(StartingNode=start, RelativePath=ua.RelativePath(Elements=[element]))


def _good(dv: ua.DataValue) -> bool:
    return dv.StatusCode is None or dv.StatusCode.is_good()


def _plain(dv: ua.DataValue) -> Any:
    return dv.Value.Value if _good(dv) and dv.Value is not None else None


async def read_node_attributes(client: Client, nid: ua.NodeId, shown_id: str) -> NodeAttributes:
    """Read what the attribute panel shows of ``nid`` (``shown_id``: the id as the user knows it).

    Raises ``ua.UaStatusCodeError`` when the node does not exist on the server.
    """
    params = ua.ReadParameters()
    params.TimestampsToReturn = ua.TimestampsToReturn.Both
    params.NodesToRead = [ua.ReadValueId(NodeId=nid, AttributeId=attr) for attr in _ATTRIBUTES]
    read = await client.uaclient.read(params)
    by_attr = dict(zip(_ATTRIBUTES, read, strict=True))
    first = by_attr[ua.AttributeIds.NodeClass]
    if not _good(first):
        assert first.StatusCode is not None
        first.StatusCode.check()  # BadNodeIdUnknown: the node is not (or no longer) on the server
    cls = ua.NodeClass(_plain(first)).name
    browse = _plain(by_attr[ua.AttributeIds.BrowseName])
    display = _plain(by_attr[ua.AttributeIds.DisplayName])
    desc = _plain(by_attr[ua.AttributeIds.Description])
    fields: dict[str, Any] = {
        "node_id": shown_id,
        "node_class": cls,
        "browse_name": browse.to_string() if isinstance(browse, ua.QualifiedName) else "",
        "display_name": (display.Text if isinstance(display, ua.LocalizedText) else "") or "",
        "description": (desc.Text if isinstance(desc, ua.LocalizedText) else "") or "",
    }
    if cls != "Variable":
        return NodeAttributes(**fields)
    value = by_attr[ua.AttributeIds.Value]
    fields.update(
        value_rank=_plain(by_attr[ua.AttributeIds.ValueRank]),
        access_level=_plain(by_attr[ua.AttributeIds.AccessLevel]),
        user_access_level=_plain(by_attr[ua.AttributeIds.UserAccessLevel]),
        minimum_sampling_ms=_plain(by_attr[ua.AttributeIds.MinimumSamplingInterval]),
        value=value.Value.Value if value.Value is not None else None,
        variant_type=value.Value.VariantType.name if value.Value is not None and value.Value.Value is not None else "",
        status=value.StatusCode.value if value.StatusCode is not None else 0,
        source_ts=value.SourceTimestamp,
        server_ts=value.ServerTimestamp,
    )
    dtype = _plain(by_attr[ua.AttributeIds.DataType])
    if isinstance(dtype, ua.NodeId):
        name = _plain((await client.read_attributes([client.get_node(dtype)], ua.AttributeIds.BrowseName))[0])
        fields["data_type"] = name.Name if isinstance(name, ua.QualifiedName) else dtype.to_string()
    found = await client.uaclient.translate_browsepaths_to_nodeids(
        [_property_path(nid, "EngineeringUnits"), _property_path(nid, "EURange")]
    )
    targets = [r.Targets[0].TargetId if r.StatusCode.is_good() and r.Targets else None for r in found]
    present = [t for t in targets if t is not None]
    props = (
        await client.read_attributes([client.get_node(ua.NodeId(t.Identifier, t.NamespaceIndex)) for t in present])
        if present
        else []
    )
    got = iter(props)
    eu, eu_range = (_plain(next(got)) if t is not None else None for t in targets)
    if isinstance(eu, ua.EUInformation):
        fields["unit"] = (eu.DisplayName.Text if eu.DisplayName is not None else "") or ""
        fields["unit_description"] = (eu.Description.Text if eu.Description is not None else "") or ""
    if isinstance(eu_range, ua.Range):
        fields["eu_low"], fields["eu_high"] = float(eu_range.Low), float(eu_range.High)
    return NodeAttributes(**fields)
