"""Every change between two factory files, grouped as a production engineer reads them: the layout
(machines placed, added, removed, their footprints, the floor, walls, aisles, zones, meshes), simulation
parameters (machines' cycle times, failures, buffers…, run settings), part flows and transport paths, and
the OPC UA bindings (machine tags, server settings).

Examples
--------
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> a = load_factory(DEMO_FACTORY)
>>> print(format_factory_diff(a, a))
no changes
"""

from __future__ import annotations

import math
from typing import Any

from app.model.factory import Factory

#: Groups in the order they are printed, with their headings.
GROUPS = {"layout": "Layout", "parameters": "Parameters", "flows": "Flows", "bindings": "Bindings", "file": "File"}


def _show(v: Any) -> str:
    if v is None:
        return "none"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, list):
        if len(v) > 6:
            return f"[{len(v)} values]"
        return "[" + ", ".join(_show(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_show(x)}" for k, x in v.items()) + "}" if v else "{}"
    return str(v)


def _flat(x: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves of nested dicts by dotted path; lists stay whole (a routing, waypoints, samples)."""
    if isinstance(x, dict) and x:
        out: dict[str, Any] = {}
        for k, v in x.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: x}


def _field_changes(a: dict, b: dict, skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(path, "old → new") for every leaf that differs; a leaf only on one side is added or removed."""
    fa, fb = _flat(a), _flat(b)
    out = []
    for key in [*fa, *(k for k in fb if k not in fa)]:
        if key.startswith(skip):
            continue
        if key not in fb:
            out.append((key, f"{_show(fa[key])} → (removed)"))
        elif key not in fa:
            out.append((key, f"(none) → {_show(fb[key])}"))
        elif fa[key] != fb[key]:
            if key == "routing":  # a route reads as one: A → B → C
                out.append((key, f"{' → '.join(fa[key])}  ⇒  {' → '.join(fb[key])}"))
            else:
                out.append((key, f"{_show(fa[key])} → {_show(fb[key])}"))
    return out


def _keyed(items: list[dict], key: str) -> dict[str, dict]:
    return {str(item[key]): item for item in items}


def _records(group: list[str], what: str, a: list[dict], b: list[dict], key: str, describe) -> None:
    """Records of one kind matched by ``key``: added, removed, and each field changed."""
    ka, kb = _keyed(a, key), _keyed(b, key)
    for k in sorted(ka.keys() - kb.keys()):
        group.append(f"removed  {what} {k}{describe(ka[k])}")
    for k in sorted(kb.keys() - ka.keys()):
        group.append(f"added    {what} {k}{describe(kb[k])}")
    for k in ka:
        if k in kb:
            group += [f"changed  {what} {k} {path}: {change}" for path, change in _field_changes(ka[k], kb[k], (key,))]


def factory_diff(before: Factory, after: Factory, tolerance_m: float = 1e-3) -> dict[str, list[str]]:
    """Every change from ``before`` to ``after`` as lines a person reads, by group (see ``GROUPS``)."""
    a = before.model_dump(mode="json")
    b = after.model_dump(mode="json")
    out: dict[str, list[str]] = {g: [] for g in GROUPS}
    layout, params, flows, bindings = out["layout"], out["parameters"], out["flows"], out["bindings"]

    ma, mb = _keyed(a["machines"], "id"), _keyed(b["machines"], "id")
    for mid in ma:
        if mid not in mb:
            continue
        pa, pb = ma[mid]["pose"], mb[mid]["pose"]
        dist = math.hypot(pb["x_m"] - pa["x_m"], pb["y_m"] - pa["y_m"])
        if dist > tolerance_m:
            layout.append(f"moved    {mid}: ({pa['x_m']:g}, {pa['y_m']:g}) → ({pb['x_m']:g}, {pb['y_m']:g}), {dist:.2f} m")
        if abs((pa["yaw_deg"] - pb["yaw_deg"] + 180) % 360 - 180) > 1e-6:
            layout.append(f"rotated  {mid}: {pa['yaw_deg']:g}° → {pb['yaw_deg']:g}°")
        for path, change in _field_changes(ma[mid], mb[mid], ("id", "pose")):
            target = params if path.startswith("sim.") else bindings if path.startswith("tags.") else layout
            target.append(f"changed  {mid} {path}: {change}")
    layout += [f"added    {mid} ({mb[mid]['name']})" for mid in mb if mid not in ma]
    layout += [f"removed  {mid} ({ma[mid]['name']})" for mid in ma if mid not in mb]

    fa, fb = a["floor"], b["floor"]
    for kind in ("walls", "aisles", "zones"):
        _records(layout, kind[:-1], fa[kind], fb[kind], "id", lambda r: "")
    layout += [f"changed  floor.{p}: {c}" for p, c in _field_changes(fa, fb, ("walls", "aisles", "zones"))]
    layout += [f"changed  assets.{p}: {c}" for p, c in _field_changes(a["assets"], b["assets"])]

    def route(flow: dict) -> str:
        return f": {' → '.join(flow['routing'])}"

    _records(flows, "flow", a["flows"], b["flows"], "part", route)
    _records(flows, "transport", a["transports"], b["transports"], "id", lambda t: f" ({t['from_machine']} → {t['to_machine']})")
    params += [f"changed  simulation.{p}: {c}" for p, c in _field_changes(a["simulation"], b["simulation"])]
    bindings += [f"changed  opcua.{p}: {c}" for p, c in _field_changes(a["opcua"], b["opcua"])]
    out["file"] += [f"changed  {k}: {_show(a[k])} → {_show(b[k])}" for k in ("name", "description", "version") if a[k] != b[k]]
    return out


def format_factory_diff(before: Factory, after: Factory) -> str:
    """The grouped diff as text: a heading per group that changed, one indented line per change."""
    diff = factory_diff(before, after)
    lines = []
    for key, heading in GROUPS.items():
        if diff[key]:
            lines.append(f"{heading} ({len(diff[key])} change{'s' if len(diff[key]) > 1 else ''})")
            lines += [f"  {x}" for x in diff[key]]
    return "\n".join(lines) if lines else "no changes"
