"""The shift's forecast, kept fresh: what a view's timer calls (``tick``) and its "Forecast now" button
(``refresh``), with the shift's start, end and target. Qt-free: it reads the live store and the recorded
history and asks the forecast service; the view draws what the service emits.

``tick`` refreshes on the plant's clock (``app.forecast.schedule``), begins the next shift when one ends
(``roll``: same length and target, its parts counted from its own start) and forecasts anew after a new
version of the factory (``set_factory``, e.g. a recalibration).

Examples
--------
>>> shift = Shift(start=0.0, end=8 * 3600.0, target=320)
>>> shift.horizon_s(now=3 * 3600.0), shift.horizon_s(now=9 * 3600.0)
(18000.0, 0.0)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from app.forecast.chart import actual_parts_out
from app.forecast.live_state import LiveState, exit_stations, from_store
from app.forecast.schedule import RefreshSchedule
from app.forecast.service import ForecastService
from app.history.recorder import History
from app.model.factory import Factory
from app.sim.model import SimModel, compile_model
from app.state.store import StateStore


@dataclass(frozen=True)
class Shift:
    """A shift: from ``start`` to ``end`` (UNIX seconds), ``target`` parts out by its end (None: none)."""

    start: float
    end: float
    target: int | None = None

    def horizon_s(self, now: float, time_scale: float = 1.0) -> float:
        """Plant seconds from ``now`` to the shift's end (0 once it is over)."""
        return max(self.end - now, 0.0) * time_scale

    def holding(self, now: float) -> Shift:
        """The shift of the same length (and target) that holds ``now``: this one until it ends, then the next.

        >>> Shift(0.0, 100.0).holding(250.0)
        Shift(start=200.0, end=300.0, target=None)
        """
        length = self.end - self.start
        if now < self.end or length <= 0:
            return self
        start = self.start + math.floor((now - self.start) / length) * length
        return Shift(start, start + length, self.target)


class ShiftForecast:
    """Forecasts of the rest of ``shift`` from the live ``store``, the parts made so far from ``history``.

    ``time_scale``: plant seconds per second of the clock (a plant simulator run with ``--speed N``: N).
    Without a history the parts made so far are the exits' counts now minus their counts when this object
    first saw them in the shift (the chart's actual then starts there). ``schedule``: the automatic refresh
    policy (by default every ``service.refresh_every_s`` of plant time, at most every 10 s of the clock).
    """

    def __init__(
        self,
        service: ForecastService,
        model: SimModel,
        store: StateStore,
        shift: Shift,
        history: History | None = None,
        time_scale: float = 1.0,
        schedule: RefreshSchedule | None = None,
    ):
        self.service, self.model, self.store = service, model, store
        self.shift, self.history, self.time_scale = shift, history, time_scale
        self.schedule = schedule if schedule is not None else RefreshSchedule(plant_every_s=service.refresh_every_s)
        self.exits = [model.stations[i].id for i in exit_stations(model)]
        self._first_seen: tuple[float, int] | None = None
        self._seen: list[tuple[float, int]] = []  # (time, parts out) seen by ``actual`` without a history

    def set_shift(self, shift: Shift) -> None:
        """Another shift (or target): forecast it now."""
        self.shift = shift
        self.refresh()

    def set_factory(self, factory: Factory) -> None:
        """A new version of the factory (an edit, a recalibration, an undo): the forecast under way is
        cancelled and the next ``tick`` forecasts with this one (once the clock floor allows)."""
        self.service.set_factory(factory)
        self.model = compile_model(factory, horizon_s=3600.0, warmup_s=0.0)
        self.exits = [self.model.stations[i].id for i in exit_stations(self.model)]
        self.schedule.factory_changed()

    def roll(self, now: float | None = None) -> bool:
        """Begin the next shift once this one has ended (True then): the forecast of the old one is
        cancelled, the parts made count from the new start, and the next ``tick`` forecasts the new one."""
        now = time.time() if now is None else now
        shift = self.shift.holding(now)
        if shift == self.shift:
            return False
        self.shift = shift
        self.service.cancel()
        self._first_seen, self._seen = None, []
        self.schedule.shift_began()
        return True

    def actual(self, now: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(UNIX times, parts out since the shift began) up to ``now``."""
        now = time.time() if now is None else now
        if self.history is not None:
            return actual_parts_out(self.history, self.exits, self.shift.start, now)
        live = from_store(self.store, self.model, now, self.time_scale)
        if live.parts_out < 0:
            return np.zeros(0), np.zeros(0)
        if self._first_seen is None:
            self._first_seen = (now, live.parts_out)
        if not self._seen or self._seen[-1][1] != live.parts_out:
            self._seen.append((now, live.parts_out))
        t = np.array([s[0] for s in self._seen])
        n = np.array([s[1] for s in self._seen], dtype=float) - self._first_seen[1]
        return t, n

    def made_so_far(self, now: float) -> int:
        _, n = self.actual(now)
        return int(n[-1]) if len(n) else 0

    def refresh(self, now: float | None = None) -> int | None:
        """Forecast the rest of the shift now (on demand); the request's number, None when the shift is over."""
        now = time.time() if now is None else now
        horizon = self.shift.horizon_s(now, self.time_scale)
        if horizon <= 0:
            return None
        live: LiveState = from_store(self.store, self.model, now, self.time_scale)
        self.schedule.requested(now)
        return self.service.request(live, horizon, self.shift.target, self.made_so_far(now))

    def due(self, now: float) -> bool:
        """True when the refresh policy asks for a forecast now (``app.forecast.schedule``)."""
        return self.schedule.due(now, self.time_scale, self.service.running, self.service.last_took_s)

    def tick(self, now: float | None = None) -> int | None:
        """The view timer's call: the next shift once this one ends, and a forecast when one is due."""
        now = time.time() if now is None else now
        self.roll(now)
        if not self.due(now):
            return None
        return self.refresh(now)



def shift_end(start: float, plant_hours: float, time_scale: float = 1.0) -> float:
    """The clock time (UNIX s) a shift of ``plant_hours`` of plant time begun at ``start`` ends, on a plant
    whose clock runs ``time_scale`` times the wall clock (a plant simulator's ``--speed``).

    >>> shift_end(0.0, 8.0), shift_end(0.0, 8.0, time_scale=20.0)
    (28800.0, 1440.0)
    """
    return start + plant_hours * 3600.0 / time_scale


def shift_text(start: float, end: float, now: float, time_scale: float = 1.0) -> str:
    """The shift in words. On a plant at real time, local clock times: "shift 06:00–14:00, 4 h 50 min left"
    (or "over"). On a faster plant the shift is plant time — its length and what is left, as the chart's
    axis and the forecast count — and the clock time it ends at:
    "shift of 8 h plant time (20× real time), 4 h 48 min left; ends 06:24".

    >>> shift_text(0.0, 1440.0, 720.0, time_scale=20.0).split(";")[0]
    'shift of 8 h plant time (20× real time), 4 h left'
    """
    from datetime import datetime

    from app.sim.numbers import format_duration, format_span

    left = end - now
    if time_scale == 1.0:
        span = f"shift {datetime.fromtimestamp(start):%H:%M}–{datetime.fromtimestamp(end):%H:%M}"
        return f"{span}, {format_span(left)} left" if left > 0 else f"{span}, over"
    span = f"shift of {format_duration((end - start) * time_scale)} plant time ({time_scale:g}× real time)"
    if left <= 0:
        return f"{span}, over"
    return f"{span}, {format_span(left * time_scale)} left; ends {datetime.fromtimestamp(end):%H:%M}"
