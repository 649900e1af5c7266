"""A state to start a replication from instead of an empty line: the parts at each station and what each
server and machine is doing.

The engine takes it as given; deciding it from what a plant reports (and sampling the unknowns) is
``app.forecast``'s job. A run from a start state has no warm-up: time 0 is "now".

Examples
--------
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> from app.sim.model import compile_model
>>> model = compile_model(load_factory(DEMO_FACTORY), horizon_s=3600.0, warmup_s=0.0)
>>> start = StartState.empty(len(model.stations))
>>> start.parts
0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.sim.model import SimModel


@dataclass(frozen=True)
class StationStart:
    """One station at time 0.

    in_service
        ``(part type, seconds of work left)`` per busy server; 0 seconds: the part is finished and waits
        for a place at its next station (the server is blocked).
    waiting
        Part types in the input buffer, first in line first.
    down_for_s
        The machine is down and repaired after this many seconds (None: it is up). Work in service
        resumes after the repair.
    """

    in_service: tuple[tuple[int, float], ...] = ()
    waiting: tuple[int, ...] = ()
    down_for_s: float | None = None

    @property
    def parts(self) -> int:
        return len(self.in_service) + len(self.waiting)


@dataclass(frozen=True)
class StartState:
    """Every station's start (in the model's station order)."""

    stations: tuple[StationStart, ...]

    @classmethod
    def empty(cls, n: int) -> StartState:
        return cls(tuple(StationStart() for _ in range(n)))

    @property
    def parts(self) -> int:
        """Parts in the system at time 0."""
        return sum(s.parts for s in self.stations)

    def problems(self, model: SimModel) -> list[str]:
        """What makes this start impossible for ``model`` (empty: it can be run)."""
        if len(self.stations) != len(model.stations):
            return [f"the start state has {len(self.stations)} stations, the model {len(model.stations)}"]
        out = []
        for i, (s, st) in enumerate(zip(self.stations, model.stations, strict=True)):
            if len(s.in_service) > st.servers:
                out.append(f"{st.id}: {len(s.in_service)} parts in service on {st.servers} servers")
            if s.parts > st.servers + st.buffer:
                out.append(f"{st.id}: {s.parts} parts, room for {st.servers + st.buffer}")
            for k in [k for k, _ in s.in_service] + list(s.waiting):
                if not (0 <= k < len(model.routes)) or i not in model.routes[k]:
                    out.append(f"{st.id}: part type {k} does not pass this station")
            times = [left for _, left in s.in_service] + ([] if s.down_for_s is None else [s.down_for_s])
            if any(not (math.isfinite(t) and t >= 0) for t in times):
                out.append(f"{st.id}: times left must be finite and ≥ 0, got {times}")
        return out
