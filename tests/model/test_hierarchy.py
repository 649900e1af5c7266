"""The ISA-95 hierarchy in the factory file: the block, the machines' places, what is refused, the tree arrays."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.model.hierarchy import IMPLICIT_AREA, NO_AREA, NO_LINE, PlantTree
from app.model.io import dumps_factory, load_factory, loads_factory
from app.model.problems import FactoryFileError
from tests.conftest import DEMO


def _plant(hierarchy: dict | None, places: list[dict], flows: list[list[str]] | None = None) -> str:
    """A small factory: one machine per entry of ``places`` (M0, M1, …), each with its area/line/cell."""
    machines = [
        {"id": f"M{i}", "name": f"M {i}", "kind": "cnc", "asset": "a", "footprint": {"width_m": 1, "depth_m": 1},
         "pose": {"x_m": 2 + 3 * i, "y_m": 5}, **place}
        for i, place in enumerate(places)
    ]
    doc = {
        "format": "floortwin-factory", "version": 1, "name": "Tiny", "floor": {"width_m": 100, "depth_m": 20},
        "assets": {"a": {"path": "builtin:meshes/cnc.glb"}}, "machines": machines,
        "flows": [{"part": f"P{k}", "routing": r} for k, r in enumerate(flows or [])],
    }
    if hierarchy is not None:
        doc["hierarchy"] = hierarchy
    return json.dumps(doc)


HIER = {
    "enterprise": "Acme",
    "site": "Nord",
    "areas": [
        {"id": "mach", "name": "Machining", "lines": [{"id": "L1", "cells": [{"id": "C1"}]}, {"id": "L2"}]},
        {"id": "asm", "name": "Assembly", "lines": [{"id": "L1", "name": "Final"}, {"id": "L3"}]},
    ],
}


def _problems(text: str) -> list[str]:
    with pytest.raises(FactoryFileError) as e:
        loads_factory(text, "plant.json")
    return [f"{p.path}: {p.message}" for p in e.value.problems]


def test_the_demo_plant_has_areas_holding_its_lines():
    f = load_factory(DEMO)
    t = PlantTree.of(f)
    areas = {t.groups[g].name: [t.groups[k].name for k in t.children[g]] for g in t.children[0]}
    assert areas == {
        "Fabrication": ["Machining", "Pressing", "Welding"],
        "Assembly hall": ["Assembly", "Quality"],
        "Logistics": ["Goods in, racks and conveyors"],
    }
    assert all(not m.area for m in f.machines)  # each line is in one area: the machines name only their line
    assert sorted(t.members(0).tolist()) == list(range(len(f.machines)))


def test_a_file_without_a_hierarchy_loads_as_before_under_one_implicit_area():
    f = load_factory(DEMO).model_copy(update={"hierarchy": None})
    t = PlantTree.of(f)
    site, area = t.groups[0], t.groups[1]
    assert (site.level, site.name, site.parent) == ("site", f.name, -1)
    assert (area.level, area.name, area.implicit, area.parent) == ("area", IMPLICIT_AREA, True, 0)
    lines = {t.groups[g].name: g for g in t.children[1]}
    assert list(lines) == list(dict.fromkeys(m.line or NO_LINE for m in f.machines))
    for name, g in lines.items():
        assert [f.machines[i].id for i in t.members(g)] == [m.id for m in f.machines if m.line == name]
    assert len(t.members(0)) == len(t.members(1)) == len(f.machines)


def test_the_block_and_the_places_round_trip_and_build_the_tree():
    text = _plant(HIER, [
        {"area": "mach", "line": "L1", "cell": "C1"},
        {"area": "mach", "line": "L1"},
        {"line": "L2"},  # the only area with a line L2: its area may be left out
        {"area": "asm", "line": "L1"},
        {"area": "asm"},  # straight under its area
        {},  # no place: under "(no area)"
    ])
    f = loads_factory(text)
    assert loads_factory(dumps_factory(f)) == f
    assert f.hierarchy is not None and f.hierarchy.areas[1].lines[0].title == "Final"
    t = PlantTree.of(f)
    assert [(g.level, g.name) for g in t.groups[:2]] == [("enterprise", "Acme"), ("site", "Nord")]
    by_path = {g.path: k for k, g in enumerate(t.groups)}
    assert t.groups[t.leaf_of[0]].path == ("Acme", "Nord", "Machining", "L1", "C1")
    assert t.groups[t.leaf_of[1]].path == ("Acme", "Nord", "Machining", "L1")
    assert t.groups[t.leaf_of[2]].path == ("Acme", "Nord", "Machining", "L2")
    assert t.groups[t.leaf_of[3]].path == ("Acme", "Nord", "Assembly", "Final")
    assert t.groups[t.leaf_of[4]].path == ("Acme", "Nord", "Assembly")
    assert t.groups[t.leaf_of[5]].path == ("Acme", "Nord", NO_AREA)
    assert list(t.members(by_path["Acme", "Nord", "Machining"])) == [0, 1, 2]
    assert list(t.members(by_path["Acme", "Nord", "Assembly"])) == [3, 4]
    assert list(t.members(by_path["Acme", "Nord", "Machining", "L1"])) == [0, 1]
    assert list(t.members(0)) == list(range(6))
    assert t.direct[by_path["Acme", "Nord", "Assembly"]] == [4]
    # Every line and cell of the block is a row, even one without machines (L3).
    assert ("Acme", "Nord", "Assembly", "L3") in by_path and len(t.members(by_path["Acme", "Nord", "Assembly", "L3"])) == 0


def test_exits_are_the_machines_that_send_parts_out_of_the_group():
    places = [{"area": "mach", "line": "L1"}, {"area": "mach", "line": "L1"}, {"line": "L2"}, {"area": "asm", "line": "L1"}]
    text = _plant(HIER, places, flows=[["M0", "M1", "M2", "M3"]])
    t = PlantTree.of(loads_factory(text))
    by_path = {g.path: k for k, g in enumerate(t.groups)}
    assert list(t.exits(by_path["Acme", "Nord", "Machining", "L1"])) == [1]  # M1 sends to M2 on L2
    assert list(t.exits(by_path["Acme", "Nord", "Machining", "L2"])) == [2]
    assert list(t.exits(by_path["Acme", "Nord", "Machining"])) == [2]  # M2 sends to Assembly
    assert list(t.exits(by_path["Acme", "Nord", "Assembly"])) == [3]  # the routing's end
    assert list(t.exits(0)) == [3]


@pytest.mark.parametrize(
    ("hierarchy", "places", "expected"),
    [
        ({"areas": [{"id": "a"}, {"id": "a"}]}, [],
         'hierarchy.areas[1].id: duplicate area id "a" (first used by hierarchy.areas[0])'),
        ({"areas": [{"id": "a", "lines": [{"id": "L"}, {"id": "L"}]}]}, [],
         'hierarchy.areas[0].lines[1].id: duplicate line id "L" (first used by hierarchy.areas[0].lines[0])'),
        ({"areas": [{"id": "a", "lines": [{"id": "L", "cells": [{"id": "c"}, {"id": "c"}]}]}]}, [],
         'hierarchy.areas[0].lines[0].cells[1].id: duplicate cell id "c" (first used by hierarchy.areas[0].lines[0].cells[0])'),
        (HIER, [{"area": "paint"}], 'machines[0].area: unknown area "paint" (the hierarchy has: "mach", "asm")'),
        (HIER, [{"area": "mach", "line": "L3"}], 'machines[0].line: unknown line "L3" in area "mach" (it has: "L1", "L2")'),
        (HIER, [{"line": "L9"}], 'machines[0].line: unknown line "L9" (the hierarchy has: "L1", "L2", "L3")'),
        (HIER, [{"line": "L1"}], 'machines[0].area: line "L1" is in areas "mach", "asm": give the machine\'s area'),
        (HIER, [{"area": "mach", "line": "L2", "cell": "C1"}], 'machines[0].cell: unknown cell "C1" in line "L2" (it has: none)'),
        (HIER, [{"area": "mach", "cell": "C1"}],
         'machines[0].cell: a cell belongs to a line: give the machine\'s line (cell "C1")'),
        (None, [{"area": "mach"}], 'machines[0].area: names area "mach" but the file has no hierarchy block'),
    ],
)
def test_bad_hierarchies_and_places_are_refused_naming_the_field(hierarchy, places, expected):
    assert _problems(_plant(hierarchy, places)) == [expected]


def test_a_block_without_areas_keeps_the_free_line_names_under_an_area_named_after_the_site():
    f = loads_factory(_plant({"site": "Nord"}, [{"line": "Press shop"}, {"line": "Press shop"}, {}]))
    t = PlantTree.of(f)
    assert [(g.level, g.name, g.implicit) for g in t.groups] == [
        ("site", "Nord", False), ("area", "Nord", True), ("line", "Press shop", False), ("line", NO_LINE, False)
    ]
    assert list(t.members(2)) == [0, 1]


def test_unknown_fields_in_the_block_are_refused():
    assert _problems(_plant({"areas": [{"id": "a", "colour": "red"}]}, []))[0].startswith("hierarchy.areas[0].colour")


def test_the_tree_arrays_match_a_loop_on_a_big_plant():
    from bench.genfactory import generate

    f = generate(2000, seed=3)
    t = PlantTree.of(f)
    for g in range(t.n_groups):
        expected = [i for i in range(len(f.machines)) if g in _ancestors(t, int(t.leaf_of[i]))]
        assert list(t.members(g)) == expected
    assert np.all(np.diff(t.pair_group) >= 0)


def _ancestors(t: PlantTree, g: int) -> set[int]:
    out = set()
    while g >= 0:
        out.add(g)
        g = t.groups[g].parent
    return out


def test_machines_move_to_another_line_naming_their_area_only_where_needed():
    from app.model.checks import check_factory
    from app.model.hierarchy import moved_to, places

    f = loads_factory(_plant(HIER, [{"area": "mach", "line": "L1"}, {"line": "L2"}]))
    choices = {p.titles: p for p in places(f)}
    assert list(choices) == [("Machining", "L1"), ("Machining", "L1", "C1"), ("Machining", "L2"), ("Assembly", "Final"),
                             ("Assembly", "L3")]
    g = moved_to(f, ["M0"], choices["Assembly", "L3"])  # only Assembly has an L3: no area needed
    assert (g.machines[0].area, g.machines[0].line, g.machines[0].cell) == ("", "L3", "")
    g = moved_to(g, ["M0", "M1"], choices["Machining", "L1", "C1"])  # two areas have an L1: the area is named
    assert [(m.area, m.line, m.cell) for m in g.machines] == [("mach", "L1", "C1")] * 2
    assert check_factory(g) == [] and g.machines[0].pose == f.machines[0].pose
    flat = load_factory(DEMO).model_copy(update={"hierarchy": None})
    assert [p.titles for p in places(flat)] == [(n,) for n in dict.fromkeys(m.line for m in flat.machines)]


def test_a_routing_that_leaves_a_group_and_comes_back_leaves_it_once():
    # M0 (store) → M1 (machining) → M2 (store) → M3 (machining) → M4 (store): the store area is left for good only at M4.
    places = [{"area": "asm", "line": "L1"}, {"area": "mach", "line": "L1"}, {"area": "asm", "line": "L1"},
              {"area": "mach", "line": "L2"}, {"area": "asm", "line": "L1"}]
    text = _plant(HIER, places, flows=[["M0", "M1", "M2", "M3", "M4"]])
    t = PlantTree.of(loads_factory(text))
    by_path = {g.path: k for k, g in enumerate(t.groups)}
    assert list(t.exits(by_path["Acme", "Nord", "Assembly"])) == [4]  # not M0 and M2 as well
    assert list(t.exits(by_path["Acme", "Nord", "Machining"])) == [3]  # its last visit, not M1
    assert list(t.exits(by_path["Acme", "Nord", "Machining", "L1"])) == [1]  # L1 is visited once
