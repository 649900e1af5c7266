"""The collision world's verdicts against exact geometry (boxes whose distances are computed in numpy)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.model.factory import Factory, Floor, Footprint, Machine, Pose, Wall, Zone
from app.physics.world import TOUCH_TOLERANCE_M, LayoutWorld

BOX = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (0.0, 1.0)])
HULLS = {"box": (BOX, np.array([1.0, 1.0, 1.0]))}


def machine(mid: str, x: float, y: float, yaw: float = 0.0, w: float = 2.0, d: float = 1.0, clearance: float = 0.0) -> Machine:
    return Machine(
        id=mid,
        name=mid,
        kind="cnc",
        asset="box",
        pose=Pose(x_m=x, y_m=y, yaw_deg=yaw),
        footprint=Footprint(width_m=w, depth_m=d, height_m=1.0),
        clearance_m=clearance,
    )


def factory(*machines: Machine, walls=(), zones=()) -> Factory:
    return Factory(
        name="t",
        floor=Floor(width_m=100, depth_m=100, walls=list(walls), zones=list(zones)),
        machines=list(machines),
        assets={"box": {"path": "builtin:meshes/cnc.glb"}},
    )


def world(*machines: Machine, **kw) -> LayoutWorld:
    return LayoutWorld(factory(*machines, **kw), HULLS)


@pytest.mark.parametrize(
    ("gap", "status"),
    [(0.0, "ok"), (-0.01, "collision"), (0.01, "ok"), (-0.5, "collision"), (0.002, "ok")],
)
def test_touching_overlapping_and_separated_boxes(gap, status):
    w = world(machine("A", 10, 10), machine("B", 12 + gap, 10))
    assert w.check("A").status == status
    assert w.check("B").status == status
    if status == "collision":
        assert w.check("A").collisions[0].other == "B"


def test_clearance_is_the_larger_margin_and_reports_the_gap():
    w = world(machine("A", 10, 10, clearance=0.5), machine("B", 12.3, 10, clearance=0.2))
    v = w.check("B")  # B's own margin is 0.2 but A needs 0.5
    assert v.status == "clearance"
    (c,) = v.clearances
    assert c.other == "A" and c.required_m == 0.5 and c.distance_m == pytest.approx(0.3, abs=1e-4)
    assert "0.30 m from A (needs 0.50 m)" in v.describe()
    w.set_pose("B", Pose(x_m=12.6, y_m=10))
    assert w.check("B").status == "ok" and w.check("A").status == "ok"


def _rect(m: Machine) -> np.ndarray:
    w, d = m.footprint.width_m / 2, m.footprint.depth_m / 2
    c, s = math.cos(math.radians(m.pose.yaw_deg)), math.sin(math.radians(m.pose.yaw_deg))
    local = np.array([[-w, -d], [w, -d], [w, d], [-w, d]])
    return local @ np.array([[c, -s], [s, c]]).T + [m.pose.x_m, m.pose.y_m]


def _exact_gap(a: np.ndarray, b: np.ndarray) -> float:
    """Signed-ish distance of two convex polygons: the gap when apart, negative when they overlap."""

    def separation(p, q):  # largest separation along p's edge normals (SAT)
        best = -math.inf
        for i in range(len(p)):
            e = p[(i + 1) % len(p)] - p[i]
            n = np.array([e[1], -e[0]]) / np.hypot(*e)
            best = max(best, float(np.min((q - p[i]) @ n)))
        return best

    sat = max(separation(a, b), separation(b, a))
    if sat <= 0:
        return sat  # overlapping (or touching): a lower bound of the penetration, its sign is what counts

    def seg_dist(p, s0, s1):
        t = np.clip(np.dot(p - s0, s1 - s0) / np.dot(s1 - s0, s1 - s0), 0, 1)
        return float(np.hypot(*(p - (s0 + t * (s1 - s0)))))

    return min(min(seg_dist(p, q[i], q[(i + 1) % 4]) for p in pp for i in range(4)) for pp, q in ((a, b), (b, a)))


def test_rotated_placements_agree_with_exact_geometry():
    rng = np.random.default_rng(7)
    checked = collisions = 0
    a = machine("A", 50, 50, yaw=0.0, w=3.0, d=1.2)
    w = world(a, machine("B", 0, 0))
    for _ in range(400):
        b = machine("B", 50 + rng.uniform(-4, 4), 50 + rng.uniform(-3, 3), yaw=rng.uniform(0, 360), w=2.0, d=0.8)
        w.update_machine(b)
        gap = _exact_gap(_rect(a), _rect(b))
        if abs(gap) < 2 * TOUCH_TOLERANCE_M:
            continue  # within the tolerance either answer is right
        verdict = w.check("B")
        assert (verdict.status == "collision") == (gap < 0), (b.pose, gap, verdict)
        if gap > 0:  # separations are exact: compare the distance itself with a clearance query
            near = w.check_pose("B", b.pose)
            assert near.status == "ok"
        checked += 1
        collisions += gap < 0
    assert checked > 350 and 50 < collisions < checked - 50  # both outcomes well represented


def test_rotated_gap_is_measured_exactly():
    a = machine("A", 50, 50, w=3.0, d=1.2, clearance=5.0)
    b = machine("B", 54, 51, yaw=30, w=2.0, d=0.8)
    w = world(a, b)
    (c,) = w.check("A").clearances
    assert c.distance_m == pytest.approx(_exact_gap(_rect(a), _rect(b)), abs=1e-4)


def test_walls_keepout_zones_exits():
    walls = [Wall(id="W1", points=[[0, 20], [40, 20]], thickness_m=0.3)]
    zones = [
        Zone(id="K1", name="keep out", polygon=[[30, 0], [34, 0], [34, 4], [30, 4]], kind="keepout"),
        Zone(id="E1", name="exit", polygon=[[0, 0], [2, 0], [2, 2], [0, 2]], kind="exit"),
    ]
    machines = (machine("A", 10, 19.0, clearance=0.6), machine("B", 31, 2), machine("C", 3.5, 1, clearance=0.8))
    w = world(*machines, walls=walls, zones=zones)
    a = w.check("A")  # top edge at 19.5, wall face at 19.85: 0.35 m < 0.6 m
    assert a.status == "clearance" and a.clearances[0].other == "wall:W1"
    assert a.clearances[0].distance_m == pytest.approx(0.35, abs=1e-4)
    assert w.check("B").status == "collision" and w.check("B").collisions[0].other == "keepout:K1"
    c = w.check("C")  # left edge at 2.5, exit edge at 2.0: 0.5 m < 0.8 m
    assert c.status == "clearance" and c.clearances[0].other == "exit:E1"
    w.set_pose("A", Pose(x_m=10, y_m=20))
    assert w.check("A").collisions[0].other == "wall:W1"


def test_sync_follows_added_moved_and_removed_machines_and_ignore():
    a, b = machine("A", 10, 10), machine("B", 11, 10)
    w = world(a, b)
    assert w.check("A").status == "collision"
    assert w.check("A", ignore=["B"]).status == "ok"  # moving A and B together: not against each other
    f = factory(a, machine("B", 20, 10), machine("C", 30, 30))
    w.sync(f)
    assert set(w.machines) == {"A", "B", "C"} and w.check("A").status == "ok"
    w.sync(factory(a))
    assert set(w.machines) == {"A"}
    assert w.check_all() == []


# An L-shaped machine made of two boxes (as machine meshes are built from pieces): arms 3 m × 1 m.
def _box(cx, cy, w, d, h=1.0):
    return np.array([[cx + sx * w / 2, cy + sy * d / 2, z] for sx in (-1, 1) for sy in (-1, 1) for z in (0.0, h)])


def _l_mesh():
    """Vertices and faces of two separate boxes forming an L (normalised: centred, 3 × 3 × 1 m)."""
    import trimesh

    arm_x = trimesh.creation.box(extents=(3.0, 1.0, 1.0)).apply_translation((0.0, -1.0, 0.5))
    arm_y = trimesh.creation.box(extents=(1.0, 3.0, 1.0)).apply_translation((-1.0, 0.0, 0.5))
    both = trimesh.util.concatenate([arm_x, arm_y])
    return np.asarray(both.vertices), np.asarray(both.faces)


def test_concave_machines_are_checked_piece_by_piece(tmp_path):
    from app.physics.parts import convex_parts

    verts, faces = _l_mesh()
    parts = convex_parts(verts, faces)
    assert len(parts) == 2  # the two arms, not the hull of the L
    hulls = {**HULLS, "L": (verts, np.array([3.0, 3.0, 1.0]), parts), "Lhull": (verts, np.array([3.0, 3.0, 1.0]))}
    ell = Machine(
        id="L",
        name="L",
        kind="cnc",
        asset="L",
        pose=Pose(x_m=10, y_m=10),
        footprint=Footprint(width_m=3, depth_m=3, height_m=1),
        clearance_m=0,
    )
    inner = machine("B", 10.3, 10.3, w=0.8, d=0.8)  # in the L's empty corner: inside its hull, clear of its arms
    f = factory(ell, inner).model_copy(update={"assets": {"box": {"path": "builtin:meshes/cnc.glb"}, "L": {"path": "x.obj"}}})
    w = LayoutWorld(f, hulls, cache_dir=tmp_path)
    assert w.check("B").status == "ok" and w.check("L").status == "ok"
    hull_only = LayoutWorld(
        f.model_copy(update={"machines": [ell.model_copy(update={"asset": "Lhull"}), inner]}), hulls, cache_dir=tmp_path
    )
    assert hull_only.check("B").status == "collision"  # what a hull alone would have said
    assert list(tmp_path.glob("*.obj"))  # the parts are cached on disk


def test_rotated_l_shapes_agree_with_exact_geometry(tmp_path):
    from app.physics.parts import convex_parts

    verts, faces = _l_mesh()
    hulls = {**HULLS, "L": (verts, np.array([3.0, 3.0, 1.0]), convex_parts(verts, faces))}
    rng = np.random.default_rng(3)
    ell = Machine(
        id="L",
        name="L",
        kind="cnc",
        asset="L",
        pose=Pose(x_m=50, y_m=50, yaw_deg=35),
        footprint=Footprint(width_m=3, depth_m=3, height_m=1),
        clearance_m=0,
    )
    w = LayoutWorld(factory(ell, machine("B", 0, 0)), hulls, cache_dir=tmp_path)
    # The L's arms as rectangles on the floor (exact), in world coordinates.
    arms = []
    for cx, cy, aw, ad in ((0.0, -1.0, 3.0, 1.0), (-1.0, 0.0, 1.0, 3.0)):
        c, s = math.cos(math.radians(35)), math.sin(math.radians(35))
        local = np.array(
            [[cx - aw / 2, cy - ad / 2], [cx + aw / 2, cy - ad / 2], [cx + aw / 2, cy + ad / 2], [cx - aw / 2, cy + ad / 2]]
        )
        arms.append(local @ np.array([[c, -s], [s, c]]).T + [50, 50])
    checked = inside_hull_but_clear = 0
    for _ in range(300):
        b = machine("B", 50 + rng.uniform(-2.5, 2.5), 50 + rng.uniform(-2.5, 2.5), yaw=rng.uniform(0, 360), w=0.6, d=0.4)
        w.update_machine(b)
        gap = min(_exact_gap(arm, _rect(b)) for arm in arms)
        if abs(gap) < 2 * TOUCH_TOLERANCE_M:
            continue
        assert (w.check("B").status == "collision") == (gap < 0), (b.pose, gap)
        checked += 1
        if gap > 0 and np.hypot(b.pose.x_m - 50, b.pose.y_m - 50) < 1.2:
            inside_hull_but_clear += 1
    assert checked > 250 and inside_hull_but_clear > 5  # placements a hull would have refused are allowed


def test_a_machine_off_the_floor_is_reported_not_refused():
    w = world(machine("A", 99.5, 50), machine("B", 50, 50))  # A's right half is past the 100 m floor edge
    v = w.check("A")
    assert v.status == "collision" and v.collisions[0].other == "floor edge"
    assert v.collisions[0].distance_m == pytest.approx(-0.5)
    assert "collides with floor edge" in v.describe()
    w.set_pose("A", Pose(x_m=99.0, y_m=50))  # exactly touching the edge
    assert w.check("A").status == "ok"


def test_huge_meshes_get_a_simplified_collision_shape(caplog):
    import trimesh
    from scipy.spatial import ConvexHull

    from app.physics.parts import MAX_POINTS, reduce_points
    from app.physics.world import hulls_of

    sphere = trimesh.creation.icosphere(subdivisions=6)  # 40,962 points on its hull
    reduced = reduce_points(sphere.vertices)
    assert len(reduced) <= MAX_POINTS
    assert ConvexHull(reduced).volume >= 0.99 * ConvexHull(sphere.vertices).volume  # nearly all of it
    assert np.all(np.linalg.norm(reduced, axis=1) <= 1.0 + 1e-9)  # and never more

    class Mesh:  # what hulls_of reads of a loaded asset
        vertices, faces = sphere.vertices, sphere.faces
        hull_vertices, extents = sphere.vertices, np.array([2.0, 2.0, 2.0])

    with caplog.at_level("WARNING"):
        (hull, _extents, parts) = hulls_of({"ball": Mesh()})["ball"]
    assert len(hull) <= MAX_POINTS and parts == []
    assert "simplified" in caplog.text
