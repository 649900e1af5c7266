"""The loss tree of a simulation run: from the engine's state seconds and counts (``app.sim``).

Per station and replication the engine reports server-seconds in each state (normalised by its servers),
the operations it finished and the parts scrapped per part type. The branches of ``app.oee.losses``:

- planned stop = off shift + maintenance; downtime = ``down`` (the engine's failures: reason "breakdown"),
  ``setup``, ``starved``, ``blocked``; run = running;
- ideal time = operations × the factory's mean cycle time ÷ servers (the cycle the machine is designed for);
- a station of several servers is read on the time it *showed* each state (running while any server runs:
  the engine's ``shown_state_s``, the plant's own definition), as its recorded history is, so that its idle
  servers are speed loss in both sources;
- scrap: the engine counts scrapped parts per part type, so a station's scrap is known where it is the only
  station that scraps that part type on its route (or it scraps nothing); where several stations scrap the
  same part type the split between them is not known and their quality is unknown, never guessed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from app.model.factory import Factory
from app.model.signals import MACHINE_STATES
from app.oee.losses import ARRAYS, STATE_REASONS, LossTimes

#: The reason the engine's failures are given (its failure model knows one kind: a breakdown).
SIM_DOWN_REASON = "breakdown"
_COL = {name: k for k, name in enumerate(MACHINE_STATES)}


def station_scrap(model, r) -> np.ndarray:
    """Parts scrapped per station in replication ``r`` (NaN where the engine's per-part-type counts cannot
    say which station scrapped them)."""
    stations = model.stations
    out = np.zeros(len(stations))
    scrap = list(getattr(r, "scrap", []) or [])
    for k, route in enumerate(model.routes):
        n = float(scrap[k]) if k < len(scrap) else 0.0
        scrappers = sorted({i for i in route if stations[i].scrap > 0})
        if len(scrappers) == 1:
            out[scrappers[0]] += n
        elif len(scrappers) > 1:
            out[scrappers] = np.nan
    return out


def replication_losses(factory: Factory, model, r) -> LossTimes:
    """One replication's loss tree, machines in the factory's order (machines the model leaves out have none)."""
    names = [m.id for m in factory.machines]
    n = len(names)
    rows = np.array([model.index.get(mid, -1) for mid in names])
    has = rows >= 0
    state = np.zeros((n, len(MACHINE_STATES)))
    src = np.asarray(r.state_s, dtype=float)
    shown = np.asarray(getattr(r, "shown_state_s", np.zeros((0, 0))), dtype=float)
    servers_of = np.array([s.servers for s in model.stations])
    if shown.shape == src.shape:  # a station of several servers: the time it *showed*, as a plant's State says
        src = np.where((servers_of > 1)[:, None], shown, src)
    state[has, : src.shape[1]] = src[rows[has]]
    ops = np.zeros(n)
    ops[has] = np.asarray(r.completed_ops, dtype=float)[rows[has]]
    cycle = np.array([model.stations[i].cycle.mean_s if i >= 0 else math.nan for i in rows])
    servers = np.array([model.stations[i].servers if i >= 0 else 1 for i in rows], dtype=float)
    scrap_st = station_scrap(model, r)
    scrap = np.zeros(n)
    scrap[has] = scrap_st[rows[has]]
    ideal_each = np.where(has, cycle / servers, 0.0)
    downtime = {SIM_DOWN_REASON: state[:, _COL["down"]]}
    downtime.update({STATE_REASONS[s]: state[:, _COL[s]] for s in ("setup", "starved", "blocked")})
    return LossTimes(
        names,
        known_s=state.sum(axis=1),
        planned_stop_s=state[:, _COL["off_shift"]] + state[:, _COL["maintenance"]],
        run_s=state[:, _COL["running"]],
        ideal_s=ops * ideal_each,
        scrap_ideal_s=scrap * ideal_each,
        parts=ops,
        scrap=scrap,
        downtime_s=downtime,
        window_s=float(r.measured_s),
        source="simulation",
    )


def pooled(parts: Sequence[LossTimes]) -> LossTimes:
    """Several periods (replications, stretches of history) as one: their seconds and counts summed."""
    if not parts:
        raise ValueError("nothing to pool")
    first = parts[0]
    reasons = sorted({r for p in parts for r in p.downtime_s})
    zero = np.zeros(len(first.machines))

    def total(key: str) -> np.ndarray:
        return np.sum([getattr(p, key) for p in parts], axis=0)

    return LossTimes.of_columns(
        first.machines,
        {k: total(k) for k in ARRAYS},
        {r: np.sum([p.downtime_s.get(r, zero) for p in parts], axis=0) for r in reasons},
        float(sum(p.window_s for p in parts)),
        first.source,
    )


def run_losses(factory: Factory, model, results: Sequence) -> list[LossTimes]:
    """Every replication's loss tree."""
    return [replication_losses(factory, model, r) for r in results]


def hourly_output(model, results: Sequence, sinks: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hour starts since the warm-up, parts out per hour — the mean over replications —, the demand target
    per hour): exits from the engine's sampled cumulative outputs, target the sources' order rate in each
    hour's working time (all of it for sources whose orders arrive whatever the calendar)."""
    curves = []
    for r in results:
        t = np.asarray(r.series_t, dtype=float)
        if not len(t) or not np.asarray(r.series_out).size:
            continue
        out = np.asarray(r.series_out, dtype=float).sum(axis=1)
        edges = np.arange(model.warmup_s, model.horizon_s + 1e-9, 3600.0)
        if len(edges) < 2:
            continue
        cum = np.interp(edges, t, out)
        curves.append(np.diff(cum))
    if not curves:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    n = min(len(c) for c in curves)
    per_h = np.mean([c[:n] for c in curves], axis=0)
    starts = model.warmup_s + 3600.0 * np.arange(n)
    rates = [3600.0 / d.mean_s for d in model.interarrival]
    on_shift = list(model.on_shift) or [True] * len(rates)
    tt = model.timetable
    target = np.zeros(n)
    for k, a in enumerate(starts):
        for rate, shifted in zip(rates, on_shift, strict=False):
            share = tt.working_s(a, a + 3600.0) / 3600.0 if tt is not None and shifted else 1.0
            target[k] += rate * share
    return (starts - model.warmup_s) / 3600.0, per_h, target
