"""A server variable dragged from the browse tree onto a machine: what the drag carries, and how a browsed
node is shown. No widgets: the browse dock and the console use these."""

from __future__ import annotations

import json
from typing import TypedDict

from app.live.client import BrowseItem

#: The drag-and-drop format of a dragged variable.
MIME_NODE = "application/x-floortwin-node"


class NodePayload(TypedDict):
    node_id: str
    name: str


def encode_node(node_id: str, name: str) -> bytes:
    """What a drag of the variable ``node_id`` (shown as ``name``) carries."""
    return json.dumps({"node_id": node_id, "name": name}).encode()


def decode_node(raw: bytes) -> NodePayload | None:
    """The dragged variable, or None for data that is not one (malformed, or without a node id).

    >>> decode_node(encode_node("ns=2;s=T", "Temperature"))
    {'node_id': 'ns=2;s=T', 'name': 'Temperature'}
    >>> decode_node(b'{"name": "x"}') is None
    True
    """
    try:
        data = json.loads(raw.decode())
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("node_id"), str) or not data["node_id"]:
        return None
    name = data.get("name")
    return {"node_id": data["node_id"], "name": name if isinstance(name, str) else ""}


def node_label(item: BrowseItem) -> str:
    """The name shown for a node: its display name, else its browse name."""
    return item.display_name or item.browse_name


def node_tip(item: BrowseItem) -> str:
    """A node's tooltip: its id and, under it, its description."""
    return f"{item.node_id}\n{item.description}".strip()


def node_type(item: BrowseItem) -> str:
    """A node's second column: a variable's data type, else its class."""
    return item.data_type or item.node_class


def can_bind(item: BrowseItem) -> bool:
    """Variables are dragged onto machines; other nodes are expanded to find them."""
    return item.node_class == "Variable"
