"""The layout optimiser: every candidate it calls feasible passes the layout editor's own check, the one it
recommends lowers transport effort, bad input is refused with a clear message, and on slots it finds the
optimum an exhaustive search finds."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import numpy as np
import pytest

from app.assets import AssetLibrary, load_factory_assets
from app.editing.service import LayoutEditService, placed_verdicts
from app.model.document import FactoryDocument
from app.model.factory import Distribution, Factory, Floor, Machine, PartFlow
from app.model.io import load_factory
from app.optimise.feasibility import factory_hulls
from app.optimise.flow import EffortModel
from app.optimise.layout import LayoutProgress, optimise_layout
from app.optimise.layout_problem import LayoutInputError, LayoutRequest
from app.optimise.layout_result import LayoutResult
from app.paths import DEMO_FACTORY
from app.physics.world import LayoutWorld, check_layout
from tests.optimise.helpers import HULLS, machine


def small_factory(machines: list[Machine], flows: list[PartFlow], width: float = 40.0, depth: float = 30.0) -> Factory:
    return Factory(
        name="small",
        floor=Floor(width_m=width, depth_m=depth),
        machines=machines,
        flows=flows,
        assets={"box": {"path": "builtin:meshes/cnc.glb"}},
    )


def flow(part: str, routing: list[str], every_s: float) -> PartFlow:
    return PartFlow(part=part, routing=routing, interarrival=Distribution(mean_s=every_s))


def problems_of_moved(factory: Factory, hulls, result: LayoutResult, cid: int) -> list:
    """The full check of the candidate layout (a world of its own, nothing ignored), for the machines it moves."""
    moved = result.changes(cid).keys()
    return [v for v in check_layout(result.applied_to(factory, cid), hulls) if v.machine in moved]


@pytest.fixture(scope="module")
def demo():
    factory = load_factory(DEMO_FACTORY)
    hulls = factory_hulls(factory, DEMO_FACTORY)
    seen: list[LayoutProgress] = []
    result = optimise_layout(factory, LayoutRequest(move_all=True, seconds=4.0, seed=1), hulls, progress=seen.append)
    return factory, hulls, result, seen


def test_demo_every_feasible_candidate_passes_the_layout_editors_check(demo):
    factory, hulls, result, _ = demo
    feasible = [c for c in result.candidates if c.feasible]
    assert feasible
    doc = FactoryDocument(factory, DEMO_FACTORY)
    service = LayoutEditService(doc, load_factory_assets(factory, DEMO_FACTORY, AssetLibrary()))
    try:
        for c in feasible:
            assert service.verdicts(result.changes(c.id)) == [], c.id  # the editor's own question, on its thread
            assert problems_of_moved(factory, hulls, result, c.id) == [], c.id  # and moved against each other
    finally:
        service.close()


def test_demo_every_infeasible_candidate_names_the_rule_the_editor_sees_broken(demo):
    factory, hulls, result, _ = demo
    infeasible = [c for c in result.candidates if not c.feasible]
    assert infeasible  # the search tried moves the world refused
    for c in infeasible:
        assert c.problems and not c.pareto
        found = problems_of_moved(factory, hulls, result, c.id)
        assert found
        assert {(p.machine, p.rule) for p in c.problems} <= {(v.machine, k.kind) for v in found for k in v.contacts}


def test_demo_recommended_layout_reduces_transport_effort(demo):
    factory, _, result, seen = demo
    best = result.candidate(result.recommended)
    assert best.feasible and best.pareto
    after = EffortModel(result.applied_to(factory, best.id)).total_effort
    assert after == pytest.approx(best.objectives.effort, abs=1e-2)
    assert after < 0.9 * EffortModel(factory).total_effort
    assert result.baseline.effort == pytest.approx(EffortModel(factory).total_effort, abs=1e-2)
    assert seen and seen[-1].phase == "done" and seen[-1].fraction == 1.0
    assert factory == load_factory(DEMO_FACTORY)  # the factory given is untouched


def test_demo_result_file_reopens_and_applies_as_one_set_of_pose_changes(demo, tmp_path):
    factory, _, result, _ = demo
    path = tmp_path / "layout.json"
    result.save(path)
    again = LayoutResult.load(path)
    assert again == result
    changes = again.changes(again.recommended)
    assert changes and all(factory.machine(mid).pose != p for mid, p in changes.items())
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match=r"bad\.json"):
        LayoutResult.load(tmp_path / "bad.json")


def test_small_factory_brings_the_far_machine_to_its_partners():
    # A → B → C: C stands far off; only C may move. It must come nearer, on a free spot.
    f = small_factory(
        [machine("A", 5, 5), machine("B", 10, 5), machine("C", 35, 25)],
        [flow("p", ["A", "B", "C"], 60.0)],
    )
    result = optimise_layout(f, LayoutRequest(movable=("C",), seconds=2.0, seed=3), HULLS)
    best = result.candidate(result.recommended)
    assert best.feasible and list(result.changes(best.id)) == ["C"]
    assert best.objectives.effort < 0.5 * result.baseline.effort
    world = LayoutWorld(f, HULLS)
    try:
        assert placed_verdicts(world, result.changes(best.id)) == []
    finally:
        world.close()
    assert problems_of_moved(f, HULLS, result, best.id) == []


def test_groups_move_as_one_block_inside_the_region():
    f = small_factory(
        [machine("A", 5, 5), machine("B", 30, 20), machine("C", 33, 20)],
        [flow("p", ["A", "B", "C"], 60.0)],
    )
    region = (0.0, 0.0, 20.0, 15.0)
    result = optimise_layout(
        f, LayoutRequest(movable=("B", "C"), groups=(("B", "C"),), region=region, seconds=2.0, seed=1), HULLS
    )
    changes = result.changes(result.recommended)
    assert set(changes) == {"B", "C"}
    assert changes["C"].x_m - changes["B"].x_m == pytest.approx(3.0) and changes["C"].y_m == pytest.approx(changes["B"].y_m)
    for p in changes.values():
        assert region[0] + 1 <= p.x_m <= region[2] - 1 and region[1] + 1 <= p.y_m <= region[3] - 1


def test_a_factory_without_flows_says_there_is_nothing_to_optimise():
    f = small_factory([machine("A", 5, 5), machine("B", 10, 5)], [])
    with pytest.raises(LayoutInputError, match="nothing to optimise: the factory has no part flows"):
        optimise_layout(f, LayoutRequest(move_all=True, seconds=1.0), HULLS)


def test_a_region_too_small_is_refused_before_searching():
    machines = [machine(f"M{i}", 4 + 3 * i, 5) for i in range(6)]
    f = small_factory(machines, [flow("p", [m.id for m in machines], 60.0)])
    calls: list = []
    with pytest.raises(LayoutInputError, match=r"region is too small: the 6 machines that may move need at least 38 m²"):
        optimise_layout(f, LayoutRequest(move_all=True, region=(0, 0, 6, 6), seconds=1.0), HULLS, progress=calls.append)
    assert calls == []  # refused before any search step
    with pytest.raises(LayoutInputError, match=r"too small for M0"):
        optimise_layout(f, LayoutRequest(movable=("M0",), region=(0, 0, 1.5, 8), seconds=1.0), HULLS)
    with pytest.raises(LayoutInputError, match="leaves the floor"):
        optimise_layout(f, LayoutRequest(movable=("M0",), region=(0, 0, 50, 8), seconds=1.0), HULLS)


def test_pinned_machines_that_already_collide_are_reported():
    f = small_factory(
        [machine("A", 5, 5), machine("B", 6, 5), machine("C", 20, 20)],
        [flow("p", ["A", "B", "C"], 60.0)],
    )
    with pytest.raises(LayoutInputError, match="pinned machines already collide: A collides with B"):
        optimise_layout(f, LayoutRequest(movable=("C",), seconds=1.0), HULLS)
    # the same overlap with A free to move is the optimiser's to resolve, not bad input
    result = optimise_layout(f, LayoutRequest(movable=("A", "C"), seconds=1.0, seed=1), HULLS)
    assert result.baseline.effort > 0


def test_a_generated_slot_instance_matches_the_exhaustive_optimum():
    # 5 machines, 6 slots 10 m apart, rectilinear distances, every machine movable: a pure QAP whose
    # optimum (over all 6·5·4·3·2 = 720 assignments) the optimiser must reach.
    rng = np.random.default_rng(7)
    ids = [f"M{i}" for i in range(5)]
    machines = [machine(mid, 3.0 + 2.5 * i, 27.0) for i, mid in enumerate(ids)]
    flows = [flow(f"p{k}", list(rng.choice(ids, size=3, replace=False)), float(rng.integers(30, 300))) for k in range(6)]
    f = small_factory(machines, flows)
    slots = tuple((x, y) for x in (5.0, 15.0, 25.0) for y in (5.0, 15.0))
    base = EffortModel(f)
    optimum = min(
        base.with_moves({mid: slots[s] for mid, s in zip(ids, perm, strict=True)}).total_effort
        for perm in itertools.permutations(range(len(slots)), len(ids))
    )
    result = optimise_layout(f, LayoutRequest(move_all=True, slots=slots, seconds=2.0, seed=1), HULLS)
    best = result.candidate(result.recommended)
    assert best.objectives.effort == pytest.approx(optimum, abs=1e-3)  # reported to 3 decimals
    assert EffortModel(result.applied_to(f, best.id)).total_effort == pytest.approx(optimum, abs=1e-6)
    assert all((p.x_m, p.y_m) in slots for p in best.poses) and len(best.poses) == 5
    assert all(all((p.x_m, p.y_m) in slots for p in c.poses) for c in result.candidates if c.feasible)


def test_cancel_stops_the_search_and_changes_nothing():
    f = small_factory(
        [machine("A", 5, 5), machine("B", 10, 5), machine("C", 35, 25)],
        [flow("p", ["A", "B", "C"], 60.0)],
    )
    before = f.model_dump()
    result = optimise_layout(f, LayoutRequest(movable=("C",), seconds=30.0, seed=1), HULLS, cancel=lambda: True)
    assert result.stopped_by == "cancelled" and f.model_dump() == before


def test_command_line_writes_a_result_and_one_json_line(tmp_path):
    out = tmp_path / "r.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.optimise",
            "layout",
            str(DEMO_FACTORY),
            "--move",
            "QA-01,QA-02,WH-OUT",
            "--seconds",
            "2",
            "--seed",
            "1",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    line = json.loads(run.stdout.strip().splitlines()[-1])
    assert line["movable"] == 3 and line["recommended_violations"] == 0
    assert line["recommended_effort"] <= line["baseline_effort"]
    assert "%" in run.stderr  # the progress bar
    assert LayoutResult.load(out).factory == line["factory"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--move", "NOPE"], "unknown machine: NOPE"),
        (["--move-all", "--region", "0,0,2,2"], "too small"),
        (["--move-all", "--region", "1,2,3"], "--region needs 4 numbers"),
        (["--move-all", "--group", "QA-01,NOPE"], "the group QA-01+NOPE names unknown machines: NOPE"),
        (["--move", "QA-01", "--group", "QA-01,QA-02"], "includes pinned machines (QA-02)"),
        (["--move-all", "--slots", "1,2;3"], "each slot of --slots needs 2 numbers"),
        (["--move-all", "--seconds", "0"], "--seconds must be a positive number"),
        # refused before searching (a new-user trial saw nan run forever, the others refused after the search)
        (["--move-all", "--seconds", "nan"], "--seconds must be a positive number, not nan"),
        (["--move-all", "--horizon", "inf"], "--horizon must be a positive number"),
        (["--move-all", "--validate", "1", "--horizon", "60"], "must be longer than the factory's warm-up"),
    ],
)
def test_command_line_bad_input_exits_2_with_a_clear_message(tmp_path, args, says):
    run = subprocess.run(
        [sys.executable, "-m", "app.optimise", "layout", str(DEMO_FACTORY), *args, "--out", str(tmp_path / "r.json")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and says in run.stderr
    assert not (tmp_path / "r.json").exists()
    assert "%" not in run.stderr  # said before any search began


def test_an_output_folder_that_cannot_be_written_is_refused_before_searching(tmp_path):
    out = tmp_path / "no" / "such" / "r.json"
    run = subprocess.run(
        [sys.executable, "-m", "app.optimise", "layout", str(DEMO_FACTORY), "--move-all", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and f"cannot write {out}" in run.stderr and "%" not in run.stderr


def test_following_transport_paths_lowers_the_effort_the_simulation_measures():
    # With a fixed waypoint route A→C, the shortest-way optimum (C beside B, by the aisle-less floor) differs
    # from the route's: following transport paths, C comes to the route's last waypoint.
    from app.model.factory import TransportPath

    f = small_factory(
        [machine("A", 5, 5), machine("B", 10, 5), machine("C", 35, 25)],
        [flow("p", ["A", "C"], 60.0)],
    ).model_copy(
        update={"transports": [TransportPath(id="T", from_machine="A", to_machine="C", waypoints=[[5.0, 20.0], [20.0, 20.0]])]}
    )
    result = optimise_layout(f, LayoutRequest(movable=("C",), seconds=1.5, seed=1, follow_transports=True), HULLS)
    assert result.follow_transports
    best = result.candidate(result.recommended)
    after = EffortModel(result.applied_to(f, best.id), follow_transports=True).total_effort
    assert after == pytest.approx(best.objectives.effort, abs=1e-2)
    c = result.changes(best.id)["C"]
    assert np.hypot(c.x_m - 20.0, c.y_m - 20.0) < 3.5  # beside the route's end
    assert best.objectives.effort < 0.7 * result.baseline.effort
