"""The OEE dashboard's service: computes a report off the calling thread, one at a time, and keeps the
operator's downtime reasons (no Qt).

A request made while one is computing replaces any request still waiting: at most one runs and one waits,
however often the view asks (a live plant's 10,000 values/s never queue up computations; the view asks on a
timer). ``synchronous`` computes on the calling thread (tests).

Examples
--------
>>> s = OeeService(synchronous=True)
>>> _ = s.failed.connect(print)
>>> s.from_history(None, None, None)
Open a factory to see its OEE
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from psygnal import Signal

from app.compare.window import ActualsWindow
from app.model.factory import Factory
from app.oee.reasons import ReasonEntry, ReasonLog
from app.oee.report import OeeReport, history_report, simulation_report

log = logging.getLogger(__name__)


class OeeService:
    """Computes ``OeeReport``s.

    Signals
    -------
    ready(OeeReport)
        A report (*worker*, or the caller's thread when synchronous).
    failed(str)
        Why there is none to show (same thread as ``ready``).
    reason_recorded(str, str)
        An operator's reason was stored: machine, reason (the caller's thread).
    """

    ready = Signal(object)
    failed = Signal(str)
    reason_recorded = Signal(str, str)

    def __init__(self, synchronous: bool = False):
        self.synchronous = synchronous
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="oee")
        self._lock = threading.Lock()
        self._running = False
        self._waiting: Callable[[], OeeReport | str] | None = None
        self.computed = 0  # reports made so far

    # -- requests ---------------------------------------------------------------------------------------------
    def from_simulation(self, factory: Factory | None, model, results: Sequence, title: str) -> None:
        """The report of a finished simulation run of ``model`` (compiled from ``factory``)."""
        if factory is None:
            self.failed.emit("Open a factory to see its OEE")
            return
        self._ask(lambda: simulation_report(factory, model, list(results), title) if results else "The run has no replication")

    def from_history(
        self,
        factory: Factory | None,
        path: str | os.PathLike[str] | None,
        window: Callable[[], ActualsWindow | None] | None,
        time_scale: float = 1.0,
        min_window_s: float = 60.0,
        describe: Callable[[ActualsWindow], str] = ActualsWindow.text,
    ) -> None:
        """The report of the history's recent window (``window`` is read on the worker: it queries the file;
        ``describe`` says how much it holds, e.g. "42 min of 60, 2 gaps")."""
        if factory is None:
            self.failed.emit("Open a factory to see its OEE")
            return
        if path is None or window is None or not Path(path).exists():
            self.failed.emit("Nothing recorded yet: connect to the plant (Live ▸ Connect) to record its states")
            return

        def work() -> OeeReport | str:
            w = window()
            if w is None or not w.stretches or w.connected_s < min_window_s:
                return f"Recorded history: not enough data — needs ≥ {min_window_s / 60:.0f} min connected"
            title = f"Recorded history: {describe(w)}"
            return history_report(path, factory, w, time_scale, title) or "Recorded history: no connected stretch"

        self._ask(work)

    def _ask(self, work: Callable[[], OeeReport | str]) -> None:
        if self.synchronous:
            self._deliver(work())
            return
        with self._lock:
            if self._running:
                self._waiting = work  # replaces an older request still waiting
                return
            self._running = True
        self._pool.submit(self._run, work)

    def _run(self, work: Callable[[], OeeReport | str]) -> None:
        while True:
            try:
                self._deliver(work())
            except Exception as e:  # a damaged file or a defect: said, and the worker stays usable
                log.exception("OEE computation failed")
                self.failed.emit(f"Cannot compute the OEE: {e}")
            with self._lock:
                work, self._waiting = self._waiting, None  # type: ignore[assignment]
                if work is None:
                    self._running = False
                    return

    def _deliver(self, result: OeeReport | str) -> None:
        if isinstance(result, str):
            self.failed.emit(result)
        else:
            self.computed += 1
            self.ready.emit(result)

    # -- the operator's reasons -------------------------------------------------------------------------------
    def record_reason(self, path: str | os.PathLike[str], machine: str, reason: str, t: float | None = None) -> ReasonEntry:
        """Store an operator's reason for ``machine``'s downtime at recorded time ``t`` (now when None) in the
        history file; the computation gives it to the whole down period around ``t``."""
        reason = reason.strip()
        if not reason:
            raise ValueError("a downtime reason must say something")
        now = time.time()
        entry = ReasonEntry(machine, now if t is None else t, reason, now)
        log_ = ReasonLog(path)
        try:
            log_.append(entry)
        finally:
            log_.close()
        self.reason_recorded.emit(machine, reason)
        return entry

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
