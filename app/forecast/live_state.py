"""What the plant says about itself now, as a forecast needs it: per machine its state, the parts it holds,
and how long ago its state and its part count last changed; and the parts out so far.

Two sources give the same record: the live store (``from_store``: the values a plant's OPC UA server
published, with their source timestamps) and an engine run as a plant (``EngineObserver``: the values the
plant simulator's server would publish, one update every ``step_s`` simulated seconds). A server writes a
variable only when it changes, so a value's source timestamp is when it last changed: the time since
``State`` changed is how long the machine has been in its state, the time since ``PartCount`` changed is
how long ago its last part was finished.

Examples
--------
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> from app.sim.engine import Engine
>>> from app.sim.model import compile_model
>>> plant = Engine(compile_model(load_factory(DEMO_FACTORY), horizon_s=86400.0, warmup_s=0.0, seed=4))
>>> watch = EngineObserver(plant)
>>> watch.advance(3600.0)
>>> state = watch.state()
>>> len(state.machines), state.parts_out >= 0
(40, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.sim.engine import Engine
from app.sim.model import SimModel
from app.state.store import STATE_SIGNAL, StateStore, is_good

#: The signals a forecast reads: the machine's state, the parts it holds, the parts it has finished.
LEVEL, COUNT = "Level", "PartCount"


@dataclass(frozen=True)
class MachineNow:
    """One machine now. ``state``: the code (0 running … 4 down; -1 not known); ``level``: parts held, in
    process, waiting and on their way in (-1 not known); ``state_age_s`` / ``count_age_s``: seconds since
    the state / the part count last changed (NaN: not known)."""

    state: int = -1
    level: int = -1
    state_age_s: float = math.nan
    count_age_s: float = math.nan


@dataclass(frozen=True)
class LiveState:
    """The plant now: its machines (by id) and the parts that have left it so far (``parts_out``: the
    part counts of the machines where the routes end; -1 when one of them is not known)."""

    machines: dict[str, MachineNow]
    parts_out: int


def exit_stations(model: SimModel) -> list[int]:
    """The stations where routes end: their part counts are the parts out. A station that ends one route
    and is passed through by another cannot tell its exits from the parts it passes on: ``ValueError``."""
    ends = sorted({r[-1] for r in model.routes})
    mixed = [model.stations[i].id for i in ends if any(i in r[:-1] for r in model.routes)]
    if mixed:
        raise ValueError(f"{', '.join(mixed)} end a route and are passed through by another: parts out cannot be counted")
    return ends


def from_store(store: StateStore, model: SimModel, now: float, time_scale: float = 1.0) -> LiveState:
    """The live state from the store's latest good values at UNIX time ``now``. ``time_scale``: simulated
    seconds per second of the source timestamps (a plant simulator run with ``--speed N``: N)."""
    machines = {}
    for station in model.stations:
        if station.id not in store.machine_index:
            machines[station.id] = MachineNow()
            continue
        machines[station.id] = MachineNow(
            state=_int(store, station.id, STATE_SIGNAL),
            level=_int(store, station.id, LEVEL),
            state_age_s=_age(store, station.id, STATE_SIGNAL, now, time_scale),
            count_age_s=_age(store, station.id, COUNT, now, time_scale),
        )
    ends = [model.stations[i].id for i in exit_stations(model)]
    counts = [_int(store, m, COUNT) if m in store.machine_index else -1 for m in ends]
    return LiveState(machines, -1 if min(counts) < 0 else sum(counts))


def _cell(store: StateStore, machine: str, signal: str) -> tuple[int, int] | None:
    j = store.signal_index.get(signal)
    if j is None:
        return None
    i = store.machine_index[machine]
    return (i, j) if is_good(int(store.status[i, j])) else None


def _int(store: StateStore, machine: str, signal: str) -> int:
    cell = _cell(store, machine, signal)
    v = float(store.values[cell]) if cell is not None else math.nan
    return int(v) if math.isfinite(v) else -1


def _age(store: StateStore, machine: str, signal: str, now: float, time_scale: float) -> float:
    cell = _cell(store, machine, signal)
    ts = float(store.source_ts[cell]) if cell is not None else math.nan
    return max(0.0, (now - ts) * time_scale) if math.isfinite(ts) else math.nan


class EngineObserver:
    """Watches an engine run as a plant the way the plant simulator's server publishes it: every
    ``step_s`` simulated seconds the state, level and part count of each station, and when each last
    changed (at the update that saw the change, as the server stamps it)."""

    def __init__(self, engine: Engine, step_s: float = 5.0):
        self.engine = engine
        self.step_s = step_s
        self.model = engine.model
        self.exits = exit_stations(self.model)
        snap = engine.snapshot()
        n = len(self.model.stations)
        self._state = list(snap["state"])
        self._count = list(snap["operations"])
        # Changes before the watch began are not seen: their time is not known.
        self._state_t = [math.nan] * n
        self._count_t = [math.nan] * n
        self._snap = snap

    def advance(self, duration_s: float) -> None:
        """Run the plant ``duration_s`` simulated seconds further, one update every ``step_s``."""
        eng = self.engine
        end = eng.time() + duration_s
        while eng.time() < end - 1e-9:
            eng.run_until(min(eng.time() + self.step_s, end))
            snap = eng.snapshot()
            t = eng.time()
            for i, (code, count) in enumerate(zip(snap["state"], snap["operations"], strict=True)):
                if code != self._state[i]:
                    self._state[i], self._state_t[i] = code, t
                if count != self._count[i]:
                    self._count[i], self._count_t[i] = count, t
            self._snap = snap

    def parts_out(self) -> int:
        """Parts the plant has put out since it started (the part counts of its exit stations)."""
        return int(sum(self._count[i] for i in self.exits))

    def state(self) -> LiveState:
        """The live state now, as a client of the plant's server would see it."""
        t = self.engine.time()
        occupancy = self._snap["occupancy"]
        machines = {
            s.id: MachineNow(
                state=int(self._state[i]),
                level=int(occupancy[i]),
                state_age_s=t - self._state_t[i],
                count_age_s=t - self._count_t[i],
            )
            for i, s in enumerate(self.model.stations)
        }
        return LiveState(machines, self.parts_out())

