#!/usr/bin/env python3
"""What-if benchmark: a sweep of 20 scenarios of the demo plant, one simulated week each.

- **one process**: the sweep's replications one after another in this process (the baseline);
- **local pool**: the same sweep through floortwin's job queue (worker processes, as the GUI runs it);
- **Dask**: the same sweep on a Dask ``LocalCluster`` with as many single-threaded worker processes;
- **GUI**: in the real main window, the time from clicking *Run* to the first progress report, and the
  GUI thread's responsiveness while the whole sweep runs from the What-if dock: the longest gap between
  ticks of a 10 ms timer, and the time of 3D frames drawn meanwhile.

Targets (what-if issue): pool ≥ 1.7× faster than one process on 2 cores; Dask overhead ≤ 15% over the
pool; first progress < 0.5 s; GUI frame time < 100 ms during a sweep. Ends with one JSON line.

Usage: ``python bench/whatif.py [--scenarios 20] [--replications 3]`` (needs an X server for the GUI part:
``make bench`` runs it under xvfb-run).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._harness import emit, ratio  # noqa: E402

WEEK_S = 7 * 86400.0


def scenarios(n: int, replications: int):
    """``n`` scenarios of the demo: faster or slower machines, more or less demand, a moved machine."""
    from app.model.io import load_factory
    from app.paths import DEMO_FACTORY
    from app.sim.scenario import Demand, MachineParam, MoveMachine, Scenario

    f = load_factory(DEMO_FACTORY)
    machines = [m for m in f.machines if m.kind in ("cnc", "press", "robot_cell", "assembly")]
    out = []
    for k in range(n):
        m = machines[k % len(machines)]
        if k % 3 == 0:
            change = MachineParam(machine=m.id, param="cycle_mean_s", value=round(m.sim.cycle.mean_s * (0.7 + 0.05 * k), 3))
        elif k % 3 == 1:
            fl = f.flows[k % len(f.flows)]
            change = Demand(part=fl.part, interarrival_mean_s=round(fl.interarrival.mean_s * (0.8 + 0.03 * k), 3))
        else:
            change = MoveMachine(machine=m.id, x_m=m.pose.x_m, y_m=m.pose.y_m, yaw_deg=180.0)
        out.append(Scenario(name=f"S{k + 1:02d}", factory=f, changes=[change], horizon_s=WEEK_S, replications=replications))
    return out


def models(scs):
    from app.sim.model import compile_model
    from app.sim.scenario import apply

    return [compile_model(apply(s), horizon_s=s.horizon_s, replications=s.replications) for s in scs]


def sweep_one_process(ms) -> float:
    from app.sim.engine import simulate

    t = time.perf_counter()
    for m in ms:
        for k in range(m.replications):
            simulate(m, k)
    return time.perf_counter() - t


def sweep_queue(ms, folder: Path, dask_address: str | None = None) -> float:
    """Seconds for the sweep through one job queue, warmed alike for both backends: a first small sweep on
    the same queue starts its worker processes and imports the engine there, and is not counted."""
    from app.sim.jobs import JobQueue

    q = JobQueue(dask_address=dask_address)
    tag = "dask" if dask_address else "pool"

    def sweep(batch, prefix: str) -> float:
        t = time.perf_counter()
        jobs = [q.submit(f"S{k}", [("scenario", m)], folder / f"{prefix}-{k}.sqlite") for k, m in enumerate(batch)]
        assert q.wait(1800)
        wall = time.perf_counter() - t
        bad = [j for j in jobs if j.status != "done"]
        assert not bad, [(j.name, j.status, j.message) for j in bad]
        return wall

    try:
        sweep(ms[:2], f"{tag}-warm-up")
        return sweep(ms, tag)
    finally:
        q.shutdown()


def gui_figures(scs, folder: Path) -> dict:
    from PySide6 import QtCore, QtWidgets
    from PySide6.QtTest import QTest

    from app.ui.main_window import MainWindow
    from app.ui.settings import Settings

    qapp = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    w = MainWindow(Settings(QtCore.QSettings(str(folder / "settings.ini"), QtCore.QSettings.Format.IniFormat)))
    w.resize(1600, 1000)
    w.show()
    w.files.open_demo()
    dock = w.whatif_dock
    dock.window_min.setValue(0)
    dock.show()
    dock.raise_()
    for _ in range(20):
        qapp.processEvents()
        time.sleep(0.01)

    def pump(until, limit_s: float) -> None:
        end = time.monotonic() + limit_s
        while not until() and time.monotonic() < end:
            qapp.processEvents()
            time.sleep(0.002)

    # First progress after clicking Run: timed from the click (cold: the worker process server starts too).
    firsts = []
    for k in range(3):
        e = dock.service.new_scenario("current", name=f"click {k}")
        dock.service.update_scenario(e, scs[k].model_copy(update={"factory": w.document.factory}))
        dock.select(e)
        t = time.monotonic()
        QTest.mouseClick(dock.run_button, QtCore.Qt.MouseButton.LeftButton)
        job = e.job
        pump(lambda job=job: job is not None and job.first_progress is not None, 30)
        firsts.append(job.first_progress - t)
        pump(lambda job=job: job.done, 120)

    # Responsiveness while the whole sweep runs from the dock.
    entries = []
    for s in scs:
        e = dock.service.new_scenario("current", name=s.name)
        dock.service.update_scenario(e, s.model_copy(update={"factory": w.document.factory}))
        entries.append(e)
    ticks, frames = [], []
    timer = QtCore.QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    render = w.view.plotter.render_window.Render
    idle_frames = []
    for _ in range(10):
        t = time.perf_counter()
        render()
        idle_frames.append(time.perf_counter() - t)
    t_sweep = time.perf_counter()
    for e in entries:
        dock.service.run(e)
    timer.start()
    last_frame = 0.0
    while any(e.job is None or not e.job.done for e in entries) and time.perf_counter() - t_sweep < 1800:
        qapp.processEvents()
        if time.perf_counter() - last_frame > 0.1:  # a frame every 100 ms, as orbiting or live data would
            t = time.perf_counter()
            render()
            frames.append(time.perf_counter() - t)
            last_frame = time.perf_counter()
        time.sleep(0.002)
    sweep_s = time.perf_counter() - t_sweep
    timer.stop()
    gaps = np.diff(ticks) if len(ticks) > 1 else np.zeros(1)
    failed = [e.job.message for e in entries if e.job.status != "done"]
    for e in list(dock.service.entries):
        dock.select(e)
        dock.delete_selected(confirm=False)
    w.close()
    qapp.processEvents()
    assert not failed, failed
    return {
        "first_progress_s": [round(x, 3) for x in firsts],
        "first_progress_cold_s": round(firsts[0], 3),
        "first_progress_warm_s": round(statistics.median(firsts[1:]), 3),
        "gui_sweep_s": round(sweep_s, 2),
        "gui_loop_gap_max_ms": round(float(gaps.max()) * 1000, 1),
        "gui_loop_gap_p99_ms": round(float(np.percentile(gaps, 99)) * 1000, 1),
        "frame_ms_during_sweep_p99": round(float(np.percentile(frames, 99)) * 1000, 1) if frames else None,
        "frame_ms_during_sweep_max": round(float(max(frames)) * 1000, 1) if frames else None,
        "frame_ms_idle_median": round(statistics.median(idle_frames) * 1000, 1),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenarios", type=int, default=20)
    p.add_argument("--replications", type=int, default=3)
    p.add_argument("--no-gui", action="store_true")
    args = p.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="floortwin-whatif-"))
    os.environ.setdefault("XDG_DATA_HOME", str(folder / "data"))  # the GUI part's scenario files stay here
    scs = scenarios(args.scenarios, args.replications)
    ms = models(scs)
    n_reps = sum(m.replications for m in ms)
    print(
        f"{len(ms)} scenarios × {args.replications} replications × 1 simulated week = {n_reps} replications; "
        f"{os.cpu_count()} cores"
    )
    one = sweep_one_process(ms)
    print(f"one process          {one:7.2f} s")
    pool = sweep_queue(ms, folder)
    print(f"local pool           {pool:7.2f} s   speed-up {one / pool:.2f}× (target ≥ 1.7)")
    import distributed

    cores = os.cpu_count() or 2
    with distributed.LocalCluster(
        n_workers=cores, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        dask = sweep_queue(ms, folder, cluster.scheduler_address)
    print(f"Dask LocalCluster    {dask:7.2f} s   overhead {dask / pool - 1:+.1%} over the pool (target ≤ 15%)")
    figures = {
        "scenarios": len(ms),
        "replications": n_reps,
        "horizon_days": 7,
        "cores": cores,
        "one_process_s": round(one, 3),
        "pool_s": round(pool, 3),
        "dask_s": round(dask, 3),
        "pool_speedup": ratio(one, pool),
        "dask_vs_pool": ratio(dask, pool),
    }
    if not args.no_gui:
        g = gui_figures(scs, folder)
        print(
            f"click → first progress: cold {g['first_progress_cold_s']:.3f} s, "
            f"warm {g['first_progress_warm_s']:.3f} s (target < 0.5)"
        )
        print(
            f"during a GUI sweep ({g['gui_sweep_s']:.1f} s): event-loop gap max {g['gui_loop_gap_max_ms']:.0f} ms "
            f"(p99 {g['gui_loop_gap_p99_ms']:.0f}), 3D frame p99 {g['frame_ms_during_sweep_p99']} ms, "
            f"max {g['frame_ms_during_sweep_max']} ms, idle {g['frame_ms_idle_median']} ms (target < 100)"
        )
        figures.update(g)
    targets = {
        "pool_1.7x_faster_than_one_process": (figures["pool_speedup"] or 0) >= 1.7,
        "dask_overhead_at_most_15pct": figures["dask_vs_pool"] is not None and figures["dask_vs_pool"] <= 1.15,
    }
    if not args.no_gui:
        targets["first_progress_under_0.5s"] = figures["first_progress_warm_s"] < 0.5
        targets["frame_under_100ms_during_sweep"] = figures["frame_ms_during_sweep_max"] < 100
    figures["targets"] = targets
    print("targets:", targets)
    emit("whatif", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
