"""The plant simulator's values without its server: for tests and benchmarks that need simulated weeks.

``SimulatedPlant`` runs the same engine as :class:`app.plant.server.PlantServer` — the factory compiled
the same way, the same warm start, drifts applied at the same simulated times — and publishes what the
server publishes of the signals the watchdog reads (``State`` as a state name, ``CycleTime`` rounded
to milliseconds and ``PartCount``, a value only when it changed), one batch per update step, timestamped in simulated
seconds. What the watchdog is fed from it is what it would be fed over OPC UA from a plant run with
``--speed`` and an update every ``step_s`` simulated seconds, minus the network.

Examples
--------
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> plant = SimulatedPlant(load_factory(DEMO_FACTORY), seed=1)
>>> batches = list(plant.run(600.0))
>>> len(batches), plant.names[0][:2]
(120, ('WH-IN', 'State'))
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from app.model.factory import Factory
from app.plant.drift import Drift, check_drifts, schedule
from app.plant.signals import STATE_NAMES
from app.sim.engine import Engine
from app.sim.model import compile_model
from app.state.store import GOOD, Update

#: The signals published per machine, in binding order.
SIGNALS = ("State", "CycleTime", "PartCount")


class SimulatedPlant:
    """A factory's simulated plant, stepped in simulated time.

    Parameters
    ----------
    factory, seed
        What to simulate (as the plant simulator's ``--seed``).
    drifts
        Parameter changes, as ``--drift`` gives them (times after the warm start).
    step_s
        Simulated seconds between two updates of the published values.
    warm_start_s
        How long the plant has been running when publishing starts (the server's one hour).
    """

    def __init__(
        self,
        factory: Factory,
        seed: int = 0,
        drifts: Sequence[Drift] = (),
        step_s: float = 5.0,
        warm_start_s: float = 3600.0,
    ):
        problems = check_drifts(drifts, factory)
        if problems:
            raise ValueError("; ".join(problems))
        self.model = compile_model(factory, horizon_s=10 * 365 * 86400.0, warmup_s=0.0, replications=1, seed=seed, sample_s=1e12)
        self.engine = Engine(self.model)
        self.engine.run_until(warm_start_s)
        self.t0 = self.engine.time()
        self.step_s = step_s
        ids = [m.id for m in factory.machines]
        #: binding → (machine, signal, node id), as a live session names its bindings
        self.names = [(m, signal, f"ns=2;s=Machines/{m}/{signal}") for m in ids for signal in SIGNALS]
        self._pending = schedule(drifts, factory)
        self._last: list[object] = [None] * len(self.names)

    def time(self) -> float:
        """Simulated seconds since publishing started."""
        return self.engine.time() - self.t0

    def run(self, duration_s: float) -> Iterator[list[Update]]:
        """One batch of changed values per step for ``duration_s`` more simulated seconds (timestamps:
        simulated seconds since publishing started)."""
        eng, pending, last = self.engine, self._pending, self._last
        end = self.time() + duration_s
        while self.time() < end - 1e-9:
            target = min(self.time() + self.step_s, end)
            while pending and pending[0].at_s <= target:
                step = pending.pop(0)
                eng.run_until(self.t0 + step.at_s)
                eng.rescale(step.param, step.index, step.factor)
            eng.run_until(self.t0 + target)
            snap = eng.snapshot()
            batch = []
            t = self.time()
            for i, (code, cycle, count) in enumerate(zip(snap["state"], snap["last_cycle_s"], snap["operations"], strict=True)):
                for k, value in ((3 * i, STATE_NAMES[code]), (3 * i + 1, round(float(cycle), 3)), (3 * i + 2, int(count))):
                    if last[k] != value:
                        last[k] = value
                        batch.append(Update(k, value, GOOD, t, t))
            yield batch
