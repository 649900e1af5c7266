"""What a new machine is made of: the meshes it can be added with, the id it gets, its first pose and size.

No Qt: the palette (a view) lists these, the edit service builds machines from them.
"""

from __future__ import annotations

from app.model.edits import free_id, snap
from app.model.factory import Factory, Footprint, Machine, Pose
from app.model.kinds import get_kind, known_kinds
from app.paths import ASSETS_DIR

#: Id prefix of a new machine by kind (``CNC-01``, ``PR-03``); other kinds use their first letters.
KIND_PREFIX = {
    "cnc": "CNC",
    "press": "PR",
    "robot_cell": "RC",
    "assembly": "ASM",
    "conveyor": "CV",
    "buffer": "BUF",
    "inspection": "QA",
    "warehouse": "WH",
}
#: The meshes that ship with floortwin: asset id → ``builtin:`` path.
BUILTIN_ASSETS = {p.stem: f"builtin:meshes/{p.name}" for p in sorted((ASSETS_DIR / "meshes").glob("*")) if p.is_file()}


def known_assets() -> dict[str, str]:
    """Meshes a machine can be added with: the built-in ones and those of the plugins' machine kinds."""
    return {**BUILTIN_ASSETS, **{k.default_asset: k.asset_path for k in known_kinds().values() if k.asset_path}}


def new_machine(
    factory: Factory, kind_id: str, asset_id: str, x: float, y: float, grid_m: float, extents_m: tuple[float, float, float]
) -> Machine:
    """A machine of ``kind_id`` with mesh ``asset_id`` at floor point (x, y) snapped to ``grid_m`` and kept on
    the floor, sized like its mesh (``extents_m``, clamped to 1 cm … 200 m), with a free id.

    Raises ``ValueError`` (pydantic's ValidationError) when the mesh gives an unusable size.

    >>> from app.model.io import load_factory
    >>> from app.paths import DEMO_FACTORY
    >>> f = load_factory(DEMO_FACTORY)
    >>> m = new_machine(f, "cnc", "cnc", 10.2, 5.9, 0.5, (4.0, 2.8, 2.2))
    >>> m.id.startswith("CNC-"), (m.pose.x_m, m.pose.y_m)
    (True, (10.0, 6.0))
    """
    kind = get_kind(kind_id)
    mid = free_id(factory, f"{KIND_PREFIX.get(kind_id, kind_id[:3].upper())}-01")
    ex, ey, ez = (min(max(float(v), 0.01), 200.0) for v in extents_m)
    return Machine(
        id=mid,
        name=f"{kind.label if kind else kind_id} {mid.split('-')[-1]}",
        kind=kind_id,
        asset=asset_id,
        pose=Pose(
            x_m=min(max(snap(x, grid_m), 0.0), factory.floor.width_m),
            y_m=min(max(snap(y, grid_m), 0.0), factory.floor.depth_m),
        ),
        footprint=Footprint(width_m=round(ex, 3), depth_m=round(ey, 3), height_m=round(ez, 3)),
    )
