"""Material-flow analysis: from-to matrix and transport effort equal values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from app.model.factory import (
    Aisle,
    Distribution,
    Factory,
    Floor,
    Footprint,
    Machine,
    PartFlow,
    Pose,
    TransportPath,
)
from app.optimise.flow import EffortModel, from_to_matrix


def machine(mid: str, x: float, y: float) -> Machine:
    return Machine(
        id=mid, name=mid, kind="cnc", asset="cnc", pose=Pose(x_m=x, y_m=y), footprint=Footprint(width_m=1.0, depth_m=1.0)
    )


def flow(part: str, routing: list[str], every_s: float) -> PartFlow:
    return PartFlow(part=part, routing=routing, interarrival=Distribution(mean_s=every_s))


def factory(aisles=(), transports=(), machines=None, flows=None) -> Factory:
    return Factory(
        name="hand",
        floor=Floor(width_m=40.0, depth_m=30.0, aisles=list(aisles)),
        machines=machines or [machine("M1", 2.0, 3.0), machine("M2", 10.0, 3.0), machine("M3", 18.0, 5.0)],
        transports=list(transports),
        flows=flows or [flow("a", ["M1", "M2", "M3"], 60.0), flow("b", ["M1", "M3"], 120.0)],
    )


AISLE = Aisle(id="main", points=[[0.0, 0.0], [20.0, 0.0]])


def test_from_to_matrix_sums_every_flow_on_every_leg_in_parts_per_hour():
    f = factory(
        flows=[flow("a", ["M1", "M2", "M3"], 60.0), flow("b", ["M1", "M3"], 120.0), flow("c", ["M2", "M3", "M2", "X9"], 360.0)]
    )
    ids, m, unknown = from_to_matrix(f)
    assert ids == ("M1", "M2", "M3")
    expected = np.array([[0, 60, 30], [0, 0, 60 + 10], [0, 10, 0]], dtype=float)
    assert np.allclose(m, expected)
    assert unknown == ("X9",)


def test_effort_along_an_aisle_equals_the_hand_computed_value():
    # M1 (2,3), M2 (10,3), M3 (18,5) step 3, 3 and 5 m onto the aisle y = 0 at x = 2, 10, 18:
    # M1→M2 3+8+3 = 14 m at 60/h, M2→M3 3+8+5 = 16 m at 60/h, M1→M3 3+16+5 = 24 m at 30/h.
    a = EffortModel(factory([AISLE])).analysis()
    legs = {(leg.from_id, leg.to_id): leg for leg in a.legs}
    assert legs["M1", "M2"].distance_m == pytest.approx(14.0)
    assert legs["M2", "M3"].distance_m == pytest.approx(16.0)
    assert legs["M1", "M3"].distance_m == pytest.approx(24.0)
    assert legs["M1", "M3"].effort == pytest.approx(720.0)
    assert a.total_effort == pytest.approx(60 * 14 + 60 * 16 + 30 * 24)  # 2520 part·m/h
    parts = dict(a.part_efforts)
    assert parts["a"] == pytest.approx(60 * (14 + 16)) and parts["b"] == pytest.approx(30 * 24)
    assert a.network and all(leg.routed for leg in a.legs)


def test_without_a_network_the_distance_is_rectilinear():
    a = EffortModel(factory()).analysis()
    # |Δx| + |Δy|: 8, 8 + 2, 16 + 2
    assert a.total_effort == pytest.approx(60 * 8 + 60 * 10 + 30 * 18)
    assert not a.network and not any(leg.routed for leg in a.legs)


def test_crossing_aisles_are_joined_where_they_cross():
    cross = Aisle(id="cross", points=[[10.0, -10.0], [10.0, 10.0]])
    f = factory(
        [AISLE, cross], machines=[machine("M1", 2.0, 3.0), machine("M4", 13.0, 8.0)], flows=[flow("a", ["M1", "M4"], 60.0)]
    )
    # M1 → (2,0) 3 m, along to the crossing (10,0) 8 m, up to (10,8) 8 m, across to M4 3 m
    assert EffortModel(f).analysis().legs[0].distance_m == pytest.approx(22.0)


def test_a_transport_path_is_a_way_its_machines_step_onto():
    route = TransportPath(id="T1", from_machine="M1", to_machine="M3", waypoints=[[2.0, 10.0], [18.0, 10.0]])
    f = factory([AISLE], [route])
    legs = {(leg.from_id, leg.to_id): leg for leg in EffortModel(f).analysis().legs}
    # along the route: 7 + 16 + 5 = 28 m is longer than the aisle's 24 m, which stays the shortest
    assert legs["M1", "M3"].distance_m == pytest.approx(24.0)
    near = TransportPath(id="T2", from_machine="M1", to_machine="M3", waypoints=[[2.0, 4.0], [18.0, 4.0]])
    legs = {(leg.from_id, leg.to_id): leg for leg in EffortModel(factory([AISLE], [near])).analysis().legs}
    assert legs["M1", "M3"].distance_m == pytest.approx(1.0 + 16.0 + 1.0)
    direct = TransportPath(id="T3", from_machine="M2", to_machine="M3")  # a conveyor joining them
    legs = {(leg.from_id, leg.to_id): leg for leg in EffortModel(factory([AISLE], [direct])).analysis().legs}
    assert legs["M2", "M3"].distance_m == pytest.approx(np.hypot(8.0, 2.0))


def test_a_machine_the_network_does_not_reach_falls_back_to_rectilinear():
    island = Aisle(id="island", points=[[30.0, 20.0], [35.0, 20.0]])
    lone = TransportPath(id="T", from_machine="M1", to_machine="M2", waypoints=[[5.0, 25.0]])
    f = factory(
        [AISLE, island],
        [lone],
        machines=[machine("M1", 2.0, 3.0), machine("M2", 10.0, 3.0)],
        flows=[flow("a", ["M1", "M2"], 60.0)],
    )
    leg = EffortModel(f).analysis().legs[0]
    assert leg.routed and leg.distance_m == pytest.approx(14.0)  # the aisle beats the lone waypoint
    only_island = factory(
        [island], machines=[machine("M1", 2.0, 3.0), machine("M2", 10.0, 3.0)], flows=[flow("a", ["M1", "M2"], 60.0)]
    )
    leg = EffortModel(only_island).analysis().legs[0]
    assert leg.routed  # both step straight onto the island's nearest point, its end (30, 20)
    assert leg.distance_m == pytest.approx(np.hypot(28.0, 17.0) + np.hypot(20.0, 17.0))


@pytest.mark.parametrize("with_network", [True, False])
def test_the_change_for_one_moved_machine_equals_a_full_recomputation(with_network):
    cross = Aisle(id="cross", points=[[10.0, -10.0], [10.0, 25.0]])
    route = TransportPath(id="T1", from_machine="M2", to_machine="M4", waypoints=[[12.0, 12.0], [20.0, 12.0]])
    machines = [machine("M1", 2.0, 3.0), machine("M2", 10.0, 3.0), machine("M3", 18.0, 5.0), machine("M4", 25.0, 15.0)]
    flows = [flow("a", ["M1", "M2", "M3", "M4"], 60.0), flow("b", ["M4", "M2", "M1"], 90.0), flow("c", ["M3", "M3", "M1"], 300.0)]
    f = factory([AISLE, cross] if with_network else [], [route] if with_network else [], machines, flows)
    model = EffortModel(f)
    rng = np.random.default_rng(5)
    for _ in range(25):
        k = int(rng.integers(len(machines)))
        x, y = (float(v) for v in rng.uniform(0, 30, 2))
        moved = f.model_copy(
            update={
                "machines": [m.model_copy(update={"pose": Pose(x_m=x, y_m=y)}) if i == k else m for i, m in enumerate(f.machines)]
            }
        )
        full = EffortModel(moved).total_effort - model.total_effort
        assert model.moved(machines[k].id, x, y) == pytest.approx(full, abs=1e-9)


def test_moved_many_and_with_moves_agree_with_a_full_recomputation():
    # The layout search scans many points at once (moved_many) and moves several machines (with_moves):
    # both must give what a model of the moved factory gives, along aisles and transport paths.
    rng = np.random.default_rng(3)
    f = factory(
        [AISLE, Aisle(id="cross", points=[[12.0, -5.0], [12.0, 25.0]])],
        [TransportPath(id="T1", from_machine="M1", to_machine="M3", waypoints=[[4.0, 8.0], [16.0, 8.0]])],
    )
    model = EffortModel(f)
    pts = rng.uniform([0.0, 0.0], [40.0, 30.0], size=(25, 2))
    many = model.moved_many("M1", pts)
    for (x, y), d in zip(pts, many, strict=True):
        assert d == pytest.approx(model.moved("M1", x, y), abs=1e-9)
    moves = {"M1": (30.0, 20.0), "M3": (5.0, 12.0)}
    moved_factory = f.model_copy(
        update={
            "machines": [
                m.model_copy(update={"pose": Pose(x_m=moves[m.id][0], y_m=moves[m.id][1])}) if m.id in moves else m
                for m in f.machines
            ]
        }
    )
    assert model.with_moves(moves).total_effort == pytest.approx(EffortModel(moved_factory).total_effort)
    assert model.with_moves(moves).position("M3") == (5.0, 12.0)


def test_point_distances_between_slots_are_the_distances_machines_there_would_have():
    # Slot distances feed the QAP: between two points they must equal a leg's distance between machines
    # standing there (along the aisles, across their crossing, rectilinear where not connected).
    f = factory([AISLE, Aisle(id="cross", points=[[12.0, -5.0], [12.0, 25.0]])])
    model = EffortModel(f)
    pts = np.array([[m.pose.x_m, m.pose.y_m] for m in f.machines])
    legs = {(leg.from_id, leg.to_id): leg.distance_m for leg in model.analysis().legs}
    d = model.point_distances(pts)
    assert np.allclose(d, d.T) and np.allclose(np.diag(d), 0.0)
    for (a, b), metres in legs.items():
        i, j = int(a[1]) - 1, int(b[1]) - 1
        assert d[i, j] == pytest.approx(metres)
    assert np.allclose(EffortModel(factory()).point_distances(pts), np.abs(pts[:, None] - pts[None]).sum(axis=2))


def test_following_transport_paths_measures_legs_as_the_simulation_carries_parts():
    # With follow_transports, a leg with a transport path in its direction is its route (centre, waypoints,
    # centre: what app.sim divides by the speed), even where the aisle is shorter; other legs stay as they were.
    from app.model.geometry import route_length_m

    route = TransportPath(id="T1", from_machine="M1", to_machine="M3", waypoints=[[2.0, 10.0], [18.0, 10.0]])
    conveyor = TransportPath(id="T2", from_machine="M1", to_machine="M2")
    f = factory([AISLE], [route, conveyor])
    centre = {m.id: (m.pose.x_m, m.pose.y_m) for m in f.machines}
    legs = {(leg.from_id, leg.to_id): leg.distance_m for leg in EffortModel(f, follow_transports=True).analysis().legs}
    assert legs["M1", "M3"] == pytest.approx(route_length_m(route, centre)) == pytest.approx(7.0 + 16.0 + 5.0)
    assert legs["M1", "M2"] == pytest.approx(8.0)
    assert legs["M2", "M3"] == pytest.approx(3.0 + 8.0 + 5.0)  # no path: along the aisle, as before
    model = EffortModel(f, follow_transports=True)
    rng = np.random.default_rng(5)
    for mid in ("M1", "M3"):
        pts = rng.uniform([0.0, 0.0], [40.0, 30.0], size=(10, 2))
        many = model.moved_many(mid, pts)
        for (x, y), d in zip(pts, many, strict=True):
            moved = f.model_copy(
                update={"machines": [m.model_copy(update={"pose": Pose(x_m=x, y_m=y)}) if m.id == mid else m for m in f.machines]}
            )
            full = EffortModel(moved, follow_transports=True).total_effort - model.total_effort
            assert d == pytest.approx(full) and model.moved(mid, x, y) == pytest.approx(full)
            assert model.with_moves({mid: (x, y)}).total_effort == pytest.approx(full + model.total_effort)


def test_an_aisle_and_a_transport_path_along_the_same_stretch_count_it_once():
    # M3→M4's transport path runs along the aisle's first 8 m (the same two points): that stretch is one way of
    # 8 m, not two added up. M1 (-1, -4) steps 3 m onto the aisle 4 m before it, M2 (13, 8) 3 m off its last leg.
    aisle = Aisle(id="L", points=[[2.0, -5.0], [2.0, 0.0], [10.0, 0.0], [10.0, 10.0]])
    path = TransportPath(id="T", from_machine="M3", to_machine="M4", waypoints=[[2.0, 0.0], [10.0, 0.0]])
    machines = [machine("M1", -1.0, -4.0), machine("M2", 13.0, 8.0), machine("M3", 18.0, 5.0), machine("M4", 30.0, 20.0)]
    f = factory([aisle], [path], machines=machines, flows=[flow("a", ["M1", "M2"], 60.0)])
    assert EffortModel(f).analysis().legs[0].distance_m == pytest.approx(3 + 4 + 8 + 8 + 3)


@pytest.mark.parametrize("follow", [False, True])
def test_each_route_is_as_long_as_its_leg_and_runs_from_machine_to_machine(follow):
    from app.model.io import load_factory
    from app.optimise.flow import route_points
    from app.paths import DEMO_FACTORY

    cross = Aisle(id="cross", points=[[10.0, -10.0], [10.0, 10.0]])
    path = TransportPath(id="T", from_machine="M2", to_machine="M3", waypoints=[[12.0, 1.0], [18.0, 1.0]])
    for f in (load_factory(DEMO_FACTORY), factory([AISLE, cross], [path]), factory()):
        model = EffortModel(f, follow_transports=follow)
        xy = {m.id: (m.pose.x_m, m.pose.y_m) for m in f.machines}
        for leg, route in zip(model.analysis().legs, model.routes(), strict=True):
            pts = route_points(route, model.network)
            assert np.hypot(*np.diff(pts, axis=0).T).sum() == pytest.approx(leg.distance_m)
            assert tuple(pts[0]) == pytest.approx(xy[leg.from_id]) and tuple(pts[-1]) == pytest.approx(xy[leg.to_id])
