"""Clock arithmetic of shift calendars: times of day, shifts that run past midnight, overlaps.

The calendar records themselves (``Calendar``, ``Shift``, ``Break``, ``MaintenanceWindow``) live with the
rest of the format in ``app.model.factory``; their validators and the simulation's timetable
(``app.sim.calendar``) share these helpers, so "a shift from 22:00 to 06:00 ends the next morning" is
decided in one place.

Examples
--------
>>> seconds_of_day("06:30"), seconds_of_day("24:00")
(23400, 86400)
>>> span("22:00", "06:00")  # a night shift: it ends the next day
(79200, 108000)
>>> describe_span(79200, 108000)
'22:00–06:00'
"""

from __future__ import annotations

import datetime as _dt
from typing import Final

DAY_S: Final = 86_400
WEEK_S: Final = 7 * DAY_S
WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: Keys of ``Calendar.shifts`` that stand for several days.
DAY_GROUPS: Final = {"weekdays": WEEKDAYS[:5], "daily": WEEKDAYS}
#: A time of day as the format writes it: ``HH:MM`` or ``HH:MM:SS`` (``24:00`` ends a day).
CLOCK_PATTERN: Final = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$|^24:00(:00)?$"
#: A calendar date: ``YYYY-MM-DD``.
DATE_PATTERN: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def seconds_of_day(clock: str) -> int:
    """Seconds since midnight of a ``HH:MM[:SS]`` time."""
    parts = [int(x) for x in clock.split(":")]
    return parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0)


def span(start: str, end: str) -> tuple[int, int]:
    """(start, end) in seconds from the day's midnight; an end at or before the start is the next day's."""
    a, b = seconds_of_day(start), seconds_of_day(end)
    if b <= a:
        b += DAY_S
    return a, b


def inner_span(outer_start: int, start: str, end: str) -> tuple[int, int]:
    """A break's (start, end) in seconds from its shift's midnight: times before the shift's start are the
    next day's (a 02:00 break in a 22:00–06:00 shift)."""
    a, b = seconds_of_day(start), seconds_of_day(end)
    if a < outer_start % DAY_S:
        a += DAY_S
    while b <= a:
        b += DAY_S
    return a, b


def describe_span(a: float, b: float) -> str:
    """``HH:MM–HH:MM`` of seconds from a midnight (seconds shown only when there are some)."""

    def clock(s: float) -> str:
        whole = round(s) % DAY_S if s != DAY_S else DAY_S
        h, rest = divmod(whole, 3600)
        m, sec = divmod(rest, 60)
        return f"{h:02d}:{m:02d}" + (f":{sec:02d}" if sec else "")

    return f"{clock(a)}–{clock(b)}"


def parse_date(text: str) -> _dt.date:
    """A ``YYYY-MM-DD`` date (ValueError naming what is wrong otherwise)."""
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f'"{text}" is not a date (expected YYYY-MM-DD, such as 2026-12-24)') from None


def days_of(key: str) -> tuple[str, ...]:
    """The weekdays a ``shifts`` key stands for (``monday`` … ``sunday``, ``weekdays``, ``daily``)."""
    return DAY_GROUPS.get(key, (key,))


def week_overlaps(spans: list[tuple[str, int, int]]) -> list[tuple[str, str]]:
    """Pairs of labels whose week-relative (start, end) seconds overlap, the week wrapping round (a Sunday
    night shift runs into Monday morning). ``spans``: (label, start, end) with 0 ≤ start < 7 days."""
    out = []
    items = sorted(spans, key=lambda s: s[1])
    for k, (la, a0, a1) in enumerate(items):
        for lb, b0, b1 in items[k + 1 :]:
            if b0 < a1 or b1 - WEEK_S > a0 or a1 - WEEK_S > b0:
                pair = (la, lb)
                if pair not in out and (lb, la) not in out:
                    out.append(pair)
    return out
