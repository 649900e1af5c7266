"""Batch stations as the engine runs them: n parts gathered, processed together, released one by one.

A station with ``batch`` n > 1 (``Station.batch``) gathers its parts in a buffer of its own in front of it
(``app.sim.assembly.kit_buffers`` builds it as it builds an assembly station's kit buffers: a station without
servers that the routes lead to instead, of ``input_buffer`` places). When n parts wait there and a server
is free, the first part goes onto the server with the other n − 1 riding along (``rest``); one cycle
processes them all. At its end each part goes on along its own routing, as from any station: the first at
once, the others as long as their next station has a place — a part that finds none keeps the server
blocked, and the next batch starts only when all n have gone. Each part keeps its own lead time, its place
at the station until it leaves, and its own quality check (scrap).

``releasing`` wraps the engine's ``depart`` (a server has handed its part on) for the model's batch stations;
the parts are handed on in a loop, not by recursion, so a batch of thousands does not exhaust the stack.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol


class Depart(Protocol):
    """The engine's step "server ``s`` of station ``i`` has handed its part on"."""

    def __call__(self, i: int, s: int, now: float) -> None: ...


def releasing(
    plain_depart: Depart,
    hand_on: Callable[[int, int, int, float], None],
    occupy: Callable[[int, int, float], None],
    srv_part: list[list[int]],
    srv_rest: list[list[deque[int]]],
) -> Depart:
    """The engine's ``depart`` for a model with batch stations: while the server's batch still holds parts
    (``srv_rest[i][s]``), the part that went frees its place and the next is handed on (``hand_on``: the
    engine's quality check or ``move_on``); the last one leaving frees the server (``plain_depart``)."""
    busy: set[tuple[int, int]] = set()  # servers whose batch is being handed on by the loop below

    def depart(i: int, s: int, now: float) -> None:
        rest = srv_rest[i][s] if srv_rest[i] else None
        if not rest:
            plain_depart(i, s, now)
            return
        occupy(i, -1, now)
        srv_part[i][s] = -1
        if (i, s) in busy:
            return  # the loop below hands the next one on
        busy.add((i, s))
        try:
            while rest and srv_part[i][s] == -1:  # the last part went on: go on with the next
                part = rest.popleft()
                srv_part[i][s] = part
                hand_on(i, s, part, now)  # on success calls depart again, which frees srv_part; else blocked
        finally:
            busy.discard((i, s))

    return depart
