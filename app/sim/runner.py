"""Runs replications, spread over worker processes, with progress and cancel.

Workers come from a fork server that has already imported the engine (``spawn`` where there is no fork
server, as on Windows): a parent holding a GUI or network threads is never forked itself, and workers
start in milliseconds instead of re-importing everything.
Each finished replication is handed to ``on_result`` (the results writer) in the parent as soon as it
arrives, so a run that is interrupted keeps everything it finished.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import queue
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from app.sim.engine import Cancelled, ReplicationResult, simulate
from app.sim.model import SimModel

_progress_q = None
_cancel_ev = None


def _init_worker(progress_q, cancel_ev, memory_limit_mb: int | None = None, nice: int = 0) -> None:
    global _progress_q, _cancel_ev
    _progress_q, _cancel_ev = progress_q, cancel_ev
    if memory_limit_mb:
        _limit_memory(memory_limit_mb)
    if nice and hasattr(os, "nice"):
        os.nice(nice)  # background work: the application's own process keeps the CPU it needs


def worker_initializer(cancel_ev, nice: int = 0) -> None:
    """Initialise a worker process of another pool (the shift forecast's) with a cancel flag its
    simulations watch through ``worker_cancelled``: closing that pool then stops running replications at
    once instead of waiting for them to finish."""
    _init_worker(None, cancel_ev, None, nice)


def worker_cancelled() -> bool:
    """True in a worker process whose pool's cancel flag is set (always False outside a worker)."""
    return _cancel_ev is not None and _cancel_ev.is_set()


def _limit_memory(mb: int) -> None:
    """Let this process grow by at most ``mb`` MiB of address space from here (Linux/macOS; a no-op
    elsewhere): past that an allocation raises ``MemoryError`` in the simulation instead of swapping."""
    try:
        import resource

        with open("/proc/self/status") as fh:
            now_kb = next(int(line.split()[1]) for line in fh if line.startswith("VmSize:"))
    except (ImportError, OSError, StopIteration):
        return
    limit = now_kb * 1024 + int(mb) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))


def _run_one(model: SimModel, replication: int) -> ReplicationResult:
    pid = os.getpid()

    def progress(frac: float) -> None:
        if _progress_q is not None:
            _progress_q.put((replication, frac, pid))

    progress(0.0)  # a first report as soon as the worker starts (with its process id)
    try:
        return simulate(model, replication, progress, lambda: _cancel_ev is not None and _cancel_ev.is_set())
    except MemoryError:
        pass  # report it after the except block: until then its traceback holds the simulation's memory
    gc.collect()
    raise MemoryError(f"replication {replication} ran out of memory")


def _context() -> mp.context.BaseContext:
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["app.sim.engine", "app.sim.runner"])
        return ctx
    return mp.get_context("spawn")


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def run_replications(
    model: SimModel,
    workers: int | None = None,
    on_result: Callable[[ReplicationResult], None] | None = None,
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    in_process: bool | None = None,
    memory_limit_mb: int | None = None,
    on_worker: Callable[[int], None] | None = None,
    pool: WorkerPool | None = None,
) -> list[ReplicationResult]:
    """All replications of ``model``.

    ``workers=1`` runs in this process unless ``in_process`` is False (an application keeps simulations
    out of its own process: they would share its interpreter lock). ``memory_limit_mb`` caps how much
    each worker may allocate, so a run that needs too much fails with ``MemoryError`` instead of swapping
    the machine.
    ``on_worker`` hears the process id of every worker that starts a replication. ``pool``: run on these
    (kept) worker processes instead of starting new ones.
    """
    n = model.replications
    workers = min(workers or default_workers(), n)
    if in_process is None:
        in_process = workers <= 1
    done_frac = [0.0] * n
    results: list[ReplicationResult] = []

    def report() -> None:
        if progress is not None:
            progress(sum(done_frac) / n)

    if in_process:
        for k in range(n):

            def rep_progress(f: float, k: int = k) -> None:
                done_frac[k] = f
                report()

            r = simulate(model, k, rep_progress, cancel)
            results.append(r)
            if on_result is not None:
                on_result(r)
        return results

    own = pool is None
    workers_pool = WorkerPool(workers, memory_limit_mb) if pool is None else pool
    try:
        return workers_pool.run(model, on_result, report, done_frac, results, cancel, on_worker)
    finally:
        if own:
            workers_pool.close()


class WorkerPool:
    """Worker processes that run replications, kept between runs (starting processes costs time).

    A pool serves one run at a time. After a cancelled or failed run it is closed and should not be
    reused (``broken``).
    """

    def __init__(self, workers: int, memory_limit_mb: int | None = None, nice: int = 0):
        self.workers = workers
        self.ctx = _context()
        self.progress_q = self.ctx.Queue()
        self.cancel_ev = self.ctx.Event()
        init = (self.progress_q, self.cancel_ev, memory_limit_mb, nice)
        self.executor = ProcessPoolExecutor(workers, mp_context=self.ctx, initializer=_init_worker, initargs=init)
        self.broken = False

    def run(self, model, on_result, report, done_frac, results, cancel, on_worker) -> list[ReplicationResult]:
        n = model.replications
        pending: set[Future] = {self.executor.submit(_run_one, model, k) for k in range(n)}
        try:
            while pending:
                finished, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                while True:
                    try:
                        k, f, pid = self.progress_q.get_nowait()
                    except queue.Empty:
                        break
                    if f == 0.0 and on_worker is not None:
                        on_worker(pid)
                    done_frac[k] = max(done_frac[k], f)
                for fut in finished:
                    r = fut.result()  # re-raises a worker's exception (Cancelled, MemoryError, ...)
                    done_frac[r.replication] = 1.0
                    results.append(r)
                    if on_result is not None:
                        on_result(r)
                report()
                if cancel is not None and cancel():
                    raise Cancelled()
        except BaseException:
            self.broken = True
            self.cancel_ev.set()
            for fut in pending:
                fut.cancel()
            raise
        results.sort(key=lambda r: r.replication)
        return results

    def close(self) -> None:
        """Stop the workers (a running replication sees the cancel flag and stops within moments)."""
        if self.broken:
            self.cancel_ev.set()
        self.executor.shutdown(wait=True, cancel_futures=True)
