"""The material flow of the open document, kept up to date off the GUI thread: request → compute → apply.

A view hands every new factory version (and the saved one) to `FlowService.update`; the analysis, the texts
and the ribbons are made on the service's own thread (0.3 s on a 2,000-machine plant) and announced with
``analysed``. While a machine is dragged, `FlowService.preview` answers the total effort with the dragged
machines elsewhere from the last analysis's `EffortModel` at once (``moved``: a fraction of a millisecond).

Examples
--------
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> service = FlowService()
>>> got = []
>>> _ = service.analysed.connect(got.append)
>>> f = load_factory(DEMO_FACTORY)
>>> service.update(f, f).result()
>>> round(got[0].summary.total), got[0].summary.saved_total == got[0].summary.total
(8798, True)
>>> round(service.preview({"WH-IN": (12.0, 30.0)}) - got[0].summary.total)  # Δ part·m/h if WH-IN stood there
-281
>>> service.close()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from psygnal import Signal

from app.model.factory import Factory
from app.optimise.flow import EffortModel
from app.optimise.flow_view import FlowSummary, Ribbons, ribbons, summarise

__all__ = ["FlowService", "FlowState"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FlowState:
    """One factory version analysed: what the dock shows, the model that answers drags, the ribbons."""

    summary: FlowSummary
    model: EffortModel
    ribbons: Ribbons

    @property
    def factory(self) -> Factory:
        return self.model.factory


class FlowService:
    """Material-flow analysis of the latest factory version handed over, on one worker thread.

    Signals (emitted on the worker: a GUI connects through ``app.ui.gui_thread.connect_on_gui``)
    -------
    analysed(FlowState)
        The latest version handed to ``update`` is analysed (older requests still queued are skipped).
    failed(str)
        The analysis raised (logged with its traceback); the view says so.
    """

    analysed = Signal(object)
    failed = Signal(str)

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="material-flow")
        self._lock = threading.Lock()
        self._latest = 0
        self._saved: tuple[Factory | None, float | None] = (None, None)  # the saved version's total, kept
        self.state: FlowState | None = None  # the last analysis delivered (set on the worker)

    def update(self, factory: Factory, saved: Factory | None) -> Future[None]:
        """Analyse ``factory`` (a snapshot) against ``saved`` (the layout as last saved; None: unknown)."""
        with self._lock:
            self._latest += 1
            number = self._latest
        return self._pool.submit(self._run, number, factory, saved)

    def preview(self, moves: Mapping[str, tuple[float, float]]) -> float | None:
        """Total effort (part·m/h) of the last analysed version with these machines at (x_m, y_m) instead;
        None before an analysis. Fast: the model re-measures only the moved machines' legs."""
        state = self.state
        if state is None:
            return None
        model = state.model
        known = {mid: xy for mid, xy in moves.items() if mid in model.ids}
        if len(known) == 1:
            ((mid, (x, y)),) = known.items()
            return model.total_effort + model.moved(mid, x, y)
        return model.with_moves(known).total_effort if known else model.total_effort

    def close(self) -> None:
        for signal in (self.analysed, self.failed):
            signal.disconnect()
        with self._lock:
            self._latest += 1  # anything still queued is out of date
        self._pool.shutdown(wait=True)

    def _run(self, number: int, factory: Factory, saved: Factory | None) -> None:
        if number != self._latest:
            return  # a newer version was handed over meanwhile
        try:
            model = EffortModel(factory)
            summary = summarise(model, self._saved_total(factory, saved, model))
            state = FlowState(summary, model, ribbons(model))
        except Exception as e:  # a fault: said and logged, the dock keeps what it showed
            log.exception("material-flow analysis failed")
            self.failed.emit(f"the material-flow analysis failed: {e}")
            return
        if number == self._latest:
            self.state = state
            self.analysed.emit(state)

    def _saved_total(self, factory: Factory, saved: Factory | None, model: EffortModel) -> float | None:
        if saved is None:
            return None
        if saved is factory:
            return model.total_effort
        known, total = self._saved
        if known is not saved:
            total = EffortModel(saved).total_effort
            self._saved = (saved, total)
        return total
