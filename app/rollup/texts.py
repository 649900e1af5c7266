"""The roll-up in words: a group row's heading and summary, and its tooltip with every figure.

Rates rest on at least ``app.heat.material.MIN_PARTS`` parts (about ±30%): two significant digits. Time
shares are given once the roll-up has watched ``MIN_WATCHED_S``, in whole percent. Every figure is in the
plant's time (parts per plant hour); on a plant faster than the clock the tooltip says so.

>>> group_heading("Machining", 8)
'Machining  (8)'
"""

from __future__ import annotations

import math

from app.rollup.figures import GroupFigures
from app.sim.numbers import count_of, format_duration, format_number

#: Watched time before utilisation and availability are given.
MIN_WATCHED_S = 600.0
#: How each level of the tree is called in a tooltip.
LEVEL_NAMES = {"enterprise": "Enterprise", "site": "Site", "area": "Area", "line": "Line", "cell": "Work cell"}


def group_heading(name: str, machines: int) -> str:
    """A group row without live figures: its name and how many machines it holds."""
    return f"{name}  ({machines})"


def _rate(figures: GroupFigures, g: int) -> str | None:
    rate = float(figures.throughput_per_h[g])
    return format_number(rate, "parts/h", digits=2) if math.isfinite(rate) else None


def group_summary(figures: GroupFigures, g: int) -> str:
    """The short live line after a group's name: ``3 alarms · 41 parts/h · WIP 12`` (only what is known)."""
    parts = []
    if figures.alarms[g]:
        parts.append(count_of(int(figures.alarms[g]), "alarm"))
    rate = _rate(figures, g)
    if rate is not None:
        parts.append(rate)
    if figures.wip_known[g]:
        parts.append(f"WIP {format_number(float(figures.wip[g]))}")
    return " · ".join(parts)


def group_row(name: str, figures: GroupFigures | None, g: int, machines: int) -> str:
    """``Machining  (8) — 3 alarms · 41 parts/h``, or the heading alone before live figures."""
    heading = group_heading(name, machines)
    summary = group_summary(figures, g) if figures is not None else ""
    return f"{heading} — {summary}" if summary else heading


def _share(value: float, watched_s: float, plant_time: str) -> str:
    if watched_s < MIN_WATCHED_S:
        return (
            f"not enough data — needs ≥ {format_duration(MIN_WATCHED_S)}{plant_time} watched"
            f" ({format_duration(watched_s)} so far)"
        )
    return "—" if not math.isfinite(value) else f"{round(100 * value)}%"


def group_tooltip(level: str, name: str, figures: GroupFigures | None, g: int, machines: int) -> str:
    """Every rolled-up figure of a group, one per line, saying how each is made."""
    lines = [f"{LEVEL_NAMES.get(level, level.title())} {name}: {count_of(machines, 'machine')}"]
    if figures is None:
        return "\n".join([*lines, "Live figures appear here once connected to the plant."])
    scale = figures.time_scale
    plant_time = "" if scale == 1.0 else " of plant time"
    if figures.exits[g] == 0:
        out = "none (no part routing leaves it)"
    elif (rate := _rate(figures, g)) is not None:
        per = "" if scale == 1.0 else f"per plant hour, the plant running {scale:g}× real time; "
        out = f"{rate} ({per}the output of its {count_of(int(figures.exits[g]), 'exit machine')})"
    elif figures.counting[g]:
        out = "counting — not enough parts yet"
    else:
        out = "— (an exit machine's count is unknown)"
    lines += [
        f"Throughput: {out}",
        f"Alarms: {int(figures.alarms[g])}",
        f"WIP: {format_number(float(figures.wip[g]))} parts ({figures.wip_known[g]} of {machines} machines report)"
        if figures.wip_known[g]
        else "WIP: — (no machine reports its level)",
        f"Power: {format_number(float(figures.power_kw[g]), 'kW', digits=3)} now, "
        f"{format_number(float(figures.energy_kwh[g]), 'kWh', digits=3)} since watching began"
        f"{'' if scale == 1.0 else f' ({format_duration(figures.watched_s)} of plant time)'}"
        if figures.power_known[g]
        else "Power: — (no machine reports it)",
        f"Utilisation (time running): {_share(float(figures.utilisation[g]), figures.watched_s, plant_time)}",
        f"Availability (planned time not down): {_share(float(figures.availability[g]), figures.watched_s, plant_time)}",
    ]
    return "\n".join(lines)
