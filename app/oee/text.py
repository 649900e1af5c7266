"""What the OEE dashboard says, made here (no Qt): bar rows, the waterfall's steps, the Pareto, the sentence
above them. Figures are whole per cent, or as many digits as a simulation's interval supports; a row with
too little planned production time claims nothing ("not enough data — needs ≥ 10 min …").

Examples
--------
>>> percent(0.8349), percent(float("nan"))
('83%', '—')
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.oee.losses import MIN_PLANNED_S, UNASSIGNED, Figures, LossTimes, pareto, waterfall
from app.oee.report import OeeReport
from app.sim.numbers import UNKNOWN, format_duration, format_estimate, format_number, round_to_interval

NOT_ENOUGH = f"not enough data — needs ≥ {MIN_PLANNED_S / 60:.0f} min of planned production time"


def percent(x: float) -> str:
    """A share (0–1) as whole per cent ("—" when unknown)."""
    return f"{x * 100:.0f}%" if math.isfinite(x) else UNKNOWN


@dataclass(frozen=True)
class BarRow:
    """One machine's bar: its id, its row in the report, the value drawn (OEE in %, NaN when none is
    claimed) and the text beside it (``bar_tooltip`` says more)."""

    machine: str
    index: int
    value: float
    text: str
    bound: bool = False  # the quality is unknown: ``value`` is A × P, an upper bound of the OEE (Q ≤ 1)


def _apq(f: Figures, i: int) -> str:
    return (
        f"availability {percent(f.availability[i])} × performance {percent(f.performance[i])} × "
        f"quality {percent(f.quality[i]) if math.isfinite(f.quality[i]) else 'unknown (no scrap count)'}"
    )


def machine_rows(report: OeeReport, group: int = 0) -> list[BarRow]:
    """The bars of the machines under ``group`` (0: the top), best OEE first; unknown and unclaimed last."""
    members = report.tree.members(group) if report.tree.n_groups else np.arange(len(report.machines.machines))
    f, names = report.machine_figures, report.machines.machines
    oee, hw, enough = f.oee * 100, report.oee_half_width * 100, f.enough
    bound = f.availability * f.performance * 100
    interval = report.replications > 1
    rows = []
    for i in members.tolist():
        value = float(oee[i]) if enough[i] else math.nan
        if enough[i] and not math.isfinite(value) and math.isfinite(bound[i]):
            rows.append(BarRow(names[i], i, float(bound[i]), f"≤{bound[i]:.0f}%", True))
            continue
        if not math.isfinite(value):
            label = "—"
        elif interval and math.isfinite(hw[i]) and hw[i] > 0:
            label = f"{round_to_interval(value, float(hw[i]))[0]}%"
        else:
            label = f"{value:.0f}%"
        rows.append(BarRow(names[i], i, value, label))
    known = [r for r in rows if math.isfinite(r.value)]
    return sorted(known, key=lambda r: -r.value) + [r for r in rows if not math.isfinite(r.value)]


def bar_tooltip(report: OeeReport, i: int) -> str:
    """What a machine's bar says on hover: its OEE (with its interval) and A × P × Q, or why none is claimed."""
    f, name = report.machine_figures, report.machines.machines[i]
    if not f.enough[i]:
        return f"{name}: {NOT_ENOUGH} (has {format_duration(f.planned_s[i])})"
    oee, hw = float(f.oee[i]), float(report.oee_half_width[i])
    if not math.isfinite(oee):
        return f"{name}: {_unknown_quality(f, i)}"
    shown = format_estimate(oee * 100, hw * 100, "%", report.replications) if math.isfinite(hw) else percent(oee)
    return f"{name}: OEE {shown} = {_apq(f, i)}"


def _unknown_quality(f: Figures, i: int) -> str:
    """The OEE of a row whose quality is unknown: at most A × P (quality is at most 100%)."""
    bound = f.availability[i] * f.performance[i]
    return (
        f"OEE ≤ {percent(bound)} (quality unknown: no scrap count) = availability {percent(f.availability[i])} × "
        f"performance {percent(f.performance[i])}"
    )


def summary(report: OeeReport, group: int = 0) -> str:
    """One sentence on a group: its OEE and A × P × Q, or why none is claimed."""
    f = report.group_figures
    name = report.group_labels[group]
    if not f.enough[group]:
        return f"{name}: {NOT_ENOUGH}"
    if not math.isfinite(f.oee[group]):
        return f"{name}: {_unknown_quality(f, group)}"
    return f"{name}: OEE {percent(f.oee[group])} = {_apq(f, group)}"


@dataclass(frozen=True)
class Step:
    """A bar of the waterfall in % of the known time: from ``bottom`` to ``bottom + height``."""

    label: str
    bottom: float
    height: float
    text: str
    loss: bool


def waterfall_steps(times: LossTimes, row: int) -> list[Step]:
    """100% → planned stop → downtime → speed → scrap → productive (the OEE of planned time in its text)."""
    w = waterfall(times, row)
    if not w.known_s > 0:
        return []
    steps = [Step("All time", 0.0, 100.0, "100%", False)]
    level = 100.0
    for label, share in (("Planned stop", w.planned_stop), ("Downtime", w.downtime), ("Speed", w.speed), ("Scrap", w.scrap)):
        if not math.isfinite(share):
            steps.append(Step(label, level, 0.0, "unknown", True))
            continue
        level -= share * 100
        text = f"−{format_number(share * 100, digits=2)}%" if share else "0%"
        steps.append(Step(label, level, share * 100, text, True))
    bound = w.productive * w.known_s / planned if (planned := w.known_s * (1 - w.planned_stop)) > 0 else math.nan
    oee = f"OEE {percent(w.oee)}" if math.isfinite(w.oee) else f"OEE ≤ {percent(bound)}"
    steps.append(Step("Productive", 0.0, max(level, 0.0), oee, False))
    return steps


def pareto_rows(times: LossTimes, rows) -> list[tuple[str, float, str]]:
    """(reason, hours, text) of the downtime of ``rows``, largest first; "unassigned" is downtime nobody
    gave a reason for."""
    found = pareto(times, rows)
    total = sum(s for _r, s in found)
    out = []
    for reason, s in found:
        label = "unassigned (no reason given)" if reason == UNASSIGNED else reason
        out.append((label, s / 3600.0, f"{format_duration(s)} · {s / total * 100:.0f}%"))
    return out


def hourly_text(report: OeeReport) -> str:
    """What the per-hour chart shows, or why it is empty."""
    if not len(report.hours):
        return "Parts out per hour: not enough data — needs ≥ 1 whole hour of plant time"
    known = np.isfinite(report.out_per_h)
    mean = float(np.mean(report.out_per_h[known])) if known.any() else math.nan
    met = int(np.sum(report.out_per_h[known] >= report.target_per_h[known]))
    return (
        f"Parts out of the plant per hour: mean {format_number(mean, digits=3)} against the demand's "
        f"{format_number(float(np.max(report.target_per_h)), digits=3)}/h; target met in {met} of {int(known.sum())} h"
    )


def scopes(report: OeeReport) -> list[tuple[int, str]]:
    """Groups to choose from (index, label indented by depth), skipping the made-up ones of a flat file."""
    tree = report.tree
    return [(g, "    " * grp.depth + report.group_labels[g]) for g, grp in enumerate(tree.groups) if not grp.implicit]
