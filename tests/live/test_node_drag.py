"""A dragged server variable and a browsed node's texts, without a display."""

from __future__ import annotations

from app.live.client import BrowseItem
from app.live.node_drag import can_bind, decode_node, encode_node, node_label, node_tip, node_type


def test_a_dragged_variable_round_trips_and_anything_else_is_refused():
    assert decode_node(encode_node("ns=2;s=Machines/CNC-01/Power", "Power")) == {
        "node_id": "ns=2;s=Machines/CNC-01/Power",
        "name": "Power",
    }
    assert decode_node(b"not json") is None
    assert decode_node(b"\xff\xfe") is None
    assert decode_node(b"[1, 2]") is None
    assert decode_node(b'{"node_id": ""}') is None
    assert decode_node(b'{"node_id": 7}') is None
    assert decode_node(b'{"node_id": "ns=2;i=5"}') == {"node_id": "ns=2;i=5", "name": ""}


def test_a_browsed_node_shows_its_display_name_type_and_id():
    var = BrowseItem("ns=2;i=5", "2:Power", "Power", "Variable", "Double", "Electrical power")
    assert (node_label(var), node_type(var), node_tip(var)) == ("Power", "Double", "ns=2;i=5\nElectrical power")
    assert can_bind(var)
    folder = BrowseItem("ns=2;i=1", "2:Machines", "", "Object")
    assert (node_label(folder), node_type(folder), node_tip(folder)) == ("2:Machines", "Object", "ns=2;i=1")
    assert not can_bind(folder)
