"""Builds floortwin's bundled machine meshes and the demo factory from trimesh primitives.

Run from the repository root: ``python assets/tools/build_assets.py``. The outputs are committed
(``assets/meshes/*``, ``assets/factories/demo.json``); this script is how they were made and how to
change them. Everything it writes is original work under the project's MIT licence (assets/LICENSES.md).

Meshes are modelled Z-up in metres with the footprint centred on the origin; glTF files are written Y-up
as the glTF specification requires (the loader converts back).
"""

from __future__ import annotations

import itertools
import json
import math
import sys
from pathlib import Path

import numpy as np
import trimesh
from trimesh.creation import box as _box
from trimesh.creation import cylinder as _cyl
from trimesh.transformations import rotation_matrix, translation_matrix

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

MESHES = ROOT / "assets" / "meshes"
FACTORIES = ROOT / "assets" / "factories"


def box(cx, cy, cz, sx, sy, sz, yaw_deg=0.0):
    """An axis box of size (sx, sy, sz) centred at (cx, cy, cz), optionally turned about Z."""
    t = translation_matrix([cx, cy, cz]) @ rotation_matrix(math.radians(yaw_deg), [0, 0, 1])
    return _box(extents=[sx, sy, sz], transform=t)


def cyl(cx, cy, cz, r, h, axis="z", sections=16):
    """A cylinder of radius r and length h centred at (cx, cy, cz) along an axis."""
    rot = {"z": np.eye(4), "x": rotation_matrix(math.pi / 2, [0, 1, 0]), "y": rotation_matrix(math.pi / 2, [1, 0, 0])}[axis]
    return _cyl(radius=r, height=h, sections=sections, transform=translation_matrix([cx, cy, cz]) @ rot)


def beam(p0, p1, r, sections=10):
    """A cylinder from point p0 to point p1."""
    return _cyl(radius=r, segment=[p0, p1], sections=sections)


def cnc():
    parts = [
        box(0, 0, 0.15, 4.0, 2.4, 0.3),  # plinth
        box(-0.3, 0, 1.35, 3.2, 2.2, 2.1),  # enclosure
        box(-0.3, -1.12, 1.3, 1.6, 0.06, 1.2),  # door window
        box(-1.2, -1.14, 1.3, 0.08, 0.04, 1.0),  # door handle
        box(1.55, -0.4, 1.5, 0.6, 0.7, 1.0, yaw_deg=20),  # control pendant
        box(1.7, 0.5, 0.8, 0.6, 1.2, 1.3),  # coolant unit
        box(-0.3, 1.35, 0.6, 3.4, 0.5, 0.6),  # chip conveyor
        box(-0.3, 0, 2.5, 2.0, 1.6, 0.2),  # spindle housing roof
    ]
    for i, h in enumerate((0.12, 0.12, 0.12)):  # signal tower
        parts.append(cyl(1.2, 0.9, 2.5 + 0.06 + i * h, 0.06, h, sections=12))
    return trimesh.util.concatenate(parts)


def press():
    parts = [box(0, 0, 0.4, 3.0, 2.4, 0.8)]  # bed
    for x in (-1.2, 1.2):
        for y in (-0.9, 0.9):
            parts.append(box(x, y, 2.4, 0.45, 0.45, 3.2))  # columns
    parts += [
        box(0, 0, 4.4, 3.0, 2.4, 1.0),  # crown
        box(0, 0, 2.9, 2.0, 1.5, 0.5),  # ram
        box(0, 0, 1.0, 2.0, 1.6, 0.4),  # bolster
        cyl(1.65, 0, 4.3, 0.7, 0.3, axis="x", sections=24),  # flywheel
        box(-1.9, -0.8, 1.0, 0.6, 0.5, 1.6),  # control cabinet
    ]
    return trimesh.util.concatenate(parts)


def robot_cell():
    parts = []
    s = 2.45
    for x, y, sx, sy in ((0, -s, 4.9, 0.05), (0, s, 4.9, 0.05), (-s, 0, 0.05, 4.9), (s, 0.8, 0.05, 3.3)):
        parts.append(box(x, y, 1.1, sx, sy, 1.8))  # fence panels
    for x in (-s, 0, s):
        for y in (-s, s):
            parts.append(box(x, y, 1.1, 0.1, 0.1, 2.2))  # posts
    parts += [
        cyl(0, 0, 0.25, 0.45, 0.5, sections=20),  # robot base
        cyl(0, 0, 0.7, 0.35, 0.4, sections=20),  # turret
        beam([0, 0, 0.9], [0.5, 0.2, 1.9], 0.16),  # upper arm
        beam([0.5, 0.2, 1.9], [1.4, 0.5, 1.6], 0.12),  # forearm
        cyl(1.45, 0.5, 1.35, 0.1, 0.3, sections=12),  # wrist/tool
        box(1.5, 0.6, 0.45, 1.2, 1.0, 0.9),  # fixture table
        box(-1.6, -1.6, 0.9, 0.8, 0.6, 1.8),  # controller
    ]
    return trimesh.util.concatenate(parts)


def assembly():
    parts = [box(0, 0, 0.9, 2.6, 1.2, 0.06)]  # table top
    for x in (-1.2, 1.2):
        for y in (-0.5, 0.5):
            parts.append(box(x, y, 0.45, 0.06, 0.06, 0.9))  # legs
    for x in (-1.25, 1.25):
        parts.append(box(x, 0.55, 1.5, 0.05, 0.05, 1.2))  # shelf posts
    parts += [
        box(0, 0.5, 1.45, 2.5, 0.35, 0.03),  # parts shelf
        box(0, 0.5, 1.95, 2.5, 0.35, 0.03),  # upper shelf
        box(0, 0.5, 2.1, 2.0, 0.15, 0.05),  # lamp
        box(-0.7, 0.45, 1.6, 0.4, 0.3, 0.25),  # bins
        box(0.0, 0.45, 1.6, 0.4, 0.3, 0.25),
        box(0.7, 0.45, 1.6, 0.4, 0.3, 0.25),
        box(0.6, -0.1, 1.05, 0.5, 0.4, 0.25),  # workpiece
        box(-0.8, -0.1, 1.0, 0.35, 0.25, 0.15),  # screwdriver rest
    ]
    return trimesh.util.concatenate(parts)


def conveyor():
    parts = [
        box(0, 0, 0.85, 6.0, 0.8, 0.08),  # belt
        box(0, -0.45, 0.92, 6.0, 0.06, 0.18),  # side rails
        box(0, 0.45, 0.92, 6.0, 0.06, 0.18),
        cyl(-3.0, 0, 0.85, 0.09, 0.85, axis="y"),  # end rollers
        cyl(3.0, 0, 0.85, 0.09, 0.85, axis="y"),
        box(2.6, -0.55, 0.7, 0.3, 0.2, 0.3),  # drive motor
    ]
    for x in (-2.7, -0.9, 0.9, 2.7):
        for y in (-0.35, 0.35):
            parts.append(box(x, y, 0.4, 0.06, 0.06, 0.8))  # legs
    return trimesh.util.concatenate(parts)


def rack():
    parts = []
    for x in (-1.95, 0, 1.95):
        for y in (-0.5, 0.5):
            parts.append(box(x, y, 2.0, 0.08, 0.08, 4.0))  # uprights
    for z in (0.15, 1.4, 2.65, 3.9):
        for y in (-0.5, 0.5):
            parts.append(box(0, y, z, 3.9, 0.06, 0.12))  # beams
    rng = np.random.default_rng(7)
    for z in (0.15, 1.4, 2.65):
        for x in (-1.0, 1.0):
            if rng.random() < 0.8:
                h = 0.6 + 0.4 * rng.random()
                parts.append(box(x, 0, z + 0.12 + h / 2, 1.6, 1.0, h))  # pallets
    return trimesh.util.concatenate(parts)


def inspection():
    parts = [
        box(0, 0, 0.4, 2.6, 1.8, 0.8),  # base
        box(0, 0, 0.9, 2.2, 1.5, 0.2),  # granite plate
        box(-1.0, 0, 1.7, 0.2, 0.25, 1.4),  # gantry posts
        box(1.0, 0, 1.7, 0.2, 0.25, 1.4),
        box(0, 0, 2.45, 2.3, 0.3, 0.2),  # bridge
        box(0.2, 0, 2.1, 0.25, 0.3, 0.6),  # carriage
        cyl(0.2, 0, 1.6, 0.04, 0.5, sections=12),  # probe
        box(1.5, -0.6, 1.2, 0.4, 0.6, 0.9, yaw_deg=-15),  # PC desk
        box(1.5, -0.6, 1.75, 0.5, 0.05, 0.35, yaw_deg=-15),  # monitor
        box(0.6, 0.3, 1.1, 0.5, 0.4, 0.2),  # workpiece
    ]
    return trimesh.util.concatenate(parts)


def warehouse():
    parts = [box(0, 0, 0.05, 12.0, 6.0, 0.1)]  # slab
    for row_y in (-2.0, 2.0):
        for x in np.linspace(-5.6, 5.6, 8):
            for dy in (-0.55, 0.55):
                parts.append(box(x, row_y + dy, 3.0, 0.1, 0.1, 6.0))  # uprights
        for z in (0.3, 1.8, 3.3, 4.8):
            parts.append(box(0, row_y, z, 11.4, 1.2, 0.1))  # shelves
            for x in np.linspace(-4.8, 4.8, 6):
                parts.append(box(x, row_y, z + 0.55, 1.3, 1.0, 0.9))  # pallets
    parts += [box(0, 0, 1.2, 1.2, 0.9, 2.4), box(0, 0.2, 2.6, 0.2, 0.2, 0.6)]  # forklift-ish
    return trimesh.util.concatenate(parts)


# asset id → (builder, file name). Formats are mixed on purpose: the demo exercises every loader.
ASSETS = {
    "cnc": (cnc, "cnc.glb"),
    "press": (press, "press.glb"),
    "robot_cell": (robot_cell, "robot_cell.glb"),
    "assembly": (assembly, "assembly.glb"),
    "conveyor": (conveyor, "conveyor.stl"),
    "rack": (rack, "rack.obj"),
    "inspection": (inspection, "inspection.ply"),
    "warehouse": (warehouse, "warehouse.glb"),
}


def write_meshes() -> dict[str, np.ndarray]:
    MESHES.mkdir(parents=True, exist_ok=True)
    extents = {}
    for key, (build, name) in ASSETS.items():
        mesh = build()
        mesh.merge_vertices()
        out = MESHES / name
        if name.endswith(".glb"):
            m = mesh.copy()
            m.apply_transform(rotation_matrix(-math.pi / 2, [1, 0, 0]))  # Z-up → Y-up for glTF
            m.export(out, file_type="glb")
        else:
            mesh.export(out)
        extents[key] = mesh.extents
        print(
            f"{name:18s} {len(mesh.faces):5d} triangles, {out.stat().st_size / 1024:6.1f} KiB, "
            f"extents {np.round(mesh.extents, 2)}"
        )
    return extents


def demo_factory(extents: dict[str, np.ndarray]) -> dict:
    """The demo plant: goods-in → machining / pressing → welding → assembly → inspection → goods-out."""
    machines = []

    def add(mid, name, kind, asset, x, y, yaw=0.0, line="", cycle=None, mtbf=None, mttr=None, buf=10, power=(10.0, 2.0)):
        ex = extents[asset]
        sim = {"cycle": {"kind": "lognormal", "mean_s": cycle, "cv": 0.1}} if cycle else {}
        if mtbf:
            sim.update({"mtbf_s": mtbf, "mttr_s": mttr})
        if buf != 10:
            sim["input_buffer"] = buf
        sim.update({"power_busy_kw": power[0], "power_idle_kw": power[1]})
        machines.append(
            {
                "id": mid,
                "name": name,
                "kind": kind,
                "asset": asset,
                "line": line,
                "pose": {"x_m": x, "y_m": y, "yaw_deg": yaw},
                "footprint": {"width_m": round(float(ex[0]), 3), "depth_m": round(float(ex[1]), 3)},
                "clearance_m": 0.8 if kind in ("cnc", "press", "robot_cell") else 0.5,
                "sim": sim,
            }
        )

    add("WH-IN", "Goods-in store", "warehouse", "warehouse", 7.25, 41, line="Logistics", cycle=20, buf=200, power=(5, 3))
    for i in range(8):  # machining: two rows of four CNCs
        x, y = 22 + (i % 4) * 6.5, 43 if i < 4 else 35.5
        add(
            f"CNC-{i + 1:02d}",
            f"Machining centre {i + 1}",
            "cnc",
            "cnc",
            x,
            y,
            yaw=0 if i < 4 else 180,
            line="Machining",
            cycle=240 + 15 * (i % 3),
            mtbf=8 * 3600,
            mttr=1800,
            power=(22, 4),
        )
    for i in range(4):  # pressing
        add(
            f"PR-{i + 1:02d}",
            f"Press {i + 1}",
            "press",
            "press",
            20 + i * 6,
            13,
            line="Pressing",
            cycle=45 + 5 * i,
            mtbf=12 * 3600,
            mttr=2400,
            power=(45, 6),
        )
    for i in range(4):  # welding
        x, y = (52, 42) if i == 0 else (58, 42) if i == 1 else (52, 34) if i == 2 else (58, 34)
        add(
            f"RC-{i + 1:02d}",
            f"Welding robot cell {i + 1}",
            "robot_cell",
            "robot_cell",
            x,
            y,
            line="Welding",
            cycle=150,
            mtbf=24 * 3600,
            mttr=900,
            power=(15, 3),
        )
    for i in range(6):  # buffers
        x, y = [(47.5, 43), (47.5, 35.5), (44, 13), (50, 13), (63.5, 42), (63.5, 34)][i]
        add(
            f"BUF-{i + 1:02d}",
            f"WIP rack {i + 1}",
            "buffer",
            "rack",
            x,
            y,
            yaw=90,
            line="Logistics",
            cycle=5,
            buf=60,
            power=(0.2, 0.1),
        )
    for i in range(8):  # assembly line with conveyors between
        x = 56 + (i % 4) * 4.2
        y = 18 if i < 4 else 9
        add(
            f"ASM-{i + 1:02d}",
            f"Assembly station {i + 1}",
            "assembly",
            "assembly",
            x,
            y,
            yaw=0 if i < 4 else 180,
            line="Assembly",
            cycle=200 + 10 * (i % 4),
            mtbf=40 * 3600,
            mttr=600,
            power=(1.5, 0.5),
        )
    for i in range(6):
        x, y, yaw = [(58.1, 15.5, 0), (66.5, 15.5, 0), (58.1, 11.5, 0), (66.5, 11.5, 0), (30, 39.2, 0), (42, 8.5, 0)][i]
        add(
            f"CV-{i + 1:02d}",
            f"Conveyor {i + 1}",
            "conveyor",
            "conveyor",
            x,
            y,
            yaw=yaw,
            line="Logistics",
            cycle=30,
            buf=8,
            power=(1.1, 0.3),
        )
    add("QA-01", "Inspection (CMM) 1", "inspection", "inspection", 74, 35, line="Quality", cycle=120, power=(2, 1))
    add("QA-02", "Inspection (CMM) 2", "inspection", "inspection", 74, 42, line="Quality", cycle=120, power=(2, 1))
    add("WH-OUT", "Goods-out store", "warehouse", "warehouse", 71, 4, line="Logistics", cycle=20, buf=200, power=(5, 3))

    # Bind every machine to its signals on the embedded plant simulator (namespace given by URI, so the
    # bindings hold whatever index the server gives the namespace).
    extra = {"cnc": "SpindleLoad", "press": "PressForce", "robot_cell": "AxisLoad"}
    for m in machines:
        base = f"nsu=urn:floortwin:plantsim;s=Machines/{m['id']}"
        signals = ["State", "Temperature", "Power", "PartCount", "Level", "Alarm", "AlarmText", "DownReason"]
        if m["kind"] in extra:
            signals.append(extra[m["kind"]])
        m["tags"] = {sig: f"{base}/{sig}" for sig in signals}

    flows = [
        ("housing", ["WH-IN", "CNC-01", "CNC-02", "BUF-01", "RC-01", "BUF-05", "ASM-01", "ASM-02", "QA-01", "WH-OUT"], 600),
        ("shaft", ["WH-IN", "CNC-03", "CNC-04", "BUF-01", "RC-02", "BUF-05", "ASM-03", "ASM-04", "QA-02", "WH-OUT"], 720),
        ("flange", ["WH-IN", "CNC-05", "CNC-06", "BUF-02", "RC-03", "BUF-06", "ASM-05", "ASM-06", "QA-01", "WH-OUT"], 660),
        (
            "bracket",
            ["WH-IN", "PR-01", "PR-02", "BUF-03", "CV-06", "RC-04", "BUF-06", "ASM-07", "ASM-08", "QA-02", "WH-OUT"],
            540,
        ),
        ("cover", ["WH-IN", "PR-03", "PR-04", "BUF-04", "CNC-07", "CNC-08", "BUF-02", "ASM-07", "QA-01", "WH-OUT"], 900),
    ]
    pos = {m["id"]: (m["pose"]["x_m"], m["pose"]["y_m"]) for m in machines}
    transports, seen = [], set()
    for _part, routing, _ in flows:
        for a, b in itertools.pairwise(routing):
            if (a, b) in seen:
                continue
            seen.add((a, b))
            (x0, y0), (x1, y1) = pos[a], pos[b]
            near = math.hypot(x1 - x0, y1 - y0) < 9
            waypoints = (
                []
                if near
                else [[x0, 25.0], [x1, 25.0]]
                if (y0 - 25) * (y1 - 25) < 0
                else [[x0, y0 + (2.0 if y0 < 25 else -4.0)], [x1, y0 + (2.0 if y0 < 25 else -4.0)]]
            )
            transports.append(
                {
                    "id": f"T-{len(transports) + 1:03d}",
                    "kind": "conveyor" if near else "forklift",
                    "from_machine": a,
                    "to_machine": b,
                    "waypoints": waypoints,
                    "speed_m_s": 0.3 if near else 1.5,
                }
            )

    walls = [
        {"id": "W-N", "points": [[0, 50], [80, 50]]},
        {"id": "W-S", "points": [[0, 0], [80, 0]]},
        {"id": "W-W", "points": [[0, 0], [0, 50]]},
        {"id": "W-E", "points": [[80, 0], [80, 50]]},
        {"id": "W-ELEC", "points": [[2, 22], [2, 28]], "thickness_m": 0.2, "height_m": 3.0},
    ]
    aisles = [
        {"id": "A-MAIN", "points": [[1, 25], [79, 25]], "width_m": 4.0, "kind": "forklift"},
        {"id": "A-WEST", "points": [[15, 1], [15, 49]], "width_m": 3.0, "kind": "forklift"},
        {"id": "A-EAST", "points": [[69.5, 22], [69.5, 49]], "width_m": 2.5, "kind": "walkway"},
        {"id": "A-SOUTH", "points": [[15, 5], [62, 5]], "width_m": 2.0, "kind": "walkway"},
    ]
    zones = [
        {"id": "Z-ELEC", "name": "Electrical room", "polygon": [[0.5, 20], [6, 20], [6, 30], [0.5, 30]], "kind": "keepout"},
        {
            "id": "Z-EXIT-N",
            "name": "Emergency exit north",
            "polygon": [[38, 47.5], [42, 47.5], [42, 50], [38, 50]],
            "kind": "exit",
        },
        {
            "id": "Z-EXIT-E",
            "name": "Emergency exit east",
            "polygon": [[77.5, 23], [80, 23], [80, 27], [77.5, 27]],
            "kind": "exit",
        },
    ]
    assets = {key: {"path": f"builtin:meshes/{name}"} for key, (_b, name) in ASSETS.items()}
    return {
        "format": "floortwin-factory",
        "version": 1,
        "name": "Demo plant",
        "description": "A small discrete-manufacturing plant: machining, pressing, welding, assembly and inspection.",
        "floor": {"width_m": 80.0, "depth_m": 50.0, "grid_m": 1.0, "walls": walls, "aisles": aisles, "zones": zones},
        "assets": assets,
        "machines": machines,
        "transports": transports,
        "flows": [{"part": p, "routing": r, "interarrival": {"kind": "exponential", "mean_s": float(ia)}} for p, r, ia in flows],
        "simulation": {"horizon_s": 604800.0, "warmup_s": 28800.0, "replications": 10, "seed": 1},
    }


def main() -> None:
    extents = write_meshes()
    FACTORIES.mkdir(parents=True, exist_ok=True)
    from app.model.io import dumps_factory, loads_factory

    factory = loads_factory(json.dumps(demo_factory(extents)), "demo.json")  # validate before writing
    (FACTORIES / "demo.json").write_text(dumps_factory(factory), encoding="utf-8")
    print(f"demo.json: {len(factory.machines)} machines, {len(factory.transports)} transports, {len(factory.flows)} flows")


if __name__ == "__main__":
    main()
