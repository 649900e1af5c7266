"""KPI roll-up over the hierarchy: hand-computed sums, time-weighted shares, exits, and a 20,000-machine plant
against a brute-force loop. No display."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from app.model.io import loads_factory
from app.rollup.figures import MachineArrays, roll_up
from app.rollup.live import MAX_STEP_S, LiveRollup
from app.rollup.texts import group_row, group_tooltip
from app.state.store import StateStore, Update
from bench.hierarchy import hierarchical_plant, live_store

HIER = {
    "enterprise": "Acme",
    "site": "Nord",
    "areas": [
        {"id": "mach", "name": "Machining", "lines": [{"id": "L1"}, {"id": "L2"}]},
        {"id": "asm", "name": "Assembly", "lines": [{"id": "L3"}]},
    ],
}
PLACES = [("mach", "L1"), ("mach", "L1"), ("mach", "L2"), ("asm", "L3")]


def _factory():
    machines = [
        {"id": f"M{i}", "name": f"M {i}", "kind": "cnc", "asset": "a", "footprint": {"width_m": 1, "depth_m": 1},
         "pose": {"x_m": 2 + 3 * i, "y_m": 5}, "area": a, "line": ln}
        for i, (a, ln) in enumerate(PLACES)
    ]
    return loads_factory(json.dumps({
        "format": "floortwin-factory", "version": 1, "name": "Tiny", "floor": {"width_m": 100, "depth_m": 20},
        "assets": {"a": {"path": "builtin:meshes/cnc.glb"}}, "machines": machines, "hierarchy": HIER,
        "flows": [{"part": "P", "routing": ["M0", "M1", "M2", "M3"]}],
    }))


def _store(f, states, levels, powers, alarms, t):
    store = StateStore([m.id for m in f.machines], ["State", "Level", "Power", "Alarm"])
    updates = []
    for i, m in enumerate(f.machines):
        for signal, values in (("State", states), ("Level", levels), ("Power", powers), ("Alarm", alarms)):
            if values[i] is not None:
                updates.append(Update(store.bind(m.id, signal, f"ns=2;s={m.id}.{signal}"), values[i], received_ts=t))
    store.ingest(updates)
    return store


def _group(rollup: LiveRollup, *path: str) -> int:
    return rollup.tree.group_of(("Acme", "Nord", *path))


def test_sums_and_exits_by_hand():
    f = _factory()
    states, levels = ["running", "down", "running", "blocked"], [3, 4, None, 7]
    store = _store(f, states, levels, [10.0, 2.0, 5.0, None], [False, True, True, False], 100.0)
    rollup = LiveRollup(f)
    fig = rollup.update(store, 100.0, rates=np.array([60.0, 50.0, 40.0, 30.0]), counting=np.zeros(4, dtype=bool))
    l1, l2 = _group(rollup, "Machining", "L1"), _group(rollup, "Machining", "L2")
    mach, asm = _group(rollup, "Machining"), _group(rollup, "Assembly")
    site = _group(rollup)
    assert list(fig.machines[[l1, l2, mach, asm, site]]) == [2, 1, 3, 1, 4]
    assert list(fig.alarms[[l1, l2, mach, asm, site]]) == [1, 1, 2, 0, 2]
    assert list(fig.wip[[l1, l2, mach, asm, site]]) == [7, 0, 7, 7, 14]
    assert list(fig.wip_known[[l1, l2, mach, site]]) == [2, 0, 2, 3]
    assert list(fig.power_kw[[l1, l2, mach, asm, site]]) == [12, 5, 17, 0, 17]
    # Throughput is what leaves the group: L1's M1 (to L2), L2's and Machining's M2 (to Assembly), the site's M3.
    assert list(fig.throughput_per_h[[l1, l2, mach, asm, site]]) == [50, 40, 40, 30, 30]
    assert fig.watched_s == 0 and math.isnan(fig.utilisation[site])  # nothing watched yet


def test_shares_are_time_weighted_and_energy_integrates_power():
    f = _factory()
    rollup = LiveRollup(f)
    rollup.update(_store(f, ["running"] * 4, [0] * 4, [10.0] * 4, [False] * 4, 0.0), 0.0)
    # 10 s later: M0 down, the others running (the first 10 s counted as the state then: all running).
    rollup.update(_store(f, ["down", "running", "running", "maintenance"], [0] * 4, [10.0] * 4, [False] * 4, 10.0), 10.0)
    fig = rollup.update(_store(f, ["down", "running", "running", "maintenance"], [0] * 4, [10.0] * 4, [False] * 4, 40.0), 40.0)
    l1, site = _group(rollup, "Machining", "L1"), _group(rollup)
    # M0 ran 10 s of 40 (down 30), M1 ran 40: L1 ran 50 of 80 machine-seconds.
    assert fig.utilisation[l1] == pytest.approx(50 / 80)
    assert fig.availability[l1] == pytest.approx(1 - 30 / 80)
    # Site: running 10 + 40 + 40 + 10 = 100 of 160; M3's 30 s of maintenance are planned: availability 1 - 30 / 130.
    assert fig.utilisation[site] == pytest.approx(100 / 160)
    assert fig.availability[site] == pytest.approx(1 - 30 / 130)
    assert fig.energy_kwh[site] == pytest.approx(4 * 10.0 * 40 / 3600)
    assert fig.watched_s == 40


def test_a_gap_counts_at_most_max_step_and_time_going_back_counts_nothing():
    f = _factory()
    rollup = LiveRollup(f)
    rollup.update(_store(f, ["running"] * 4, [0] * 4, [1.0] * 4, [False] * 4, 0.0), 0.0)
    rollup.update(_store(f, ["running"] * 4, [0] * 4, [1.0] * 4, [False] * 4, 3600.0), 3600.0)
    assert rollup.watched_s == MAX_STEP_S
    rollup.update(_store(f, ["running"] * 4, [0] * 4, [1.0] * 4, [False] * 4, 3000.0), 3000.0)
    assert rollup.watched_s == MAX_STEP_S


def test_an_unknown_exit_rate_leaves_the_throughput_unknown_and_says_counting():
    f = _factory()
    rollup = LiveRollup(f)
    store = _store(f, ["running"] * 4, [1] * 4, [1.0] * 4, [False] * 4, 5.0)
    fig = rollup.update(store, 5.0, rates=np.array([60.0, np.nan, 40.0, 30.0]), counting=np.array([False, True, False, False]))
    l1, mach = _group(rollup, "Machining", "L1"), _group(rollup, "Machining")
    assert math.isnan(fig.throughput_per_h[l1]) and fig.counting[l1]
    assert fig.throughput_per_h[mach] == 40  # M1 is no exit of Machining
    assert "counting" in group_tooltip("line", "L1", fig, l1, 2)
    assert group_row("Machining", fig, mach, 3) == "Machining  (3) — 40 parts/h · WIP 3"
    tip = group_tooltip("area", "Machining", fig, mach, 3)
    assert "Throughput: 40 parts/h (the output of its 1 exit machine)" in tip
    assert "Utilisation (time running): not enough data — needs ≥ 10 min watched" in tip


def test_machines_in_another_order_in_the_store_are_matched_by_id():
    f = _factory()
    rollup = LiveRollup(f)
    ids = [m.id for m in f.machines][::-1]
    store = StateStore(ids, ["Level"])
    store.ingest([Update(store.bind("M0", "Level", "ns=2;s=x"), 9.0, received_ts=1.0)])
    fig = rollup.update(store, 1.0)
    assert fig.wip[_group(rollup, "Machining", "L1")] == 9 and fig.wip[_group(rollup, "Assembly")] == 0


def test_twenty_thousand_machines_equal_a_brute_force_loop():
    f = hierarchical_plant(20_000)
    rollup = LiveRollup(f)
    store, rates = live_store(f, 50.0, seed=4)
    rollup.update(store, 50.0)
    store.received_ts[:] = 55.0
    fig = rollup.update(store, 55.0, rates, np.zeros(len(rates), dtype=bool))
    tree = rollup.tree
    level, power, state = store.values[:, 1], store.values[:, 2], store.values[:, 0]
    alarm = store.values[:, 3] > 0.5
    wip = np.zeros(tree.n_groups)
    watts = np.zeros(tree.n_groups)
    alarms = np.zeros(tree.n_groups, dtype=int)
    running = np.zeros(tree.n_groups)
    for i in range(len(f.machines)):
        g = int(tree.leaf_of[i])
        while g >= 0:
            wip[g] += level[i]
            watts[g] += power[i]
            alarms[g] += alarm[i]
            running[g] += state[i] == 0
            g = tree.groups[g].parent
    assert np.allclose(fig.wip, wip) and np.allclose(fig.power_kw, watts) and np.array_equal(fig.alarms, alarms)
    sizes = np.diff(tree.starts)
    assert (sizes == 0).any()  # the last line's empty cell: no share rather than a made-up one
    shares = np.divide(running, sizes, out=np.full(tree.n_groups, np.nan), where=sizes > 0)
    assert np.allclose(fig.utilisation, shares, equal_nan=True)
    # Throughput: each group's exit machines, found by walking the routings.
    index = f.machine_index()
    for g in (0, 1, 2, 3, 4, 5, 100, tree.n_groups - 1):
        members = set(tree.members(g).tolist())
        exits = set()
        for flow in f.flows:
            steps = [index[r] for r in flow.routing]
            for a, b in zip(steps, [*steps[1:], -1], strict=True):
                if a in members and b not in members:
                    exits.add(a)
        if exits:
            assert fig.throughput_per_h[g] == pytest.approx(rates[sorted(exits)].sum())
        else:
            assert math.isnan(fig.throughput_per_h[g])


def test_roll_up_takes_plain_arrays():
    f = _factory()
    rollup = LiveRollup(f)
    z = np.zeros(4)
    arrays = MachineArrays(np.array([1, 0, 0, 1], bool), z + 2, z + 1, z + 6, np.zeros(4, bool), z, z, z, z, z)
    fig = roll_up(rollup.tree, arrays, 0.0)
    assert fig.alarms[_group(rollup)] == 2 and fig.wip[_group(rollup, "Machining")] == 6


def test_on_a_plant_faster_than_the_clock_time_and_energy_are_plant_time_and_the_tooltip_says_so():
    """Trial 7: at 120× the tree said 3900 parts/h (per clock hour). Rates come per plant hour (the session's),
    and the roll-up counts a clock second as ``time_scale`` plant seconds watched, energy drawn over them."""
    f = _factory()
    rollup = LiveRollup(f)
    rates = np.array([60.0, 50.0, 40.0, 30.0])  # parts per plant hour
    rollup.update(_store(f, ["running"] * 4, [0] * 4, [10.0] * 4, [False] * 4, 0.0), 0.0, rates, time_scale=120.0)
    fig = rollup.update(_store(f, ["running"] * 4, [0] * 4, [10.0] * 4, [False] * 4, 30.0), 30.0, rates, time_scale=120.0)
    site = _group(rollup)
    assert fig.watched_s == 30 * 120 and fig.time_scale == 120.0  # an hour of plant time in 30 clock seconds
    assert fig.energy_kwh[site] == pytest.approx(4 * 10.0 * 1.0)  # 10 kW each for one plant hour
    assert fig.utilisation[site] == 1.0  # watched ≥ 10 min of plant time: given
    assert group_row("Acme", fig, site, 4) == "Acme  (4) — 30 parts/h · WIP 0"
    tip = group_tooltip("site", "Nord", fig, site, 4)
    assert "Throughput: 30 parts/h (per plant hour, the plant running 120× real time; the output of its 1 exit machine)" in tip
    assert "40 kWh since watching began (1 h of plant time)" in tip
    assert "Utilisation (time running): 100%" in tip
    # The clock's gap cap holds before scaling: a sleeping laptop is not 120 hours of the last state.
    rollup.update(_store(f, ["running"] * 4, [0] * 4, [10.0] * 4, [False] * 4, 3630.0), 3630.0, rates, time_scale=120.0)
    assert rollup.watched_s == (30 + MAX_STEP_S) * 120
    # Early on, the watched time asked for is plant time too.
    early = LiveRollup(f)
    early.update(_store(f, ["running"] * 4, [0] * 4, [1.0] * 4, [False] * 4, 0.0), 0.0, time_scale=120.0)
    fig = early.update(_store(f, ["running"] * 4, [0] * 4, [1.0] * 4, [False] * 4, 2.0), 2.0, time_scale=120.0)
    assert "needs ≥ 10 min of plant time watched (4 min so far)" in group_tooltip("site", "Nord", fig, site, 4)
