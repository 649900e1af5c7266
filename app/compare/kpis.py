"""KPIs with one definition each, for simulation results and recorded history alike.

Both sources are first turned into ``Observation``s — what one period of production measured: seconds in
each state per machine, operations finished, energy, the time-average of the parts held at stations, and
the parts that left the plant (operations of its last stations). Every KPI is then computed from
observations by the same function, whichever source they came from:

- throughput (parts/h)      = exits / seconds × 3600
- WIP (parts)               = time-average of the parts held at all stations: for a simulation the engine's
                              exact time integral (its 5-minute samples are for charts only), for history
                              the time-average of the recorded levels
- lead time (min)           = from entering the first station to leaving the last: a simulation's part
                              clocks; for history (no part tracking) WIP / throughput (Little's law)
- demand (orders/h), orders not served (/h: the backlog's growth) and lead time from the order's arrival:
                              simulation only (history does not see orders waiting at a source)
- energy (kWh/h)            = energy / seconds × 3600
- utilisation (per machine) = running share of the time with a known state
- state shares              = seconds in running / setup / starved / blocked / down over the known time
                              (a machine of several servers: a simulation counts each server's time, a plant's
                              one State tag shows the station — running while any server runs; compared with
                              such a record, the simulation's time in each *shown* state is used: ``as_shown``)
- output (per machine)      = operations / seconds × 3600
- bottleneck                = the machine with the largest active share (running + setup + down)

A simulation gives one observation per replication, history one per window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from app.model.factory import Factory
from app.model.routing import OUT, successors
from app.model.signals import MACHINE_STATES
from app.sim.kpis import active_share
from app.sim.kpis import bottleneck as busiest

STATES = MACHINE_STATES  # one definition: app.model.signals
#: State names a plant may report → the column in ``Observation.state_s``.
STATE_COLUMN = {"running": 0, "setup": 1, "starved": 2, "idle": 2, "blocked": 3, "down": 4}

#: Line KPIs: key, label, unit.
LINE_KPIS = (
    ("throughput_per_h", "Throughput", "parts/h"),
    ("wip", "WIP at stations", "parts"),
    ("lead_time_min", "Lead time", "min"),
    ("energy_kwh_per_h", "Energy", "kWh/h"),
    ("demand_per_h", "Demand", "orders/h"),
    ("not_served_per_h", "Demand not served", "orders/h"),
    ("order_lead_time_min", "Lead time from order", "min"),
)
MACHINE_KPIS = (("utilisation", "Utilisation", "%"), ("output_per_h", "Output", "parts/h"))


@dataclass
class Observation:
    """What one period of production measured (one replication, or one window of history)."""

    machines: list[str]
    seconds: float
    state_s: np.ndarray  # (M, states) seconds per state; rows of machines without a known state are 0
    ops: np.ndarray  # (M,) operations finished (NaN: unknown)
    energy_kwh: np.ndarray  # (M,) (NaN: unknown)
    wip: float  # time-average parts held at stations (NaN: unknown)
    exits: float  # parts that left the plant
    source: str = ""
    exits_by_part: dict[str, float] = field(default_factory=dict)
    lead_time_s: float = math.nan  # mean lead time from part clocks (NaN: unknown, Little's law is used)
    order_lead_time_s: float = math.nan  # mean lead time from the order's arrival
    orders: float = math.nan  # orders that arrived
    not_served: float = math.nan  # growth of the orders waiting at the sources
    wip_by_machine: np.ndarray | None = None  # (M,) time-average parts held per machine
    exact: bool = False  # from a model without randomness: every replication would give these figures
    #: (M,) True where ``state_s`` is what the station *showed* (a plant's State: running while any of its
    #: servers runs) and not each server's time, as the model counts it: a machine of several servers,
    #: recorded (or a simulation put on that footing by ``as_shown``).
    shown_state: np.ndarray | None = None
    #: (M, states) seconds each machine showed each state (``app.sim.engine.shown_state``), from a simulation;
    #: None: not known (results stored before it was kept).
    shown_state_s: np.ndarray | None = None


def sinks(factory: Factory) -> list[int]:
    """Machines where parts leave the plant: the last station of some part flow, or a step a branch sends
    out of the line (``app.model.routing``) — not an assembly station where that flow's parts are used up."""
    index = {m.id: i for i, m in enumerate(factory.machines)}
    # parts used up at an assembly station (all but its bill's first line) end their routing there: no exit
    used_up = {(m.id, b.part) for m in factory.machines if m.sim.assembly is not None for b in m.sim.assembly.bom[1:]}
    out = set()
    for f in factory.flows:
        for step, ways in enumerate(successors(f)):
            if any(j == OUT for _, j in ways) and f.routing[step] in index and (f.routing[step], f.part) not in used_up:
                out.add(index[f.routing[step]])
    return sorted(out)


def line_kpis(o: Observation) -> dict[str, float]:
    """The line's KPIs of one observation."""
    per_s = o.exits / o.seconds if o.seconds > 0 else math.nan
    energy = float(np.nansum(o.energy_kwh)) if np.isfinite(o.energy_kwh).any() else math.nan
    per_h = 3600 / o.seconds if o.seconds > 0 else math.nan
    return {
        "throughput_per_h": per_s * 3600,
        "wip": o.wip,
        "lead_time_min": o.lead_time_s / 60 if math.isfinite(o.lead_time_s) else o.wip / per_s / 60 if per_s > 0 else math.nan,
        "energy_kwh_per_h": energy * per_h,
        "demand_per_h": o.orders * per_h,
        "not_served_per_h": o.not_served * per_h,
        "order_lead_time_min": o.order_lead_time_s / 60,
    }


def machine_kpis(o: Observation) -> dict[str, np.ndarray]:
    """Per machine (arrays in ``o.machines`` order): utilisation, output, state shares (NaN: unknown)."""
    known = o.state_s.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = o.state_s / known[:, None]
        shares[known <= 0] = np.nan
    out = {"utilisation": shares[:, 0] * 100, "output_per_h": o.ops / o.seconds * 3600 if o.seconds > 0 else o.ops * np.nan}
    for k, name in enumerate(STATES):  # an observation made before the planned-stop states has none of them
        out[f"state_{name}"] = shares[:, k] * 100 if k < shares.shape[1] else np.zeros(len(shares))
    out["active"] = active_share(shares) * 100
    return out


def shown_machines(o: Observation | None) -> set[str]:
    """The machines whose ``state_s`` in ``o`` is what their station showed, not each server's time."""
    if o is None or o.shown_state is None:
        return set()
    return {m for m, s in zip(o.machines, o.shown_state, strict=True) if s}


def as_shown(predicted: Observation, actual: Observation | None) -> Observation:
    """``predicted`` (a simulation) as ``actual``'s plant shows its machines, for comparing the two: the rows of
    the machines whose recorded State is the station's (several servers: ``actual.shown_state``) take the
    simulation's time in each shown state — one definition on both sides. Without that time (results stored
    before it was kept) those rows are unknown (NaN shares), never per-server time against a station's.

    ``predicted`` itself is returned when no machine needs it (no actual, or every machine of one server).
    """
    recorded_shown = shown_machines(actual)
    if not recorded_shown:
        return predicted
    rows = np.array([m in recorded_shown for m in predicted.machines], dtype=bool)
    if not rows.any():
        return predicted
    state_s = np.array(predicted.state_s, dtype=float, copy=True)
    shown = predicted.shown_state_s
    if shown is not None and np.shape(shown) == state_s.shape:
        state_s[rows] = np.asarray(shown, dtype=float)[rows]
    else:
        state_s[rows] = 0.0  # unknown: no share, no verdict
    return replace(predicted, state_s=state_s, shown_state=rows)


def bottleneck(observations: Sequence[Observation]) -> str:
    """The machine with the largest mean active share (running + setup + down) — "" when unknown (the one
    definition: ``app.sim.kpis.bottleneck``)."""
    if not observations:
        return ""
    shares = np.array([machine_kpis(o)["active"] for o in observations])
    known = np.isfinite(shares).sum(axis=0)  # a machine with no known state anywhere stays NaN (no warning)
    with np.errstate(invalid="ignore", divide="ignore"):
        active = np.where(np.isfinite(shares), shares, 0.0).sum(axis=0) / known
    return busiest(observations[0].machines, active)[0]


# -- from simulation -----------------------------------------------------------------------------------------
def observe_replication(
    r, stations: Sequence[str], parts: Sequence[str], warmup_s: float, sink: Sequence[int], exact: bool = False
) -> Observation:
    """A simulation replication (``app.sim.engine.ReplicationResult``) as an observation: ``stations`` and
    ``parts`` as the model orders them, ``sink`` the indices of the plant's last stations (``sinks``);
    ``exact`` for a model without randomness (its one replication is the answer, with no interval)."""
    ops = np.asarray(r.completed_ops, dtype=float)
    by_machine = simulated_wip(r, warmup_s)
    out = float(r.total_throughput)
    per_part = len(getattr(r, "orders", ())) == len(parts) and len(parts) > 0

    def total(values) -> float:
        return float(np.sum(values)) if per_part and len(values) == len(parts) else math.nan

    return Observation(
        machines=list(stations),
        seconds=float(r.measured_s),
        state_s=np.asarray(r.state_s, dtype=float),
        ops=ops,
        energy_kwh=np.asarray(r.energy_kwh, dtype=float),
        wip=float(np.sum(by_machine)) if len(by_machine) else math.nan,
        exits=float(ops[list(sink)].sum()),
        source=f"replication {r.replication}",
        exits_by_part={p: float(n) for p, n in zip(parts, r.throughput, strict=True)},
        lead_time_s=float(sum(r.lead_time_sum_s)) / out if out else math.nan,
        order_lead_time_s=total(r.order_lead_sum_s) / out if out else math.nan,
        orders=total(r.orders),
        not_served=total(r.backlog_end) - total(r.backlog_start),
        wip_by_machine=by_machine,
        exact=exact,
        shown_state_s=_shown_books(r),
    )


def _shown_books(r) -> np.ndarray | None:
    """A replication's seconds in each shown state per station, None when it was stored before they were kept."""
    shown = np.asarray(getattr(r, "shown_state_s", np.zeros((0, 0))), dtype=float)
    return shown if shown.shape == np.shape(r.state_s) and np.isfinite(shown).all() else None


def simulated_wip(r, warmup_s: float) -> np.ndarray:
    """Time-average parts held at each station after the warm-up: the engine's exact integral; for results
    stored before it was kept, the mean of the time-series samples (the only figure there is)."""
    area = np.asarray(getattr(r, "station_wip_area", np.zeros(0)), dtype=float)
    if len(area) and np.isfinite(area).all() and r.measured_s > 0:
        return area / r.measured_s
    after = r.series_t >= warmup_s
    if after.any() and r.series_queue.size:
        return r.series_queue[after].mean(axis=0).astype(float)
    return np.zeros(0)


def observe_model_results(results, model, factory: Factory) -> list[Observation]:
    """Every replication of a run of ``model`` (compiled from ``factory``) as observations."""
    stations = [s.id for s in model.stations]
    exact = model.deterministic
    return [observe_replication(r, stations, model.parts, model.warmup_s, sinks(factory), exact) for r in results]


# -- from history --------------------------------------------------------------------------------------------
def _step_durations(t0: float, t1: float, start, times: np.ndarray, values: Sequence) -> tuple[list, np.ndarray]:
    """A step signal on [t0, t1]: the value held in each piece and how long."""
    keep = (times > t0) & (times <= t1)
    ts = np.concatenate([[t0], times[keep], [t1]])
    vals = [start, *[v for v, k in zip(values, keep, strict=True) if k]]
    return vals, np.diff(ts)


def _step_mean(t0: float, t1: float, start: float, times: np.ndarray, values: np.ndarray) -> float:
    """Time-average of a numeric step signal on [t0, t1] (NaN pieces left out)."""
    vals, dur = _step_durations(t0, t1, start, times, list(values))
    v = np.array([np.nan if x is None else x for x in vals], dtype=float)
    ok = np.isfinite(v)
    return float((v[ok] * dur[ok]).sum() / dur[ok].sum()) if ok.any() and dur[ok].sum() > 0 else math.nan


def observe_history(history, factory: Factory, t0: float, t1: float, time_scale: float = 1.0) -> Observation:
    """A window [t0, t1] of recorded history as an observation.

    ``time_scale`` is plant seconds per recorded second: 1 for a real plant; N for a plant simulator run N
    times faster than real time (its history then compares with simulations in plant time).
    """
    if not t1 > t0:
        raise ValueError(f"the window must end after it starts ({t0} … {t1})")
    start = history.state_at(t0)
    names = [m.id for m in factory.machines]
    n = len(names)
    state_s = np.zeros((n, len(STATES)))
    ops = np.full(n, np.nan)
    energy = np.full(n, np.nan)
    levels = np.full(n, np.nan)
    link = history.link_at(t0)
    since = link[0] if link is not None else -math.inf  # values recorded before this connection began are stale
    for i, mid in enumerate(names):
        first = start.get((mid, "State"))
        times, texts = history.text_series(mid, "State", t0, t1)
        vals, dur = _step_durations(t0, t1, first[1] if first and (first[2] >> 30) == 0 else None, times, texts)
        for v, d in zip(vals, dur, strict=True):
            col = STATE_COLUMN.get(v) if v is not None else None
            if col is not None:
                state_s[i, col] += d
        ops[i] = _count_over(history, mid, t0, t1, start.get((mid, "PartCount")), since)
        for signal, target in (("Power", energy), ("Level", levels)):
            s0 = start.get((mid, signal))
            times, values, status = history.series(mid, signal, t0, t1)
            if s0 is None and not len(times):
                continue
            values = np.where((status >> 30) == 0, values, np.nan)
            target[i] = _step_mean(t0, t1, s0[0] if s0 is not None and s0[0] is not None else np.nan, times, values)
    seconds = (t1 - t0) * time_scale
    energy_kwh = energy * seconds / 3600  # mean kW × hours
    sink = sinks(factory)
    return Observation(
        machines=names,
        seconds=seconds,
        state_s=state_s * time_scale,
        ops=ops,
        energy_kwh=energy_kwh,
        wip=float(np.nansum(levels)) if np.isfinite(levels).any() else math.nan,
        exits=float(ops[sink].sum()) if len(sink) else math.nan,  # NaN when an exit's count is unknown: no data, never 0
        source="history",
        shown_state=shown_states(factory),
    )


def shown_states(factory: Factory) -> np.ndarray:
    """Per machine: its recorded State is the station's shown state, not per server (it has several servers:
    the plant shows it running while any of them runs, where the model counts each server's time; compared
    with the model's time in each shown state, ``as_shown``)."""
    return np.array([m.sim.servers > 1 for m in factory.machines], dtype=bool)


def _count_over(history, mid: str, t0: float, t1: float, start, since: float) -> float:
    """Parts a machine's counter gained over [t0, t1], stretched to the whole window when it is known over
    part of it only (NaN: no usable count — never 0).

    The count starts from the last good reading at ``t0`` when it was received in this connection (at or
    after ``since``); else (the first reading after connecting is stamped a moment after the link's
    "connected" record, or the one before is from an earlier connection) from the first good reading inside
    the window, and the rate runs from that reading's time: the count is scaled by (t1 − t0) / (t1 − t_first),
    so that count / window = count over the time it was known. A counter that went back (a plant restart)
    gives NaN.
    """
    times, values, status = history.series(mid, "PartCount", t0, t1)
    good = ((status >> 30) == 0) & np.isfinite(values)
    times, values = times[good], values[good]
    valid = start is not None and start[0] is not None and (start[2] >> 30) == 0 and start[4] >= since
    if valid:
        t_first, first = t0, float(start[0])
    elif len(times):
        t_first, first = float(times[0]), float(values[0])
    else:
        return math.nan
    last = float(values[-1]) if len(times) else first
    if last < first or t1 - t_first <= 0:
        return math.nan
    return (last - first) * (t1 - t0) / (t1 - t_first)


# -- parts out over time (the comparison chart) -------------------------------------------------------------
def exits_over_time_sim(results, warmup_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Hours since the warm-up and the mean cumulative parts out over the replications."""
    curves = []
    for r in results:
        after = r.series_t >= warmup_s
        if not after.any() or not r.series_out.size:
            continue
        out = r.series_out[after].sum(axis=1)
        curves.append((r.series_t[after] - warmup_s, out - out[0]))
    if not curves:
        return np.zeros(0), np.zeros(0)
    n = min(len(t) for t, _ in curves)
    return curves[0][0][:n] / 3600.0, np.mean([c[:n] for _, c in curves], axis=0)


def exits_over_time_history(history, factory: Factory, t0: float, t1: float, time_scale: float = 1.0, points: int = 200):
    """Hours since ``t0`` (plant time) and the cumulative parts out of the last stations, from history."""
    ts = np.linspace(t0, t1, points)
    total = np.zeros(points)
    any_known = False
    at_start = history.state_at(t0)
    link = history.link_at(t0)
    since = link[0] if link is not None else -math.inf
    for i in sinks(factory):
        mid = factory.machines[i].id
        start = at_start.get((mid, "PartCount"))
        times, values, status = history.series(mid, "PartCount", t0, t1)
        good = ((status >> 30) == 0) & np.isfinite(values)
        times, values = times[good], values[good]
        valid = start is not None and start[0] is not None and (start[2] >> 30) == 0 and start[4] >= since
        first = start[0] if valid else (values[0] if len(values) else math.nan)  # as _count_over: this connection's
        if not math.isfinite(first):
            continue
        any_known = True
        k = np.searchsorted(times, ts, side="right") - 1
        v = np.where(k >= 0, values[np.clip(k, 0, max(len(values) - 1, 0))] if len(values) else first, first)
        total += v - first
    if not any_known:
        return np.zeros(0), np.zeros(0)
    return (ts - t0) * time_scale / 3600.0, total
