"""The layout search's fast yes or no (`LayoutWorld.is_clear_at`, `LayoutChecker.is_clear`) against the
editor's full verdict (`LayoutWorld.check` with the machine moved there), on many random placements."""

from __future__ import annotations

import numpy as np
import pytest

from app.model.factory import Pose, Zone
from app.optimise.feasibility import LayoutChecker, factory_hulls
from app.physics.world import LayoutWorld
from bench.genfactory import generate


@pytest.fixture(scope="module")
def plant():
    """A generated plant of 40 machines made of convex pieces (the bundled meshes), with aisles, walls,
    a keep-out zone and an emergency exit."""
    f = generate(40, 1)
    zones = [
        Zone(id="K1", name="K1", kind="keepout", polygon=[[20.0, 2.0], [26.0, 2.0], [26.0, 6.0], [20.0, 6.0]]),
        Zone(id="EX1", name="EX1", kind="exit", polygon=[[40.0, 1.0], [44.0, 1.0], [44.0, 3.0], [40.0, 3.0]]),
    ]
    f = f.model_copy(update={"floor": f.floor.model_copy(update={"zones": zones})})
    return f, factory_hulls(f, None)


def _full_verdict(world: LayoutWorld, mid: str, pose: Pose, ignore=()) -> bool:
    """The editor's answer: the machine moved there, checked with every contact, moved back."""
    return not world.check_pose(mid, pose, ignore).contacts


def test_random_rotated_placements_get_the_editors_verdict(plant):
    factory, hulls = plant
    world = LayoutWorld(factory, hulls)
    try:
        rng = np.random.default_rng(7)
        ms = factory.machines
        w, d = factory.floor.width_m, factory.floor.depth_m
        answers = []
        for _ in range(1500):
            m = ms[int(rng.integers(len(ms)))]
            pose = Pose(x_m=float(rng.uniform(-1, w + 1)), y_m=float(rng.uniform(-1, d + 1)), yaw_deg=float(rng.uniform(0, 360)))
            full = _full_verdict(world, m.id, pose)
            assert world.is_clear_at(m.id, pose) == full, (m.id, pose)
            answers.append(full)
        assert 100 < sum(answers) < len(answers) - 100  # both answers were asked many times
    finally:
        world.close()


def test_near_misses_at_the_clearance_distance_get_the_editors_verdict(plant):
    """A machine slid towards a neighbour in steps of a few millimetres around the point where the gap
    equals the clearance (and around touching): every step answered as the full check answers it."""
    factory, hulls = plant
    world = LayoutWorld(factory, hulls)
    try:
        rng = np.random.default_rng(11)
        ms = factory.machines
        flips = 0
        for _ in range(12):
            i = int(rng.integers(len(ms) - 1))
            a, b = ms[i], ms[i + 1]  # neighbours on one line
            yaw = float(rng.choice([a.pose.yaw_deg, a.pose.yaw_deg + 37.0]))
            direction = np.array([b.pose.x_m - a.pose.x_m, b.pose.y_m - a.pose.y_m])
            direction /= np.hypot(*direction)

            # find the distances along the way where the full verdict changes, by bisection
            def clear_at(t: float, a=a, yaw=yaw, direction=direction) -> bool:
                pose = Pose(x_m=a.pose.x_m + t * direction[0], y_m=a.pose.y_m + t * direction[1], yaw_deg=yaw)
                return _full_verdict(world, a.id, pose)

            lo, hi = 0.0, 8.0
            if not clear_at(lo) or clear_at(hi):
                continue
            for _ in range(30):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if clear_at(mid) else (lo, mid)
            flips += 1
            for t in np.concatenate([lo + np.linspace(-0.01, 0.01, 21), lo + np.array([-1e-4, -5e-5, 5e-5, 1e-4])]):
                pose = Pose(x_m=a.pose.x_m + t * direction[0], y_m=a.pose.y_m + t * direction[1], yaw_deg=yaw)
                assert world.is_clear_at(a.id, pose) == _full_verdict(world, a.id, pose), (a.id, t, lo)
        assert flips >= 6
    finally:
        world.close()


def test_checker_is_clear_is_first_problem_is_none_for_groups_and_accepted_moves(plant):
    factory, hulls = plant
    rng = np.random.default_rng(5)
    ms = factory.machines
    w, d = factory.floor.width_m, factory.floor.depth_m
    with LayoutChecker(factory, hulls) as checker:
        for k in range(400):
            group = [ms[int(j)] for j in rng.choice(len(ms), int(rng.integers(1, 4)), replace=False)]
            poses = {
                m.id: Pose(x_m=float(rng.uniform(2, w - 2)), y_m=float(rng.uniform(2, d - 2)), yaw_deg=float(rng.uniform(0, 360)))
                for m in group
            }
            assert checker.is_clear(poses) == (checker.first_problem(poses) is None), poses
            if k % 50 == 0 and checker.is_clear(poses):
                checker.place(poses)  # later questions see them there, in both ways of asking
        checker.reset()
