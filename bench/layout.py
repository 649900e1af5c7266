#!/usr/bin/env python3
"""Layout checking: collision-world build time and the cost of one drag step, against a bare pybullet query
and a naive all-pairs check measured in the same run.

For generated plants of 200, 2,000 and 20,000 machines (``bench/genfactory.py``, the bundled meshes):

- **build**: the pybullet world of the whole layout (hull shapes shared per asset and scale, walls,
  aisles, zones), from meshes already loaded;
- **drag step (app)**: ``LayoutWorld.set_pose`` + ``check`` — move one machine and get its full verdict
  (collisions and clearances against everything near it);
- **bare**: the limit for the same work — ``resetBasePositionAndOrientation``, one ``getOverlappingObjects``
  on the same search box, and one ``getClosestPoints`` per body found there (no verdicts, no Python
  objects);
- **naive**: the peer — the same move, then ``getClosestPoints`` against every other body.

Each runs random moves on two layouts of the same machines: **spread**, the generated plant (machines 8 m
apart, so the search box mostly finds nothing), and **crowded**, each line packed side by side 0.3 m apart
(inside the 0.5 m clearance, so every step measures distances to its neighbours).

Target (layout-editing issue): a drag step at 2,000 machines within 2× the bare query and under 5 ms, for
the crowded moves.
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


def packed(factory):
    """The same plant with each line's machines packed side by side, 0.3 m apart (less than their 0.5 m
    clearance): a crowded cell where every drag step has neighbours to measure."""
    from app.model.factory import Pose

    machines, x_end = [], {}
    for m in factory.machines:
        along_x = m.footprint.width_m if m.pose.yaw_deg % 180 == 0 else m.footprint.depth_m
        start = x_end.get(m.line, m.pose.x_m - along_x / 2)
        x_end[m.line] = start + along_x + 0.3
        pose = Pose(x_m=start + along_x / 2, y_m=m.pose.y_m, yaw_deg=m.pose.yaw_deg)
        machines.append(m.model_copy(update={"pose": pose}))
    return factory.model_copy(update={"machines": machines})


def measure(n: int, steps: int) -> dict:
    import pybullet as pb

    from app.assets import AssetLibrary, load_factory_assets
    from app.model.factory import Pose
    from app.physics.world import TOUCH_TOLERANCE_M, LayoutWorld, hulls_of
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

    def run_case(world, factory) -> dict:
        ids = [m.id for m in factory.machines]
        by_id = {m.id: m for m in factory.machines}
        picks = [ids[i] for i in rng.integers(0, len(ids), steps)]
        client = world.client
        bodies = list(world._party)
        body_of = world._body_of
        offsets = rng.uniform(-0.5, 0.5, (len(picks), 2))
        moves = [
            (mid, Pose(x_m=by_id[mid].pose.x_m + dx, y_m=by_id[mid].pose.y_m + dy, yaw_deg=by_id[mid].pose.yaw_deg))
            for mid, (dx, dy) in zip(picks, offsets, strict=True)
        ]
        quats = [(0.0, 0.0, np.sin(np.radians(p.yaw_deg) / 2), np.cos(np.radians(p.yaw_deg) / 2)) for _mid, p in moves]
        # The same search box as the world's check: the machine's radius grown by the largest clearance.
        reach = {
            mid: world._radius[mid] + max(by_id[mid].clearance_m, world._max_clearance) + TOUCH_TOLERANCE_M for mid in set(picks)
        }
        found: list[int] = []

        def app_batch() -> None:
            for mid, p in moves:
                world.set_pose(mid, p)
                world.check(mid)

        def bare_batch() -> None:
            found.clear()
            for (mid, p), q in zip(moves, quats, strict=True):
                body, r = body_of[mid], reach[mid]
                pb.resetBasePositionAndOrientation(body, (p.x_m, p.y_m, 0.0), q, physicsClientId=client)
                near = pb.getOverlappingObjects((p.x_m - r, p.y_m - r, -1.0), (p.x_m + r, p.y_m + r, 5.0), physicsClientId=client)
                found.append(len(near or ()))
                for other, _link in near or ():
                    if other != body:
                        pb.getClosestPoints(body, other, 1.0, physicsClientId=client)

        naive_moves = moves[: max(10, len(moves) // (1 + n // 200))]  # the naive check is O(n): fewer moves for big plants

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

        def restore() -> None:
            for mid in set(picks):
                world.set_pose(mid, by_id[mid].pose)

        app = per_step(app_batch, len(moves))
        restore()
        bare = per_step(bare_batch, len(moves))
        restore()
        naive = per_step(naive_batch, len(naive_moves), repeats=3)
        restore()
        # The slowest single step (a drag must never stutter): timed one by one.
        singles = []
        for mid, p in moves:
            t = time.perf_counter()
            world.set_pose(mid, p)
            world.check(mid)
            singles.append(time.perf_counter() - t)
            world.set_pose(mid, by_id[mid].pose)
        ms = lambda xs: round(statistics.median(xs) * 1000, 4)  # noqa: E731
        out = {
            "drag_ms": ms(app),
            "drag_ms_p99": round(float(np.percentile(singles, 99)) * 1000, 4),
            "bare_ms": ms(bare),
            "naive_ms": ms(naive),
            "bodies_in_search_box_mean": round(float(np.mean(found)) - 1, 2) if found else 0.0,
        }
        out["drag_vs_bare"] = ratio(out["drag_ms"], out["bare_ms"])
        out["naive_vs_drag"] = ratio(out["naive_ms"], out["drag_ms"])
        return out

    spread_case = run_case(world, factory)
    spread_case["problems_in_layout"] = len(world.check_all())
    world.close()
    crowded_factory = packed(factory)
    world = LayoutWorld(crowded_factory, hulls)
    crowded_case = run_case(world, crowded_factory)
    crowded_case["problems_in_layout"] = len(world.check_all())
    world.close()
    return {
        "machines": n,
        "build_s": round(build_s, 3),
        "rebuild_s": round(rebuild_s, 3),
        "spread": spread_case,
        "crowded": crowded_case,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer drag steps")
    args = p.parse_args()
    steps = 200 if args.quick else 1000
    rows = [measure(n, steps) for n in (200, 2_000, 20_000)]
    head = ("machines", "moves", "build s", "drag ms", "p99", "bare ms", "naive ms", "drag÷bare", "bodies near")
    print(" ".join(f"{h:>11}" for h in head))
    figures: dict = {}
    for r in rows:
        for case in ("spread", "crowded"):
            c = r[case]
            print(
                f"{r['machines']:>11,} {case:>11} {r['build_s']:>11} {c['drag_ms']:>11} {c['drag_ms_p99']:>11} "
                f"{c['bare_ms']:>11} {c['naive_ms']:>11} {c['drag_vs_bare']!s:>11} {c['bodies_in_search_box_mean']:>11}"
            )
        figures[f"machines_{r['machines']}"] = r
    crowded = figures["machines_2000"]["crowded"]
    figures["targets"] = {
        "crowded_drag_within_2x_bare_at_2000": bool(crowded["drag_vs_bare"] is not None and crowded["drag_vs_bare"] <= 2.0),
        "crowded_drag_under_5ms_at_2000": bool(crowded["drag_ms"] < 5.0),
    }
    print("targets:", figures["targets"])
    emit("layout", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
