"""A factory calendar unrolled over a run: when the plant works, and when each machine is in maintenance.

The engine needs three things of a calendar: the working intervals (shifts less breaks and holidays) to
stop and resume work, the maintenance windows per station, and for sources whose orders arrive only on
shift the mapping from working time to calendar time (``after``).

Examples
--------
>>> from app.model.factory import Calendar, Shift
>>> t = timetable(Calendar(shifts={"daily": [Shift(start="06:00", end="14:00")]}), horizon_s=2 * 86400)
>>> t.intervals[:2]
[(21600.0, 50400.0), (108000.0, 136800.0)]
>>> t.after(0.0, 3600.0)  # an hour of working time from midnight: 07:00
25200.0
>>> t.working_s(0.0, 86400.0) / 3600
8.0
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from dataclasses import dataclass, field

from app.model.calendar import DAY_S, WEEKDAYS, days_of, inner_span, parse_date, span
from app.model.factory import Calendar, Shift


@dataclass(frozen=True)
class Timetable:
    """Working intervals [start, end) in simulated seconds, sorted, disjoint and not touching, and the
    merged maintenance windows of each station (by index)."""

    intervals: list[tuple[float, float]]
    maintenance: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    _starts: list[float] = field(default_factory=list, repr=False)
    _cum: list[float] = field(default_factory=list, repr=False)  # working seconds before each interval

    def __post_init__(self) -> None:
        cum, total = [], 0.0
        for a, b in self.intervals:
            cum.append(total)
            total += b - a
        self._starts[:] = [a for a, _ in self.intervals]
        self._cum[:] = cum

    def working_at(self, t: float) -> bool:
        """True when ``t`` lies in a working interval."""
        k = bisect.bisect_right(self._starts, t) - 1
        return k >= 0 and t < self.intervals[k][1]

    def working_before(self, t: float) -> float:
        """Working seconds from 0 to ``t``."""
        k = bisect.bisect_right(self._starts, t) - 1
        if k < 0:
            return 0.0
        a, b = self.intervals[k]
        return self._cum[k] + min(t, b) - a

    def working_s(self, t0: float, t1: float) -> float:
        """Working seconds between ``t0`` and ``t1``."""
        return self.working_before(t1) - self.working_before(t0)

    def after(self, t: float, work_s: float) -> float:
        """The time at which ``work_s`` seconds of working time have passed since ``t`` (inf past the end)."""
        if not self.intervals:
            return math.inf
        target = self.working_before(t) + work_s
        last_a, last_b = self.intervals[-1]
        if target > self._cum[-1] + last_b - last_a:
            return math.inf
        k = bisect.bisect_right(self._cum, target) - 1
        return self.intervals[k][0] + target - self._cum[k]


def _merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _clip(spans: list[tuple[float, float]], end: float) -> list[tuple[float, float]]:
    return [(float(max(a, 0.0)), float(min(b, end))) for a, b in spans if b > 0 and a < end]


def timetable(calendar: Calendar, horizon_s: float, machine_index: dict[str, int] | None = None) -> Timetable:
    """Unroll ``calendar`` over [0, ``horizon_s``] (a day beyond, so arrivals near the end find their time).

    Days run from simulated time 0 = 00:00 of ``start_date`` (a Monday when none is given); a holiday
    drops the shifts that start on it; maintenance windows fall on holidays as on any other day. A calendar
    without shifts works around the clock.
    """
    first = parse_date(calendar.start_date) if calendar.start_date else None
    weekday0 = first.weekday() if first else 0
    holidays = {parse_date(h) for h in calendar.holidays}
    end = horizon_s + DAY_S
    n_days = int(end // DAY_S) + 2
    by_day: dict[str, list] = {d: [] for d in WEEKDAYS}
    # No shifts at all: the plant works around the clock (a calendar of holidays or maintenance only).
    shift_table = calendar.shifts or {"daily": [Shift(start="00:00", end="24:00")]}
    for key, shifts in shift_table.items():
        for day in days_of(key):
            by_day[day].extend(shifts)
    work: list[tuple[float, float]] = []
    for d in range(-1, n_days):
        if first is not None and first + dt.timedelta(days=d) in holidays:
            continue
        midnight = float(d * DAY_S)
        for sh in by_day[WEEKDAYS[(weekday0 + d) % 7]]:
            a, b = span(sh.start, sh.end)
            pauses = sorted(inner_span(a, br.start, br.end) for br in sh.breaks)
            cursor = a
            for p0, p1 in pauses:
                if p0 > cursor:
                    work.append((midnight + cursor, midnight + p0))
                cursor = max(cursor, p1)
            if b > cursor:
                work.append((midnight + cursor, midnight + b))
    maintenance: dict[int, list[tuple[float, float]]] = {}
    index = machine_index or {}
    for w in calendar.maintenance:
        a, b = span(w.start, w.end)
        if w.date is not None and first is not None:
            starts = [float((parse_date(w.date) - first).days * DAY_S)]
        else:
            assert w.weekday is not None
            offset = (WEEKDAYS.index(w.weekday) - weekday0) % 7
            starts = [float((offset + 7 * k) * DAY_S) for k in range(-1, n_days // 7 + 2)]
        for m in w.machines:
            if m in index:
                maintenance.setdefault(index[m], []).extend((s + a, s + b) for s in starts)
    return Timetable(
        intervals=_clip(_merge(work), end),
        maintenance={i: _clip(_merge(spans), end) for i, spans in maintenance.items()},
    )
