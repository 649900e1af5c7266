"""The state Gantt as a service: bars made on a worker thread, the latest request first, announced by signal.

Request → compute → apply: the dock asks for the bars of a source (recorded history or a simulation) and
a window; the service reads the history or re-runs the replication on its own thread, and emits ``ready``
there; the dock receives it on the GUI thread (``app.ui.gui_thread.connect_on_gui``). A request made while
one is being computed replaces the one waiting, and makes the one under way stale (a simulation under way is
cancelled), so dragging through windows never queues work up.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from psygnal import Signal

from app.gantt.bars import GanttBars
from app.gantt.recorded import recorded_bars
from app.gantt.simulated import simulated_bars
from app.history.recorder import History
from app.model.factory import Factory
from app.sim.engine import Cancelled
from app.sim.model import SimModel

log = logging.getLogger(__name__)


class GanttService:
    """Makes ``GanttBars`` for the latest request.

    Parameters
    ----------
    sync
        Compute on the caller's thread (tests, scripts) instead of the service's worker.

    Signals
    -------
    ready(GanttBars)
        The bars of the latest request (*worker*), with ``epoch`` the request's (stale once another came).
    failed(str)
        The latest request could not be answered: the history could not be read (*worker*).

    Examples
    --------
    >>> from app.model.io import load_factory
    >>> from app.paths import DEMO_FACTORY
    >>> from app.sim.model import compile_model
    >>> f = load_factory(DEMO_FACTORY)
    >>> service = GanttService(sync=True)
    >>> got = []
    >>> _ = service.ready.connect(got.append)
    >>> service.show_simulated(compile_model(f, horizon_s=3600.0, warmup_s=0.0), f, 0.0, 3600.0, "demo")
    >>> got[0].n_rows == len(f.machines), got[0].window
    (True, (0.0, 3600.0))
    """

    ready = Signal(object)
    failed = Signal(str)

    def __init__(self, sync: bool = False):
        self.sync = sync
        self.epoch = 0
        self.latest: GanttBars | None = None
        self.last_cost_s = 0.0  # how long the last answer took to make (the chart following the clock waits longer)
        self._lock = threading.Lock()
        self._pool = None if sync else ThreadPoolExecutor(max_workers=1, thread_name_prefix="gantt")
        self._waiting: tuple[int, Callable[[Callable[[], bool]], GanttBars]] | None = None
        self._running: Future | None = None

    def show_recorded(self, history: History, factory: Factory, t0: float, t1: float) -> None:
        """Bars of every machine's recorded states over [t0, t1] (UNIX s)."""
        self._request(lambda _cancel: recorded_bars(history, factory, t0, t1))

    def show_simulated(self, model: SimModel, factory: Factory, t0: float, t1: float, label: str) -> None:
        """Bars of replication 1 of ``model`` over [t0, t1] (simulated seconds); ``label`` names the run."""
        self._request(lambda cancel: simulated_bars(model, factory, t0, t1, label, cancel))

    def cancel(self) -> None:
        """Forget what was asked: a simulation under way stops, answers on their way become stale."""
        with self._lock:
            self.epoch += 1
            self._waiting = None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until nothing is being computed (True) or ``timeout`` passed (False)."""
        with self._lock:
            running = self._running
        if running is None:
            return True
        try:
            running.result(timeout)
        except TimeoutError:
            return False
        return True

    def shutdown(self) -> None:
        self.cancel()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _request(self, make: Callable[[Callable[[], bool]], GanttBars]) -> None:
        with self._lock:
            self.epoch += 1
            self._waiting = (self.epoch, make)
            if self._pool is not None and self._running is None:
                self._running = self._pool.submit(self._run)
        if self._pool is None:
            self._run()

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._waiting is None:
                    self._running = None
                    return
                epoch, make = self._waiting
                self._waiting = None
            def stale(asked: int = epoch) -> bool:
                return asked != self.epoch

            began = time.perf_counter()
            try:
                bars = make(stale)
            except Cancelled:
                continue  # another request came: it is waiting
            except (sqlite3.Error, OSError) as e:  # a missing or damaged history: say so
                log.error("state Gantt: cannot read the history: %s", e)
                if epoch == self.epoch:
                    self.failed.emit(f"Cannot read the history: {e}")
                continue
            self.last_cost_s = time.perf_counter() - began
            if epoch == self.epoch:
                self.latest = bars
                self.ready.emit(bars)
