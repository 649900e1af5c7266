"""What the parts-out chart draws: the actual parts out since the shift began (from the recorded history)
and the forecast from now (median and 95% band), on one clock — the plant's hours from the shift's start
(on a plant simulator run faster than real time, the clock times of the actual counts are scaled by its
speed, as the forecast's times are plant seconds already).

Examples
--------
>>> import numpy as np
>>> t, n = parts_out_since(np.array([0.0, 60.0, 120.0, 180.0]), np.array([10.0, 12.0, 0.0, 3.0]))
>>> n.tolist()  # a counter that restarts (the plant restarted) keeps adding, never goes back
[0.0, 2.0, 2.0, 5.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.forecast.forecast import Forecast
from app.forecast.live_state import COUNT
from app.history.recorder import History


def parts_out_since(t: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parts out since the first sample of a part counter: the sum of its increases (a counter that goes
    back — the plant restarted — counts from its new value)."""
    keep = np.isfinite(count)
    t, count = t[keep], count[keep]
    if not len(t):
        return t, count
    steps = np.diff(count, prepend=count[0])
    return t, np.cumsum(np.where(steps > 0, steps, np.where(steps < 0, np.maximum(count, 0), 0)))


def actual_parts_out(history: History, exits: list[str], t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
    """(UNIX times, parts out since ``t0``) from the recorded part counts of the ``exits`` machines: the last
    count before ``t0`` is the zero."""
    times: list[np.ndarray] = []
    gains: list[np.ndarray] = []
    for machine in exits:
        before, values, status = history.series(machine, COUNT, -math.inf, t1)
        good = (status >> 30) == 0
        before, values = before[good], values[good]
        first = max(int(np.searchsorted(before, t0, side="right")) - 1, 0)
        t, n = parts_out_since(before[first:], values[first:])
        times.append(np.maximum(t, t0))
        gains.append(np.diff(n, prepend=0.0))
    if not times:
        return np.zeros(0), np.zeros(0)
    t = np.concatenate(times)
    order = np.argsort(t, kind="stable")
    return t[order], np.cumsum(np.concatenate(gains)[order])


@dataclass(frozen=True)
class ChartData:
    """Everything the chart draws, in hours from the shift's start."""

    actual_h: np.ndarray
    actual: np.ndarray
    now_h: float
    forecast_h: np.ndarray
    median: np.ndarray
    band: tuple[np.ndarray, np.ndarray] | None
    target: int | None
    caption: list[str]


def chart_data(
    forecast: Forecast | None,
    actual_t: np.ndarray,
    actual: np.ndarray,
    shift_start: float,
    now: float,
    time_scale: float = 1.0,
    shift_end: float | None = None,
) -> ChartData:
    """The chart's curves in plant hours from the shift's start: actual so far (at UNIX times ``actual_t``),
    and the forecast (None: none yet); ``time_scale``: plant seconds per clock second.

    A forecast runs to the shift's end (``shift_end``, UNIX s): it is drawn from the moment it was made —
    the end less its horizon — not from ``now``, which has moved on while it was made and since (at a plant
    20× faster than the clock, a minute is 20 plant minutes). Without ``shift_end``, from ``now``; with it the
    actual is not drawn past the shift's end either (what comes after belongs to the next shift)."""
    if shift_end is not None:
        keep = actual_t <= shift_end
        actual_t, actual = actual_t[keep], actual[keep]
    hours = (actual_t - shift_start) * time_scale / 3600.0
    now_h = (now - shift_start) * time_scale / 3600.0
    if forecast is None:
        empty = np.zeros(0)
        return ChartData(hours, actual, now_h, empty, empty, None, None, ["forecast: being made…"])
    band = forecast.band()
    if shift_end is None:
        made_h, caption = now_h, forecast.summary()
    else:
        made_h = ((shift_end - shift_start) * time_scale - forecast.horizon_s) / 3600.0
        caption = forecast.summary(by="by the shift's end")
        caption.insert(1, made_text(made_h, now_h, time_scale))
    return ChartData(hours, actual, now_h, made_h + forecast.t_s / 3600.0, forecast.median, band, forecast.target, caption)


def made_text(made_h: float, now_h: float, time_scale: float = 1.0) -> str:
    """When the forecast was made, in the chart's clock (the plant's hours into the shift) and how long ago,
    so a caption read later does not contradict the status line's time left.

    >>> made_text(0.4, 0.4), made_text(0.5, 0.5 + 25 / 60, time_scale=20.0)
    ('forecast made just now, 24 min into the shift', 'forecast made 25 min ago (plant time), 30 min into the shift')
    """
    from app.sim.numbers import format_span

    into = f"{format_span(max(made_h, 0.0) * 3600.0)} into the shift"
    ago_s = (now_h - made_h) * 3600.0
    if ago_s < 60.0:  # under a minute: the forecast is the plant as it is
        return f"forecast made just now, {into}"
    clock = "" if time_scale == 1.0 else " (plant time)"
    return f"forecast made {format_span(ago_s)} ago{clock}, {into}"
