"""The recorded window a comparison is made against: continuous recorded data only, and how much of it.

A window of "the last 60 minutes" of history may hold link outages and plant restarts. Values are only
known while the link was up (``app.history.sessions.connected_periods``), and a part counter that restarts
with the plant cannot be differenced across the restart. So a window is the **connected stretches** inside
it, never one span stitched across a gap, and it says how much it has: "42 min of 60, 2 gaps".

How KPIs are computed over a window with gaps (``observe_stretches``): each stretch is observed on its own
(``app.compare.kpis.observe_history``) and the observations are **summed over the connected stretches**:
seconds in each state, operations, parts out and energy are added up, and every rate divides by the
*connected* time only. A gap never counts as zero output, and nothing is counted across it. WIP is the
time-weighted mean of the stretches' WIP. A machine whose part counter is unknown in a stretch has its
output rate taken over the stretches where it is known.

The simulation compared with it covers as much simulated time as the window's connected time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.compare.kpis import STATE_COLUMN, Observation, exits_over_time_history, observe_history
from app.history.sessions import connected_periods
from app.model.factory import Factory
from app.sim.bottleneck import BottleneckShares, BottleneckTimeline, from_changes, summarise

#: A connected stretch shorter than this (a reconnect that dropped again at once) is not used. Short: a
#: plant simulator run many times faster than real time fills a whole window in seconds.
MIN_STRETCH_S = 1.0


@dataclass(frozen=True)
class ActualsWindow:
    """The connected stretches (start, end) of recorded history inside a requested window.

    >>> w = ActualsWindow(3600.0, ((0.0, 1200.0), (1500.0, 2400.0), (2500.0, 2920.0)))
    >>> w.text()
    '42 min of 60, 2 gaps'
    >>> ActualsWindow(3600.0, ((0.0, 3600.0),)).text()
    '60 min of 60, no gaps'
    """

    requested_s: float
    stretches: tuple[tuple[float, float], ...]
    holes: int | None = None  # interruptions inside the recorded part of the window (None: between stretches)

    @property
    def connected_s(self) -> float:
        """Recorded seconds in all (the time rates are divided by)."""
        return float(sum(b - a for a, b in self.stretches))

    @property
    def gaps(self) -> int:
        """Interruptions (link outages, plant restarts) in the window: between the stretches, and at its
        ends where history was recorded before or after."""
        return self.holes if self.holes is not None else max(len(self.stretches) - 1, 0)

    @property
    def span(self) -> tuple[float, float]:
        """From the first stretch's start to the last one's end."""
        return (self.stretches[0][0], self.stretches[-1][1]) if self.stretches else (math.nan, math.nan)

    def text(self) -> str:
        """How much continuous data the window has: ``42 min of 60, 2 gaps``."""
        gaps = "no gaps" if self.gaps == 0 else "1 gap" if self.gaps == 1 else f"{self.gaps} gaps"
        return f"{minutes_had(self.connected_s)} min of {self.requested_s / 60:.0f}, {gaps}"


def minutes_had(seconds: float) -> str:
    """Minutes of data, rounded down (never more than there is: 0.86 min read "1 min" beside "needs ≥ 1 min");
    a tenth under ten minutes.

    >>> minutes_had(52.0), minutes_had(599.0), minutes_had(2520.0), minutes_had(0.0)
    ('0.8', '9.9', '42', '0')
    """
    m = max(0.0, seconds) / 60.0
    return f"{math.floor(m * 10) / 10:g}" if m < 10 else f"{math.floor(m):.0f}"


def connected_stretches(
    history, t0: float, t1: float, min_stretch_s: float = MIN_STRETCH_S
) -> tuple[tuple[float, float], ...]:
    """The link's connected periods clipped to [t0, t1] (and to the recorded span), each at least
    ``min_stretch_s`` long, in time order."""
    span = history.span()
    if span is None:
        return ()
    lo, hi = max(t0, span[0]), min(t1, span[1])
    out = []
    for a, b in connected_periods(history, lo, hi):
        a, b = max(a, lo), min(b, hi)
        if b - a >= min_stretch_s:
            out.append((float(a), float(b)))
    return tuple(out)


def recent_window(history, minutes: float, min_stretch_s: float = MIN_STRETCH_S) -> ActualsWindow | None:
    """The last ``minutes`` of the history as connected stretches (None: no history)."""
    span = history.span()
    if span is None or minutes <= 0:
        return None
    t1 = span[1]
    lo = max(t1 - minutes * 60.0, span[0])
    stretches = connected_stretches(history, lo, t1, min_stretch_s)
    return ActualsWindow(minutes * 60.0, stretches, holes(stretches, lo, t1))


def holes(stretches: tuple[tuple[float, float], ...], lo: float, hi: float, tolerance_s: float = 1.0) -> int:
    """Uncovered pieces of [lo, hi] between and around the stretches.

    >>> holes(((10.0, 20.0), (30.0, 40.0)), 0.0, 40.0), holes(((0.0, 40.0),), 0.0, 40.0), holes((), 0.0, 9.0)
    (2, 0, 1)
    """
    holes, cursor = 0, lo
    for a, b in stretches:
        holes += a > cursor + tolerance_s
        cursor = max(cursor, b)
    return holes + (hi > cursor + tolerance_s)


def observe_stretches(
    history, factory: Factory, stretches: tuple[tuple[float, float], ...] | list[tuple[float, float]], time_scale: float = 1.0
) -> Observation:
    """The stretches of recorded history as one observation: sums over the connected stretches, rates over
    connected time only (see the module's text). ``ValueError`` without a stretch."""
    if not stretches:
        raise ValueError("no connected stretch of recorded history to observe")
    parts = [observe_history(history, factory, a, b, time_scale) for a, b in stretches]
    if len(parts) == 1:
        return parts[0]
    return combine(parts)


def combine(parts: list[Observation]) -> Observation:
    """Observations of separate stretches as one: sums, with rates over the time each figure was known."""
    seconds = np.array([o.seconds for o in parts])
    total = float(seconds.sum())
    ops_total = _over_known(np.array([o.ops for o in parts]), seconds)  # (stretches, machines) → (machines,)
    energy_total = _over_known(np.array([o.energy_kwh for o in parts]), seconds)
    wip = np.array([o.wip for o in parts])
    ok = np.isfinite(wip)
    exits = np.array([o.exits for o in parts])
    x_ok = np.isfinite(exits)
    return Observation(
        machines=list(parts[0].machines),
        seconds=total,
        state_s=np.sum([o.state_s for o in parts], axis=0),
        ops=ops_total,
        energy_kwh=energy_total,
        wip=float((wip[ok] * seconds[ok]).sum() / seconds[ok].sum()) if ok.any() else math.nan,
        exits=float(exits[x_ok].sum() * total / seconds[x_ok].sum()) if x_ok.any() else math.nan,
        source="history",
        shown_state=parts[0].shown_state,
    )


def _over_known(values: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Per machine, the sum over the stretches where its figure is known, stretched to all of their time
    (the rate over the known time); NaN where it is known in none — an unknown is never added as 0."""
    known = np.isfinite(values)
    known_s = (known * seconds[:, None]).sum(axis=0)
    summed = np.where(known, values, 0.0).sum(axis=0)  # only known figures are added
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(known_s > 0, summed * seconds.sum() / known_s, np.nan)


def exits_over_stretches(
    history, factory: Factory, stretches: tuple[tuple[float, float], ...] | list[tuple[float, float]], time_scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative parts out over *connected* hours: the stretches laid end to end, each one's count added
    to the ones before (a counter that began again after a restart does not pull the line down), on the
    same time axis as the simulation, which covers the connected time."""
    xs, ys = [], []
    x0 = y0 = 0.0
    for a, b in stretches:
        x, y = exits_over_time_history(history, factory, a, b, time_scale, points=max(2, min(200, int(b - a) // 5)))
        if not len(x):
            x0 += (b - a) * time_scale / 3600.0
            continue
        xs.append(x + x0)
        ys.append(y + y0)
        x0, y0 = x0 + (b - a) * time_scale / 3600.0, y0 + float(y[-1])
    return (np.concatenate(xs), np.concatenate(ys)) if xs else (np.zeros(0), np.zeros(0))


def bottlenecks_over_stretches(
    history, factory: Factory, stretches: tuple[tuple[float, float], ...] | list[tuple[float, float]], time_scale: float = 1.0
) -> BottleneckShares:
    """The shifting-bottleneck analysis (``app.sim.bottleneck``) of recorded history: each connected stretch
    analysed on its own from the exact state changes (never across a gap or a restart), the shares over
    their summed time. Times are plant seconds since each stretch's start (``time_scale``: plant seconds per
    recorded second); a state not known (before the first reading, a bad reading) interrupts an active period."""
    names = [m.id for m in factory.machines]
    timelines = [_stretch_timeline(history, names, a, b, time_scale) for a, b in stretches if b > a]
    return summarise(timelines, "history")


def _stretch_timeline(history, names: list[str], t0: float, t1: float, time_scale: float) -> BottleneckTimeline:
    start = history.state_at(t0)
    changes = []
    for mid in names:
        first = start.get((mid, "State"))
        text = first[1] if first and (first[2] >> 30) == 0 else None
        times, texts = history.text_series(mid, "State", t0, t1)
        keep = times > t0
        read = [text, *[x for x, k in zip(texts, keep, strict=True) if k]]
        codes = [STATE_COLUMN.get(v, -1) if v is not None else -1 for v in read]
        t = np.concatenate([[t0], times[keep]])
        differs = np.concatenate([[True], np.diff(codes) != 0])  # a repeated reading is no change
        changes.append(((t[differs] - t0) * time_scale, np.array(codes)[differs]))
    return from_changes(names, changes, 0.0, (t1 - t0) * time_scale)
