"""The state Gantt's bars: per machine (one row each, in the factory tree's order), its states over a window.

Plain numpy and no widgets: the Gantt dock draws a ``GanttBars`` and asks it which bars fall in the rows
and times on screen, which bar is under the mouse, and what its tooltip says.

Codes are the machine states' (``app.model.signals.MACHINE_STATES`` order), ``UNKNOWN`` for a value the
machine's state mapping does not know, and ``NO_DATA`` where nothing vouches for any state (the link was
down, nothing was recorded yet, a value came with a bad status): a gap is never drawn as a state.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.model.factory import Factory
from app.model.hierarchy import PlantTree
from app.model.signals import MACHINE_STATES
from app.state.colours import LEGEND, NO_DATA_RGB, STATE_RGB, UNKNOWN_RGB

UNKNOWN = -1
NO_DATA = -2
#: The legend's entries (label, RGB): the 3D view's state legend (``app.state.colours.LEGEND``) but for the
#: alarm's red, which the Gantt does not draw.
GANTT_LEGEND: tuple[tuple[str, tuple[int, ...]], ...] = tuple((label, rgb) for label, rgb in LEGEND if label != "alarm")


def rgb_of(code: int) -> tuple[int, int, int]:
    """A bar's colour: the 3D view's colour of the same state (one palette, ``app.state.colours``).

    >>> rgb_of(0), rgb_of(NO_DATA) == tuple(int(c) for c in NO_DATA_RGB)
    ((0, 158, 115), True)
    """
    if code == NO_DATA:
        rgb = NO_DATA_RGB
    elif 0 <= code < len(STATE_RGB):
        rgb = STATE_RGB[code]
    else:
        rgb = UNKNOWN_RGB
    return int(rgb[0]), int(rgb[1]), int(rgb[2])


def state_label(code: int) -> str:
    """What a bar's state is called ("off shift", "unknown state", "no data")."""
    if code == NO_DATA:
        return "no data"
    if 0 <= code < len(MACHINE_STATES):
        return MACHINE_STATES[code].replace("_", " ")
    return "unknown state"


def tree_order(factory: Factory) -> list[int]:
    """Machine indices in the factory tree's order: depth first, each group's groups before its own machines.

    >>> from app.model.io import load_factory
    >>> from app.paths import DEMO_FACTORY
    >>> f = load_factory(DEMO_FACTORY)
    >>> sorted(tree_order(f)) == list(range(len(f.machines)))
    True
    """
    tree = PlantTree.of(factory)
    order: list[int] = []

    def walk(g: int) -> None:
        for child in tree.children[g]:
            walk(child)
        order.extend(tree.direct[g])

    for top in tree.top():
        walk(top)
    return order


@dataclass(frozen=True)
class Interval:
    """One bar: row, machine, state code, start and end (in the bars' time base)."""

    row: int
    machine: str
    code: int
    start: float
    end: float


@dataclass(frozen=True)
class GanttBars:
    """Bars of every machine over ``window``, sorted by row then start; row ``r``'s are ``first[r]:first[r + 1]``.

    ``clock`` is True for recorded history (UNIX seconds) and False for a simulation (simulated seconds from
    the run's start); ``source`` says where they come from, in words.
    """

    machines: tuple[str, ...]
    names: tuple[str, ...]
    row: np.ndarray
    start: np.ndarray
    end: np.ndarray
    code: np.ndarray
    first: np.ndarray
    window: tuple[float, float]
    clock: bool
    source: str

    @classmethod
    def build(
        cls,
        machines: Sequence[str],
        names: Sequence[str],
        per_row: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
        window: tuple[float, float],
        clock: bool,
        source: str,
    ) -> GanttBars:
        """Bars from each row's (starts, ends, codes), in row order."""
        counts = np.array([len(s) for s, _e, _c in per_row], dtype=np.int64)
        first = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

        def joined(k: int, dtype: type) -> np.ndarray:
            parts: list[np.ndarray] = [np.asarray(p[k], dtype=dtype) for p in per_row]
            return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

        rows = np.repeat(np.arange(len(per_row), dtype=np.int32), counts)
        starts, ends, codes = joined(0, float), joined(1, float), joined(2, np.int8)
        return cls(tuple(machines), tuple(names), rows, starts, ends, codes, first, window, clock, source)

    @property
    def n_rows(self) -> int:
        return len(self.machines)

    def row_of(self, machine: str) -> int | None:
        """The row of ``machine`` (None: not shown)."""
        try:
            return self.machines.index(machine)
        except ValueError:
            return None

    def visible(self, row_lo: int, row_hi: int, t0: float, t1: float) -> np.ndarray:
        """Indices of the bars in rows ``row_lo`` … ``row_hi`` (inclusive) that overlap [t0, t1]: only what
        is on screen is drawn, however many machines there are."""
        lo = max(0, min(row_lo, self.n_rows))
        hi = max(lo, min(row_hi + 1, self.n_rows))
        a, b = int(self.first[lo]), int(self.first[hi])
        sl = np.arange(a, b)
        keep = (self.end[a:b] > t0) & (self.start[a:b] < t1)
        return sl[keep]

    def at(self, row: int, t: float) -> Interval | None:
        """The bar of ``row`` at time ``t`` (None outside the rows or the window)."""
        if not 0 <= row < self.n_rows:
            return None
        a, b = int(self.first[row]), int(self.first[row + 1])
        k = a + int(np.searchsorted(self.end[a:b], t, side="right"))
        if k >= b or self.start[k] > t:
            return None
        return Interval(row, self.machines[row], int(self.code[k]), float(self.start[k]), float(self.end[k]))

    def totals(self, row: int) -> dict[str, float]:
        """Seconds of each state (and of no data) in ``row``'s window, largest first, zero ones left out."""
        a, b = int(self.first[row]), int(self.first[row + 1])
        out: dict[str, float] = {}
        for code, d in zip(self.code[a:b], self.end[a:b] - self.start[a:b], strict=True):
            label = state_label(int(code))
            out[label] = out.get(label, 0.0) + float(d)
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def describe(self, bar: Interval) -> str:
        """A bar's tooltip: machine, state, from–to and how long.

        >>> b = GanttBars.build(["M1"], ["Mill"], [(np.array([0.0]), np.array([90.0]), np.array([4]))], (0.0, 90.0), False, "sim")
        >>> b.describe(b.at(0, 10.0))
        'Mill (M1): down\\n0:00:00 – 0:01:30 (1 min 30 s)'
        """
        name = self.names[bar.row]
        head = f"{name} ({bar.machine})" if name != bar.machine else bar.machine
        span = f"{self.time_text(bar.start)} – {self.time_text(bar.end)}"
        return f"{head}: {state_label(bar.code)}\n{span} ({duration_text(bar.end - bar.start)})"

    def time_text(self, t: float) -> str:
        """A time as the axis reads it: the local clock for history, h:mm:ss into the run for a simulation."""
        if self.clock:
            return datetime.datetime.fromtimestamp(t).strftime("%H:%M:%S")
        whole = round(t)
        return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def duration_text(seconds: float) -> str:
    """``1 h 5 min``, ``2 min 30 s``, ``12 s`` (``0.4 s`` under a second).

    >>> duration_text(3900.0), duration_text(150.0), duration_text(0.4)
    ('1 h 5 min', '2 min 30 s', '0.4 s')
    """
    if seconds < 1:
        return f"{seconds:.1f} s"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def merged(starts: np.ndarray, ends: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Neighbouring intervals of one state joined into one (they read as one bar, and draw as one)."""
    if len(starts) < 2:
        return starts, ends, codes
    new = np.concatenate([[True], (codes[1:] != codes[:-1]) | (starts[1:] != ends[:-1])])
    last = np.concatenate([new[1:], [True]])
    return starts[new], ends[last], codes[new]
