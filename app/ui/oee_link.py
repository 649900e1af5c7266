"""Wires the OEE dashboard to its sources and to the window: the last what-if run, the recorded history
(recomputed on a timer while the dock is on screen: never per value, so a plant's 10,000 values/s cost the
GUI nothing), the selection, and the operator's reason for a down machine. The reports are made by
``app.oee.service.OeeService`` on its own thread; this module only asks and shows."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from app.model.document import FactoryDocument
from app.model.selection import Selection
from app.oee.service import OeeService
from app.ui.gui_thread import connect_on_gui
from app.ui.oee_dock import OeeDock
from app.whatif.comparison import window_text
from app.whatif.service import WhatIfService

#: How often the dashboard of recorded history is recomputed while it is on screen (ms).
FOLLOW_MS = 5000
#: How often the selected machine is checked for being down (the reason entry), ms: a store lookup.
DOWN_CHECK_MS = 500


class OeeLink(QtCore.QObject):
    """Keeps ``dock`` showing the chosen source.

    Parameters
    ----------
    document
        Returns the open document (None: none).
    history_path
        Returns where the open factory's history is recorded.
    whatif
        The what-if service: its finished runs are the last simulation, its actuals the history's window.
    selection
        The window's selection: a click on a bar selects its machine.
    shown
        Returns the state on view and its time (``LiveLink.shown``): is the selected machine down, and when.
    time_scale
        Returns the live link's plant seconds per clock second.
    """

    def __init__(
        self,
        document: Callable[[], FactoryDocument | None],
        history_path: Callable[[], Path | None],
        whatif: WhatIfService,
        selection: Selection,
        shown: Callable[[], tuple | None],
        time_scale: Callable[[], float],
        parent: QtWidgets.QWidget | None = None,
    ):
        super().__init__(parent)
        self.dock = dock = OeeDock(parent)
        self._document, self._history_path, self._shown, self._time_scale = document, history_path, shown, time_scale
        self.whatif, self.selection = whatif, selection
        self.service = OeeService()
        self.last_run: tuple | None = None  # (model, results, title) of the last finished what-if run
        connect_on_gui(self.service.ready, dock.show_report)
        connect_on_gui(self.service.failed, dock.show_message)
        connect_on_gui(whatif.job_changed, self.on_job_changed)
        dock.source_changed.connect(lambda _key: self.refresh())
        dock.machine_clicked.connect(selection.click)
        dock.reason_entered.connect(self.record_reason)
        dock.visibilityChanged.connect(lambda shown_: self.refresh() if shown_ else None)
        selection.changed.connect(self._on_selection)
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(FOLLOW_MS)
        self._timer.timeout.connect(self._follow)
        self._timer.start()
        self._down_timer = QtCore.QTimer(self)
        self._down_timer.setInterval(DOWN_CHECK_MS)
        self._down_timer.timeout.connect(self._check_down)
        self._down_timer.start()

    def on_job_changed(self, job) -> None:
        """A what-if job changed: a finished one is the last simulation (its last model: the scenario)."""
        if not (job.done and job.status == "done" and job.models):
            return
        label, model = job.models[-1]
        results = job.results.get(label) or []
        if not results:
            return
        n = len(results)
        self.last_run = (model, results, f"What-if “{job.name}” ({label}): {n} replication{'s' * (n != 1)}")
        if self.dock.source_key != "simulation" and self.dock.report is None:
            self.dock.set_source("simulation")  # nothing shown yet: the run is what there is
        elif self.dock.source_key == "simulation":
            self.refresh()

    def refresh(self) -> None:
        """Ask for the report of the chosen source (shown when it comes)."""
        doc = self._document()
        factory = doc.factory if doc is not None else None
        if self.dock.source_key == "simulation":
            if self.last_run is None:
                self.dock.show_message("No simulation yet: run a scenario in the What-if dock")
                return
            model, results, title = self.last_run
            self.service.from_simulation(factory, model, results, title)
            return
        scale = self._time_scale() or 1.0
        self.service.from_history(
            factory, self._history_path(), self.whatif.actuals, scale, self.whatif.min_window_s, lambda w: window_text(w, scale)
        )

    def record_reason(self, machine: str, reason: str) -> None:
        """Keep the operator's reason for ``machine``'s down period at the time on view, then recompute."""
        path = self._history_path()
        shown = self._shown()
        if path is None or shown is None:
            self.dock.show_message("Reasons are kept in the recorded history: connect to the plant first")
            return
        self.service.record_reason(path, machine, reason, t=float(shown[1]) if shown[1] else time.time())
        self.dock.show_message(f"Recorded: {machine} down for “{reason}”")
        if self.dock.source_key == "history":
            self.refresh()

    def _on_selection(self, ids: tuple[str, ...]) -> None:
        self.dock.set_selection(ids)
        self._check_down()

    def _check_down(self) -> None:
        ids, shown = self.selection.ids, self._shown()
        down = None
        if len(ids) == 1 and shown is not None and ids[0] in shown[0].machine_index and shown[0].state(ids[0]) == "down":
            down = ids[0]
        if down != self.dock.down_machine:
            self.dock.set_down_machine(down)

    def _follow(self) -> None:
        if self.dock.isVisible() and self.dock.source_key == "history":
            self.refresh()

    def close(self) -> None:
        self._timer.stop()
        self._down_timer.stop()
        self.service.shutdown()
