"""KPIs of every group of the plant hierarchy at once, from per-machine arrays (a sparse product, no Python loop over machines).

How each figure rolls up:

- **alarms**, **WIP** (parts held), **power** (kW now) and **energy** (kWh since watching began): sums over
  the group's machines (machines without a value add nothing; ``*_known`` says how many had one);
- **throughput** (parts/h): the parts *leaving* the group for good — the sum of the output rates of its exit
  machines (``PlantTree.exit_pair``: where a routing leaves the group and never comes back), not of all its
  machines' counts (a part passing 8 machines of a line is one part out of the line, not 8; a part that
  leaves a store area five times on its way is one part out of it, not five).
  Unknown while any exit machine's rate is; a group no routing leaves has none;
- **utilisation** (share of time running) and **availability** (share of planned time not down, off-shift and
  maintenance being planned stops): time-weighted means — the group's running seconds over its watched
  seconds, machine by machine summed, so a machine watched longer weighs more.

Examples
--------
>>> from app.model.io import load_factory
>>> from app.model.hierarchy import PlantTree
>>> from app.paths import DEMO_FACTORY
>>> t = PlantTree.of(load_factory(DEMO_FACTORY))
>>> wip = np.ones(len(t.leaf_of))
>>> int(group_sums(t, wip)[0]) == len(t.leaf_of)  # the site holds every machine's part
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from app.model.hierarchy import PlantTree


def group_sums(tree: PlantTree, values: np.ndarray) -> np.ndarray:
    """Per group, the sum of ``values`` (one per machine, NaN counted as 0) over every machine under it."""
    v = np.nan_to_num(np.asarray(values, dtype=float)[tree.pair_machine], nan=0.0, posinf=0.0, neginf=0.0)
    return np.bincount(tree.pair_group, weights=v, minlength=tree.n_groups)


def group_counts(tree: PlantTree, mask: np.ndarray) -> np.ndarray:
    """Per group, how many machines under it have ``mask`` set."""
    return np.bincount(tree.pair_group, weights=np.asarray(mask, dtype=float)[tree.pair_machine], minlength=tree.n_groups)


@dataclass(frozen=True)
class GroupFigures:
    """The rolled-up KPIs, one entry per group of ``PlantTree.groups`` (see the module for each rule).

    ``throughput_per_h`` is NaN where unknown; ``exits`` counts each group's exit machines (0: nothing leaves
    it); ``counting``: some exit machine's rate still waits for enough parts. ``utilisation`` and
    ``availability`` are 0–1, NaN with no watched (planned) time; ``watched_s`` is how long the roll-up has
    been watching (the same for every group). Rates, energy and watched time are in the plant's time:
    ``time_scale`` is the plant seconds per clock second they were counted at (a plant simulator's speed).
    """

    machines: np.ndarray
    alarms: np.ndarray
    wip: np.ndarray
    wip_known: np.ndarray
    power_kw: np.ndarray
    power_known: np.ndarray
    energy_kwh: np.ndarray
    throughput_per_h: np.ndarray
    exits: np.ndarray
    counting: np.ndarray
    utilisation: np.ndarray
    availability: np.ndarray
    watched_s: float
    time_scale: float = 1.0


@dataclass(frozen=True)
class MachineArrays:
    """What each machine says now and has said so far (one entry per machine, factory order).

    ``rates`` are output rates in parts/h (NaN unknown), ``counting`` machines whose rate waits for more
    parts; the ``*_s`` arrays are seconds spent in each state since watching began, ``energy_kwh`` the energy
    drawn since then.
    """

    alarm: np.ndarray
    level: np.ndarray
    power_kw: np.ndarray
    rates: np.ndarray
    counting: np.ndarray
    watched_s: np.ndarray
    running_s: np.ndarray
    down_s: np.ndarray
    planned_stop_s: np.ndarray
    energy_kwh: np.ndarray


class Membership:
    """A tree's (group, machine) pairs as two sparse 0/1 matrices (groups × machines): every machine under each
    group, and each group's exit machines. Made once per tree; every sum of an update is then one sparse
    product over all figures at once."""

    def __init__(self, tree: PlantTree):
        n_groups, n = tree.n_groups, len(tree.leaf_of)
        ones = np.ones(len(tree.pair_group))
        self.tree = tree
        self.members = sparse.csr_matrix((ones, (tree.pair_group, tree.pair_machine)), shape=(n_groups, n))
        ex = tree.exit_pair
        self.exits = sparse.csr_matrix((ones[ex], (tree.pair_group[ex], tree.pair_machine[ex])), shape=(n_groups, n))
        self.machines = np.diff(tree.starts)
        self.n_exits = np.asarray(self.exits.sum(axis=1)).ravel().astype(np.int64)


def roll_up(
    tree: PlantTree, m: MachineArrays, watched_s: float, membership: Membership | None = None, time_scale: float = 1.0
) -> GroupFigures:
    """Every group's figures from the machines' arrays: two sparse products (groups × machines) @ (machines ×
    figures), whatever the number of machines; pass ``membership`` to reuse the tree's matrices.
    ``time_scale`` says what the arrays were counted in (plant seconds per clock second) for the texts."""
    mem = membership if membership is not None and membership.tree is tree else Membership(tree)
    level_known = np.isfinite(m.level)
    power_known = np.isfinite(m.power_kw)
    columns = np.column_stack([
        np.asarray(m.alarm, dtype=float),
        np.where(level_known, m.level, 0.0),
        level_known,
        np.where(power_known, m.power_kw, 0.0),
        power_known,
        m.energy_kwh,
        m.watched_s,
        m.running_s,
        m.down_s,
        m.planned_stop_s,
    ])
    alarms, wip, wip_known, power, power_n, energy, watched, running, down, planned_stop = (mem.members @ columns).T
    rates = np.asarray(m.rates, dtype=float)
    rate_known = np.isfinite(rates)
    exit_cols = np.column_stack([np.where(rate_known, rates, 0.0), ~rate_known, np.asarray(m.counting, dtype=float)])
    throughput, unknown_exits, counting = (mem.exits @ exit_cols).T
    throughput[(unknown_exits > 0) | (mem.n_exits == 0)] = np.nan
    planned = watched - planned_stop
    with np.errstate(invalid="ignore", divide="ignore"):
        utilisation = np.where(watched > 0, running / watched, np.nan)
        availability = np.where(planned > 0, 1.0 - down / planned, np.nan)
    return GroupFigures(
        machines=mem.machines,
        alarms=np.rint(alarms).astype(np.int64),
        wip=wip,
        wip_known=np.rint(wip_known).astype(np.int64),
        power_kw=power,
        power_known=np.rint(power_n).astype(np.int64),
        energy_kwh=energy,
        throughput_per_h=throughput,
        exits=mem.n_exits,
        counting=(counting > 0) & np.isnan(throughput),
        utilisation=utilisation,
        availability=np.clip(availability, 0.0, 1.0),
        watched_s=watched_s,
        time_scale=time_scale,
    )
