"""The scenario optimiser as a service a thin view drives: request → search and selection on a worker thread
→ result. Nothing is applied here.

How a view uses it (Optimise ▸ Parameters…):

1. build a `ParamsRequest` from its widgets (variables, objectives, budget, limits) and call
   ``start(document.factory, request, factory_path=…, workers=… or dask_address=…)``; it returns at once
   (a ``Future``); bad input comes back as ``failed(message)`` before any simulation;
2. connect ``progressed`` / ``finished`` / ``failed`` / ``cancelled`` with ``app.ui.gui_thread.connect_on_gui``
   (they are emitted on the worker thread) and show ``ParamsProgress`` in a progress bar;
3. Cancel calls ``cancel()``;
4. on ``finished(result)`` show the candidates (``result.candidates``; their ``kpis`` texts are rounded already),
   the selection's claim (``result.selection.text``) and offer Apply only for ``result.recommended`` (or a
   candidate the user picks): ``result.changes(id)`` are what-if scenario changes, ``result.scenario(factory,
   id)`` a scenario to simulate in What-if, ``result.applied_to(factory, id)`` the changed factory version.

Examples
--------
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> from app.optimise.params_problem import Variable
>>> service = ParamsOptimiser()
>>> done = []
>>> _ = service.finished.connect(done.append)
>>> req = ParamsRequest(variables=(Variable("servers", "CNC-01", 1, 2),), replications=2, horizon_s=3600.0, warmup_s=0.0,
...                     max_evaluations=2, max_selection_replications=3, delta=1.0)
>>> service.start(load_factory(DEMO_FACTORY), req, in_process=True).result()
>>> len(done[0].candidates)
2
>>> service.close()
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from psygnal import Signal

from app.model.factory import Factory
from app.optimise.params import ParamsProgress, optimise_params
from app.optimise.params_problem import ParamsInputError, ParamsRequest, check_request
from app.optimise.params_runs import simulations
from app.sim.engine import Cancelled
from app.sim.model import SimInputError

__all__ = ["ParamsOptimiser", "ParamsProgress", "ParamsRequest"]

log = logging.getLogger(__name__)


class ParamsOptimiser:
    """One scenario-parameter search at a time, on its own thread.

    Signals (all emitted on the worker thread: a GUI connects through ``app.ui.gui_thread.connect_on_gui``)
    -------
    progressed(ParamsProgress)
        Phase ("search" or "selection"), share done, candidates and replications so far, the best in words.
    finished(ParamsResult)
        The result; also after Cancel during the search (``stopped_by == "cancelled"``: what was simulated,
        nothing selected or recommended).
    failed(str)
        Why nothing came out: bad input (no variable, an unknown machine, a budget the lower bounds exceed…),
        a cluster that cannot be reached, or a fault. The factory is untouched either way.
    cancelled()
        Cancelled during the selection: no result.
    """

    progressed = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="params-optimiser")
        self._cancel = threading.Event()
        self._running: Future[None] | None = None

    @property
    def running(self) -> bool:
        return self._running is not None and not self._running.done()

    def start(
        self,
        factory: Factory,
        request: ParamsRequest,
        factory_path: str | os.PathLike[str] | None = None,
        workers: int | None = None,
        dask_address: str | None = None,
        in_process: bool = False,
    ) -> Future[None]:
        """Search ``factory`` (a snapshot the caller no longer changes) as ``request`` says. Replications run on
        ``workers`` local processes (default: one per core), on the Dask scheduler at ``dask_address``, or in
        the worker thread itself (``in_process``: tests, tiny models). RuntimeError when one is running."""
        if self.running:
            raise RuntimeError("a parameter search is already running: cancel it first")
        self._cancel.clear()
        path = None if factory_path is None else str(factory_path)
        self._running = self._pool.submit(self._run, factory, request, path, workers, dask_address, in_process)
        return self._running

    def cancel(self) -> None:
        """Stop as soon as the replications running now are done."""
        self._cancel.set()

    def close(self) -> None:
        self.cancel()
        for signal in (self.progressed, self.finished, self.failed, self.cancelled):
            signal.disconnect()
        self._pool.shutdown(wait=True)

    def _run(self, factory, request, path, workers, dask_address, in_process) -> None:
        try:
            check_request(factory, request)  # bad input is said before any worker process starts
            with simulations(workers, dask_address, in_process) as sims:
                result = optimise_params(factory, request, sims, self.progressed.emit, self._cancel.is_set, path)
        except (ParamsInputError, SimInputError) as e:
            self.failed.emit(str(e))
            return
        except Cancelled:
            self.cancelled.emit()
            return
        except OSError as e:  # a cluster address that cannot be reached, worker processes that cannot start
            self.failed.emit(f"cannot run the simulations: {e}")
            return
        except Exception as e:  # a fault in the search: said, logged with its traceback, factory untouched
            log.exception("parameter search failed")
            self.failed.emit(f"the parameter search failed: {e}")
            return
        self.finished.emit(result)
