"""When the shift forecast refreshes by itself: every so often in the **plant's** time (a plant simulator run
at 120× real time lives 10 plant hours in 5 clock minutes: a refresh counted on the clock would come once a
shift at best), with a floor in clock time so a very fast plant does not keep the workers forecasting
without a pause, and never while a forecast is being made.

The rule (``RefreshSchedule.due``):

- never while a forecast runs;
- never sooner than ``min_clock_s`` (10 s) of clock time after the last request, nor sooner than the last
  forecast took (so forecasting takes at most about half of the workers' time on any plant);
- then: when ``plant_every_s`` (5 min) of plant time have passed, or at once when the forecast is stale —
  never made, the factory changed (a recalibration), or a new shift began (a new shift even skips the
  clock floor: the old shift's forecast says nothing about it).

At real time that is a refresh every 5 minutes; at 120× every 10 s of the clock (20 plant minutes); at
10,000× every 10 s too.

Examples
--------
>>> s = RefreshSchedule(plant_every_s=300.0, min_clock_s=10.0)
>>> s.due(now=0.0, time_scale=1.0)  # never made
True
>>> s.requested(now=0.0)
>>> s.due(now=299.0, time_scale=1.0), s.due(now=300.0, time_scale=1.0)
(False, True)
>>> s.due(now=3.0, time_scale=120.0), s.due(now=10.0, time_scale=120.0)  # 360 plant s, but the clock floor
(False, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Plant seconds between automatic refreshes.
PLANT_EVERY_S = 300.0
#: Clock seconds at least between two automatic refreshes (however fast the plant runs).
MIN_CLOCK_S = 10.0


@dataclass
class RefreshSchedule:
    """The automatic refresh policy of one shift forecast (times are the clock's, UNIX s)."""

    plant_every_s: float = PLANT_EVERY_S
    min_clock_s: float = MIN_CLOCK_S
    last_at: float = -math.inf  # clock time of the last request
    stale: bool = True  # never made, or made for another factory
    new_shift: bool = False  # a shift began since the last request

    def due(self, now: float, time_scale: float = 1.0, running: bool = False, took_s: float = 0.0) -> bool:
        """True when a forecast should be requested now; ``took_s``: how long the last one took (clock s)."""
        if running:
            return False
        if self.new_shift:
            return True
        since = now - self.last_at
        if since < max(self.min_clock_s, took_s):
            return False
        return self.stale or since * time_scale >= self.plant_every_s

    def requested(self, now: float) -> None:
        """A forecast was requested at ``now`` (automatically or on demand)."""
        self.last_at, self.stale, self.new_shift = now, False, False

    def factory_changed(self) -> None:
        """The factory has a new version: the forecast is stale (refreshed once the clock floor allows)."""
        self.stale = True

    def shift_began(self) -> None:
        """A new shift began: forecast it at the next check."""
        self.new_shift = True
