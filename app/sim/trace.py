"""A simulation's state trace: every server's state change in a time window, for the state Gantt.

The engine runs without it (its state changes then cost nothing more). A traced run hands a ``StateTrace``
to ``Engine``/``simulate``; the trace wraps the engine's three state-changing steps (a server starts a part,
a server changes state, a station stops or resumes) and notes, after each, the servers whose *effective*
state changed — a stopped station's servers all count as its stop (maintenance, off shift or down), as the
engine's own state shares count them.

From the trace come, per station, the intervals of each server and of the station as the plant shows it
(``shown_code``: one state per machine, as the plant simulator's State tag says it).

Examples
--------
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> from app.sim.model import compile_model
>>> model = compile_model(load_factory(DEMO_FACTORY), horizon_s=3600.0, warmup_s=0.0)
>>> trace = traced_run(model, t0=600.0, t1=1800.0)
>>> starts, ends, codes = trace.shown_intervals(0)
>>> float(starts[0]), float(ends[-1]), bool((starts[1:] == ends[:-1]).all())
(600.0, 1800.0, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from app.model.signals import MACHINE_STATES
from app.sim.engine import Engine, shown_state
from app.sim.model import SimModel

_STOPS = tuple(MACHINE_STATES.index(n) for n in ("down", "off_shift", "maintenance"))


def shown_code(codes: tuple[int, ...] | list[int]) -> int:
    """The one state a station whose servers are in ``codes`` shows (the plant simulator's State tag): a stop
    of the station (all its servers share it), else the engine's ``shown_state`` — running while any server
    runs, else setup, else blocked, else starved.

    >>> shown_code((2, 0, 3)), shown_code((3, 2)), shown_code((4, 4))
    (0, 3, 4)
    """
    first = codes[0]
    # a stop of the station is every server's; one server down of its own (failures per server) is not
    return shown_state(list(codes), first if first in _STOPS and codes.count(first) == len(codes) else 0)


class StateTrace:
    """The servers' state changes of one run between ``t0`` and ``t1`` (simulated seconds).

    ``initial[i][s]`` is server ``s`` of station ``i``'s state at ``t0`` (or when the run's clock first
    passed it); ``changes`` the later changes as (time, station, server, state code), in time order.
    Changes before ``t0`` only update ``initial``; the run is meant to stop at ``t1`` (``traced_run``).
    """

    def __init__(self, t0: float = 0.0, t1: float = math.inf):
        if not t1 > t0:
            raise ValueError(f"a trace's window must end after it starts, got {t0:g} … {t1:g} s")
        self.t0, self.t1 = t0, t1
        self.initial: list[list[int]] = []
        self.changes: list[tuple[float, int, int, int]] = []
        self.end: float | None = None  # where the run stopped (set by ``close``)

    # -- the engine's hook ------------------------------------------------------------------------------------
    def watch(
        self, start: Callable, set_state: Callable, rehalt: Callable, srv_state: list[list[int]], halt: list[int]
    ) -> tuple[Callable, Callable, Callable]:
        """The engine's ``start``, ``set_state`` and ``rehalt``, each followed by a note of the station's
        servers; ``srv_state`` and ``halt`` are the engine's own lists (read, never written)."""
        self.initial = [[h or c for c in ss] for ss, h in zip(srv_state, halt, strict=True)]
        last = [row[:] for row in self.initial]
        t0, changes = self.t0, self.changes

        def note(i: int, now: float) -> None:
            h, ss, was = halt[i], srv_state[i], last[i]
            for s, c in enumerate(ss):
                code = h or c
                if code != was[s]:
                    was[s] = code
                    if now > t0:
                        changes.append((now, i, s, code))
                    else:
                        self.initial[i][s] = code

        def start_noted(i: int, s: int, part: int, now: float) -> None:
            start(i, s, part, now)
            note(i, now)

        def set_state_noted(i: int, s: int, new: int, now: float) -> None:
            set_state(i, s, new, now)
            note(i, now)

        def rehalt_noted(i: int, now: float) -> None:
            rehalt(i, now)
            note(i, now)

        return start_noted, set_state_noted, rehalt_noted

    def close(self, end: float) -> None:
        """The run stopped at ``end``: the last states hold until then (or ``t1``, if sooner)."""
        self.end = min(end, self.t1)

    # -- what it says ---------------------------------------------------------------------------------------------
    @property
    def window(self) -> tuple[float, float]:
        """The traced window: ``t0`` to where the run stopped (or ``t1``)."""
        return self.t0, self.end if self.end is not None else self.t1

    def _station_changes(self) -> dict[int, list[tuple[float, int, int]]]:
        by_station: dict[int, list[tuple[float, int, int]]] = {}
        for t, i, s, code in self.changes:
            by_station.setdefault(i, []).append((t, s, code))
        return by_station

    def server_intervals(self, i: int, s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(starts, ends, state codes) of server ``s`` of station ``i``, covering the window without overlap."""
        times = [self.t0] + [t for t, st, srv, _c in self.changes if st == i and srv == s]
        codes = [self.initial[i][s]] + [c for _t, st, srv, c in self.changes if st == i and srv == s]
        return _intervals(times, codes, self.window[1])

    def shown_intervals(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(starts, ends, state codes) of station ``i`` as the plant shows it (``shown_code``)."""
        return self.all_shown()[i]

    def all_shown(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``shown_intervals`` of every station (one pass over the trace)."""
        by_station = self._station_changes()
        out = []
        for i, first in enumerate(self.initial):
            now = first[:]
            times, codes = [self.t0], [shown_code(now)]
            for t, s, code in by_station.get(i, ()):
                now[s] = code
                shown = shown_code(now)
                if t == times[-1]:  # several changes at one instant: the last one stands
                    codes[-1] = shown
                elif shown != codes[-1]:
                    times.append(t)
                    codes.append(shown)
            out.append(_intervals(times, codes, self.window[1]))
        return out

    def server_seconds(self) -> np.ndarray:
        """(stations, states) seconds in each state over the window, summed over a station's servers and
        divided by their number — the engine's ``state_s`` over the same window."""
        n = len(self.initial)
        out = np.zeros((n, len(MACHINE_STATES)))
        for i, row in enumerate(self.initial):
            for s in range(len(row)):
                starts, ends, codes = self.server_intervals(i, s)
                np.add.at(out[i], codes, ends - starts)
            out[i] /= len(row)
        return out


def _intervals(times: list[float], codes: list[int], end: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intervals from change times (the first the window's start) to ``end``, zero-length ones dropped."""
    t = np.asarray(times, dtype=float)
    ends = np.append(t[1:], end)
    c = np.asarray(codes, dtype=np.int8)
    keep = ends > t
    return t[keep], ends[keep], c[keep]


def traced_run(
    model: SimModel,
    replication: int = 0,
    t0: float = 0.0,
    t1: float | None = None,
    cancel: Callable[[], bool] | None = None,
) -> StateTrace:
    """Run replication ``replication`` of ``model`` from 0 to ``t1`` (default: its horizon) with a trace of
    ``[t0, t1]``. Same model and replication → the same states as the untraced run (same random streams)."""
    end = model.horizon_s if t1 is None else min(t1, model.horizon_s)
    trace = StateTrace(t0, end)
    engine: Any = Engine(model, replication, trace=trace)
    engine.run_until(end, None, cancel)
    trace.close(engine.time())
    return trace
