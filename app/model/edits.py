"""Layout edits as pure functions of a factory: what moving, adding, duplicating and removing machines do
to the rest of the file (transport paths, part routings). The undo commands in the GUI apply their
results to the document; nothing here knows of Qt or the collision world.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

from app.model.factory import Factory, Machine, Pose
from app.model.routing import branches_without


def snap(value: float, step: float) -> float:
    """``value`` rounded to the nearest multiple of ``step`` (no snapping when step ≤ 0)."""
    return round(value / step) * step if step > 0 else value


def normalise_yaw(yaw_deg: float) -> float:
    """Yaw in [0, 360) degrees."""
    y = math.fmod(yaw_deg, 360.0)
    return y + 360.0 if y < 0 else (0.0 if y == 360.0 else y)


def moved_poses(
    factory: Factory, ids: Iterable[str], dx: float, dy: float, dyaw: float = 0.0, about: tuple[float, float] | None = None
) -> dict[str, Pose]:
    """New poses of machines ``ids`` moved by (dx, dy) and turned by ``dyaw`` degrees about ``about``
    (default: the group's centre), kept on the floor."""
    by_id = {m.id: m for m in factory.machines}
    group = [by_id[i] for i in ids]
    if not group:
        return {}
    if about is None:
        about = (sum(m.pose.x_m for m in group) / len(group), sum(m.pose.y_m for m in group) / len(group))
    c, s = math.cos(math.radians(dyaw)), math.sin(math.radians(dyaw))
    out = {}
    for m in group:
        rx, ry = m.pose.x_m - about[0], m.pose.y_m - about[1]
        x = about[0] + c * rx - s * ry + dx
        y = about[1] + s * rx + c * ry + dy
        x = min(max(x, 0.0), factory.floor.width_m)
        y = min(max(y, 0.0), factory.floor.depth_m)
        out[m.id] = Pose(x_m=round(x, 6), y_m=round(y, 6), yaw_deg=round(normalise_yaw(m.pose.yaw_deg + dyaw), 6))
    return out


def aligned_poses(factory: Factory, ids: Iterable[str], edge: str) -> dict[str, Pose]:
    """Poses that align machines' footprints (their boxes on the floor) on ``edge``: "left", "right",
    "bottom", "top" (to the outermost one), or "centre_x" / "centre_y" (to the group's middle)."""
    from app.model.geometry import footprint_corners

    group = [m for m in factory.machines if m.id in set(ids)]
    if len(group) < 2:
        return {}
    boxes = {m.id: footprint_corners(m) for m in group}
    lo = {mid: c.min(axis=0) for mid, c in boxes.items()}
    hi = {mid: c.max(axis=0) for mid, c in boxes.items()}
    out = {}
    for m in group:
        x, y = m.pose.x_m, m.pose.y_m
        if edge == "left":
            x += min(v[0] for v in lo.values()) - lo[m.id][0]
        elif edge == "right":
            x += max(v[0] for v in hi.values()) - hi[m.id][0]
        elif edge == "bottom":
            y += min(v[1] for v in lo.values()) - lo[m.id][1]
        elif edge == "top":
            y += max(v[1] for v in hi.values()) - hi[m.id][1]
        elif edge == "centre_x":
            x = sum(g.pose.x_m for g in group) / len(group)
        elif edge == "centre_y":
            y = sum(g.pose.y_m for g in group) / len(group)
        else:
            raise ValueError(f"unknown edge {edge!r}")
        out[m.id] = m.pose.model_copy(update={"x_m": round(x, 6), "y_m": round(y, 6)})
    return out


def distributed_poses(factory: Factory, ids: Iterable[str], axis: str) -> dict[str, Pose]:
    """Poses that space machines' centres evenly along ``axis`` ("x" or "y") between the outermost two."""
    group = sorted((m for m in factory.machines if m.id in set(ids)), key=lambda m: m.pose.x_m if axis == "x" else m.pose.y_m)
    if len(group) < 3:
        return {}
    key = "x_m" if axis == "x" else "y_m"
    first, last = getattr(group[0].pose, key), getattr(group[-1].pose, key)
    step = (last - first) / (len(group) - 1)
    return {m.id: m.pose.model_copy(update={key: round(first + k * step, 6)}) for k, m in enumerate(group)}


def with_poses(factory: Factory, poses: Mapping[str, Pose]) -> Factory:
    """A copy of ``factory`` with some machines at new poses."""
    machines = [m.model_copy(update={"pose": poses[m.id]}) if m.id in poses else m for m in factory.machines]
    return factory.model_copy(update={"machines": machines})


def without(factory: Factory, ids: Iterable[str]) -> Factory:
    """A copy of ``factory`` without machines ``ids``: their transport paths go, and they leave the part
    routings (a routing left empty goes with its part flow)."""
    gone = set(ids)
    machines = [m for m in factory.machines if m.id not in gone]
    transports = [t for t in factory.transports if t.from_machine not in gone and t.to_machine not in gone]
    flows = []
    for f in factory.flows:
        routing = [r for r in f.routing if r not in gone]
        if routing and len(routing) < len(f.routing):  # its branches are renumbered with it
            flows.append(f.model_copy(update={"routing": routing, "branches": branches_without(f, gone)}))
        elif routing:
            flows.append(f)
    return factory.model_copy(update={"machines": machines, "transports": transports, "flows": flows})


def with_machines(factory: Factory, new: Iterable[Machine]) -> Factory:
    """A copy of ``factory`` with machines added (ids must be new)."""
    return factory.model_copy(update={"machines": [*factory.machines, *new]})


def free_id(factory: Factory, base: str) -> str:
    """A machine id not in use, made from ``base`` (``CNC-01`` → ``CNC-09`` if 02–08 are taken)."""
    taken = {m.id for m in factory.machines}
    if base not in taken:
        return base
    match = re.match(r"^(.*?)(\d+)$", base)
    stem, width = (match.group(1), len(match.group(2))) if match else (f"{base}-", 2)
    n = 1
    while f"{stem}{n:0{width}d}" in taken:
        n += 1
    return f"{stem}{n:0{width}d}"


def duplicates(factory: Factory, ids: Iterable[str], offset_m: tuple[float, float]) -> list[Machine]:
    """Copies of machines ``ids`` with fresh ids, shifted by ``offset_m`` (bindings are not copied: a copy
    is not the same physical machine)."""
    out: list[Machine] = []
    current = factory
    for m in [m for m in factory.machines if m.id in set(ids)]:
        new_id = free_id(current, m.id)
        pose = m.pose.model_copy(
            update={
                "x_m": min(max(m.pose.x_m + offset_m[0], 0.0), factory.floor.width_m),
                "y_m": min(max(m.pose.y_m + offset_m[1], 0.0), factory.floor.depth_m),
            }
        )
        copy = m.model_copy(update={"id": new_id, "name": f"{m.name} (copy)"[:200], "pose": pose, "tags": {}})
        out.append(copy)
        current = with_machines(current, [copy])
    return out


def layout_diff(before: Factory, after: Factory, tolerance_m: float = 1e-3) -> dict[str, list[str]]:
    """What changed between two layouts: machines ``added``, ``removed``, ``moved`` (position beyond the
    tolerance), ``rotated``."""
    a = {m.id: m for m in before.machines}
    b = {m.id: m for m in after.machines}
    moved, rotated = [], []
    for mid in sorted(a.keys() & b.keys()):
        pa, pb_ = a[mid].pose, b[mid].pose
        if math.hypot(pa.x_m - pb_.x_m, pa.y_m - pb_.y_m) > tolerance_m:
            moved.append(mid)
        if abs((pa.yaw_deg - pb_.yaw_deg + 180) % 360 - 180) > 1e-6:
            rotated.append(mid)
    return {"added": sorted(b.keys() - a.keys()), "removed": sorted(a.keys() - b.keys()), "moved": moved, "rotated": rotated}


def format_diff(diff: dict[str, list[str]], before: Factory, after: Factory) -> str:
    """The diff as lines a person reads (positions in metres, rotations in degrees)."""
    a = {m.id: m for m in before.machines}
    b = {m.id: m for m in after.machines}
    lines = []
    for mid in diff["moved"]:
        pa, pb_ = a[mid].pose, b[mid].pose
        lines.append(
            f"moved    {mid}: ({pa.x_m:g}, {pa.y_m:g}) → ({pb_.x_m:g}, {pb_.y_m:g}), "
            f"{math.hypot(pb_.x_m - pa.x_m, pb_.y_m - pa.y_m):.2f} m"
        )
    for mid in diff["rotated"]:
        lines.append(f"rotated  {mid}: {a[mid].pose.yaw_deg:g}° → {b[mid].pose.yaw_deg:g}°")
    lines += [f"added    {mid} ({b[mid].name})" for mid in diff["added"]]
    lines += [f"removed  {mid} ({a[mid].name})" for mid in diff["removed"]]
    return "\n".join(lines) if lines else "no layout changes"
