#!/usr/bin/env python3
"""Simulation benchmark: floortwin's engine against SimPy, replication scaling, and the live plant server.

1. Engine vs SimPy: one simulated week of a serial line of 10 and of 50 machines (lognormal cycle times,
   finite buffers with blocking, a source at 90% of the bottleneck rate in working time, a shift calendar
   — two shifts with breaks on weekdays, one on Saturdays, work stopping and resuming where it was — and
   5% scrap at the machine a quarter down the line), 5 replications each, in
   floortwin's engine and in a reference SimPy model of the same line written here (the library a user
   would pick instead). Figures: wall time, machine operations per wall second (the same unit for
   both), each engine's own events per second, and throughput with 95% CIs — which must agree.
2. Replications across both cores: 20 replications of the 50-machine line, one process vs a pool.
3. The plant simulator serving about 10,000 variables that change every second: how long an update takes
   and how far updates fall behind their schedule (lag).

Ends with one JSON line. Usage: ``python bench/sim.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.model.factory import (  # noqa: E402
    AssetRef,
    Break,
    Calendar,
    Distribution,
    Factory,
    Floor,
    Footprint,
    Machine,
    MachineSim,
    PartFlow,
    Pose,
    Shift,
    SimulationSettings,
)
from app.sim.calendar import timetable  # noqa: E402
from app.sim.engine import simulate  # noqa: E402
from app.sim.kpis import estimate  # noqa: E402
from app.sim.model import compile_model  # noqa: E402
from app.sim.runner import run_replications  # noqa: E402
from bench._harness import emit, ratio  # noqa: E402

WEEK = 7 * 86400.0
BUFFER = 5
CV = 0.3
SCRAP = 0.05
#: Two shifts with a half-hour break each on weekdays, one on Saturdays; Sundays off.
CALENDAR = Calendar(
    shifts={
        "weekdays": [
            Shift(start="06:00", end="14:00", breaks=[Break(start="10:00", end="10:30")]),
            Shift(start="14:00", end="22:00", breaks=[Break(start="18:00", end="18:30")]),
        ],
        "saturday": [Shift(start="06:00", end="14:00", breaks=[Break(start="10:00", end="10:30")])],
    }
)


def scrap_station(n: int) -> int:
    """The machine that scraps SCRAP of its parts: a quarter down the line."""
    return n // 4


def cycle_times(n: int) -> list[float]:
    """Mean cycle times of an n-machine line: 50–70 s, the bottleneck at 75 s in the middle."""
    rng = np.random.default_rng(n)
    c = list(rng.uniform(50, 70, n))
    c[n // 2] = 75.0
    return c


def line_factory(n: int, replications: int) -> Factory:
    cyc = cycle_times(n)
    machines = [
        Machine(
            id=f"M{i:03d}",
            name=f"Machine {i}",
            kind="cnc",
            asset="a",
            pose=Pose(x_m=5.0 + 8 * i, y_m=5.0),
            footprint=Footprint(width_m=4, depth_m=3),
            sim=MachineSim(
                cycle=Distribution(kind="lognormal", mean_s=c, cv=CV),
                input_buffer=BUFFER,
                scrap=SCRAP if i == scrap_station(n) else 0.0,
            ),
        )
        for i, c in enumerate(cyc)
    ]
    return Factory(
        name=f"line of {n}",
        floor=Floor(width_m=8.0 * n + 10, depth_m=10.0),
        assets={"a": AssetRef(path="builtin:meshes/cnc.glb")},
        machines=machines,
        flows=[
            PartFlow(
                part="P", routing=[m.id for m in machines], interarrival=Distribution(kind="exponential", mean_s=max(cyc) / 0.9)
            )
        ],
        simulation=SimulationSettings(horizon_s=WEEK, warmup_s=86400.0, replications=replications, seed=11, calendar=CALENDAR),
    )


def simpy_line(n: int, seed: int) -> tuple[float, int, int, float]:
    """The same line in SimPy: (throughput per hour, operations finished, SimPy events, wall s), after warm-up.

    The calendar as floortwin has it: work progresses only in working time (a cycle started late in a
    shift ends in the next one, the off time added), and the source's times between orders run in working
    time. Its working intervals come from the same unrolled calendar (``app.sim.calendar``).
    """
    import simpy

    cyc = cycle_times(n)
    rng = np.random.default_rng(seed)
    sigma2 = math.log1p(CV * CV)
    mus = [math.log(c) - sigma2 / 2 for c in cyc]
    sigma = math.sqrt(sigma2)
    inter_mean = max(cyc) / 0.9
    after = timetable(CALENDAR, WEEK).after  # calendar time once this much working time has passed
    scrapper = scrap_station(n)
    env = simpy.Environment()
    # A machine holds its part while processing and while blocked; its input store holds BUFFER more:
    # the same capacity (1 + BUFFER) as floortwin's station.
    stores = [simpy.Store(env, capacity=BUFFER) for _ in range(n)]
    warmup = 86400.0
    done = [0]
    ops = [0]

    def source():
        while True:
            yield env.timeout(after(env.now, rng.exponential(inter_mean)) - env.now)
            yield stores[0].put(object())

    def machine(i: int):
        mu = mus[i]
        while True:
            part = yield stores[i].get()
            yield env.timeout(after(env.now, rng.lognormal(mu, sigma)) - env.now)
            if env.now >= warmup:
                ops[0] += 1
            if i == scrapper and rng.random() < SCRAP:
                continue  # scrapped: it leaves the line
            if i + 1 < n:
                yield stores[i + 1].put(part)
            elif env.now >= warmup:
                done[0] += 1

    env.process(source())
    for i in range(n):
        env.process(machine(i))
    t0 = time.perf_counter()
    events = 0
    while env.peek() <= WEEK:
        env.step()
        events += 1
    wall = time.perf_counter() - t0
    return done[0] / (WEEK - warmup) * 3600, ops[0], events, wall


def engine_vs_simpy(n: int, reps: int) -> dict:
    model = compile_model(line_factory(n, reps))
    ours = [simulate(model, k) for k in range(reps)]
    ours_tp = [r.total_throughput / r.measured_s * 3600 for r in ours]
    ours_wall = sum(r.wall_s for r in ours)
    ours_ops = sum(int(r.completed_ops.sum()) for r in ours)  # operations finished after the warm-up, as SimPy counts
    ours_events = sum(r.events for r in ours)
    theirs = [simpy_line(n, 1000 + k) for k in range(reps)]
    simpy_tp = [t[0] for t in theirs]
    simpy_wall = sum(t[3] for t in theirs)
    simpy_ops = sum(t[1] for t in theirs)
    simpy_events = sum(t[2] for t in theirs)
    a, b = estimate(ours_tp), estimate(simpy_tp)
    agree = abs(a.mean - b.mean) <= a.half_width + b.half_width
    return {
        "machines": n,
        "replications": reps,
        "floortwin_wall_s": round(ours_wall, 3),
        "simpy_wall_s": round(simpy_wall, 3),
        "floortwin_ops_per_s": round(ours_ops / ours_wall),
        "simpy_ops_per_s": round(simpy_ops / simpy_wall),
        "floortwin_events_per_s": round(ours_events / ours_wall),
        "simpy_events_per_s": round(simpy_events / simpy_wall),
        "speedup_vs_simpy": ratio(simpy_wall, ours_wall),
        "ops_per_s_ratio": ratio(ours_ops / ours_wall, simpy_ops / simpy_wall),
        "throughput_per_h": {
            "floortwin": [round(a.mean, 3), round(a.half_width, 3)],
            "simpy": [round(b.mean, 3), round(b.half_width, 3)],
        },
        "throughputs_agree_within_ci": bool(agree),
    }


def replication_scaling(reps: int) -> dict:
    model = compile_model(line_factory(50, reps))
    t0 = time.perf_counter()
    serial = run_replications(model, workers=1)
    t_serial = time.perf_counter() - t0
    t0 = time.perf_counter()
    pooled = run_replications(model, workers=2)
    t_pool = time.perf_counter() - t0
    assert [r.throughput for r in serial] == [r.throughput for r in pooled]
    return {
        "replications": reps,
        "one_process_s": round(t_serial, 2),
        "two_processes_s": round(t_pool, 2),
        "speedup": ratio(t_serial, t_pool),
    }


def plant_server(target_changing: int, seconds: float) -> dict:
    from app.plant.server import PlantServer, free_port
    from bench.genfactory import generate

    # Per machine, temperature and power change every second, and the load signal while it runs: about
    # 2.2 variables per machine change each second, out of about 10.4 served.
    n_machines = int(target_changing / 2.2) + 1
    factory = generate(n_machines, seed=5)

    async def scenario() -> dict:
        plant = PlantServer(factory, port=free_port(), speed=1.0, interval_s=1.0, seed=1)
        t0 = time.perf_counter()
        await plant.start()
        start_s = time.perf_counter() - t0
        durations, lags, written = [], [], []
        next_t = time.monotonic() + 1.0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            await asyncio.sleep(max(0.0, next_t - time.monotonic()))
            lags.append(max(0.0, time.monotonic() - next_t))
            t = time.perf_counter()
            written.append(await plant.update())
            durations.append(time.perf_counter() - t)
            next_t += 1.0
        await plant.stop()
        return {
            "variables": len(plant.vars),
            "machines": n_machines,
            "start_s": round(start_s, 2),
            "updates": len(durations),
            "update_ms_median": round(statistics.median(durations) * 1000, 1),
            "update_ms_max": round(max(durations) * 1000, 1),
            "changed_per_update_median": int(statistics.median(written)),
            "changed_per_update_min": int(min(written)),
            "lag_ms_max": round(max(lags) * 1000, 1),
            "keeps_up": max(durations) < 1.0,
        }

    return asyncio.run(scenario())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer replications and a shorter plant run")
    args = p.parse_args()
    reps = 2 if args.quick else 5
    lines = {}
    for n in (10, 50):
        r = engine_vs_simpy(n, reps)
        lines[str(n)] = r
        print(
            f"{n:>3}-machine line, 1 week × {reps}: floortwin {r['floortwin_wall_s']:.2f} s, SimPy {r['simpy_wall_s']:.2f} s → "
            f"{r['speedup_vs_simpy']}× faster; ops/s {r['floortwin_ops_per_s']:,} vs {r['simpy_ops_per_s']:,}; "
            f"throughput/h {r['throughput_per_h']['floortwin']} vs {r['throughput_per_h']['simpy']} "
            f"(agree: {r['throughputs_agree_within_ci']})",
            flush=True,
        )
    scaling = replication_scaling(8 if args.quick else 20)
    print(
        f"replications ×{scaling['replications']} of the 50-machine line: 1 process {scaling['one_process_s']} s, "
        f"2 processes {scaling['two_processes_s']} s → {scaling['speedup']}×",
        flush=True,
    )
    plant = plant_server(10_000, 5.0 if args.quick else 10.0)
    print(
        f"plant server: {plant['variables']:,} variables of {plant['machines']:,} machines, "
        f"{plant['changed_per_update_median']:,} changing every second (min {plant['changed_per_update_min']:,}); "
        f"update {plant['update_ms_median']} ms median ({plant['update_ms_max']} ms max), lag ≤ {plant['lag_ms_max']} ms, "
        f"keeps up: {plant['keeps_up']}",
        flush=True,
    )
    targets = {
        "engine_3.5x_simpy": all((lines[n]["speedup_vs_simpy"] or 0) >= 3.5 for n in lines),
        "throughput_agrees_with_simpy": all(lines[n]["throughputs_agree_within_ci"] for n in lines),
        "replications_1.7x_on_2_cores": (scaling["speedup"] or 0) >= 1.7,
        "plant_keeps_up_with_10000_changing_variables": plant["keeps_up"] and plant["changed_per_update_min"] >= 10_000,
    }
    print("targets:", targets)
    emit("sim", {"lines": lines, "replication_scaling": scaling, "plant_server": plant, "targets": targets})
    return 0


if __name__ == "__main__":
    sys.exit(main())
