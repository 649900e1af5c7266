"""What a machine's trend plots show: its recorded signals over a window ending now (or around a replayed
time), broken where the recording stopped, in units whose axis can take an SI prefix. No widgets: the
trends dock draws a ``TrendWindow``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.history.recorder import History
from app.history.sessions import break_at_gaps, connected_periods
from app.model.signals import TREND_SIGNALS, unit_of

#: Units with a prefix are plotted in their base unit so the axis picks the right prefix itself (0.4 kW is
#: shown as 400 W, 2000 kN as 2 MN, never as "mkW"); units that take no prefix (°C, %) are left alone.
SI_BASE = {"kW": ("W", 1e3), "kN": ("N", 1e3), "MW": ("W", 1e6), "mm": ("m", 1e-3), "ms": ("s", 1e-3)}
#: The shortest time span a trend plot shows (seconds), however little is recorded.
MIN_SPAN_S = 30.0
#: Samples up to this far past the window's end are read too (a clock slightly ahead of ours).
LOOKAHEAD_S = 5.0


def axis_unit(unit: str) -> tuple[str, float, bool]:
    """(unit to label the axis with, factor to multiply values by, whether the axis may add an SI prefix).

    >>> axis_unit("kW"), axis_unit("°C")
    (('W', 1000.0, True), ('°C', 1.0, False))
    """
    if unit in SI_BASE:
        base, factor = SI_BASE[unit]
        return base, factor, True
    return unit, 1.0, False


@dataclass(frozen=True)
class Trend:
    """One signal's line: ``t`` in seconds from now, ``v`` as recorded in ``unit`` (NaN where it breaks)."""

    name: str
    t: np.ndarray
    v: np.ndarray
    unit: str

    @property
    def axis(self) -> tuple[str, float, bool]:
        """The axis's unit, the factor to it and whether it may take an SI prefix (see ``axis_unit``)."""
        return axis_unit(self.unit)

    def plotted(self) -> np.ndarray:
        """The values in the axis's unit."""
        return self.v * self.axis[1]


@dataclass(frozen=True)
class TrendWindow:
    """The trends of one machine: its lines, the x range to show and the replay cursor (seconds from now)."""

    trends: dict[str, Trend]
    x_range: tuple[float, float]
    cursor: float | None

    def units(self) -> dict[str, str]:
        """Each plotted signal's unit (a change means new axes)."""
        return {name: trend.unit for name, trend in self.trends.items()}


def window_end(now: float, window_s: float, cursor: float | None = None) -> float:
    """Where the window ends: now, or a little after a replayed time the window would not reach."""
    if cursor is not None and cursor < now - 0.8 * window_s:
        return cursor + 0.2 * window_s  # keep the replayed moment in view
    return now


def x_range(first: float | None, end: float, now: float, window_s: float) -> tuple[float, float]:
    """The x range (seconds from now) of a window ending at ``end`` whose first sample is ``first`` seconds
    from now: a short recording fills the plot (at least ``MIN_SPAN_S``) rather than sitting as a sliver at
    the right of ten empty minutes.

    >>> x_range(-100.0, 1000.0, 1000.0, 600.0), x_range(-5.0, 1000.0, 1000.0, 600.0)
    ((-100.0, 0.0), (-30.0, 0.0))
    """
    lo = end - now - window_s
    return max(lo, min(lo if first is None else first, end - now - MIN_SPAN_S)), end - now


def trend_window(
    history: History,
    machine: str,
    now: float,
    window_s: float,
    cursor: float | None = None,
    units: dict[str, str] | None = None,
) -> TrendWindow:
    """The recorded trends of ``machine`` over the ``window_s`` seconds before now (or around ``cursor``).

    ``units`` are the engineering units the machine's server gives (else floortwin's own). Each line holds
    its last value up to now or the end of its connected period, and breaks where the link was down.
    """
    end = window_end(now, window_s, cursor)
    periods = connected_periods(history, end - window_s, end + LOOKAHEAD_S)
    units = units or {}
    trends = {}
    for name in TREND_SIGNALS:
        t, v, _status = history.series(machine, name, end - window_s, end + LOOKAHEAD_S)
        if len(t):
            t, v = break_at_gaps(t, np.asarray(v, dtype=float), periods, until=min(end, now))
            trends[name] = Trend(name, t - now, v, units.get(name, unit_of(name)))
    first = min((float(tr.t[0]) for tr in trends.values()), default=None)
    return TrendWindow(trends, x_range(first, end, now, window_s), None if cursor is None else cursor - now)
