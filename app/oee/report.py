"""What the OEE dashboard shows, made from one source: per machine and per group (line, area, site) of the
hierarchy, the loss tree, A × P × Q, the downtime Pareto and parts out per hour against the target.

Examples
--------
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> from app.sim.model import compile_model
>>> from app.sim.engine import simulate
>>> f = load_factory(DEMO_FACTORY)
>>> model = compile_model(f, horizon_s=4 * 3600, warmup_s=1800, replications=1)
>>> r = simulation_report(f, model, [simulate(model, 0)], "demo")
>>> len(r.machines.machines) == len(f.machines), r.source
(True, 'simulation')
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from app.compare.kpis import sinks
from app.compare.window import ActualsWindow
from app.history.recorder import History
from app.model.factory import Factory
from app.model.hierarchy import PlantTree
from app.oee.losses import Figures, LossTimes, figures, group_times
from app.oee.recorded import history_losses
from app.oee.simulation import hourly_output, pooled, run_losses
from app.rollup.figures import Membership
from app.sim.kpis import estimate


@dataclass(frozen=True)
class OeeReport:
    """One source's OEE: ``machines``/``groups`` loss trees with their ``*_figures``; ``group_labels`` name
    the tree's groups ("Line Machining"); ``oee_half_width`` per machine (a simulation's 95% interval over
    replications, NaN for history); ``hours``, ``out_per_h``, ``target_per_h`` the parts out of the plant per
    hour and the demand's target; ``title`` says where it comes from."""

    source: str
    title: str
    machines: LossTimes
    machine_figures: Figures
    groups: LossTimes
    group_figures: Figures
    tree: PlantTree
    group_labels: list[str]
    oee_half_width: np.ndarray
    replications: int = 1
    hours: np.ndarray = field(default_factory=lambda: np.zeros(0))
    out_per_h: np.ndarray = field(default_factory=lambda: np.zeros(0))
    target_per_h: np.ndarray = field(default_factory=lambda: np.zeros(0))


def build(
    factory: Factory, times: LossTimes, title: str, half_width: np.ndarray | None = None, replications: int = 1,
    hourly: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None, tree: PlantTree | None = None,
) -> OeeReport:
    """The report of a loss tree of ``factory``'s machines (in its order), rolled up over its hierarchy."""
    tree = tree if tree is not None else PlantTree.of(factory)
    labels = [f"{g.level.capitalize()} {g.name}" for g in tree.groups]
    groups = group_times(times, Membership(tree).members, labels)
    hours, out, target = hourly if hourly is not None else (np.zeros(0), np.zeros(0), np.zeros(0))
    return OeeReport(
        times.source,
        title,
        times,
        figures(times),
        groups,
        figures(groups),
        tree,
        labels,
        half_width if half_width is not None else np.full(len(times.machines), math.nan),
        replications,
        hours,
        out,
        target,
    )


def simulation_report(factory: Factory, model, results: Sequence, title: str) -> OeeReport:
    """The report of a simulation run of ``model`` (compiled from ``factory``): the replications pooled
    (their seconds summed), each machine's OEE with its 95% interval over replications."""
    per_rep = run_losses(factory, model, results)
    if not per_rep:
        raise ValueError("the run has no replication")
    each = np.array([figures(t).oee for t in per_rep])  # (replications, machines)
    half = np.array([estimate(col).half_width if np.isfinite(col).all() else math.nan for col in each.T])
    return build(factory, pooled(per_rep), title, half, len(per_rep), hourly_output(model, results))


def demand_per_h(factory: Factory) -> float:
    """Orders per hour the part flows release (the plant's target output)."""
    return float(sum(3600.0 / f.interarrival.mean_s for f in factory.flows if f.interarrival.mean_s > 0))


def history_hourly(
    path: str | os.PathLike[str], factory: Factory, window: ActualsWindow, time_scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parts out of the plant (its last stations' counters) per plant hour of the window's connected
    stretches: only whole hours inside one stretch (a counter is never read across a gap)."""
    history = History(path)
    hour_s = 3600.0 / time_scale  # recorded seconds per plant hour
    sink_ids = [factory.machines[i].id for i in sinks(factory)]
    starts, outs = [], []
    origin = window.stretches[0][0] if window.stretches else 0.0
    for a, b in window.stretches:
        edges = np.arange(a, b + 1e-9, hour_s)
        if len(edges) < 2:
            continue
        total = np.zeros(len(edges) - 1)
        for mid in sink_ids:
            t, v, status = history.series(mid, "PartCount", a - hour_s, b)
            ok = ((status >> 30) == 0) & np.isfinite(v)
            t, v = t[ok], v[ok]
            if len(t) < 2 or t[0] > a:
                total[:] = np.nan  # the count at the stretch's start is not known
                continue
            gains = np.diff(np.interp(edges, t, v))
            total += np.where(gains >= 0, gains, np.nan)
        starts += list((edges[:-1] - origin) / hour_s)
        outs += list(total)
    target = np.full(len(starts), demand_per_h(factory))
    return np.array(starts), np.array(outs), target


def history_report(
    path: str | os.PathLike[str], factory: Factory, window: ActualsWindow, time_scale: float = 1.0, title: str = ""
) -> OeeReport | None:
    """The report of the history's connected stretches in ``window`` (None when it has none)."""
    times = history_losses(path, factory, window.stretches, time_scale)
    if times is None:
        return None
    return build(factory, times, title or "Recorded history", hourly=history_hourly(path, factory, window, time_scale))
