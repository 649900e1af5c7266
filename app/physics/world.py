"""The collision and clearance world of a layout: pybullet in DIRECT mode (no GUI, no GPU), no Qt, no VTK.

Every machine is a static body whose shape is made of the convex pieces of its mesh (or the mesh's hull,
see ``app.physics.parts``) as placed (footprint scale, yaw, position; the same ``machine_scale`` the 3D
view uses, so what is drawn is what is checked). Walls
are boxes along their segments, keep-out zones and emergency exits upright prisms over their polygons,
aisles boxes of their width. A query asks pybullet's broadphase for the bodies near one machine
(``getOverlappingObjects`` on its box grown by the largest clearance), then measures the exact distance
to each with ``getClosestPoints`` — the other machines are never touched, so a drag step costs the same
in a plant of 20 or 20,000 machines.

Rules (a *verdict* per machine):

- **collision** (red): the machine overlaps another machine, a wall or a keep-out zone;
- **clearance** (amber): it is nearer than the larger of the two machines' ``clearance_m`` to another
  machine, nearer than its own clearance to a wall or an emergency exit, or stands in an aisle.

Tolerance: gaps between convex shapes are exact (Bullet's 1 mm shape margin is accounted for); a gap or
overlap under ``TOUCH_TOLERANCE_M`` (0.1 mm) counts as touching. Penetration depths of overlaps are
estimates; their sign is exact. A machine whose mesh is one concave piece is checked on its
convex hull, which can report a collision inside the hull's empty corners; meshes made of convex pieces
(legs, tops, posts, panels) are checked piece by piece, exactly.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from app.model.factory import Factory, Machine, Pose
from app.model.geometry import footprint_corners, machine_scale
from app.paths import user_cache_dir
from app.physics.parts import MAX_POINTS, convex_parts, parts_obj, reduce_points

log = logging.getLogger(__name__)

#: Gaps smaller than this (metres) are "touching", not overlapping.
TOUCH_TOLERANCE_M = 1e-4
#: Bullet keeps a collision margin of 1 mm around every convex shape (and needs it: without one its
#: penetration solver reports overlaps as touching). Reported distances are 2 margins short; added back.
SHAPE_MARGIN_M = 1e-3
ZONE_HEIGHT_M = 10.0  # keep-out and exit prisms reach above any machine
#: `LayoutWorld.is_clear_at` settles a problem from two pieces only with this much to spare, so rounding
#: between a piece asked alone and the same piece inside its compound cannot change an answer.
_CORE_SLACK_M = 1e-3
#: ... and skips a machine whose disc (every point within its radius of where it stands) is farther than
#: the clearance by this much.
_CIRCLE_SLACK_M = 1e-2

PartyKind = Literal["machine", "wall", "keepout", "exit", "aisle"]
_Placed = tuple[tuple[float, float, float], tuple[float, float, float, float]]  # (position, quaternion)


@dataclass(frozen=True)
class Contact:
    """One problem of a machine with another party; ``distance_m`` < 0 is an overlap."""

    other: str  # a machine id, or "wall:W1", "keepout:Z1", "exit:Z2", "aisle:A1"
    kind: Literal["collision", "clearance"]
    distance_m: float
    required_m: float  # the clearance that applies (0 for collisions)
    point_self: tuple[float, float, float]
    point_other: tuple[float, float, float]


@dataclass(frozen=True)
class Verdict:
    machine: str
    contacts: tuple[Contact, ...] = field(default=())

    @property
    def status(self) -> Literal["collision", "clearance", "ok"]:
        if any(c.kind == "collision" for c in self.contacts):
            return "collision"
        return "clearance" if self.contacts else "ok"

    @property
    def collisions(self) -> tuple[Contact, ...]:
        return tuple(c for c in self.contacts if c.kind == "collision")

    @property
    def clearances(self) -> tuple[Contact, ...]:
        return tuple(c for c in self.contacts if c.kind == "clearance")

    @property
    def worst(self) -> Contact | None:
        """The contact that matters most: a collision before a clearance, the nearest first."""
        return min(self.contacts, key=lambda c: (c.kind != "collision", c.distance_m)) if self.contacts else None

    def describe(self) -> str:
        """One line for a list or a status bar."""
        worst = self.worst
        if worst is None:
            return f"{self.machine}: clear"
        other = party_name(worst.other)
        if worst.kind == "collision":
            return f"{self.machine} collides with {other}"
        if worst.other.startswith("aisle:"):
            return f"{self.machine} stands in {other}"
        return f"{self.machine} is {max(worst.distance_m, 0):.2f} m from {other} (needs {worst.required_m:.2f} m)"


def party_name(label: str) -> str:
    """A contact's other party as a user reads it: a machine's id, or "aisle A-EAST", "the wall W-3",
    "emergency exit EX-1", "keep-out zone K-2" instead of the internal "kind:id".

    >>> party_name("aisle:A-EAST"), party_name("CNC-02"), party_name("exit:EX-1")
    ('aisle A-EAST', 'CNC-02', 'emergency exit EX-1')
    """
    kind, sep, name = label.partition(":")
    if not sep:
        return label
    words = {"aisle": "aisle", "wall": "wall", "exit": "emergency exit", "keepout": "keep-out zone", "floor": "floor edge"}
    return f"{words.get(kind, kind)} {name}".strip()


def check_layout(factory: Factory, hulls: Mapping[str, tuple]) -> list:
    """Every machine with a problem in ``factory``, from a world of its own that the calling thread builds,
    asks and closes (one owner per pybullet client: safe on a worker thread beside the editor's world)."""
    world = LayoutWorld(factory, hulls)
    try:
        return world.check_all()
    finally:
        world.close()


def problem_counts(verdicts) -> tuple[int, int]:
    """(collisions counted by pair, machines with clearance problems) of a layout check."""
    return collision_pairs(verdicts), sum(v.status == "clearance" for v in verdicts)


def problems_text(verdicts, opened: bool = False) -> str:
    """A layout check's result in one line for the status bar (``opened``: the check of a layout as opened).

    >>> problems_text([])
    'Layout check: 0 collision(s), 0 machine(s) with clearance problems'
    """
    n, clearance = problem_counts(verdicts)
    if opened:
        return f"This layout has {n} collision(s) and {clearance} machine(s) with clearance problems"
    return f"Layout check: {n} collision(s), {clearance} machine(s) with clearance problems"


def collision_pairs(verdicts) -> int:
    """How many overlaps the verdicts describe: a machine-to-machine overlap appears in both machines'
    verdicts but is one collision."""
    pairs = set()
    for v in verdicts:
        for c in v.contacts:
            if c.kind == "collision":
                pairs.add(frozenset((v.machine, c.other)))
    return len(pairs)


def _import_pybullet():
    """pybullet prints its build time from C on standard error when imported: keep that out of the
    terminal and the log (the descriptor is put back however the import ends)."""
    import os
    import sys

    if "pybullet" in sys.modules:
        return sys.modules["pybullet"]
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            import pybullet
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return pybullet


pb = _import_pybullet()


def _yaw_quaternion(yaw_deg: float) -> tuple[float, float, float, float]:
    h = math.radians(yaw_deg) / 2
    return (0.0, 0.0, math.sin(h), math.cos(h))


class LayoutWorld:
    """A pybullet world mirroring a factory layout.

    Parameters
    ----------
    factory
        The layout.
    hulls
        Convex hull vertices ((n, 3) metres, normalised asset frame) and extents (3,) per asset name —
        ``{asset: (hull_vertices, extents)}``; the application passes its loaded ``MeshAsset``s.
    """

    def __init__(self, factory: Factory, hulls: Mapping[str, tuple], cache_dir: Path | None = None):
        self.client = pb.connect(pb.DIRECT)
        self._hulls = dict(hulls)
        self._cache_dir = cache_dir if cache_dir is not None else user_cache_dir() / "collision"
        self._shapes: dict[tuple[str, tuple[float, float, float]], tuple[int, float, float]] = {}
        #: per shape id: (its largest convex piece, its largest piece standing on the floor) as shapes of
        #: their own (a compound's "cores"), or (itself, itself) for a shape of one piece
        self._core: dict[int, tuple[int, int]] = {}
        self._radius: dict[str, float] = {}
        self._height: dict[str, float] = {}
        self.machines: dict[str, Machine] = {}  # as last added (their poses may be older than ``poses``)
        self.poses: dict[str, Pose] = {}
        self._body_of: dict[str, int] = {}
        self._shape_of: dict[str, int] = {}
        #: (position, quaternion) of every machine, as pybullet takes them
        self._placed: dict[str, _Placed] = {}
        self._party: dict[int, tuple[PartyKind, str]] = {}
        self._max_clearance = 0.0
        self._floor = (factory.floor.width_m, factory.floor.depth_m)
        try:
            self._add_floor(factory)
            for m in factory.machines:
                self.add_machine(m)
        except Exception:
            self.close()
            raise

    # -- lifecycle --------------------------------------------------------------------------------------
    def close(self) -> None:
        if self.client is not None and self.client >= 0:
            pb.disconnect(self.client)
        self.client = -1

    def __del__(self):
        with contextlib.suppress(Exception):  # interpreter teardown: pybullet may be gone already
            self.close()

    # -- building ---------------------------------------------------------------------------------------
    def _static(self, kind: PartyKind, name: str, vertices: np.ndarray) -> None:
        shape = pb.createCollisionShape(pb.GEOM_MESH, vertices=np.asarray(vertices, float).tolist(), physicsClientId=self.client)
        body = pb.createMultiBody(0, shape, physicsClientId=self.client)
        self._party[body] = (kind, name)

    def _add_floor(self, factory: Factory) -> None:
        for wall in factory.floor.walls:
            pts = np.asarray(wall.points, float)
            for k, (a, b) in enumerate(itertools.pairwise(pts)):
                name = wall.id if len(pts) == 2 else f"{wall.id}#{k + 1}"
                self._static("wall", name, _segment_box(a, b, wall.thickness_m, wall.height_m))
        for aisle in factory.floor.aisles:
            pts = np.asarray(aisle.points, float)
            for a, b in itertools.pairwise(pts):
                self._static("aisle", aisle.id, _segment_box(a, b, aisle.width_m, 0.05, extend=False))
        for zone in factory.floor.zones:
            poly = np.asarray(zone.polygon, float)
            prism = np.vstack([np.c_[poly, np.zeros(len(poly))], np.c_[poly, np.full(len(poly), ZONE_HEIGHT_M)]])
            self._static("keepout" if zone.kind == "keepout" else "exit", zone.id, prism)

    def _shape(self, machine: Machine) -> tuple[int, float, float]:
        """(shape, radius of its floor circle, height), shared by machines of one asset and size."""
        hull, extents, *more = self._hulls[machine.asset]
        parts = more[0] if more else None
        scale = machine_scale(machine, extents)
        key = (machine.asset, tuple(np.round(scale, 6)))
        shape = self._shapes.get(key)
        if shape is None:
            verts = np.asarray(hull, float) * scale
            if parts is not None and len(parts) > 1:  # a compound of the mesh's convex pieces
                obj = parts_obj(parts, self._cache_dir)
                sid = pb.createCollisionShape(pb.GEOM_MESH, fileName=str(obj), meshScale=list(scale), physicsClientId=self.client)
                largest, on_floor = _largest(parts), _largest(parts, on_floor=True)
                cores = {
                    k: pb.createCollisionShape(
                        pb.GEOM_MESH, vertices=(np.asarray(parts[k], float) * scale).tolist(), physicsClientId=self.client
                    )
                    for k in {largest, on_floor}
                }
                self._core[sid] = (cores[largest], cores[on_floor])
            else:
                sid = pb.createCollisionShape(pb.GEOM_MESH, vertices=verts.tolist(), physicsClientId=self.client)
                self._core[sid] = (sid, sid)
            shape = self._shapes[key] = (sid, float(np.hypot(verts[:, 0], verts[:, 1]).max()), float(verts[:, 2].max()))
        return shape

    def add_hulls(self, hulls: Mapping[str, tuple]) -> None:
        """Make more meshes known (``{asset: (hull vertices, extents)}``), e.g. one just imported."""
        self._hulls.update(hulls)

    def add_machine(self, machine: Machine) -> None:
        if machine.id in self._body_of:
            self.remove_machine(machine.id)
        p = machine.pose
        shape, self._radius[machine.id], self._height[machine.id] = self._shape(machine)
        self._shape_of[machine.id] = shape
        body = pb.createMultiBody(
            0,
            shape,
            basePosition=(p.x_m, p.y_m, 0.0),
            baseOrientation=_yaw_quaternion(p.yaw_deg),
            physicsClientId=self.client,
        )
        self._body_of[machine.id] = body
        self._party[body] = ("machine", machine.id)
        self.machines[machine.id] = machine
        self.poses[machine.id] = machine.pose
        self._placed[machine.id] = ((p.x_m, p.y_m, 0.0), _yaw_quaternion(p.yaw_deg))
        self._max_clearance = max(self._max_clearance, machine.clearance_m)

    def remove_machine(self, machine_id: str) -> None:
        body = self._body_of.pop(machine_id, None)
        if body is not None:
            pb.removeBody(body, physicsClientId=self.client)
            self._party.pop(body, None)
            self._shape_of.pop(machine_id, None)
            self._placed.pop(machine_id, None)
            self.machines.pop(machine_id, None)
            self.poses.pop(machine_id, None)

    def update_machine(self, machine: Machine) -> None:
        """The machine changed (pose only: cheap; footprint or asset: new shape)."""
        old = self.machines.get(machine.id)
        if old is not None and (old.footprint, old.asset) == (machine.footprint, machine.asset):
            self.machines[machine.id] = machine
            self.set_pose(machine.id, machine.pose)
            self._max_clearance = max(self._max_clearance, machine.clearance_m)
        else:
            self.add_machine(machine)

    def set_pose(self, machine_id: str, pose: Pose) -> None:
        placed = self._placed[machine_id] = ((pose.x_m, pose.y_m, 0.0), _yaw_quaternion(pose.yaw_deg))
        pb.resetBasePositionAndOrientation(self._body_of[machine_id], *placed, physicsClientId=self.client)
        self.poses[machine_id] = pose

    def sync(self, factory: Factory) -> None:
        """Follow a changed factory: add, remove and move machines as needed."""
        ids = {m.id for m in factory.machines}
        for gone in [mid for mid in self.machines if mid not in ids]:
            self.remove_machine(gone)
        for m in factory.machines:
            known = self.machines.get(m.id)
            if known is None or (known.footprint, known.asset, known.clearance_m) != (m.footprint, m.asset, m.clearance_m):
                self.update_machine(m)
            elif self.poses[m.id] != m.pose:
                self.set_pose(m.id, m.pose)

    # -- queries ----------------------------------------------------------------------------------------
    def check(self, machine_id: str, ignore: Iterable[str] = (), first_only: bool = False) -> Verdict:
        """The verdict of one machine where it stands (``ignore``: machines not to check against, e.g. the
        rest of a group being moved together; ``first_only``: stop at the first problem found, for a search
        that needs a yes or no — the verdict then holds that one contact)."""
        body = self._body_of[machine_id]
        own = self.machines[machine_id].clearance_m
        # The box to search: the machine's circle on the floor (radius known from its shape, so no
        # query for its bounding box) grown by the largest clearance anyone needs.
        pose = self.poses[machine_id]
        r = self._radius[machine_id] + (own if own > self._max_clearance else self._max_clearance) + TOUCH_TOLERANCE_M
        near = pb.getOverlappingObjects(
            (pose.x_m - r, pose.y_m - r, -1.0),
            (pose.x_m + r, pose.y_m + r, self._height[machine_id] + 1.0),
            physicsClientId=self.client,
        )
        off = self._off_floor(machine_id, pose, r)
        if (near is None or len(near) <= 1) and off is None:
            return Verdict(machine_id)  # nothing near: the common case while dragging across a free floor
        skip = {self._body_of[i] for i in ignore if i in self._body_of} if ignore else ()
        contacts: list[Contact] = [] if off is None else [off]
        if first_only and contacts:
            return Verdict(machine_id, tuple(contacts))
        for other, _link in near or ():
            if other == body or other in skip or other not in self._party:
                continue
            kind, name = self._party[other]
            if kind == "machine":
                required = max(own, self.machines[name].clearance_m)
                label = name
            else:
                required = own if kind in ("wall", "exit") else 0.0
                label = f"{kind}:{name}"
            points = pb.getClosestPoints(body, other, required + TOUCH_TOLERANCE_M, physicsClientId=self.client)
            if not points:
                continue
            closest = min(points, key=lambda c: c[8])
            d = float(closest[8]) + 2 * SHAPE_MARGIN_M
            if d < -TOUCH_TOLERANCE_M and kind in ("machine", "wall", "keepout"):
                contacts.append(Contact(label, "collision", d, 0.0, tuple(closest[5]), tuple(closest[6])))
            elif (kind == "aisle" and d < -TOUCH_TOLERANCE_M) or (kind != "aisle" and d < required - TOUCH_TOLERANCE_M):
                contacts.append(Contact(label, "clearance", d, required, tuple(closest[5]), tuple(closest[6])))
            if first_only and contacts:
                break
        return Verdict(machine_id, tuple(sorted(contacts, key=lambda c: (c.kind != "collision", c.distance_m))))

    def is_clear_at(self, machine_id: str, pose: Pose, ignore: Iterable[str] = ()) -> bool:
        """Whether the machine would be clear at ``pose`` — the yes or no of ``check_pose(machine_id, pose,
        ignore)`` (True exactly when that verdict has no contact), for a search that asks it thousands of
        times. Nothing is moved: the machine's shape is asked where it would stand.

        Cheaper by two things, neither of which changes the answer: (1) the machine's shape is asked at
        ``pose`` instead of moving its body there and back; (2) before the exact query of its compound
        shape against a neighbour, single convex pieces (parts of the shapes, so never nearer than the
        wholes) are asked for a problem with a millimetre to spare — the largest piece of each machine,
        then the largest piece standing on the floor of each; against a wall, an aisle or a zone the
        machine's largest piece standing on the floor. Overlapping compounds are where Bullet spends its
        time (every pair of pieces), and there one pair of pieces usually settles it. A neighbour that the
        pieces do not settle gets the exact query ``check`` makes. A machine farther away than its radius,
        ours and the clearance (with a centimetre to spare) is not asked at all.
        """
        own = self.machines[machine_id].clearance_m
        radius = self._radius[machine_id]
        r = radius + (own if own > self._max_clearance else self._max_clearance) + TOUCH_TOLERANCE_M
        near = pb.getOverlappingObjects(
            (pose.x_m - r, pose.y_m - r, -1.0),
            (pose.x_m + r, pose.y_m + r, self._height[machine_id] + 1.0),
            physicsClientId=self.client,
        )
        if self._off_floor(machine_id, pose, r) is not None:
            return False
        if not near:
            return True
        body = self._body_of[machine_id]
        skip = {self._body_of[i] for i in ignore if i in self._body_of}
        skip.add(body)
        party, client = self._party, self.client
        sid = self._shape_of[machine_id]
        core, floor_core = self._core[sid]
        # (other body, the clearance that applies, the pairs of pieces worth asking first: (own piece, the
        # other's piece or -1 for the other body, the other's position and orientation or None))
        todo: list[tuple[int, float, list[tuple[int, int, _Placed | None]]]] = []
        for other, _link in near:
            if other in skip or other not in party:
                continue
            kind, name = party[other]
            if kind == "machine":
                required = max(own, self.machines[name].clearance_m)
                placed = self._placed[name]
                # every point of a machine lies within its radius of where it stands: discs this far apart
                # cannot hold a problem (a centimetre to spare for Bullet's margins)
                far = radius + self._radius[name] + required + _CIRCLE_SLACK_M
                dx, dy = placed[0][0] - pose.x_m, placed[0][1] - pose.y_m
                if dx * dx + dy * dy > far * far:
                    continue
                other_sid = self._shape_of[name]
                other_core, other_floor = self._core[other_sid]
                pairs: list[tuple[int, int, _Placed | None]] = []
                if core != sid or other_core != other_sid:  # one of the two is a compound
                    pairs.append((core, other_core, placed))
                    if (floor_core, other_floor) != (core, other_core):
                        pairs.append((floor_core, other_floor, placed))
                todo.append((other, required, pairs))
            else:  # walls, aisles and zones stand on the floor: the piece standing there is the one to ask
                todo.append((other, own if kind in ("wall", "exit") else 0.0, [(floor_core, -1, None)] if core != sid else []))
        if not todo:
            return True
        pos, orn = (pose.x_m, pose.y_m, 0.0), _yaw_quaternion(pose.yaw_deg)
        # a contact is d + 2 margins < required − tolerance (check's rule, for every kind of party)
        for other, required, pairs in todo:
            limit = required - TOUCH_TOLERANCE_M - 2 * SHAPE_MARGIN_M - _CORE_SLACK_M
            for own_piece, other_piece, there in pairs:
                if there is None:
                    pts = pb.getClosestPoints(
                        -1, other, limit, collisionShapeA=own_piece, collisionShapePositionA=pos,
                        collisionShapeOrientationA=orn, physicsClientId=client,
                    )  # fmt: skip
                else:
                    pts = pb.getClosestPoints(
                        -1, -1, limit, collisionShapeA=own_piece, collisionShapeB=other_piece, collisionShapePositionA=pos,
                        collisionShapeOrientationA=orn, collisionShapePositionB=there[0],
                        collisionShapeOrientationB=there[1], physicsClientId=client,
                    )  # fmt: skip
                if pts and min(c[8] for c in pts) < limit:
                    return False
        for other, required, _pairs in todo:
            pts = pb.getClosestPoints(
                -1, other, required + TOUCH_TOLERANCE_M, collisionShapeA=sid, collisionShapePositionA=pos,
                collisionShapeOrientationA=orn, physicsClientId=client,
            )  # fmt: skip
            if pts and min(c[8] for c in pts) + 2 * SHAPE_MARGIN_M < required - TOUCH_TOLERANCE_M:
                return False
        return True

    def _off_floor(self, machine_id: str, pose: Pose, reach: float) -> Contact | None:
        """A machine whose footprint leaves the floor (it cannot stand there): a collision with its edge."""
        width, depth = self._floor
        if reach <= pose.x_m <= width - reach and reach <= pose.y_m <= depth - reach:
            return None  # well inside: the usual case, no geometry needed
        corners = footprint_corners(self.machines[machine_id].model_copy(update={"pose": pose}))
        beyond = np.maximum.reduce([-corners[:, 0], corners[:, 0] - width, -corners[:, 1], corners[:, 1] - depth])
        out = float(beyond.max())
        if out <= TOUCH_TOLERANCE_M:
            return None
        worst = corners[int(np.argmax(beyond))]
        point = (float(worst[0]), float(worst[1]), 0.0)
        return Contact("floor edge", "collision", -float(out), 0.0, point, point)

    def check_pose(self, machine_id: str, pose: Pose, ignore: Iterable[str] = ()) -> Verdict:
        """The verdict if the machine stood at ``pose`` (it is put back afterwards)."""
        old = self.poses[machine_id]
        self.set_pose(machine_id, pose)
        try:
            return self.check(machine_id, ignore)
        finally:
            self.set_pose(machine_id, old)

    def check_all(self) -> list[Verdict]:
        """Every machine with a problem (each pair appears under both machines)."""
        out = []
        for mid in self.machines:
            v = self.check(mid)
            if v.contacts:
                out.append(v)
        return out


def _largest(parts: list[np.ndarray], on_floor: bool = False) -> int:
    """The index of the piece with the largest hull (by volume; a flat piece counts 0), or with
    ``on_floor`` of the largest among those reaching down to the mesh's lowest point (within 1% of its
    height)."""
    low = min(float(np.asarray(p, float)[:, 2].min()) for p in parts)
    high = max(float(np.asarray(p, float)[:, 2].max()) for p in parts)
    sizes = []
    for p in parts:
        p = np.asarray(p, float)
        if on_floor and p[:, 2].min() > low + 0.01 * (high - low):
            sizes.append(-1.0)
            continue
        try:
            sizes.append(ConvexHull(p).volume)
        except (QhullError, ValueError):
            sizes.append(0.0)
    return int(np.argmax(sizes))


def _segment_box(a: np.ndarray, b: np.ndarray, width: float, height: float, extend: bool = True) -> np.ndarray:
    """Corners of a box of ``width`` around the segment a→b (walls reach half their thickness past the
    ends so corners close), from the floor to ``height``."""
    d = b - a
    length = float(np.hypot(*d))
    u = d / length if length > 0 else np.array([1.0, 0.0])
    n = np.array([-u[1], u[0]]) * width / 2
    ext = u * width / 2 if extend else 0 * u
    corners2 = [a - ext + n, a - ext - n, b + ext - n, b + ext + n]
    return np.array([[x, y, z] for x, y in corners2 for z in (0.0, height)])


class MeshAsset(Protocol):
    """What collision shapes need from a loaded mesh asset (the scene's asset loader provides it)."""

    vertices: np.ndarray
    faces: np.ndarray
    hull_vertices: np.ndarray
    extents: np.ndarray


def hulls_of(assets: Mapping[str, MeshAsset]) -> dict[str, tuple[np.ndarray, np.ndarray, list[np.ndarray]]]:
    """``{asset: (hull vertices, extents, convex parts)}`` from loaded mesh assets (anything with vertices,
    faces, hull vertices and extents)."""
    out: dict[str, tuple[np.ndarray, np.ndarray, list[np.ndarray]]] = {}
    for name, a in assets.items():
        hull = np.asarray(a.hull_vertices, float)
        parts = convex_parts(a.vertices, a.faces)
        if len(parts) == 1:
            parts = []  # one piece: its hull is the shape (the asset has it already)
        if len(hull) > MAX_POINTS or any(len(p) > MAX_POINTS for p in parts):
            before = len(hull)
            hull = reduce_points(hull)
            parts = [reduce_points(p) for p in parts]
            log.warning("mesh %s: collision shape simplified from %d to %d hull points (a huge mesh)", name, before, len(hull))
        out[name] = (hull, np.asarray(a.extents, float), parts)
    return out
