"""The factory file format: the demo is valid, load/save round-trips exactly, the schema is current."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.model.factory import FORMAT_VERSION, Factory, Pose
from app.model.io import dumps_factory, load_factory, loads_factory, save_factory
from app.model.kinds import known_kinds
from app.model.schema import factory_schema_text
from tests.conftest import DEMO, ROOT

_DEMO = load_factory(DEMO)


def test_demo_is_a_plant_of_forty_machines_of_every_kind(demo_path):
    f = load_factory(demo_path)
    assert len(f.machines) >= 40
    kinds = {m.kind for m in f.machines}
    assert len(kinds) >= 6
    assert {"cnc", "press", "robot_cell", "assembly", "conveyor", "buffer", "inspection", "warehouse"} <= kinds
    assert f.floor.aisles and f.floor.walls and any(z.kind == "keepout" for z in f.floor.zones)
    assert f.transports and f.flows
    assert all(m.kind in known_kinds() for m in f.machines)


def test_saving_a_loaded_file_reproduces_it_byte_for_byte(demo_path, demo_text):
    assert dumps_factory(load_factory(demo_path)) == demo_text


def test_save_then_load_gives_an_equal_factory(demo_path, tmp_path):
    f = load_factory(demo_path)
    out = tmp_path / "copy.json"
    save_factory(f, out)
    assert load_factory(out) == f
    assert out.read_text(encoding="utf-8") == dumps_factory(f)


@settings(max_examples=60, deadline=None)
@given(
    x=st.floats(-1e4, 1e4, allow_nan=False),
    y=st.floats(-1e4, 1e4, allow_nan=False),
    yaw=st.floats(-3600, 3600, allow_nan=False),
    name=st.text(min_size=1, max_size=40),
)
def test_any_valid_pose_and_name_round_trip_exactly(x, y, yaw, name):
    f = _DEMO
    m = f.machines[0].model_copy(update={"pose": Pose(x_m=x, y_m=y, yaw_deg=yaw), "name": name})
    f2 = f.model_copy(update={"machines": [m, *f.machines[1:]]})
    text = dumps_factory(f2)
    back = loads_factory(text)
    assert back == f2
    assert dumps_factory(back) == text


def test_header_comes_first_and_defaults_are_left_out(demo_text):
    doc = json.loads(demo_text)
    assert list(doc)[:2] == ["format", "version"]
    assert doc["version"] == FORMAT_VERSION
    # A minimal file loads and fills in documented defaults.
    minimal = {
        "format": "floortwin-factory",
        "version": 1,
        "name": "m",
        "floor": {"width_m": 10, "depth_m": 5},
        "assets": {"a": {"path": "builtin:meshes/cnc.glb"}},
        "machines": [{"id": "M1", "name": "Mill", "kind": "cnc", "asset": "a", "footprint": {"width_m": 2, "depth_m": 1}}],
    }
    f = loads_factory(json.dumps(minimal))
    assert f.machines[0].clearance_m == 0.5
    assert f.machines[0].pose.yaw_deg == 0.0
    assert json.loads(dumps_factory(f))["machines"][0] == {
        "id": "M1",
        "name": "Mill",
        "kind": "cnc",
        "asset": "a",
        "footprint": {"width_m": 2.0, "depth_m": 1.0},
    }


def test_published_json_schema_is_current_and_accepts_the_demo(demo_text):
    jsonschema = pytest.importorskip("jsonschema")
    published = (ROOT / "docs" / "factory.schema.json").read_text(encoding="utf-8")
    assert published == factory_schema_text(), "run `make schema` to regenerate docs/factory.schema.json"
    jsonschema.validate(json.loads(demo_text), json.loads(published))


def test_factory_lookup_helpers(demo_path):
    f: Factory = load_factory(demo_path)
    assert f.machine("CNC-01").kind == "cnc"
    assert f.machine_index()["CNC-01"] == [m.id for m in f.machines].index("CNC-01")
    with pytest.raises(KeyError):
        f.machine("nope")
