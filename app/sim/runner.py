"""Runs replications, spread over worker processes, with progress and cancel.

Workers come from a fork server that has already imported the engine (``spawn`` where there is no fork
server, as on Windows): a parent holding a GUI or network threads is never forked itself, and workers
start in milliseconds instead of re-importing everything.
Each finished replication is handed to ``on_result`` (the results writer) in the parent as soon as it
arrives, so a run that is interrupted keeps everything it finished.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from app.sim.engine import Cancelled, ReplicationResult, simulate
from app.sim.model import SimModel

_progress_q = None
_cancel_ev = None


def _init_worker(progress_q, cancel_ev) -> None:
    global _progress_q, _cancel_ev
    _progress_q, _cancel_ev = progress_q, cancel_ev


def _run_one(model: SimModel, replication: int) -> ReplicationResult:
    def progress(frac: float) -> None:
        if _progress_q is not None:
            _progress_q.put((replication, frac))

    return simulate(model, replication, progress, lambda: _cancel_ev is not None and _cancel_ev.is_set())


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
) -> list[ReplicationResult]:
    """All replications of ``model``; ``workers=1`` runs in this process (no pool)."""
    n = model.replications
    workers = min(workers or default_workers(), n)
    done_frac = [0.0] * n
    results: list[ReplicationResult] = []

    def report() -> None:
        if progress is not None:
            progress(sum(done_frac) / n)

    if workers <= 1:
        for k in range(n):

            def rep_progress(f: float, k: int = k) -> None:
                done_frac[k] = f
                report()

            r = simulate(model, k, rep_progress, cancel)
            results.append(r)
            if on_result is not None:
                on_result(r)
        return results

    ctx = _context()
    progress_q = ctx.Queue()
    cancel_ev = ctx.Event()
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(progress_q, cancel_ev)) as pool:
        pending: set[Future] = {pool.submit(_run_one, model, k) for k in range(n)}
        try:
            while pending:
                finished, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                while True:
                    try:
                        k, f = progress_q.get_nowait()
                    except queue.Empty:
                        break
                    done_frac[k] = max(done_frac[k], f)
                for fut in finished:
                    r = fut.result()  # re-raises a worker's exception (Cancelled, MemoryError, ...)
                    done_frac[r.replication] = 1.0
                    results.append(r)
                    if on_result is not None:
                        on_result(r)
                report()
                if cancel is not None and cancel():
                    cancel_ev.set()
                    for fut in pending:
                        fut.cancel()
                    raise Cancelled()
        except BaseException:
            cancel_ev.set()
            for fut in pending:
                fut.cancel()
            raise
    results.sort(key=lambda r: r.replication)
    return results
