"""The evented document: opening, saving, dirty state, asset paths that survive Save As."""

from __future__ import annotations

import json

import pytest

from app.model.document import FactoryDocument
from app.model.io import load_factory, resolve_asset_path
from app.model.problems import FactoryFileError
from app.model.selection import Selection


def test_opening_a_bad_file_changes_nothing(tmp_path, demo_path):
    doc = FactoryDocument(load_factory(demo_path), demo_path)
    replaced = []
    doc.replaced.connect(replaced.append)
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(FactoryFileError):
        doc.open(bad)
    assert doc.path == demo_path and len(doc.factory.machines) >= 40 and not replaced


def test_save_as_rebases_relative_asset_paths(tmp_path, demo_text):
    src_dir = tmp_path / "a"
    (src_dir / "meshes").mkdir(parents=True)
    (src_dir / "meshes" / "box.stl").write_bytes(b"solid x\nendsolid x\n")
    doc_json = json.loads(demo_text)
    doc_json["assets"]["cnc"] = {"path": "meshes/box.stl"}
    src = src_dir / "plant.json"
    src.write_text(json.dumps(doc_json))
    doc = FactoryDocument(load_factory(src), src)
    paths = []
    doc.path_changed.connect(paths.append)
    target = tmp_path / "b" / "c" / "copy.json"
    target.parent.mkdir(parents=True)
    doc.save(target)
    saved = load_factory(target)
    assert saved.assets["cnc"].path == "../../a/meshes/box.stl"
    assert resolve_asset_path(saved.assets["cnc"].path, target).resolve() == (src_dir / "meshes" / "box.stl").resolve()
    assert saved.assets["press"].path == "builtin:meshes/press.glb"
    assert paths == [target] and doc.path == target


def test_dirty_flag_follows_changes_and_saves(tmp_path, demo_path):
    doc = FactoryDocument(load_factory(demo_path), tmp_path / "x.json")
    seen = []
    doc.dirty_changed.connect(seen.append)
    changed = []
    doc.machines_changed.connect(changed.append)
    from app.model.factory import Pose

    before = doc.factory.machine("CNC-01").pose
    doc.set_poses({"CNC-01": Pose(x_m=before.x_m + 2, y_m=before.y_m, yaw_deg=before.yaw_deg)})
    assert doc.dirty and seen == [True] and changed == [["CNC-01"]]
    doc.set_poses({"CNC-01": before})  # back to the content on disk (what an undo does): clean again
    assert not doc.dirty and seen == [True, False]
    doc.set_poses({"CNC-01": Pose(x_m=before.x_m + 2, y_m=before.y_m, yaw_deg=before.yaw_deg)})
    doc.save()
    assert not doc.dirty and seen == [True, False, True, False]


def test_save_without_a_path_is_an_error(demo_path):
    doc = FactoryDocument(load_factory(demo_path), None)
    with pytest.raises(ValueError):
        doc.save()


def test_selection_emits_only_real_changes():
    s = Selection()
    seen = []
    s.changed.connect(seen.append)
    s.select(["A", "B", "A"])
    s.select(["A", "B"])
    s.toggle("B")
    s.toggle("C")
    s.clear()
    assert seen == [("A", "B"), ("A",), ("A", "C"), ()]
    assert s.current is None


def test_a_version_read_once_is_not_changed_by_later_edits(demo_path):
    """A what-if scenario, a job or an undo step holding ``document.factory`` keeps that version: edits make
    new versions (the scenario's CNC-01 used to move and pick up new bindings with the document)."""
    from app.model.factory import Pose

    doc = FactoryDocument(load_factory(demo_path), demo_path)
    snapshot = doc.factory
    before = snapshot.machine("CNC-01")
    pose, tags = before.pose, dict(before.tags)
    doc.set_poses({"CNC-01": Pose(x_m=1.0, y_m=1.0, yaw_deg=0.0)})
    doc.set_tag("CNC-01", "State", "ns=9;s=Elsewhere/State")
    assert snapshot.machine("CNC-01").pose == pose and snapshot.machine("CNC-01").tags == tags
    assert doc.factory is not snapshot
    now = doc.factory.machine("CNC-01")
    assert (now.pose.x_m, now.pose.y_m) == (1.0, 1.0) and now.tags["State"] == "ns=9;s=Elsewhere/State"
    # the other machines are shared between the versions, not copied
    assert doc.factory.machine("PR-01") is snapshot.machine("PR-01")


def test_a_factory_cannot_be_edited_in_place(demo_path):
    """Issue 15, item 1: the models are frozen, so a version shared by the document, a scenario and a worker
    thread cannot be changed behind their backs; an edit makes a new version."""
    import pydantic

    from app.model.factory import Pose

    factory = load_factory(demo_path)
    machine = factory.machine("CNC-01")
    for target, field, value in [
        (machine, "pose", Pose(x_m=1.0, y_m=1.0)),
        (machine.pose, "x_m", 1.0),
        (machine.sim.cycle, "mean_s", 200.0),
        (factory.simulation, "replications", 20),
        (factory, "name", "other"),
    ]:
        with pytest.raises(pydantic.ValidationError, match="frozen"):
            setattr(target, field, value)
    assert factory.machine("CNC-01").pose == machine.pose
