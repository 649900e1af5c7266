"""Where the scenario optimiser's replications run: in this process, on local worker processes, or on a Dask
cluster — one interface, `Simulations.run(tasks)`, for a batch of (model, replication number) pairs.

A whole generation of candidates (each × its replications) goes out as one batch, so every worker stays busy.
Replication r of any model uses the random streams of replication r of its seed (`app.sim.engine.simulate`):
giving every candidate the same seed and replication numbers is what makes the comparisons use common random
numbers.

Examples
--------
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> from app.sim.model import compile_model
>>> model = compile_model(load_factory(DEMO_FACTORY), horizon_s=3600.0, warmup_s=0.0, replications=2)
>>> with simulations(in_process=True) as sims:
...     [r.replication for r in sims.run([(model, 0), (model, 1)])]
[0, 1]
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any

from app.sim.engine import Cancelled, ReplicationResult, simulate
from app.sim.jobs import WORKER_NICE
from app.sim.model import SimModel
from app.sim.runner import WorkerPool, default_workers

__all__ = ["DaskSimulations", "InProcessSimulations", "PoolSimulations", "Simulations", "kpi_values", "simulations"]

Task = tuple[SimModel, int]


class Simulations:
    """Runs batches of replications; results come back in the order of the tasks."""

    #: How many replications run at once (a batch of at least this many keeps every worker busy).
    workers: int = 1
    #: Words for progress lines and the result file: "in process", "2 local worker processes", "Dask at …".
    where: str = "in process"

    def run(self, tasks: Sequence[Task], cancel: Callable[[], bool] | None = None) -> list[ReplicationResult]:
        raise NotImplementedError

    def close(self) -> None:
        """Stop whatever this started (worker processes, the cluster connection)."""

    def __enter__(self) -> Simulations:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcessSimulations(Simulations):
    """One replication after another in the calling thread (tests, tiny models)."""

    def run(self, tasks: Sequence[Task], cancel: Callable[[], bool] | None = None) -> list[ReplicationResult]:
        return [simulate(model, rep, None, cancel) for model, rep in tasks]


class PoolSimulations(Simulations):
    """Local worker processes (`app.sim.runner.WorkerPool`, started once and kept for every batch), at a
    lower priority than the application (``nice``, as what-if jobs run)."""

    def __init__(self, workers: int | None = None, memory_limit_mb: int | None = None, nice: int = WORKER_NICE):
        self.workers = workers or default_workers()
        self.where = f"{self.workers} local worker process{'es' if self.workers > 1 else ''}"
        self._pool = WorkerPool(self.workers, memory_limit_mb, nice=nice)

    def run(self, tasks: Sequence[Task], cancel: Callable[[], bool] | None = None) -> list[ReplicationResult]:
        futures: list[Future[ReplicationResult]] = [self._pool.executor.submit(simulate, m, rep) for m, rep in tasks]
        pending = set(futures)
        try:
            while pending:
                _done, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                if cancel is not None and cancel():
                    raise Cancelled()
            return [f.result() for f in futures]  # re-raises a worker's exception
        except BaseException:
            for f in futures:
                f.cancel()
            raise

    def close(self) -> None:
        self._pool.close()


class DaskSimulations(Simulations):
    """A Dask distributed scheduler (``tcp://host:8786``); its workers need floortwin importable."""

    def __init__(self, address: str, timeout_s: float = 10.0):
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - depends on the installation
            raise RuntimeError(
                "running on a Dask cluster needs the 'distributed' package (pip install floortwin[cluster])"
            ) from None
        self._client: Any = Client(address, timeout=timeout_s, set_as_default=False)
        threads = sum(self._client.nthreads().values())
        self.workers = max(1, threads)
        self.where = f"Dask at {address} ({threads} worker thread{'s' if threads != 1 else ''})"

    def run(self, tasks: Sequence[Task], cancel: Callable[[], bool] | None = None) -> list[ReplicationResult]:
        futures = self._client.map(simulate, [m for m, _ in tasks], [r for _, r in tasks], pure=False)
        try:
            while not all(f.done() for f in futures):
                if cancel is not None and cancel():
                    raise Cancelled()
                time.sleep(0.02)
            return list(self._client.gather(futures))  # re-raises a task's exception
        except BaseException:
            self._client.cancel(futures)
            raise

    def close(self) -> None:
        self._client.close()


def simulations(workers: int | None = None, dask_address: str | None = None, in_process: bool = False) -> Simulations:
    """The backend asked for: a Dask cluster when an address is given, else local worker processes (or this
    process with ``in_process``)."""
    if dask_address:
        return DaskSimulations(dask_address)
    if in_process:
        return InProcessSimulations()
    return PoolSimulations(workers)


#: The KPIs recorded for every candidate, in this order (`app.optimise.params_problem.OBJECTIVES` keys).
KPI_KEYS = ("throughput", "lead_time", "wip", "energy")


def kpi_values(r: ReplicationResult) -> tuple[float, float, float, float]:
    """Throughput (parts/h), lead time (s), WIP (parts) and energy per part (kWh/part) of one replication;
    NaN where nothing left the line."""
    out = r.total_throughput
    return (
        out / r.measured_s * 3600.0,
        sum(r.lead_time_sum_s) / out if out else math.nan,
        r.wip_area / r.measured_s,
        float(r.energy_kwh.sum()) / out if out else math.nan,
    )
