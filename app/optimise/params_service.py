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

import os
from concurrent.futures import Future

from app.model.factory import Factory
from app.optimise.job import SearchJob
from app.optimise.params import ParamsProgress, optimise_params
from app.optimise.params_problem import ParamsInputError, ParamsRequest, check_request
from app.optimise.params_result import ParamsResult
from app.optimise.params_runs import simulations
from app.sim.model import SimInputError

__all__ = ["ParamsOptimiser", "ParamsProgress", "ParamsRequest"]


class ParamsOptimiser(SearchJob):
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

    what = "parameter search"
    input_errors = (ParamsInputError, SimInputError)
    unreachable = "cannot run the simulations"

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
        the worker thread itself (``in_process``: tests, tiny models). RuntimeError when one is running.
        ``cancel()`` stops as soon as the replications running now are done."""
        path = None if factory_path is None else str(factory_path)

        def work() -> ParamsResult:
            check_request(factory, request)  # bad input is said before any worker process starts
            with simulations(workers, dask_address, in_process) as sims:
                return optimise_params(factory, request, sims, self.progressed.emit, self._cancel.is_set, path)

        return self._submit(work)
