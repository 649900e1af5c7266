"""Failures per server: each of a station's parallel servers fails and is repaired on its own.

A station with ``failures: per_server`` (``Station.failures``) has one failure clock per server instead of one
for the station: a failure stops that server only — its work stops where it is and resumes after the repair
(pre-emptive resume), an idle server takes no part while it is down — and the station keeps working with the
others. Each server's time between failures and time to repair are drawn from the station's ``mtbf_s`` and
``mttr_s`` streams; with ``failure_clock: operating`` a server's time to failure runs only while that server
runs (and its station is not stopped).

A down server is in the state ``down`` (its time is booked there, as a stopped station's are); a station
*shows* down only while all its servers are down (``app.sim.engine.shown_state``): with one up it can still
take work. A part that a server had finished and was holding (blocked) when it failed may still go on when
its next station has room; the server is then idle after its repair.

The engine hands its own lists to ``ServerFailures`` and calls ``fail``/``repair`` on the events it schedules;
``set_state``, ``start`` and ``assemble`` are looked up through the callables given, so wrappers the engine
puts around its steps later (the state trace) see the changes made here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from app.model.signals import MACHINE_STATES

_RUN, _SETUP, _IDLE, _BLOCKED = 0, 1, 2, 3
_DOWN = MACHINE_STATES.index("down")

Schedule = Callable[[float, int, int, int, int], None]  # (time, event code, station, server, version)


class ServerFailures:
    """The per-server failures of a run's stations ``per_server[i]`` (the others are left alone).

    ``codes``: the engine's event codes for (server fails, server repaired, part done, setup done).
    """

    def __init__(
        self,
        per_server: list[bool],
        operating: list[bool],
        fail: list,
        repair: list,
        srv_state: list[list[int]],
        srv_end: list[list[float]],
        srv_left: list[list[float]],
        srv_ver: list[list[int]],
        free: list[list[int]],
        queue: list[deque[int]],
        halt: list[int],
        schedule: Schedule,
        codes: tuple[int, int, int, int],
        set_state: Callable[[int, int, int, float], None],
        start: Callable[[int, int, int, float], None],
        assemble: Callable[[int, float], None],
        is_assembly: list[bool],
    ):
        self.per_server, self.operating = per_server, operating
        self.fail_draw, self.repair_draw = fail, repair  # the engine's lists: ``rescale`` replaces their items
        self.srv_state, self.srv_end, self.srv_left, self.srv_ver = srv_state, srv_end, srv_left, srv_ver
        self.free, self.queue, self.halt = free, queue, halt
        self.schedule = schedule
        self.fail_code, self.repair_code, self.done_code, self.setup_done_code = codes
        self.set_state, self.start, self.assemble, self.is_assembly = set_state, start, assemble, is_assembly
        n = [len(ss) for ss in srv_state]
        self.resume = [[_IDLE] * c for c in n]  # the state a down server returns to at its repair
        # Operation-dependent clocks: time to failure left, when it last started running (-1: stopped), and a
        # version that invalidates the failure event scheduled for a clock that stopped.
        self.ttf_left = [[0.0] * c for c in n]
        self.busy_since = [[-1.0] * c for c in n]
        self.fail_ver = [[0] * c for c in n]

    def begin(self, now: float) -> None:
        """Start every server's failure clock."""
        for i, on in enumerate(self.per_server):
            if not on:
                continue
            for s in range(len(self.srv_state[i])):
                if self.operating[i]:
                    self.ttf_left[i][s] = self.fail_draw[i]()
                    self.watch(i, s, now)
                else:
                    self.schedule(now + self.fail_draw[i](), self.fail_code, i, s, 0)

    def watch(self, i: int, s: int, now: float) -> None:
        """Server s of station i may have started or stopped running: run or stop its operating clock."""
        busy = not self.halt[i] and self.srv_state[i][s] == _RUN
        since = self.busy_since[i]
        if busy and since[s] < 0:
            since[s] = now
            self.fail_ver[i][s] += 1
            self.schedule(now + self.ttf_left[i][s], self.fail_code, i, s, self.fail_ver[i][s])
        elif not busy and since[s] >= 0:
            self.ttf_left[i][s] -= now - since[s]
            since[s] = -1.0
            self.fail_ver[i][s] += 1

    def watch_station(self, i: int, now: float) -> None:
        """Station i stopped or resumed: each server's operating clock follows."""
        for s in range(len(self.srv_state[i])):
            self.watch(i, s, now)

    def fail(self, i: int, s: int, version: int, now: float) -> None:
        """Server s of station i fails now (an event whose operating clock stopped meanwhile is ignored)."""
        if self.operating[i]:
            if version != self.fail_ver[i][s]:
                return
            self.busy_since[i][s] = -1.0
        state = self.srv_state[i][s]
        if state in (_RUN, _SETUP) and not self.halt[i]:  # a stopped station's servers have saved their work left
            self.srv_left[i][s] = self.srv_end[i][s] - now
            self.srv_ver[i][s] += 1  # its pending end is void
        elif state == _IDLE:
            self.free[i].remove(s)
        self.resume[i][s] = state
        self.set_state(i, s, _DOWN, now)
        self.schedule(now + self.repair_draw[i](), self.repair_code, i, s, 0)

    def released(self, i: int, s: int) -> None:
        """The part a down server held (finished, blocked) has gone on: after the repair the server is idle."""
        self.resume[i][s] = _IDLE

    def repair(self, i: int, s: int, now: float) -> None:
        """Server s of station i is repaired: it takes up what it was doing, or the next part."""
        state = self.resume[i][s]
        halted = self.halt[i]
        if self.operating[i]:
            self.ttf_left[i][s] = self.fail_draw[i]()  # a new time to failure, counted from its next work
        if state == _IDLE:
            queue = self.queue[i]
            if queue and not halted:
                self.start(i, s, queue.popleft(), now)
            else:
                self.set_state(i, s, _IDLE, now)
                self.free[i].append(s)
                if self.is_assembly[i]:
                    self.assemble(i, now)
        else:
            self.set_state(i, s, state, now)
            if state in (_RUN, _SETUP) and not halted:  # a stopped station resumes it with the others
                end = now + self.srv_left[i][s]
                self.srv_end[i][s] = end
                code = self.done_code if state == _RUN else self.setup_done_code
                self.schedule(end, code, i, s, self.srv_ver[i][s])
        if self.operating[i]:
            self.watch(i, s, now)
        else:
            self.schedule(now + self.fail_draw[i](), self.fail_code, i, s, 0)
