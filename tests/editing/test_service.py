"""The layout-edit service without Qt: a real pybullet world on the service's own thread, following the
document; the rules that allow or refuse a placement; the new factory versions of edits."""

from __future__ import annotations

import threading

import pytest

from app.assets import AssetLibrary, load_factory_assets
from app.editing import service as service_module
from app.editing.service import CollisionChecksUnavailable, LayoutEditService, refusal
from app.model.document import FactoryDocument
from app.model.edits import with_machines, without
from app.model.io import load_factory
from app.paths import DEMO_FACTORY
from app.physics.world import LayoutWorld


@pytest.fixture(scope="module")
def meshes():
    return load_factory_assets(load_factory(DEMO_FACTORY), DEMO_FACTORY, AssetLibrary())


@pytest.fixture
def doc():
    return FactoryDocument(load_factory(DEMO_FACTORY), DEMO_FACTORY)


@pytest.fixture
def builds(monkeypatch):
    """Worlds built, with the thread that built each; ``gate`` holds a build until it is set."""
    gate = threading.Event()
    gate.set()
    made: list[tuple[str, LayoutWorld]] = []

    def build(factory, hulls):
        assert gate.wait(30), "the test never opened the gate"
        world = LayoutWorld(factory, hulls)
        made.append((threading.current_thread().name, world))
        return world

    monkeypatch.setattr(service_module, "LayoutWorld", build)
    return gate, made


@pytest.fixture
def make(doc, meshes):
    made: list[LayoutEditService] = []

    def new(document=None, mesh_map=None) -> LayoutEditService:
        s = LayoutEditService(document or doc, meshes if mesh_map is None else mesh_map)
        made.append(s)
        return s

    yield new
    for s in made:
        s.close()


def _on_top_of(doc, mid: str, other: str) -> dict:
    return {mid: doc.factory.machine(other).pose}


def test_the_world_is_built_on_the_services_thread_and_a_question_asked_meanwhile_is_answered_when_it_is_ready(
    doc, make, builds
):
    gate, made = builds
    gate.clear()  # the build cannot finish until the test says so
    service = make()
    assert service.state == "idle"
    ready, answers = [], []
    service.ready.connect(lambda verdicts: ready.append(verdicts))
    service.verdicts_ready.connect(lambda number, verdicts: answers.append((number, verdicts)))
    service.prepare()  # returns although the world is not built
    assert service.state == "preparing" and made == [] and ready == []
    number = service.request_verdicts(_on_top_of(doc, "CNC-01", "CNC-02"))
    assert answers == []  # no answer before the world can give a true one
    gate.set()
    assert service.wait_ready(30)
    service.run(lambda world: None)  # everything queued before has run
    assert made[0][0].startswith("layout-world") and made[0][0] != threading.main_thread().name
    assert ready == [[]]  # the demo layout has no problem
    assert [n for n, _ in answers] == [number]
    assert answers[0][1][0].describe() == "CNC-01 collides with CNC-02"


def test_only_the_latest_background_question_is_answered(doc, make, builds):
    gate, _made = builds
    gate.clear()
    service = make()
    answers = []
    service.verdicts_ready.connect(lambda number, verdicts: answers.append((number, verdicts)))
    service.prepare()
    service.request_verdicts(_on_top_of(doc, "CNC-01", "CNC-02"))
    latest = service.request_verdicts({"CNC-01": doc.factory.machine("CNC-01").pose})  # back where it stands
    gate.set()
    service.run(lambda world: None)
    assert answers == [(latest, [])]


def test_the_world_follows_the_document_without_being_rebuilt(doc, make, builds):
    _gate, made = builds
    service = make()
    service.prepare()
    other = doc.factory.machine("CNC-02").pose
    doc.set_poses({"CNC-01": other})  # an overridden collision, as the editor applies it
    assert service.run(lambda world: world.poses["CNC-01"]) == other
    assert any(v.machine == "CNC-01" and v.status == "collision" for v in service.check_all())

    doc.set_layout(without(doc.factory, ["CNC-02"]), ["CNC-02"])  # removed: its body goes
    assert service.run(lambda world: "CNC-02" in world.machines) is False
    assert not any(v.machine == "CNC-01" for v in service.check_all())
    copy = doc.factory.machine("QA-01").model_copy(update={"id": "QA-99", "pose": other})
    doc.set_layout(with_machines(doc.factory, [copy]), ["QA-99"])  # added: its body comes
    assert service.run(lambda world: world.poses.get("QA-99")) == other
    assert any(v.machine == "QA-99" and v.status == "collision" for v in service.check_all())
    doc.replace(without(doc.factory, ["QA-99"]), doc.path)  # other content under the same document
    assert service.run(lambda world: "QA-99" in world.machines) is False
    assert len(made) == 1  # one world, kept in step


def test_a_world_that_follows_edits_made_before_it_was_ready(doc, make, builds):
    gate, made = builds
    gate.clear()
    service = make()
    service.prepare()
    other = doc.factory.machine("CNC-02").pose
    doc.set_poses({"CNC-01": other})  # while the world is being built from the older version
    gate.set()
    assert service.run(lambda world: world.poses["CNC-01"]) == other
    assert len(made) == 1


def test_a_failed_question_leaves_the_world_as_the_document(doc, make, monkeypatch):
    service = make()
    before = doc.factory.machine("CNC-01").pose

    def broken(*_a, **_k):
        raise RuntimeError("a check that fails")

    service.run(lambda world: monkeypatch.setattr(world, "check", broken))
    with pytest.raises(RuntimeError, match="a check that fails"):
        service.verdicts(_on_top_of(doc, "CNC-01", "CNC-02"))
    assert service.run(lambda world: world.poses["CNC-01"]) == before


def test_a_world_that_cannot_be_built_says_why(make):
    service = make(mesh_map={})  # no meshes: no machine has a shape
    failed = []
    service.failed.connect(failed.append)
    assert service.wait_ready(30) is False
    assert service.state == "failed" and failed and failed[0].startswith("no shape for the mesh")
    with pytest.raises(CollisionChecksUnavailable):
        service.check_all()


def test_collisions_stop_a_placement_unless_overridden_and_clearances_never_do(doc, make):
    service = make()
    hit = service.verdicts(_on_top_of(doc, "CNC-01", "CNC-02"))
    assert refusal(hit) is hit[0] and hit[0].status == "collision"
    assert refusal(hit, override=True) is None
    a, b = doc.factory.machine("CNC-01"), doc.factory.machine("CNC-02")
    need = max(a.clearance_m, b.clearance_m)
    assert need > 0 and a.pose.yaw_deg % 180 == b.pose.yaw_deg % 180 == 0
    side = (a.footprint.width_m + b.footprint.width_m) / 2 + need / 2  # beside CNC-02, half the gap it needs
    found = []
    for sign in (1, -1):
        pose = b.pose.model_copy(update={"x_m": b.pose.x_m + sign * side, "yaw_deg": a.pose.yaw_deg})
        verdicts = service.verdicts({"CNC-01": pose})
        if verdicts and verdicts[0].status == "clearance" and verdicts[0].worst.other == "CNC-02":
            found = verdicts
            break
    assert found, "no side of CNC-02 with room for the test"
    assert refusal(found) is None  # too close is shown, never refused
    assert service.verdicts({"CNC-01": doc.factory.machine("CNC-01").pose}) == []


def test_edits_are_new_versions_and_the_document_is_untouched(doc, make, meshes):
    service = make()
    original = doc.factory
    gone = service.deleted(["CNC-01"])
    assert "CNC-01" not in {m.id for m in gone.machines} and all("CNC-01" not in f.routing for f in gone.flows)
    after, copies = service.duplicated(["QA-01", "QA-02"])
    assert len(copies) == 2 and {c for c in copies} <= {m.id for m in after.machines}
    assert all(after.machine(c).tags == {} for c in copies)
    aligned = service.arranged(["QA-01", "QA-02"], "centre_x")
    assert aligned["QA-01"].x_m == pytest.approx(aligned["QA-02"].x_m)
    assert service.arranged(["QA-01"], "x") == {}
    # Adding: refused on top of another machine, allowed (or overridden) elsewhere.
    factory = service.with_asset("robot_cell")
    assert "robot_cell" in factory.assets
    other = doc.factory.machine("CNC-02").pose
    plan = service.plan_add(factory, "robot_cell", "robot_cell", (other.x_m, other.y_m), 0.5, meshes["robot_cell"])
    assert not plan.allowed and plan.verdict.status == "collision" and plan.machine.id.startswith("RC-")
    assert service.plan_add(factory, "robot_cell", "robot_cell", (other.x_m, other.y_m), 0.5, meshes["robot_cell"], True).allowed
    assert service.run(lambda world: plan.machine.id in world.machines) is False  # the probe left no body
    with pytest.raises(KeyError):
        service.with_asset("no-such-mesh")
    assert doc.factory is original  # nothing was applied


def test_a_closed_service_stops_answering(doc, make):
    service = make()
    service.prepare()
    answers = []
    service.verdicts_ready.connect(lambda *a: answers.append(a))
    service.close()
    doc.set_poses({"CNC-01": doc.factory.machine("CNC-02").pose})  # no longer followed: no error either
    assert answers == []
    with pytest.raises(RuntimeError):
        service.check_all()


def test_a_failing_update_nobody_waits_for_is_logged_not_lost(doc, make, monkeypatch, caplog):
    service = make()

    def broken(*_a, **_k):
        raise RuntimeError("an update that fails")

    service.run(lambda world: monkeypatch.setattr(world, "update_machine", broken))
    doc.set_poses({"CNC-01": doc.factory.machine("CNC-02").pose})
    service.run(lambda world: None)  # the update has run
    assert any("collision world job failed" in r.message and r.exc_info for r in caplog.records)
