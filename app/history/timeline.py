"""The replay timeline's arithmetic: the recorded span, a position on it, clock ticks and their texts.

Plain floats (UNIX seconds) and no widgets: the timeline bar shows a ``ReplayWindow`` and forwards the
user's moves to it.
"""

from __future__ import annotations

import datetime
import math

#: Slider resolution: steps per second (0.1 s).
STEPS_PER_S = 10
#: Replay speeds offered (× real time).
SPEEDS = (1, 10, 60, 600)
#: Spacings of the clock ticks under the slider, in seconds; the finest that leaves room for its labels.
TICK_STEPS_S = (10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 2592000)


def describe_time(t: float, now: float) -> str:
    """``06:21:33 (2 min 12 s ago)`` — local clock time and how long ago.

    >>> import time as _t
    >>> t = _t.mktime((2026, 11, 28, 10, 0, 0, 0, 0, -1))
    >>> describe_time(t, t + 132)
    '10:00:00 (2 min 12 s ago)'
    """
    clock = datetime.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S" if now - t > 86_400 else "%H:%M:%S")
    ago = max(0.0, now - t)
    if ago < 60:
        rel = f"{ago:.0f} s"
    elif ago < 3600:
        rel = f"{ago // 60:.0f} min {ago % 60:.0f} s"
    else:
        rel = f"{ago // 3600:.0f} h {ago % 3600 // 60:.0f} min"
    return f"{clock} ({rel} ago)"


def tick_times(t0: float, t1: float, width_px: float, label_px: float) -> list[tuple[float, str]]:
    """Clock ticks at round local times inside [t0, t1], spaced so labels ``label_px`` wide do not touch.

    >>> import time as _t
    >>> start = _t.mktime((2026, 11, 28, 10, 0, 0, 0, 0, -1))
    >>> [text for _t0, text in tick_times(start, start + 600, 400, 40)]
    ['10:00', '10:02', '10:04', '10:06', '10:08', '10:10']
    """
    span = t1 - t0
    if span <= 0 or width_px <= 0:
        return []
    fits = max(1, int(width_px // (label_px * 1.6)))  # labels with a gap of more than half their width
    step = next((s for s in TICK_STEPS_S if span / s <= fits), TICK_STEPS_S[-1])
    offset = datetime.datetime.fromtimestamp(t0).astimezone().utcoffset()
    shift = offset.total_seconds() if offset is not None else 0.0  # round in local time: 10:00, not 09:00 UTC
    first = math.ceil((t0 + shift) / step) * step - shift
    fmt = "%H:%M:%S" if step < 60 else "%H:%M" if step < 86400 else "%d %b"
    out = []
    t = first
    while t <= t1 + 1e-6:
        out.append((t, datetime.datetime.fromtimestamp(t).strftime(fmt)))
        t += step
    return out


class ReplayWindow:
    """The recorded span [t0, t1] (t1 is now) and the replayed time in it (None: live).

    Examples
    --------
    >>> w = ReplayWindow()
    >>> w.follow((100.0, 150.0), now=200.0)
    >>> w.steps(), w.step_of(None)
    (1000, 1000)
    >>> w.seek_step(500), w.time
    (150.0, 150.0)
    >>> w.seek_step(1000) is None  # the far right is live
    True
    """

    def __init__(self, now: float = 0.0):
        self.t0 = self.t1 = now
        self.time: float | None = None

    def follow(self, span: tuple[float, float] | None, now: float) -> None:
        """The history recorded ``span`` (first, last sample; None: nothing yet): the window ends ``now``."""
        self.t0 = span[0] if span is not None else now
        self.t1 = max(now, self.t0)

    def steps(self) -> int:
        """The slider's maximum: at least one step, so that with nothing recorded the handle sits at the right."""
        return max(1, math.ceil((self.t1 - self.t0) * STEPS_PER_S))

    def step_of(self, t: float | None) -> int:
        """The slider position of time ``t`` (None: live, the far right)."""
        return self.steps() if t is None else round((t - self.t0) * STEPS_PER_S)

    def seek(self, t: float | None) -> float | None:
        """Replay time ``t``, clamped to the span (None: live); the time now replayed."""
        self.time = None if t is None else min(max(t, self.t0), self.t1)
        return self.time

    def seek_step(self, step: int) -> float | None:
        """The slider moved to ``step``: the time it stands for, or None (live) at the far right."""
        self.time = None if step >= self.steps() else self.t0 + step / STEPS_PER_S
        return self.time

    def label(self, now: float) -> str:
        """What the timeline says: the replayed time and how long ago, or since when it records while live."""
        if self.time is None:
            return f"Live · recorded since {describe_time(self.t0, now).split(' (')[0]}"
        return describe_time(self.time, now)

    @staticmethod
    def play_start(now: float, speed: float) -> float:
        """Where playing from live starts: a minute of replay back (a minute × ``speed``)."""
        return now - 60.0 * speed

    def advanced(self, elapsed_s: float, speed: float, now: float) -> float | None:
        """The replayed time after ``elapsed_s`` of playing at ``speed``; None once it reaches the present."""
        if self.time is None:
            return None
        t = self.time + elapsed_s * speed
        return None if t >= now else t
