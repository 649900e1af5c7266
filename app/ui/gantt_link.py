"""Wires the State Gantt dock to its sources and to the rest of the window: the recorded history (followed
while live, around the replayed time during a replay), the last what-if run or the layout as it is
(replication 1 of a simulation), the selection and the replay cursor. The bars are made by
``app.gantt.GanttService`` on its own thread; this module only asks and shows."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

from psygnal import SignalInstance
from PySide6 import QtCore, QtWidgets

from app.gantt import GanttBars, GanttService
from app.history.recorder import History
from app.history.trends import window_end
from app.model.document import FactoryDocument
from app.model.selection import Selection
from app.sim.model import SimInputError, SimModel, compile_model
from app.ui.gantt_dock import GanttDock
from app.ui.gui_thread import connect_on_gui

#: How often the chart of recorded history follows the live plant while it is on screen (ms).
FOLLOW_MS = 5000
#: The shortest window of recorded history shown (s), however little is recorded.
MIN_SPAN_S = 60.0
#: The share of the window's height the dock takes when it is first shown under the 3D view.
SHOWN_SHARE = 0.4


class GanttLink(QtCore.QObject):
    """Keeps ``dock`` showing the chosen source.

    Parameters
    ----------
    document
        Returns the open document (None: none).
    history_path
        Returns where the open factory's history is recorded (the file may not exist yet).
    selection
        The window's selection: a click on a row selects its machine; selected machines' rows are highlighted.
    parent
        The window: the dock's parent.

    Attributes
    ----------
    dock
        The view (``GanttDock``), made here for the window to place.
    """

    def __init__(
        self,
        document: Callable[[], FactoryDocument | None],
        history_path: Callable[[], Path | None],
        selection: Selection,
        parent: QtWidgets.QWidget | None = None,
    ):
        super().__init__(parent)
        self.dock = dock = GanttDock(parent)
        self._document, self._history_path, self.selection = document, history_path, selection
        self.service = GanttService()
        self.replay_time: float | None = None
        self.last_run: tuple[str, SimModel] | None = None  # (label, model) of the last finished what-if run
        self._asked_for: object = None  # the factory version the bars on view were asked for
        self._asked_at = 0.0  # when (monotonic s)
        connect_on_gui(self.service.ready, self._on_ready)
        connect_on_gui(self.service.failed, self.dock.show_message)
        dock.request_changed.connect(self.refresh)
        dock.machine_clicked.connect(self._on_clicked)
        dock.visibilityChanged.connect(self._on_visibility)
        selection.changed.connect(dock.set_selection)
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(FOLLOW_MS)
        self._timer.timeout.connect(self._follow)
        self._timer.start()
        self.offer_sources()

    def follow(self, job_changed: SignalInstance, replay_shown: QtCore.SignalInstance) -> None:
        """Follow the what-if jobs (a finished run is the last simulation) and the replayed time (the cursor)."""
        connect_on_gui(job_changed, self.on_job_changed)
        replay_shown.connect(self.set_replay_time)

    # -- sources ----------------------------------------------------------------------------------------------
    def offer_sources(self) -> None:
        """The sources there are now: the history, the last what-if run (once one finished), the layout as it is."""
        sources = [("history", "Recorded history")]
        if self.last_run is not None:
            sources.append(("whatif", f"Simulation: {self.last_run[0]}"))
        sources.append(("layout", "Simulation: the layout as it is"))
        self.dock.set_sources(sources)

    def on_job_changed(self, job) -> None:
        """A what-if job changed: a finished one is the last simulation."""
        if job.done and job.status == "done" and job.models:
            label, model = job.models[-1]
            self.last_run = (f"what-if “{job.name}” ({label}), replication 1", model)
            self.offer_sources()
            if self.dock.source_key == "whatif":
                self.refresh()

    def set_replay_time(self, t: float) -> None:
        """The view shows the recorded state at ``t`` (NaN: live again): the cursor follows."""
        self.replay_time = None if math.isnan(t) else t
        if self.dock.source_key == "history":
            bars = self.dock.bars
            if bars is not None and self.replay_time is not None and not bars.window[0] <= self.replay_time <= bars.window[1]:
                self.refresh()  # the replayed time left the window: the window follows it
            self.dock.set_cursor(self.replay_time)

    # -- requests ---------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Ask for the bars of the chosen source and window (shown when they come)."""
        doc = self._document()
        if doc is None:
            self.dock.show_message("Open a factory to see its machines' states")
            return
        key, length = self.dock.source_key, self.dock.window_s
        self._asked_for = doc.factory
        self._asked_at = time.monotonic()
        if key == "history":
            path = self._history_path()
            if path is None or not Path(path).exists():
                self.dock.show_message("Nothing recorded yet: connect to the plant (Live ▸ Connect) to record its states")
                return
            history = History(path)
            end = window_end(time.time(), length, self.replay_time)
            span = history.span()
            # a recording shorter than the window fills the chart, rather than a sliver after "no data"
            start = max(end - length, min(span[0], end - MIN_SPAN_S)) if span is not None else end - length
            self.service.show_recorded(history, doc.factory, start, end)
            if self.dock.bars is None or not self.dock.bars.clock:
                self.dock.show_message("Reading the history…")  # (not each time the chart follows the clock)
            return
        if key == "whatif" and self.last_run is not None:
            label, model = self.last_run
        else:
            try:
                model = compile_model(doc.factory)
            except SimInputError as err:
                self.dock.show_message(f"The layout cannot be simulated: {err}")
                return
            label = f"{doc.factory.name} as it is, replication 1"
        t0 = min(self.dock.start_s, max(0.0, model.horizon_s - 1.0))
        t1 = min(t0 + length, model.horizon_s)
        self.service.show_simulated(model, doc.factory, t0, t1, label)
        self.dock.show_message("Simulating replication 1…")

    def _on_visibility(self, shown: bool) -> None:
        if shown:
            self.refresh()
            QtCore.QTimer.singleShot(0, self._grow_if_short)

    def _grow_if_short(self) -> None:
        """Raised under the 3D view with room for a row or two (the bottom tabs are short): take a readable
        share of the window's height. A height the user gives it later is theirs."""
        window = self.dock.parent()
        if not isinstance(window, QtWidgets.QMainWindow) or not window.isVisible() or self.dock.isFloating():
            return
        if self.dock.visibleRegion().isEmpty() or self.dock.height() >= SHOWN_SHARE * window.height() * 0.75:
            return  # behind another tab, or tall enough
        window.resizeDocks([self.dock], [int(SHOWN_SHARE * window.height())], QtCore.Qt.Orientation.Vertical)

    def _follow(self) -> None:
        """While it is on screen: the chart of the history moves on with the clock while live, and any chart
        follows another factory or an edit of this one (its machines, its rows, its simulation)."""
        if not self.dock.isVisible():
            return
        doc = self._document()
        edited = doc is not None and doc.factory is not self._asked_for
        # following the clock costs at most a tenth of the worker's time, however large the plant and window
        due = time.monotonic() - self._asked_at >= 10 * self.service.last_cost_s
        if edited or (self.dock.source_key == "history" and self.replay_time is None and due):
            self.refresh()

    def _on_ready(self, bars: GanttBars) -> None:
        if bars.clock != (self.dock.source_key == "history"):
            return  # an answer for the source the user just left
        self.dock.show_bars(bars)
        self.dock.set_cursor(self.replay_time if bars.clock else None)
        self.dock.set_selection(self.selection.ids)

    def _on_clicked(self, machine_id: str, toggle: bool) -> None:
        self.selection.click(machine_id, toggle)

    def close(self) -> None:
        self._timer.stop()
        self.service.shutdown()
