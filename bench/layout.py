#!/usr/bin/env python3
"""Layout checking: collision-world build time and the cost of one drag step, against a bare pybullet query
and a naive all-pairs check measured in the same run.

For generated plants of 200, 2,000 and 20,000 machines (``bench/genfactory.py``, the bundled meshes):

- **build**: the pybullet world of the whole layout (hull shapes shared per asset and scale, walls,
  aisles, zones), from meshes already loaded;
- **drag step (app)**: ``LayoutWorld.set_pose`` + ``check`` — move one machine and get its full verdict
  (collisions and clearances against everything near it);
- **bare**: the limit — ``resetBasePositionAndOrientation`` and one ``getClosestPoints`` against the one
  neighbour the machine is known to be near;
- **naive**: the peer — the same move, then ``getClosestPoints`` against every other body.

Target (layout-editing issue): a drag step at 2,000 machines within 2× the bare query and under 5 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._harness import emit, ratio  # noqa: E402


def measure(n: int, steps: int) -> dict:
    import pybullet as pb

    from app.assets import AssetLibrary, load_factory_assets
    from app.model.factory import Pose
    from app.physics.world import LayoutWorld, hulls_of
    from bench.genfactory import generate

    factory = generate(n, seed=11)
    assets = load_factory_assets(factory, None, AssetLibrary())
    hulls = hulls_of(assets)
    t0 = time.perf_counter()
    world = LayoutWorld(factory, hulls)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    LayoutWorld(factory, hulls).close()  # again: Python and pybullet warmed up
    rebuild_s = time.perf_counter() - t0

    rng = np.random.default_rng(1)
    ids = [m.id for m in factory.machines]
    by_id = {m.id: m for m in factory.machines}
    picks = [ids[i] for i in rng.integers(0, len(ids), steps)]
    offsets = rng.uniform(-0.5, 0.5, (steps, 2))

    def pose(mid: str, k: int) -> Pose:
        p = by_id[mid].pose
        return Pose(x_m=p.x_m + offsets[k, 0], y_m=p.y_m + offsets[k, 1], yaw_deg=p.yaw_deg)

    # Each approach runs the same sequence of moves as one timed batch (per-step timers would cost as
    # much as the microsecond steps they time), repeated; the median batch counts.
    client = world.client
    bodies = list(world._party)
    moves = [(mid, pose(mid, k)) for k, mid in enumerate(picks)]
    body_of = world._body_of
    neighbour = {mid: body_of[ids[(ids.index(mid) + 1) % len(ids)]] for mid in set(picks)}
    quats = [(0.0, 0.0, np.sin(np.radians(p.yaw_deg) / 2), np.cos(np.radians(p.yaw_deg) / 2)) for _mid, p in moves]

    def app_batch() -> None:
        for mid, p in moves:
            world.set_pose(mid, p)
            world.check(mid)

    def bare_batch() -> None:
        for (mid, p), q in zip(moves, quats, strict=True):
            body = body_of[mid]
            pb.resetBasePositionAndOrientation(body, (p.x_m, p.y_m, 0.0), q, physicsClientId=client)
            pb.getClosestPoints(body, neighbour[mid], 0.5, physicsClientId=client)

    naive_moves = moves[: max(10, steps // (1 + n // 200))]  # the naive check is O(n): fewer moves for big plants

    def naive_batch() -> None:
        for (mid, p), q in zip(naive_moves, quats, strict=False):
            body = body_of[mid]
            pb.resetBasePositionAndOrientation(body, (p.x_m, p.y_m, 0.0), q, physicsClientId=client)
            for other in bodies:
                if other != body:
                    pb.getClosestPoints(body, other, 0.5, physicsClientId=client)

    def per_step(batch, count: int, repeats: int = 7) -> list[float]:
        out = []
        for _ in range(repeats):
            t = time.perf_counter()
            batch()
            out.append((time.perf_counter() - t) / count)
        return out

    app = per_step(app_batch, len(moves))
    bare = per_step(bare_batch, len(moves))
    naive = per_step(naive_batch, len(naive_moves), repeats=3)
    for mid in set(picks):
        world.set_pose(mid, by_id[mid].pose)
    # The slowest single step (a drag must never stutter): timed one by one.
    singles = []
    for mid, p in moves:
        t = time.perf_counter()
        world.set_pose(mid, p)
        world.check(mid)
        singles.append(time.perf_counter() - t)
        world.set_pose(mid, by_id[mid].pose)
    verdicts = world.check_all()
    world.close()
    ms = lambda xs: round(statistics.median(xs) * 1000, 4)  # noqa: E731
    return {
        "machines": n,
        "build_s": round(build_s, 3),
        "rebuild_s": round(rebuild_s, 3),
        "drag_ms": ms(app),
        "drag_ms_p99": round(float(np.percentile(singles, 99)) * 1000, 4),
        "bare_ms": ms(bare),
        "naive_ms": ms(naive),
        "problems_in_generated_layout": len(verdicts),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer drag steps")
    args = p.parse_args()
    steps = 200 if args.quick else 1000
    rows = [measure(n, steps) for n in (200, 2_000, 20_000)]
    head = ("machines", "build s", "rebuild s", "drag ms", "p99", "bare ms", "naive ms", "drag÷bare")
    print(" ".join(f"{h:>9}" for h in head))
    figures: dict = {}
    for r in rows:
        r["drag_vs_bare"] = ratio(r["drag_ms"], r["bare_ms"])
        r["naive_vs_drag"] = ratio(r["naive_ms"], r["drag_ms"])
        print(
            f"{r['machines']:>9,} {r['build_s']:>9} {r['rebuild_s']:>9} {r['drag_ms']:>9} {r['drag_ms_p99']:>9} "
            f"{r['bare_ms']:>9} {r['naive_ms']:>9} {r['drag_vs_bare']:>9}"
        )
        figures[f"machines_{r['machines']}"] = r
    at2k = figures["machines_2000"]
    figures["target_drag_within_2x_bare_at_2000"] = bool(at2k["drag_vs_bare"] is not None and at2k["drag_vs_bare"] <= 2.0)
    figures["target_drag_under_5ms_at_2000"] = bool(at2k["drag_ms"] < 5.0)
    emit("layout", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
