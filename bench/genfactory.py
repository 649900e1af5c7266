#!/usr/bin/env python3
"""Writes a valid factory of N machines with realistic kinds and spacing, for benchmarks and scale tests.

Usage: ``python bench/genfactory.py N [--out FILE] [--seed S]`` (default output: bench/out/factory_N.json).

Machines stand in production lines of 12 slots; every slot is 8 m × 8 m so nothing overlaps, and a
forklift aisle runs between every two lines. Each line is one part flow through its machines.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.model.factory import (  # noqa: E402
    Aisle,
    AssetRef,
    Distribution,
    Factory,
    Floor,
    Footprint,
    Machine,
    MachineSim,
    PartFlow,
    Pose,
    TransportPath,
    Wall,
)
from app.model.io import save_factory  # noqa: E402

# kind, asset file, footprint (m), share of machines, mean cycle (s)
KINDS = [
    ("cnc", "cnc.glb", (4.0, 2.8), 0.28, 240),
    ("press", "press.glb", (4.0, 2.4), 0.10, 50),
    ("robot_cell", "robot_cell.glb", (5.0, 5.0), 0.10, 150),
    ("assembly", "assembly.glb", (2.6, 1.28), 0.22, 200),
    ("conveyor", "conveyor.stl", (6.18, 1.13), 0.12, 30),
    ("buffer", "rack.obj", (3.98, 1.08), 0.13, 5),
    ("inspection", "inspection.ply", (3.07, 1.84), 0.05, 120),
]
SLOT_M = 8.0
LINE_LEN = 12
AISLE_M = 4.0


def generate(n: int, seed: int = 0) -> Factory:
    """A factory of ``n`` machines (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    shares = np.array([k[3] for k in KINDS])
    kinds = rng.choice(len(KINDS), size=n, p=shares / shares.sum())
    n_lines = math.ceil(n / LINE_LEN)
    lines_per_row = max(1, round(math.sqrt(n_lines / 4)))  # 96 m wide lines, 12 m deep rows: about 2:1
    n_rows = math.ceil(n_lines / lines_per_row)
    width = lines_per_row * LINE_LEN * SLOT_M + 2 * SLOT_M
    depth = n_rows * (SLOT_M + AISLE_M) + SLOT_M
    machines, flows, transports = [], [], []
    for i in range(n):
        line, slot = divmod(i, LINE_LEN)
        row, col = divmod(line, lines_per_row)
        kid, _asset, (fw, fd), _share, cycle = KINDS[kinds[i]]
        x = SLOT_M + col * LINE_LEN * SLOT_M + slot * SLOT_M + SLOT_M / 2
        y = SLOT_M / 2 + row * (SLOT_M + AISLE_M) + SLOT_M / 2
        yaw = 0.0 if fw <= SLOT_M - 1 else 90.0
        machines.append(
            Machine(
                id=f"M{i:05d}",
                name=f"{kid.replace('_', ' ').title()} {i}",
                kind=kid,
                asset=kid,
                line=f"Line {line + 1}",
                pose=Pose(x_m=x, y_m=y, yaw_deg=yaw + float(rng.choice([0.0, 180.0]))),
                footprint=Footprint(width_m=fw, depth_m=fd),
                sim=MachineSim(cycle=Distribution(kind="lognormal", mean_s=float(cycle), cv=0.1)),
            )
        )
    for line in range(n_lines):
        ids = [m.id for m in machines[line * LINE_LEN : (line + 1) * LINE_LEN]]
        flows.append(PartFlow(part=f"P{line + 1}", routing=ids, interarrival=Distribution(kind="exponential", mean_s=300.0)))
        for a, b in itertools.pairwise(ids):
            transports.append(
                TransportPath(id=f"T{len(transports):06d}", kind="conveyor", from_machine=a, to_machine=b, speed_m_s=0.5)
            )
    aisles = [
        Aisle(id=f"A{r}", points=[[1.0, y], [width - 1.0, y]], width_m=AISLE_M - 0.5)
        for r in range(n_rows)
        for y in [SLOT_M / 2 + r * (SLOT_M + AISLE_M) + SLOT_M + AISLE_M / 2]
        if y < depth - 1
    ]
    walls = [Wall(id="W", points=[[0.0, 0.0], [width, 0.0], [width, depth], [0.0, depth], [0.0, 0.0]])]
    assets = {k[0]: AssetRef(path=f"builtin:meshes/{k[1]}") for k in KINDS}
    return Factory(
        name=f"Generated plant of {n} machines",
        floor=Floor(width_m=width, depth_m=depth, walls=walls, aisles=aisles),
        assets=assets,
        machines=machines,
        transports=transports,
        flows=flows,
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", type=int, help="number of machines")
    p.add_argument("--out", type=Path, help="output file")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.n < 1:
        p.error("N must be at least 1")
    out = args.out or ROOT / "bench" / "out" / f"factory_{args.n}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    save_factory(generate(args.n, args.seed), out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
