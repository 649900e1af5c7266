"""The roll-up of the live plant: follows the state store, integrating time in each state and energy.

Feed it the store after each flush (``update``); it keeps, per machine, the seconds watched, running, down
and in planned stops and the energy drawn, so ratios are time-weighted means. The time between two updates
is counted in the state (and at the power) of the first: a value holds until the next one. A gap between
two updates counts for at most ``MAX_STEP_S`` of the clock (a sleeping laptop is not an hour of the last
state). Time is the plant's: on a plant whose clock runs ``time_scale`` times the wall clock (a plant
simulator's ``--speed``, ``app.live.session.LiveSession.time_scale``) a clock second is that many plant
seconds watched, and energy is drawn over them; the output rates given are per plant hour already.

Examples
--------
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> from app.state.store import StateStore, Update
>>> f = load_factory(DEMO_FACTORY)
>>> store = StateStore([m.id for m in f.machines], ["State", "Level", "Power", "Alarm"])
>>> b = store.bind("CNC-01", "Level", "ns=2;s=L")
>>> store.ingest([Update(b, 5.0, received_ts=100.0)])
>>> figures = LiveRollup(f).update(store, 100.0)
>>> int(figures.wip[0])  # the site
5
"""

from __future__ import annotations

import numpy as np
from psygnal import Signal

from app.model.factory import Factory
from app.model.hierarchy import PlantTree
from app.model.signals import MACHINE_STATES
from app.rollup.figures import GroupFigures, MachineArrays, Membership, roll_up
from app.state.store import StateStore

#: The longest step between two updates that counts as watched time.
MAX_STEP_S = 60.0
_RUNNING, _DOWN = MACHINE_STATES.index("running"), MACHINE_STATES.index("down")
_PLANNED = [MACHINE_STATES.index(s) for s in ("off_shift", "maintenance") if s in MACHINE_STATES]


class LiveRollup:
    """Every group's KPIs from the live state.

    Signals
    -------
    updated(GroupFigures)
        New figures after ``update``.
    """

    updated = Signal(object)

    def __init__(self, factory: Factory, max_age_s: float = 10.0, tree: PlantTree | None = None):
        self.max_age_s = max_age_s
        self.set_factory(factory, tree)

    def set_factory(self, factory: Factory, tree: PlantTree | None = None) -> None:
        """Follow another factory (or a new version of it; ``tree``: its ``PlantTree`` when already made):
        the tree is rebuilt and watching starts again."""
        self.tree = tree if tree is not None else PlantTree.of(factory)
        self._membership = Membership(self.tree)
        self.ids = [m.id for m in factory.machines]
        self.reset()

    def reset(self) -> None:
        """Forget the time watched so far (a new connection)."""
        n = len(self.ids)
        self._watched, self._running = np.zeros(n), np.zeros(n)
        self._down, self._planned, self._energy = np.zeros(n), np.zeros(n), np.zeros(n)
        self._last: float | None = None
        self._then: tuple[np.ndarray, np.ndarray] | None = None
        self.watched_s = 0.0
        self.figures: GroupFigures | None = None

    def _rows(self, store: StateStore) -> np.ndarray | None:
        """Store rows in factory order (None: the same order)."""
        if store.machines == self.ids:
            return None
        return np.array([store.machine_index.get(i, -1) for i in self.ids], dtype=np.int64)

    def _column(self, store: StateStore, signal: str, now: float, rows: np.ndarray | None) -> np.ndarray:
        values = np.where(store.fresh(signal, now, self.max_age_s), store.column(signal), np.nan)
        if rows is None:
            return values
        return np.where(rows >= 0, values[np.maximum(rows, 0)], np.nan) if len(values) else np.full(len(rows), np.nan)

    def update(
        self,
        store: StateStore,
        now: float,
        rates: np.ndarray | None = None,
        counting: np.ndarray | None = None,
        time_scale: float = 1.0,
    ) -> GroupFigures:
        """Roll up the store's state at ``now`` (UNIX s); ``rates``/``counting`` are the machines' output rates
        (parts per plant hour, store order) and which still wait for parts (``app.heat.material.ThroughputMeter``);
        ``time_scale``: plant seconds per clock second (the time since the last update is counted in plant time)."""
        rows = self._rows(store)
        step = 0.0 if self._last is None else float(np.clip(now - self._last, 0.0, MAX_STEP_S))
        dt = step * time_scale
        self._last = now
        state = self._column(store, "State", now, rows)
        power = self._column(store, "Power", now, rows)
        held, held_power = self._then if self._then is not None else (state, power)
        self._then = (state, power)
        if dt > 0:
            self.watched_s += dt
            self._watched += np.where(np.isfinite(held) & (held >= 0), dt, 0.0)
            self._running += np.where(held == _RUNNING, dt, 0.0)
            self._down += np.where(held == _DOWN, dt, 0.0)
            self._planned += np.where(np.isin(held, _PLANNED), dt, 0.0)
            self._energy += np.where(np.isfinite(held_power), held_power, 0.0) * dt / 3600.0
        n = len(self.ids)

        def in_order(a: np.ndarray | None, fill: float | bool) -> np.ndarray:
            if a is None:
                return np.full(n, fill)
            a = np.asarray(a)
            return a if rows is None else np.where(rows >= 0, a[np.maximum(rows, 0)], fill)

        machines = MachineArrays(
            alarm=self._column(store, "Alarm", now, rows) > 0.5,
            level=self._column(store, "Level", now, rows),
            power_kw=power,
            rates=in_order(rates, np.nan).astype(float),
            counting=in_order(counting, False).astype(bool),
            watched_s=self._watched,
            running_s=self._running,
            down_s=self._down,
            planned_stop_s=self._planned,
            energy_kwh=self._energy,
        )
        self.figures = roll_up(self.tree, machines, self.watched_s, self._membership, time_scale)
        self.updated.emit(self.figures)
        return self.figures
