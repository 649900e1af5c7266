"""The forecast as a background service: request → replications on worker processes → ``finished``.

A view calls ``request`` (on demand) and ``due`` on its timer (the refresh policy: every
``refresh_every_s``), and listens to ``finished`` / ``failed`` (emitted on the service's thread: a Qt view
connects through ``app.ui.gui_thread.connect_on_gui``). A new request cancels the one under way; ``cancel``
stops it without a result.

Examples
--------
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> from app.forecast.live_state import LiveState
>>> svc = ForecastService(load_factory(DEMO_FACTORY), replications=10, workers=0)
>>> got = []
>>> _ = svc.finished.connect(got.append)
>>> svc.request(LiveState({}, 0), horizon_s=1800.0, target=3)  # its number
1
>>> svc.wait(60)
True
>>> got[0].replications, got[0].target
(10, 3)
>>> svc.close()
"""

from __future__ import annotations

import math
import multiprocessing as mp
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
from psygnal import Signal

from app.forecast.forecast import Forecast, ForecastRequest, run_forecast
from app.forecast.live_state import LiveState
from app.model.factory import Factory
from app.sim.engine import Cancelled
from app.sim.model import SimInputError
from app.sim.runner import worker_initializer

#: Minutes between background refreshes by default.
REFRESH_EVERY_S = 300.0


def _context() -> mp.context.BaseContext:
    # Workers from a fork server that has imported the engine: the GUI process itself is never forked.
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["app.forecast.forecast"])
        return ctx
    return mp.get_context("spawn")


class ForecastService:
    """Forecasts of ``factory`` from the live state, one at a time, off the calling thread.

    Parameters
    ----------
    replications
        Per forecast (20 by default: enough for the probability of reaching the target).
    workers
        Worker processes (kept between forecasts); 0 runs the replications on the service's own thread.
    refresh_every_s
        How old the last forecast may get before ``due`` says to make a new one.

    Signals
    -------
    started(int)
        A forecast began (its request number).
    progress(float)
        Share of its replications done.
    finished(Forecast)
        The result.
    failed(str)
        Why a forecast could not be made (the request's input problems, a worker's error).
    """

    started = Signal(int)
    progress = Signal(float)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, factory: Factory, replications: int = 20, workers: int = 2, refresh_every_s: float = REFRESH_EVERY_S):
        self.factory = factory
        self.replications = replications
        self.workers = workers
        self.refresh_every_s = refresh_every_s
        self.latest: Forecast | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._stop: Any = None  # the workers' cancel flag (a multiprocessing Event), set on close
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._number = 0
        self.last_request_at = -math.inf  # monotonic time of the last request
        self.last_took_s = 0.0  # clock seconds the last finished forecast took (the refresh waits at least that)

    def set_factory(self, factory: Factory) -> None:
        """Forecast this factory version from the next request on (a running forecast is cancelled)."""
        self.cancel()
        self.factory = factory

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def due(self, now: float | None = None) -> bool:
        """True when the last forecast was requested ``refresh_every_s`` ago or more (or never) and none runs:
        the view's timer then calls ``request``."""
        now = time.monotonic() if now is None else now
        return not self.running and now - self.last_request_at >= self.refresh_every_s

    def request(
        self,
        live: LiveState,
        horizon_s: float,
        target: int | None = None,
        made_so_far: int = 0,
        seed: int | None = None,
        sample_s: float = 300.0,
    ) -> int:
        """Start a forecast (cancelling one under way); returns its number. ``seed`` None: fresh seeds."""
        self.cancel()
        with self._lock:
            self._number += 1
            number = self._number
            self._cancel = cancel = threading.Event()
            self.last_request_at = time.monotonic()
        seed = int(np.random.SeedSequence().entropy % 2**63) if seed is None else seed  # type: ignore[operator]
        req = ForecastRequest(live, float(horizon_s), self.replications, target, made_so_far, seed, sample_s)
        self._thread = threading.Thread(target=self._run, args=(number, req, cancel), name="forecast", daemon=True)
        self._thread.start()
        return number

    def cancel(self) -> None:
        """Stop the forecast under way (no result is emitted for it)."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the forecast under way; True when none runs any more."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.running

    def close(self) -> None:
        """Cancel, wait, and stop the worker processes (a running replication stops within moments)."""
        self.cancel()
        if self._stop is not None:
            self._stop.set()
        self.wait(30)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _executor(self) -> ProcessPoolExecutor | None:
        if self.workers <= 0:
            return None
        if self._pool is None:
            ctx = _context()
            self._stop = ctx.Event()
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=ctx, initializer=worker_initializer, initargs=(self._stop,)
            )
        return self._pool

    def _run(self, number: int, req: ForecastRequest, cancel: threading.Event) -> None:
        self.started.emit(number)
        began = time.monotonic()
        try:
            result = run_forecast(self.factory, req, self._executor(), cancel.is_set, self.progress.emit)
        except Cancelled:
            return
        except (SimInputError, ValueError) as e:  # what the plant or the factory gives that cannot be run
            self.failed.emit(f"no forecast: {e}")
            return
        if cancel.is_set():
            return
        self.last_took_s = time.monotonic() - began
        self.latest = result
        self.finished.emit(result)
