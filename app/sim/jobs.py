"""Background simulation jobs: a queue of runs, each in its own worker processes, with progress and cancel.

A ``Job`` runs one or more models (a scenario and its baseline) one after the other; every replication is
written to the job's results file as it finishes. Jobs run side by side up to the number of cores; each
gets its share of the cores as worker processes (a lone job gets them all). While a job runs its
processes are its own, so a crash, a ``MemoryError`` or a cancel ends that job only: the others, and every
result already stored, are untouched. Processes of a job that ended well are kept for the next job
(starting processes costs more than a short simulation); those of a cancelled or failed job are stopped.
Workers run at a lower priority (nice), so the application itself stays responsive during a sweep.

With a Dask scheduler address the replications go to that cluster instead (``distributed``): the way out
when one machine is not enough.

No Qt here: the GUI wraps ``on_change`` in a signal.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from app.sim.engine import Cancelled, ReplicationResult, simulate
from app.sim.model import SimModel
from app.sim.results import ResultsWriter
from app.sim.runner import WorkerPool, default_workers, run_replications

log = logging.getLogger(__name__)

_ids = itertools.count(1)
#: Scheduling priority of worker processes relative to the application (Unix nice increment).
WORKER_NICE = 5


@dataclass
class Job:
    """One background run; its fields are updated from the job's thread (read them, do not write)."""

    name: str
    models: list[tuple[str, SimModel]]  # (label, model), run in order: e.g. ("baseline", …), ("scenario", …)
    results_path: Path
    id: int = field(default_factory=lambda: next(_ids))
    status: str = "queued"  # queued, running, done, failed, cancelled
    message: str = ""
    progress: float = 0.0  # 0…1 over all models
    run_ids: dict[str, int] = field(default_factory=dict)  # label → run id in the results file
    results: dict[str, list[ReplicationResult]] = field(default_factory=dict)
    worker_pids: set[int] = field(default_factory=set)
    submitted: float = field(default_factory=time.monotonic)
    first_progress: float | None = None  # monotonic time of the first progress report
    finished: float | None = None
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def done(self) -> bool:
        return self.status in ("done", "failed", "cancelled")

    def cancel(self) -> None:
        self._cancel.set()


class JobQueue:
    """Runs jobs in the background.

    Parameters
    ----------
    on_change
        Called (from a job's thread) whenever a job's status or progress changes.
    cores
        Worker processes in all (default: one per core).
    dask_address
        A Dask distributed scheduler (``tcp://host:8786``): replications run there instead.
    memory_limit_mb
        How much each local worker process may allocate for its simulation (MiB).
    """

    def __init__(
        self,
        on_change: Callable[[Job], None] | None = None,
        cores: int | None = None,
        dask_address: str | None = None,
        memory_limit_mb: int | None = None,
    ):
        self.on_change = on_change or (lambda job: None)
        self.cores = cores or default_workers()
        self.dask_address = dask_address
        self.memory_limit_mb = memory_limit_mb
        self.jobs: list[Job] = []
        self._lock = threading.Lock()
        self._threads: dict[int, threading.Thread] = {}
        self._idle: list[WorkerPool] = []  # worker processes kept from jobs that ended well

    # -- public -----------------------------------------------------------------------------------------
    def submit(self, name: str, models: list[tuple[str, SimModel]], results_path: str | os.PathLike[str]) -> Job:
        job = Job(name, models, Path(results_path))
        with self._lock:
            self.jobs.append(job)
        self.on_change(job)
        self._schedule()
        return job

    def cancel(self, job: Job) -> None:
        job.cancel()
        with self._lock:
            if job.status == "queued":
                job.status, job.message, job.finished = "cancelled", "cancelled before it started", time.monotonic()
        self.on_change(job)
        self._schedule()

    def running(self) -> list[Job]:
        return [j for j in self.jobs if j.status == "running"]

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every job has finished (tests, the command line); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while any(not j.done for j in self.jobs):
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel everything and wait for the job threads (and so their processes) to end."""
        for j in self.jobs:
            if not j.done:
                self.cancel(j)
        for t in list(self._threads.values()):
            t.join(timeout)
        with self._lock:
            idle, self._idle = self._idle, []
        for pool in idle:
            pool.close()

    def _take_pool(self, workers: int) -> WorkerPool:
        with self._lock:
            for k, pool in enumerate(self._idle):
                if pool.workers == workers:
                    return self._idle.pop(k)
        return WorkerPool(workers, self.memory_limit_mb, nice=WORKER_NICE)

    def _give_back(self, pool: WorkerPool) -> None:
        if pool.broken:
            pool.close()
            return
        with self._lock:
            self._idle.append(pool)
            spare = []
            self._idle.sort(key=lambda p: p.workers)
            while sum(p.workers for p in self._idle) > self.cores:  # never more idle processes than cores:
                spare.append(self._idle.pop(0))  # the smallest pools go first
        for p in spare:
            p.close()

    # -- scheduling ---------------------------------------------------------------------------------------
    def _schedule(self) -> None:
        with self._lock:
            running = [j for j in self.jobs if j.status == "running"]
            queued = [j for j in self.jobs if j.status == "queued"]
            slots = (len(queued) if self.dask_address else self.cores - len(running)) if queued else 0
            start = queued[: max(0, slots)]
            for job in start:
                job.status = "running"
            share = max(1, self.cores // max(1, min(self.cores, len(running) + len(queued))))
        for job in start:
            thread = threading.Thread(target=self._run, args=(job, share), name=f"sim-job-{job.id}", daemon=True)
            self._threads[job.id] = thread
            thread.start()
            self.on_change(job)

    def _run(self, job: Job, workers: int) -> None:
        total = sum(m.replications for _label, m in job.models) or 1
        done_before = 0
        last_report = [0.0]

        def report(frac: float, label_reps: int) -> None:
            job.progress = min(1.0, (done_before + frac * label_reps) / total)
            now = time.monotonic()
            if job.first_progress is None and (frac > 0 or job.worker_pids):  # a worker is at it
                job.first_progress = now
            if now - last_report[0] >= 0.1 or frac >= 1.0:  # at most ten reports a second
                last_report[0] = now
                self.on_change(job)

        try:
            for label, model in job.models:
                writer = ResultsWriter(job.results_path)
                try:
                    job.run_ids[label] = writer.begin(f"{job.name} — {label}", model)
                    status, message = "done", None
                    try:
                        job.results[label] = self._replications(
                            job, model, workers, writer, lambda f, n=model.replications: report(f, n)
                        )
                    except BaseException as e:
                        status, message = _describe_failure(e)
                        raise
                    finally:
                        writer.end(status, message)
                finally:
                    writer.close()
                done_before += model.replications
            job.status, job.message, job.progress = "done", "", 1.0
        except BaseException as e:
            job.status, job.message = _describe_failure(e)
            if job.status == "failed":
                log.error("simulation %s failed: %s", job.name, job.message)
        finally:
            job.finished = time.monotonic()
            self._threads.pop(job.id, None)
            self.on_change(job)
            self._schedule()

    def _replications(self, job: Job, model: SimModel, workers: int, writer: ResultsWriter, progress) -> list[ReplicationResult]:
        def keep(r: ReplicationResult) -> None:
            writer.add(model, r)

        if self.dask_address:
            return run_replications_dask(model, self.dask_address, keep, progress, job._cancel.is_set)
        workers = max(1, min(workers, model.replications))
        pool = self._take_pool(workers)
        try:
            return run_replications(
                model, workers, keep, progress, job._cancel.is_set, in_process=False, on_worker=job.worker_pids.add, pool=pool
            )
        finally:
            self._give_back(pool)


def _describe_failure(e: BaseException) -> tuple[str, str]:
    if isinstance(e, Cancelled):
        return "cancelled", "cancelled"
    if isinstance(e, MemoryError):
        return "failed", "out of memory: a simulation process ran out of memory (fewer replications or a smaller model may fit)"
    if isinstance(e, BrokenProcessPool):
        return "failed", "a simulation process died unexpectedly (killed, or crashed); the results finished before are kept"
    return "failed", f"{type(e).__name__}: {e}"


def run_replications_dask(
    model: SimModel,
    address: str,
    on_result: Callable[[ReplicationResult], None] | None = None,
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    timeout_s: float = 10.0,
) -> list[ReplicationResult]:
    """All replications of ``model`` on a Dask distributed cluster (results arrive as they finish)."""
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - depends on the installation
        raise RuntimeError("running on a Dask cluster needs the 'distributed' package (pip install floortwin[cluster])") from None
    client = Client(address, timeout=timeout_s, set_as_default=False)
    try:
        with client.as_current():
            return _gather(client, as_completed, model, on_result, progress, cancel)
    finally:
        client.close()


def _gather(client, as_completed, model, on_result, progress, cancel) -> list[ReplicationResult]:
    n = model.replications
    futures = client.map(simulate, [model] * n, range(n), pure=False)
    if progress is not None:
        progress(0.0)
    results = []
    for fut in as_completed(futures):
        if cancel is not None and cancel():
            client.cancel(futures)
            raise Cancelled()
        r = fut.result()
        results.append(r)
        if on_result is not None:
            on_result(r)
        if progress is not None:
            progress(len(results) / n)
    results.sort(key=lambda r: r.replication)
    return results


def eta_s(job: Job) -> float:
    """Seconds left by the pace so far (inf before there is a pace)."""
    if job.first_progress is None or job.progress <= 0:
        return math.inf
    spent = time.monotonic() - job.first_progress
    return spent * (1 - job.progress) / job.progress
