"""The factory tree's grouping and filter texts without a display."""

from __future__ import annotations

from app.model.io import load_factory
from app.model.kinds import get_kind
from app.model.machine_tree import NO_LINE, line_heading, machines_by_line, tree_machine
from app.paths import DEMO_FACTORY


def test_every_machine_is_under_its_line_once_in_file_order():
    f = load_factory(DEMO_FACTORY)
    lines = machines_by_line(f)
    assert sum(len(ms) for ms in lines.values()) == len(f.machines)
    for line, ms in lines.items():
        assert [m.id for m in ms] == [m.id for m in f.machines if (m.line or NO_LINE) == line]
    assert line_heading("Machining", 8) == "Machining  (8)"


def test_a_machine_without_a_line_or_a_known_kind_is_still_listed():
    f = load_factory(DEMO_FACTORY)
    odd = f.machines[0].model_copy(update={"line": None, "kind": "teleporter"})
    f2 = f.model_copy(update={"machines": [odd, *f.machines[1:]]})
    lines = machines_by_line(f2)
    assert [m.id for m in lines[NO_LINE]] == [odd.id]
    row = lines[NO_LINE][0]
    assert row.kind_label == "teleporter" and row.colour is None


def test_the_filter_matches_name_id_kind_label_and_kind_id():
    m = load_factory(DEMO_FACTORY).machine("CNC-01")
    row = tree_machine(m)
    kind = get_kind(m.kind)
    assert kind is not None and row.colour == kind.colour and row.kind_label == kind.label
    assert all(word in row.match for word in (m.name, "CNC-01", kind.label, m.kind))
    assert row.tooltip == f"{m.name} (CNC-01)"
