"""From discovered machines to a twin: the preview rows, the kind guessed, machines placed in rows (one per line
of the server's hierarchy) with their clearance kept, bound, and the difference to what the factory already has.
No Qt: the Build Twin dialog shows ``preview_rows`` and applies ``build`` as one undo step."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.autobuild.discovery import Discovery, FoundMachine
from app.editing.catalogue import KIND_PREFIX, known_assets
from app.model.edits import free_id
from app.model.factory import AssetRef, Factory, Floor, Footprint, Machine, Pose
from app.model.hierarchy import Area, Hierarchy, Line
from app.model.kinds import get_kind, known_kinds

#: Words in a machine's model, name or manufacturer → its kind (first match wins, model first).
KIND_WORDS: tuple[tuple[str, str], ...] = (
    ("robot", "robot_cell"),
    ("press", "press"),
    ("cnc", "cnc"),
    ("mill", "cnc"),
    ("lathe", "cnc"),
    ("machining", "cnc"),
    ("assembl", "assembly"),
    ("conveyor", "conveyor"),
    ("belt", "conveyor"),
    ("buffer", "buffer"),
    ("inspect", "inspection"),
    ("vision", "inspection"),
    ("measur", "inspection"),
    ("warehouse", "warehouse"),
    ("storage", "warehouse"),
)
#: The kind of a machine nothing hints at (its row says so; the user changes it in the Properties dock).
FALLBACK_KIND = "assembly"
#: Footprint (width, depth, height in metres) of a kind whose mesh size is not given.
DEFAULT_SIZE = (3.0, 2.5, 2.2)
CLEARANCE_M = 0.5
AISLE_M = 3.0
MARGIN_M = 2.0
#: Longest row before it wraps (metres).
ROW_M = 60.0


def guess_kind(found: FoundMachine) -> tuple[str, str]:
    """The kind of a found machine and why: a word of its Model, name or Manufacturer.

    >>> guess_kind(FoundMachine("n", "M1", (), {"Model": "Servo Press SP-400"}, {}, {}, ()))
    ('press', 'Model "Servo Press SP-400"')
    """
    for label, text in (
        ("Model", found.identification.get("Model", "")),
        ("name", found.name),
        ("Manufacturer", found.identification.get("Manufacturer", "")),
    ):
        low = text.lower()
        for word, kind in KIND_WORDS:
            if word in low and get_kind(kind) is not None:
                return kind, f'{label} "{text}"'
    return FALLBACK_KIND, "nothing in its identification or name: a guess"


@dataclass(frozen=True)
class PreviewRow:
    """One line of the preview table."""

    node_id: str
    name: str
    kind: str
    kind_reason: str
    group: str
    identification: str
    bindings: str
    problems: str
    status: str  # "new", "present" (already in the factory) or "gone" (in the factory, not on the server)


def _bound_nodes(factory: Factory | None) -> dict[str, str]:
    """Node id → the machine of the factory bound to it."""
    if factory is None:
        return {}
    return {node: m.id for m in factory.machines for node in m.tags.values()}


def _owner(found: FoundMachine, bound: Mapping[str, str], factory: Factory | None) -> str | None:
    """The factory's machine that is ``found``: bound to one of its nodes, or (a machine with nothing to bind)
    an unbound machine of its name."""
    owner = next((bound[n] for n in found.bindings.values() if n in bound), None)
    if owner is None and not found.bindings and factory is not None:
        slug = _slug(found.name, "")
        owner = next((m.id for m in factory.machines if not m.tags and (m.id == slug or m.name == found.name)), None)
    return owner


def _server_namespaces(discovery: Discovery) -> set[str]:
    return {f"nsu={uri};" for uri in discovery.namespaces[1:]}


def difference(discovery: Discovery, factory: Factory | None) -> tuple[list[FoundMachine], list[str], list[str]]:
    """The machines not yet in ``factory`` (none of their bindings is bound there), the ids of those already
    there, and the ids of the factory's machines bound to this server whose nodes were not found (gone)."""
    bound = _bound_nodes(factory)
    new, present = [], []
    found_nodes: set[str] = set()
    for m in discovery.machines:
        found_nodes.update(m.bindings.values())
        owner = _owner(m, bound, factory)
        if owner:
            present.append(owner)
        else:
            new.append(m)
    prefixes = _server_namespaces(discovery)
    gone = []
    if factory is not None:
        for machine in factory.machines:
            ours = [n for n in machine.tags.values() if any(n.startswith(p) for p in prefixes)]
            if ours and not any(n in found_nodes for n in ours) and discovery.complete:
                gone.append(machine.id)
    return new, present, gone


def preview_rows(discovery: Discovery, factory: Factory | None) -> list[PreviewRow]:
    """The preview table: every found machine (new or already present) and every machine gone from the server."""
    _new, _present, gone = difference(discovery, factory)
    bound = _bound_nodes(factory)
    rows = []
    for m in discovery.machines:
        kind, why = guess_kind(m)
        ident = ", ".join(
            m.identification[k] for k in ("Manufacturer", "Model", "SerialNumber", "Location") if k in m.identification
        )
        present = _owner(m, bound, factory) is not None
        rows.append(
            PreviewRow(
                m.node_id,
                m.name,
                kind,
                why,
                "/".join(m.group),
                ident,
                ", ".join(sorted(m.bindings)) or "none",
                "; ".join(m.problems),
                "present" if present else "new",
            )
        )
    for mid in gone:
        machine = factory.machine(mid) if factory is not None else None
        if machine is not None:
            rows.append(
                PreviewRow(
                    "",
                    machine.name,
                    machine.kind,
                    "",
                    machine.line,
                    "",
                    ", ".join(sorted(machine.tags)),
                    "not found on the server any more",
                    "gone",
                )
            )
    return rows


def summary(rows: Sequence[PreviewRow]) -> str:
    """One line under the table: how many machines are new, present, gone and have problems."""
    count = {s: sum(r.status == s for r in rows) for s in ("new", "present", "gone")}
    problems = sum(bool(r.problems) and r.status != "gone" for r in rows)
    return (
        f"{count['new']} new, {count['present']} already in the factory, {count['gone']} gone from the server; "
        f"{problems} with problems"
    )


def mesh_sizes(meshes: Mapping[str, Any]) -> dict[str, tuple[float, float, float]]:
    """Each registered kind's footprint (width, depth, height m, 1 cm … 200 m) from its default asset's loaded
    mesh (anything with ``extents``), for the kinds whose mesh is among ``meshes``."""
    sizes = {}
    for kind in known_kinds().values():
        mesh = meshes.get(kind.default_asset)
        if mesh is not None:
            w, d, h = (round(min(max(float(v), 0.01), 200.0), 3) for v in tuple(mesh.extents)[:3])
            sizes[kind.id] = (w, d, h)
    return sizes


def _slug(text: str, fallback: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.\-]+", "-", text).strip("-")[:64]
    return slug or fallback


def build(
    factory: Factory,
    discovery: Discovery,
    sizes: Mapping[str, tuple[float, float, float]] | None = None,
    remove_gone: bool = True,
) -> tuple[Factory, list[str]]:
    """``factory`` with the discovered machines not in it yet placed and bound (and, with ``remove_gone``, those
    gone from the server taken out), and the ids changed.

    New machines stand in rows, one row per line (folder) of the server, wrapping at ``ROW_M``, below what the
    floor already holds; each keeps ``CLEARANCE_M`` all round and rows are ``AISLE_M`` apart, so no two touch.
    The floor grows to hold them. ``sizes``: a kind's footprint (its mesh's width, depth, height).
    """
    sizes = sizes or {}
    new, _present, gone = difference(discovery, factory)
    after = factory
    if remove_gone and gone:
        from app.model.edits import without

        after = without(after, gone)
    top = max((m.pose.y_m + _reach(m) for m in after.machines), default=0.0)
    y = top + (AISLE_M if after.machines else MARGIN_M)
    machines: list[Machine] = []
    assets = dict(after.assets)
    hierarchy = after.hierarchy or Hierarchy()
    groups: dict[tuple[str, ...], list[FoundMachine]] = {}
    for m in new:
        groups.setdefault(m.group, []).append(m)
    width = after.floor.width_m if after.machines else 0.0
    for group, members in groups.items():
        area_id, line_id, hierarchy = _place_in_hierarchy(hierarchy, group)
        x, row_depth = MARGIN_M, 0.0
        for found in members:
            kind, _why = guess_kind(found)
            w, d, h = sizes.get(kind, DEFAULT_SIZE)
            if x + w + 2 * CLEARANCE_M > MARGIN_M + ROW_M and x > MARGIN_M:
                x, y, row_depth = MARGIN_M, y + row_depth + AISLE_M, 0.0
            known = get_kind(kind)
            asset = known.default_asset if known is not None else kind
            if asset not in assets and asset in known_assets():
                assets[asset] = AssetRef(path=known_assets()[asset])
            cx, cy = x + CLEARANCE_M + w / 2, y + CLEARANCE_M + d / 2
            probe = after.model_copy(update={"machines": [*after.machines, *machines]})
            mid = free_id(probe, _slug(found.name, f"{KIND_PREFIX.get(kind, 'M')}-01"))
            machines.append(
                Machine(
                    id=mid,
                    name=found.name[:200] or mid,
                    kind=kind,
                    asset=asset,
                    line=line_id,
                    area=area_id,
                    pose=Pose(x_m=round(cx, 3), y_m=round(cy, 3)),
                    footprint=Footprint(width_m=w, depth_m=d, height_m=h),
                    clearance_m=CLEARANCE_M,
                    tags=dict(found.bindings),
                    states=dict(found.states),  # type: ignore[arg-type]  # built-in mapping names, as discovery found them
                )
            )
            x += w + 2 * CLEARANCE_M
            width = max(width, x + MARGIN_M)
            row_depth = max(row_depth, d + 2 * CLEARANCE_M)
        y += row_depth + AISLE_M
    depth = max(after.floor.depth_m if after.machines else 0.0, y + MARGIN_M - AISLE_M)
    floor: Floor = after.floor.model_copy(
        update={
            "width_m": math.ceil(max(width, after.floor.width_m if after.machines else 0.0, 10.0)),
            "depth_m": math.ceil(max(depth, 10.0)),
        }
    )
    has_groups = any(m.line for m in machines)
    after = after.model_copy(
        update={
            "machines": [*after.machines, *machines],
            "assets": assets,
            "floor": floor,
            "hierarchy": hierarchy if has_groups or after.hierarchy is not None else None,
        }
    )
    return after, [m.id for m in machines] + (gone if remove_gone else [])


def _reach(m: Machine) -> float:
    return max(m.footprint.width_m, m.footprint.depth_m) / 2 + m.clearance_m


def _place_in_hierarchy(hierarchy: Hierarchy, group: tuple[str, ...]) -> tuple[str, str, Hierarchy]:
    """The area and line ids of a server folder path (``(area, line)``, or a line of area "machines"), added to
    ``hierarchy`` when new."""
    if not group:
        return "", "", hierarchy
    area_name, line_name = (group[0], "/".join(group[1:])) if len(group) > 1 else ("Machines", group[0])
    area_id, line_id = _slug(area_name, "area"), _slug(line_name, "line")
    areas = list(hierarchy.areas)
    index = next((i for i, a in enumerate(areas) if a.id == area_id), None)
    if index is None:
        areas.append(Area(id=area_id, name=area_name, lines=[Line(id=line_id, name=line_name)]))
    elif all(line.id != line_id for line in areas[index].lines):
        area = areas[index]
        areas[index] = area.model_copy(update={"lines": [*area.lines, Line(id=line_id, name=line_name)]})
    return area_id, line_id, hierarchy.model_copy(update={"areas": areas})


def empty_factory(name: str = "Built from server") -> Factory:
    """A factory with nothing on it, for a twin built from scratch."""
    return Factory(name=name, floor=Floor(width_m=10.0, depth_m=10.0))
