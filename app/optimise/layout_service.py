"""The layout optimiser as a service a thin view drives: request → compute on a worker thread → result.

A view freezes the inputs (the document's factory snapshot, the request), calls `LayoutOptimiser.start`,
shows ``progressed`` reports, offers Cancel (`cancel`), and on ``finished`` shows the Pareto front and
applies the chosen candidate's ``result.changes(id)`` as one undo step — nothing is applied here. The
collision world of the search is built and closed on the worker thread (one owner per pybullet client).

Examples
--------
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> service = LayoutOptimiser()
>>> done = []
>>> _ = service.finished.connect(done.append)
>>> f = load_factory(DEMO_FACTORY)
>>> service.start(f, LayoutRequest(movable=("QA-01",), seconds=0.5, seed=1), factory_path=DEMO_FACTORY).result()
>>> done[0].stopped_by in ("time", "converged")
True
>>> service.close()
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import Future

from psygnal import Signal

from app.model.factory import Factory
from app.optimise.job import SearchJob
from app.optimise.layout import LayoutProgress, optimise_layout
from app.optimise.layout_problem import LayoutInputError, LayoutRequest
from app.optimise.layout_result import LayoutResult
from app.optimise.validate import validate_candidates
from app.sim.model import SimInputError

__all__ = ["LayoutOptimiser", "LayoutRequest"]


class LayoutOptimiser(SearchJob):
    """One layout search at a time, on its own thread.

    Signals (all emitted on the worker thread: a GUI connects through ``app.ui.gui_thread.connect_on_gui``)
    -------
    progressed(LayoutProgress)
        The search's report, a few times a second.
    validating(float)
        Share of the validation simulations done (0…1).
    finished(LayoutResult)
        The result (also after a cancelled search: ``stopped_by == "cancelled"``, with what was found).
    failed(str)
        Why nothing came out: bad input (a factory without flows, a region too small, pinned machines that
        collide…) or a fault; the layout is untouched either way.
    cancelled()
        Cancelled while validating: no result.
    """

    what = "layout search"
    input_errors = (LayoutInputError, SimInputError)

    validating = Signal(float)

    def start(
        self,
        factory: Factory,
        request: LayoutRequest,
        hulls: Mapping[str, tuple] | None = None,
        factory_path: str | os.PathLike[str] | None = None,
        validate: int = 0,
        replications: int | None = None,
        horizon_s: float | None = None,
    ) -> Future[None]:
        """Search (and validate the best ``validate`` candidates of) ``factory``, a snapshot the caller no
        longer changes. ``hulls``: collision shapes by asset (default: loaded from the factory's meshes on
        the worker). RuntimeError when a search is already running. ``cancel()`` stops the search as soon as
        it can (its result so far is still reported)."""

        def work() -> LayoutResult:
            from app.optimise.feasibility import factory_hulls

            path = None if factory_path is None else str(factory_path)
            shapes = hulls if hulls is not None else factory_hulls(factory, factory_path)
            result = optimise_layout(factory, request, shapes, self._progress, self._cancel.is_set, path)
            if validate and result.stopped_by != "cancelled":
                result = validate_candidates(
                    factory,
                    result,
                    validate,
                    replications=replications,
                    horizon_s=horizon_s,
                    workers=None,
                    in_process=False,  # simulations in worker processes: the caller's interpreter stays free
                    progress=self.validating.emit,
                    cancel=self._cancel.is_set,
                )
            return result

        return self._submit(work)

    def _progress(self, p: LayoutProgress) -> None:
        self.progressed.emit(p)
