"""KPIs of a simulation run with 95% confidence intervals over replications (Student t)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from app.model.signals import ACTIVE_STATES, MACHINE_STATES
from app.sim.engine import STATES, ReplicationResult
from app.sim.model import SimModel, overload_warnings
from app.sim.numbers import format_duration, format_estimate, format_number

_ACTIVE_COLUMNS = [MACHINE_STATES.index(name) for name in ACTIVE_STATES]
#: States of a planned stop: no production is planned then, so they are no loss.
PLANNED_STATES = ("off_shift", "maintenance")


def active_share(shares: np.ndarray) -> np.ndarray:
    """Each machine's active share — running + setup + down — from its state shares (machines × states, in
    ``MACHINE_STATES`` order)."""
    return np.asarray(shares, dtype=float)[:, _ACTIVE_COLUMNS].sum(axis=1)


def bottleneck(machines: Sequence[str], active: np.ndarray) -> tuple[str, float]:
    """The machine with the largest active share, and that share — ("", nan) when none is known.

    The one definition of the bottleneck for simulations and recorded actuals alike: the machine whose
    capacity limits the line is the one occupied for the largest share of the time, whatever its neighbours
    do (active-period method, Roser et al. 2001). Given sole + shifting bottleneck shares instead of active
    shares, it names the machine that limits the line most over time (``app.sim.bottleneck``, the shifting-
    bottleneck method).

    >>> bottleneck(["A", "B"], np.array([0.4, 0.9]))
    ('B', 0.9)
    >>> bottleneck(["A"], np.array([np.nan]))
    ('', nan)
    """
    active = np.asarray(active, dtype=float)
    if not len(machines) or not np.isfinite(active).any():
        return "", math.nan
    k = int(np.nanargmax(active))
    return machines[k], float(active[k])

@dataclass(frozen=True)
class Estimate:
    """A mean over replications and the half-width of its 95% confidence interval."""

    mean: float
    half_width: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def __str__(self) -> str:
        return format_estimate(self.mean, self.half_width, n=self.n)

    def format(self, unit: str = "", scale: float = 1.0) -> str:
        """The estimate in ``unit`` (its values multiplied by ``scale``), rounded as its interval allows."""
        return format_estimate(self.mean * scale, self.half_width * scale, unit, n=self.n)


def estimate(values: npt.ArrayLike, confidence: float = 0.95) -> Estimate:
    """Mean and CI half-width of independent replication values (inf half-width for one value)."""
    arr = np.asarray(values, dtype=float)
    n = len(arr)
    if n == 0:
        return Estimate(float("nan"), float("inf"), 0)
    if n == 1:
        return Estimate(float(arr[0]), float("inf"), 1)
    from scipy import stats  # imported on first use: it costs half a second at start-up

    t = stats.t.ppf(0.5 + confidence / 2, n - 1)
    return Estimate(float(arr.mean()), float(t * arr.std(ddof=1) / math.sqrt(n)), n)


@dataclass(frozen=True)
class Summary:
    """Every KPI of a run, each an ``Estimate`` over replications."""

    parts: list[str]
    stations: list[str]
    throughput_per_h: dict[str, Estimate]  # per part type and "total"
    lead_time_s: dict[str, Estimate]
    wip: Estimate
    utilisation: dict[str, Estimate]  # running share per station
    states: dict[str, dict[str, Estimate]]  # station → state → share of time
    energy_kwh: Estimate
    bottleneck: str
    bottleneck_share: float
    little_gap: Estimate  # (WIP − λW) / WIP per replication: Little's law holds when ≈ 0
    events_per_s: float
    replications: int
    # Demand: orders per hour, the backlog's growth per hour (orders not served), orders waiting at the end,
    # their time-average, and lead time from the order's arrival (per part type and "total").
    demand_per_h: dict[str, Estimate] = field(default_factory=dict)
    not_served_per_h: dict[str, Estimate] = field(default_factory=dict)
    backlog_end: dict[str, Estimate] = field(default_factory=dict)
    backlog_mean: dict[str, Estimate] = field(default_factory=dict)
    order_lead_time_s: dict[str, Estimate] = field(default_factory=dict)
    scrap_per_h: dict[str, Estimate] = field(default_factory=dict)  # parts scrapped per hour
    deterministic: bool = False  # nothing random: the single replication is exact
    requested_replications: int = 0
    warnings: list[str] = field(default_factory=list)


def summarise(model: SimModel, results: Sequence[ReplicationResult]) -> Summary:
    """KPIs with confidence intervals from replication results."""
    parts, ids = model.parts, [s.id for s in model.stations]
    per_h = {p: estimate([r.throughput[k] / r.measured_s * 3600 for r in results]) for k, p in enumerate(parts)}
    per_h["total"] = estimate([r.total_throughput / r.measured_s * 3600 for r in results])
    lead = {
        p: estimate([r.lead_time_sum_s[k] / r.throughput[k] for r in results if r.throughput[k]]) for k, p in enumerate(parts)
    }
    lead["total"] = estimate([sum(r.lead_time_sum_s) / r.total_throughput for r in results if r.total_throughput])
    wip = estimate([r.wip_area / r.measured_s for r in results])
    share = [r.state_s / r.measured_s for r in results]
    states = {sid: {name: estimate([sh[i, k] for sh in share]) for k, name in enumerate(STATES)} for i, sid in enumerate(ids)}
    util = {sid: states[sid]["running"] for sid in ids}
    active = np.mean([active_share(sh) for sh in share], axis=0) if share else np.zeros(0)
    neck, neck_share = bottleneck(ids, active)
    little = []
    for r in results:
        # Scrapped parts, and parts used up in an assembly, leave the system too: Little's law counts them with
        # their time inside.
        used, used_time = sum(getattr(r, "used", []) or []), sum(getattr(r, "used_time_sum_s", []) or [])
        left = r.total_throughput + sum(r.scrap) + used
        if left and r.wip_area > 0:
            L = r.wip_area / r.measured_s
            lam = left / r.measured_s
            W = (sum(r.lead_time_sum_s) + sum(r.scrap_time_sum_s) + used_time) / left
            little.append((L - lam * W) / L)
    events = sum(r.events for r in results) / max(sum(r.wall_s for r in results), 1e-9)
    exact = model.deterministic

    def est(values) -> Estimate:
        e = estimate([v for v in values if math.isfinite(v)])
        return Estimate(e.mean, 0.0, e.n) if exact and e.n == 1 else e

    def per_part(value) -> dict[str, Estimate]:
        """An estimate per part type and for all of them from ``value(r, k)`` (k None: the total)."""
        out = {p: est([value(r, k) for r in results]) for k, p in enumerate(parts)}
        out["total"] = est([value(r, None) for r in results])
        return out

    def total(values, k):
        vals = values if k is None else [values[k]]
        return float(sum(vals)) if len(values) == len(parts) else math.nan

    demand = per_part(lambda r, k: total(r.orders, k) / r.measured_s * 3600)
    scrap = per_part(lambda r, k: total(r.scrap, k) / r.measured_s * 3600)
    not_served = per_part(lambda r, k: (total(r.backlog_end, k) - total(r.backlog_start, k)) / r.measured_s * 3600)
    backlog_end = per_part(lambda r, k: total(r.backlog_end, k))
    backlog_mean = per_part(lambda r, k: total(r.backlog_area, k) / r.measured_s)
    order_lead = {
        p: est([r.order_lead_sum_s[k] / r.throughput[k] for r in results if r.throughput[k] and len(r.order_lead_sum_s) > k])
        for k, p in enumerate(parts)
    }
    order_lead["total"] = est(
        [sum(r.order_lead_sum_s) / r.total_throughput for r in results if r.total_throughput and len(r.order_lead_sum_s)]
    )
    if exact:
        per_h = {k: est([v.mean]) for k, v in per_h.items()}
        lead = {k: est([v.mean]) if v.n else v for k, v in lead.items()}
        wip = est([wip.mean])
        states = {sid: {name: est([e.mean]) for name, e in row.items()} for sid, row in states.items()}
        util = {sid: states[sid]["running"] for sid in ids}
    warnings = overload_warnings(model)
    growing = not_served["total"]
    if not warnings and growing.n and growing.mean > 0 and growing.low > 0:
        warnings.append(
            f"orders wait at the sources and their backlog grows by {growing.format('orders/h')}: demand is not all served"
        )
    return Summary(
        parts=list(parts),
        stations=ids,
        throughput_per_h=per_h,
        lead_time_s=lead,
        wip=wip,
        utilisation=util,
        states=states,
        energy_kwh=est([float(r.energy_kwh.sum()) for r in results]),
        bottleneck=neck,
        bottleneck_share=neck_share if neck else 0.0,
        little_gap=est(little) if little else Estimate(0.0, float("inf"), 0),
        events_per_s=events,
        replications=len(results),
        demand_per_h=demand,
        not_served_per_h=not_served,
        backlog_end=backlog_end,
        backlog_mean=backlog_mean,
        order_lead_time_s=order_lead,
        scrap_per_h=scrap if any(s.scrap for s in model.stations) else {},
        deterministic=exact,
        requested_replications=model.requested_replications or model.replications,
        warnings=warnings,
    )


def format_summary(s: Summary, model: SimModel) -> str:
    """A plain-text report of a summary (what the command line prints). Every figure is rounded to the
    precision its 95% interval supports (``app.sim.numbers``)."""
    horizon = format_duration(model.horizon_s)
    warmup = f"{format_duration(model.warmup_s)} warm-up" if model.warmup_s > 0 else "no warm-up"
    if s.deterministic:
        head = (
            f"1 replication of {horizon} ({warmup}): the model has no randomness (fixed times, no failures), "
            "so every replication would be identical"
            + (f" — {s.requested_replications} were asked for, one was run" if s.requested_replications > 1 else "")
            + "; its figures are exact"
        )
    elif s.replications == 1:
        head = f"1 replication of {horizon} ({warmup}): confidence intervals n/a (1 replication)"
    else:
        head = f"{s.replications} replications of {horizon} each ({warmup}); ± is the 95% confidence interval"
    lines = [head, ""]
    lines += [f"Warning: {w}" for w in s.warnings]
    if s.warnings:
        lines.append("")

    def cell(e: Estimate, scale: float = 1.0) -> str:
        if not e.n:
            return "—"
        if s.replications == 1 and not s.deterministic:
            return format_number(e.mean * scale)  # the header says why there is no interval
        return e.format(scale=scale)

    none = Estimate(math.nan, math.inf, 0)
    cols = ("demand /h", "throughput /h", *(("scrap /h",) if s.scrap_per_h else ()), "lead time min", "from order min")
    lines.append(f"{'part':<14}" + "".join(f"{c:>20}" for c in (*cols, "backlog at end")))
    for p in [*s.parts, "total"]:
        row = (
            cell(s.demand_per_h.get(p, none)),
            cell(s.throughput_per_h[p]),
            *((cell(s.scrap_per_h.get(p, none)),) if s.scrap_per_h else ()),
            cell(s.lead_time_s[p], 1 / 60),
            cell(s.order_lead_time_s.get(p, none), 1 / 60),
            cell(s.backlog_end.get(p, none)),
        )
        lines.append(f"{p:<14}" + "".join(f"{c:>20}" for c in row))
    lines += [
        "",
        'Lead time runs from entering the first station to leaving the last; "from order" adds the wait at the',
        "source while the first station is full (the backlog)."
        + (" Scrap: parts that left the line as scrap (not in the throughput)." if s.scrap_per_h else ""),
        "",
        f"WIP (parts in system, time-average): {cell(s.wip)}",
    ]
    if "total" in s.not_served_per_h and s.not_served_per_h["total"].n:
        lines.append(
            f"Orders waiting at the sources: {cell(s.backlog_mean['total'])} on average; "
            f"demand not served: {cell(s.not_served_per_h['total'])} orders/h"
        )
    lines += [
        f"Energy: {cell(s.energy_kwh)} kWh",
        f"Bottleneck: {s.bottleneck} (active {s.bottleneck_share:.0%} of the time)",
        "",
    ]
    # The planned stops (off shift, maintenance) get a column only when some machine had one.
    shown = [n for n in STATES if n not in PLANNED_STATES or any(s.states[sid][n].mean > 0 for sid in s.stations)]
    lines.append(f"{'machine':<10}" + "".join(f"{name:>18}" for name in shown))
    for sid in s.stations:
        shares = s.states[sid]
        lines.append(f"{sid:<10}" + "".join(f"{cell(shares[n], 100) + '%':>18}" for n in shown))
    gap = s.little_gap
    if gap.n:
        verdict = "holds" if abs(gap.mean) < 0.02 else "does not hold"
        lines += [
            "",
            f"Little's law check: WIP = throughput × lead time {verdict} — the relative gap (WIP − λ·W)/WIP is "
            f"{cell(gap, 100)}% (near 0 means the figures are consistent)",
        ]
    lines.append(f"Engine speed: {s.events_per_s:,.0f} events/s")
    return "\n".join(lines)
