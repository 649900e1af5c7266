#!/usr/bin/env python3
"""Heat map benchmark: one live update of every heat layer for a 2,000-machine plant on a 200 m × 100 m floor.

The plant is ``bench/genfactory.py``'s 2,000 machines, with positions and footprints scaled to fit a
200 m × 100 m floor; the WIP grid has 0.25 m cells (800 × 400 = 320,000 cells). It runs in the real main
window (1600 × 1000 under Xvfb): a state store with every machine's Level, PartCount and Temperature is
handed to the live link (no network), and each update gives every machine new values.

- **update** (the app): ``HeatMaps.update_now`` (``app.heat.layers.MaterialHeat`` computes, the adapter draws)
  with WIP on the floor, flow on the paths and machines coloured by temperature (the WIP grid, its "no
  data" mask and colours written into the floor texture; flow rates, ribbon widths and colours; machine
  colours; colour bars), then the render that shows it — which uploads the new texture and arrays.
- **limit**: the raw numpy kernel (the sparse product that spreads the WIP) plus one render of the same
  scene unchanged.

Figures: kernel, compute (everything in the update before the render), render after an update, render of
an unchanged scene, upload (their difference), compute+upload and the whole update; the ratio of the
update to the limit (target ≤ 1.5) and compute+upload in ms (target < 20). Ends with one JSON line.

Usage: ``python bench/heatmap.py [--updates 40]`` (needs an X server: ``make bench`` runs it under xvfb-run).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._harness import emit, ratio  # noqa: E402

N_MACHINES = 2_000
FLOOR_M = (200.0, 100.0)


def plant():
    """genfactory's plant of N_MACHINES, scaled onto a 200 m × 100 m floor (footprints too, so nothing overlaps)."""
    from bench.genfactory import generate

    f = generate(N_MACHINES)
    sx, sy = FLOOR_M[0] / f.floor.width_m, FLOOR_M[1] / f.floor.depth_m
    s = min(sx, sy)

    def pt(p):
        return [p[0] * sx, p[1] * sy]

    machines = [
        m.model_copy(
            update={
                "pose": m.pose.model_copy(update={"x_m": m.pose.x_m * sx, "y_m": m.pose.y_m * sy}),
                "footprint": m.footprint.model_copy(
                    update={"width_m": m.footprint.width_m * s, "depth_m": m.footprint.depth_m * s}
                ),
            }
        )
        for m in f.machines
    ]
    floor = f.floor.model_copy(
        update={
            "width_m": FLOOR_M[0],
            "depth_m": FLOOR_M[1],
            "walls": [w.model_copy(update={"points": [pt(p) for p in w.points]}) for w in f.floor.walls],
            "aisles": [
                a.model_copy(update={"points": [pt(p) for p in a.points], "width_m": a.width_m * sy}) for a in f.floor.aisles
            ],
        }
    )
    return f.model_copy(update={"machines": machines, "floor": floor})


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--updates", type=int, default=40, help="live updates to time")
    args = p.parse_args()

    from PySide6 import QtCore, QtWidgets

    from app.live.machine_colours import HeatLayer
    from app.model.signals import LIVE_SIGNALS as SIGNALS
    from app.state.store import StateStore
    from app.ui.main_window import MainWindow
    from app.ui.settings import Settings

    qapp = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    tmp = Path(tempfile.mkdtemp(prefix="floortwin-bench-"))
    window = MainWindow(settings=Settings(QtCore.QSettings(str(tmp / "settings.ini"), QtCore.QSettings.Format.IniFormat)))
    window.resize(1600, 1000)
    window.show()
    deadline = time.monotonic() + 20
    while not (window.windowHandle() and window.windowHandle().isExposed()) and time.monotonic() < deadline:
        qapp.processEvents()
        time.sleep(0.01)
    factory = plant()
    window.files.open_loaded(factory, None)
    qapp.processEvents()
    view, link, maps = window.view, window.live, window.heat_maps
    n = len(factory.machines)

    # A store as the live link fills it, without a network: every machine's Level, PartCount, Temperature.
    store = StateStore([m.id for m in factory.machines], SIGNALS)
    for m in factory.machines:
        for s in ("Level", "PartCount", "Temperature"):
            store.bind(m.id, s, f"ns=2;s={m.id}/{s}")
    cols = {s: store.signal_index[s] for s in ("Level", "PartCount", "Temperature")}
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 1000, n).astype(float)

    def new_values() -> None:
        now = time.time()
        store.values[:, cols["Level"]] = rng.integers(0, 12, n)
        store.values[:, cols["Temperature"]] = rng.normal(40, 8, n)
        counts[:] += rng.integers(0, 3, n)
        store.values[:, cols["PartCount"]] = counts
        for j in cols.values():
            store.status[:, j] = 0
            store.received_ts[:, j] = now
        link.meter.add(now, counts)

    link.session.store = store  # the session's state, as a connection fills it
    link.session.factory = factory
    new_values()
    t0 = time.perf_counter()
    link.set_colour_by(HeatLayer("Temperature"))
    window.heat_dock.wip.setChecked(True)  # builds the WIP kernel and the flow ribbons, and shows them
    window.heat_dock.flow.setChecked(True)
    build_s = time.perf_counter() - t0
    spreader = maps.material.spreader
    view.camera_preset("iso")
    for _ in range(3):
        view.plotter.render_window.Render()
        qapp.processEvents()

    # Frames are timed as the render window draws them (QWidget.repaint outside Qt's loop may not paint).
    render = view.plotter.render_window.Render
    kernel, compute, render_after, render_still = [], [], [], []
    amounts = store.column("Level").copy()
    for _ in range(args.updates):
        t = time.perf_counter()
        spreader.weights @ amounts
        kernel.append(time.perf_counter() - t)
        t = time.perf_counter()
        render()
        render_still.append(time.perf_counter() - t)
        new_values()
        amounts = store.column("Level").copy()
        t = time.perf_counter()
        link.recolour()
        maps.update_now()
        compute.append(time.perf_counter() - t)
        t = time.perf_counter()
        render()
        render_after.append(time.perf_counter() - t)
        qapp.processEvents()
    assert abs(maps.material.parts.sum() - amounts.sum()) < 1e-6 * amounts.sum()  # the grid holds the WIP given

    # A dragged machine: its kernel moved in place (what the app does) against the whole kernel rebuilt
    # (what it did before), the same moved layout both ways.
    from app.heat.layers import CELL_M, RADIUS_M
    from app.heat.material import holding_points, wip_spreader
    from app.model.edits import with_poses

    first = factory.machines[0]
    moved_factory = with_poses(factory, {first.id: first.pose.model_copy(update={"x_m": first.pose.x_m + 0.5})})
    points, _owners = holding_points(moved_factory)
    t = time.perf_counter()
    moved_points = spreader.move_points(points)
    move_s = time.perf_counter() - t
    t = time.perf_counter()
    rebuilt = wip_spreader(moved_factory, CELL_M, RADIUS_M)
    rebuild_s = time.perf_counter() - t
    assert np.allclose(rebuilt.grid(amounts), spreader.grid(amounts))  # the same grid either way

    out_png = ROOT / "bench" / "out" / "heatmap.png"
    out_png.parent.mkdir(parents=True, exist_ok=True)
    window.save_screenshot(out_png)
    window.close()
    qapp.processEvents()

    ms = lambda xs: round(statistics.median(xs) * 1000, 3)  # noqa: E731
    kernel_ms, compute_ms, after_ms, still_ms = ms(kernel), ms(compute), ms(render_after), ms(render_still)
    upload_ms = round(max(0.0, after_ms - still_ms), 3)
    update_ms = round(compute_ms + after_ms, 3)
    limit_ms = round(kernel_ms + still_ms, 3)
    figures = {
        "machines": n,
        "floor_m": list(FLOOR_M),
        "cells": spreader.nx * spreader.ny,
        "transport_paths": len(factory.transports),
        "kernel_nonzeros": int(spreader.weights.nnz),
        "build_s": round(build_s, 3),
        "kernel_ms": kernel_ms,
        "compute_ms": compute_ms,
        "render_after_update_ms": after_ms,
        "render_unchanged_ms": still_ms,
        "upload_ms": upload_ms,
        "compute_and_upload_ms": round(compute_ms + upload_ms, 3),
        "update_ms": update_ms,
        "limit_ms": limit_ms,
        "update_vs_limit": ratio(update_ms, limit_ms),
        "compute_vs_kernel": ratio(compute_ms, kernel_ms),
        "updates": args.updates,
        "kernel_move_one_ms": round(move_s * 1000, 2),
        "kernel_rebuild_ms": round(rebuild_s * 1000, 1),
        "kernel_move_points": moved_points,
        "rebuild_vs_move": ratio(rebuild_s, move_s),
    }
    print(f"{n} machines, {FLOOR_M[0]:.0f} m × {FLOOR_M[1]:.0f} m floor, {figures['cells']:,} cells of 0.25 m")
    print(f"kernel (sparse product)      {kernel_ms:8.2f} ms")
    print(f"compute (all layers)         {compute_ms:8.2f} ms")
    print(f"render after an update       {after_ms:8.2f} ms")
    print(f"render, unchanged scene      {still_ms:8.2f} ms   (upload ≈ {upload_ms:.2f} ms)")
    print(f"compute + upload             {figures['compute_and_upload_ms']:8.2f} ms   (target < 20)")
    print(f"update / limit               {figures['update_vs_limit']:8.3f}      (target ≤ 1.5)")
    print(
        f"WIP kernel after one move    {figures['kernel_move_one_ms']:8.2f} ms   "
        f"(rebuilding it: {figures['kernel_rebuild_ms']:.0f} ms, {figures['rebuild_vs_move']}×)"
    )
    figures["targets"] = {
        "compute_and_upload_under_20ms": figures["compute_and_upload_ms"] < 20,
        "update_within_1.5x_limit": figures["update_vs_limit"] is not None and figures["update_vs_limit"] <= 1.5,
    }
    emit("heatmap", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
