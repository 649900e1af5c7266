"""KPIs of a simulation run with 95% confidence intervals over replications (Student t)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.sim.engine import STATES, ReplicationResult
from app.sim.model import SimModel


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
        if not math.isfinite(self.half_width):
            return f"{self.mean:.4g}"
        return f"{self.mean:.4g} ± {self.half_width:.2g}"


def estimate(values: Sequence[float], confidence: float = 0.95) -> Estimate:
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
    # The bottleneck is the station with the largest active share (running + setup + down): the one whose
    # capacity limits the line (active-period method, Roser et al. 2001).
    active = np.mean([sh[:, 0] + sh[:, 1] + sh[:, 4] for sh in share], axis=0)
    b = int(np.argmax(active)) if len(active) else 0
    little = []
    for r in results:
        if r.total_throughput and r.wip_area > 0:
            L = r.wip_area / r.measured_s
            lam = r.total_throughput / r.measured_s
            W = sum(r.lead_time_sum_s) / r.total_throughput
            little.append((L - lam * W) / L)
    events = sum(r.events for r in results) / max(sum(r.wall_s for r in results), 1e-9)
    return Summary(
        parts=list(parts),
        stations=ids,
        throughput_per_h=per_h,
        lead_time_s=lead,
        wip=wip,
        utilisation=util,
        states=states,
        energy_kwh=estimate([float(r.energy_kwh.sum()) for r in results]),
        bottleneck=ids[b] if ids else "",
        bottleneck_share=float(active[b]) if len(active) else 0.0,
        little_gap=estimate(little) if little else Estimate(0.0, float("inf"), 0),
        events_per_s=events,
        replications=len(results),
    )


def format_summary(s: Summary, model: SimModel) -> str:
    """A plain-text report of a summary (what the command line prints)."""
    lines = [
        f"{s.replications} replications, {model.horizon_s / 86400:g} days each ({model.warmup_s / 3600:g} h warm-up); "
        f"95% confidence intervals",
        "",
    ]
    lines.append(f"{'part':<14}{'throughput /h':>22}{'lead time min':>22}")
    for p in [*s.parts, "total"]:
        lt = s.lead_time_s[p]
        lt_min = f"{lt.mean / 60:.4g} ± {lt.half_width / 60:.2g}" if lt.n else "—"
        lines.append(f"{p:<14}{s.throughput_per_h[p]!s:>22}{lt_min:>22}")
    lines += [
        "",
        f"WIP (parts in system): {s.wip}",
        f"Energy: {s.energy_kwh} kWh",
        f"Bottleneck: {s.bottleneck} (active {s.bottleneck_share:.0%} of the time)",
        "",
    ]
    lines.append(f"{'machine':<10}" + "".join(f"{name:>18}" for name in STATES))
    for sid in s.stations:
        row = s.states[sid]
        lines.append(f"{sid:<10}" + "".join(f"{row[n].mean:>11.1%} ±{row[n].half_width:>5.1%}" for n in STATES))
    lines += ["", f"Little's law check (WIP − λ·W)/WIP: {s.little_gap}", f"Engine speed: {s.events_per_s:,.0f} events/s"]
    return "\n".join(lines)
