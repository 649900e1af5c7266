"""The drift watchdog in the alarms dock: what moved, a one-click recalibration, and the watchdog's log.

The watchdog (``app.watchdog``, Qt-free) is the live session's watcher: fed on the network thread, its
detections reach this view through ``app.ui.gui_thread.connect_on_gui``. The texts come from
``app.watchdog.detection`` and ``app.watchdog.text``; this module only shows them and forwards clicks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from app.live.session import LiveSession
from app.model.document import FactoryDocument
from app.model.factory import Factory
from app.sim.scenario import Scenario, apply
from app.ui.gui_thread import connect_on_gui
from app.ui.widgets import follow_versions
from app.watchdog import text
from app.watchdog.detection import Detection
from app.watchdog.log import read_log
from app.watchdog.service import Watchdog

COLUMNS = ("Machine", "Drift", "Found", "Action")
REFRESH_MS = 2000  # the line on what waits for more data
#: Detections on view without scrolling: in a window at least TALL_WINDOW_PX high, and in a shorter one.
ROWS_TALL, ROWS_SHORT, TALL_WINDOW_PX = 5, 2, 900


class RecalibrateCommand(QtGui.QUndoCommand):
    """A parameter set to what the plant showed: the factory before and after, one undo step."""

    def __init__(
        self,
        document: FactoryDocument,
        before: Factory,
        after: Factory,
        machine: str,
        label: str,
        on_undo: Callable[[bool], None] | None = None,
    ):
        super().__init__(label)
        self.document, self.before, self.after, self.machine = document, before, after, machine
        self.on_undo, self._pushed = on_undo, False  # on_undo(True) after an undo, (False) after a redo

    def redo(self) -> None:
        self.document.set_parameters(self.after, [self.machine])
        if self._pushed and self.on_undo is not None:
            self.on_undo(False)
        self._pushed = True  # the first redo is the push itself

    def undo(self) -> None:
        self.document.set_parameters(self.before, [self.machine])
        if self.on_undo is not None:
            self.on_undo(True)


class WatchdogPanel(QtWidgets.QWidget):
    """Detections of the live session's watchdog, with Recalibrate, Dismiss and the log.

    Signals
    -------
    machine_selected(str)
        The user picked a detection: select its machine in the 3D view.
    waiting_changed(int)
        How many detections wait for a recalibration or a dismissal.
    """

    machine_selected = QtCore.Signal(str)
    waiting_changed = QtCore.Signal(int)

    def __init__(
        self,
        session: LiveSession,
        document: Callable[[], FactoryDocument | None],
        undo_stack: QtGui.QUndoStack,
        history_path: Callable[[], Path | None],
        parent: QtWidgets.QWidget | None = None,
    ):
        super().__init__(parent)
        self.setObjectName("watchdog_panel")
        self._document, self.undo_stack, self.history_path = document, undo_stack, history_path
        self.time_scale = 1.0  # simulated seconds per second of the plant connected next (a plant simulator's --speed)
        self.dog: Watchdog | None = None
        self.detections: list[Detection] = []  # newest last
        self.done: dict[int, str] = {}  # detection index → what was done
        self._followed: FactoryDocument | None = None
        session.make_watcher = self._make_watchdog
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.summary = QtWidgets.QLabel("Drift watchdog: runs while live")
        self.summary.setMinimumWidth(1)  # one line, cut at the dock's edge (the whole line is its tooltip)
        self.log_button = QtWidgets.QPushButton("Watchdog log…")
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.log_button)
        layout.addLayout(top)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Stretch)
        rows = self.table.verticalHeader()
        rows.setDefaultSectionSize(self.table.fontMetrics().height() + 8)  # one line of text a row: compact
        rows.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Fixed)
        self._sized_for = 0  # the window height the table's minimum was set for
        self.table.horizontalHeader().sectionResized.connect(self._on_column_resized)
        layout.addWidget(self.table, 1)
        buttons = QtWidgets.QHBoxLayout()
        self.recalibrate_button = QtWidgets.QPushButton("Recalibrate")
        self._shown: Detection | None = None  # the sized estimate the button names (what a click sets)
        self.dismiss_button = QtWidgets.QPushButton("Dismiss")
        self.dismiss_button.setToolTip("Not a change worth recalibrating: watch this parameter again from now")
        buttons.addWidget(self.recalibrate_button, 1)
        buttons.addWidget(self.dismiss_button)
        layout.addLayout(buttons)  # shown only for a detection to act on: the bottom docks stay short
        self.recalibrate_button.clicked.connect(self.recalibrate_selected)
        self.dismiss_button.clicked.connect(self.dismiss_selected)
        self.log_button.clicked.connect(self.show_log)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.cellClicked.connect(lambda row, _col: self._on_clicked(row))
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)  # sizes narrow as cycles come in; the summary line too
        self.log_dialog: QtWidgets.QDialog | None = None
        self._on_selection()

    # -- size --------------------------------------------------------------------------------------------
    def rows_wanted(self) -> int:
        """Detections to show without scrolling: five in a tall window, two in a short one (1366×768),
        where the 3D view needs the height (the bottom docks' default height shows two already; more
        would take the 3D view below 40% of the window)."""
        return ROWS_TALL if self.window().height() >= TALL_WINDOW_PX else ROWS_SHORT

    def _fit_rows(self) -> None:
        """The table at least as high as ``rows_wanted`` rows under its header (the bottom docks are short
        by default: the table showed 1.5 rows at 1920×1080)."""
        height = self.window().height()
        if height == self._sized_for:
            return
        self._sized_for = height
        table = self.table
        header = table.horizontalHeader().sizeHint().height()
        table.setMinimumHeight(header + self.rows_wanted() * table.verticalHeader().defaultSectionSize() + 2 * table.frameWidth())

    def _fit_row_heights(self) -> None:
        """One line a row, two where the Drift column is too narrow for its text (wrapped, never cut: at
        1366×768 a settling row lost its confidence to the "…")."""
        table, one = self.table, self.table.verticalHeader().defaultSectionSize()
        room = table.columnWidth(1) - 2 * table.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_FocusFrameHMargin) - 6
        for r in range(table.rowCount()):
            item = table.item(r, 1)
            wide = item is not None and QtGui.QFontMetrics(item.font()).horizontalAdvance(item.text()) > room
            table.setRowHeight(r, 2 * one - 8 if wide else one)

    def _on_column_resized(self, column: int, _old: int, _new: int) -> None:
        if column == 1:  # the Drift column (it stretches with the window)
            self._fit_row_heights()

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        top = self.window()
        if top is not self:
            top.removeEventFilter(self)
            top.installEventFilter(self)  # a resized window wants another number of rows
        # after the window has placed its docks: set while the docks are still stacked (before they are
        # tabbed), the minimum would add up with theirs and make a 1366×768 window taller
        QtCore.QTimer.singleShot(0, self, self._fit_rows)
        super().showEvent(event)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.Resize and watched is self.window():
            self._fit_rows()
        return super().eventFilter(watched, event)

    # -- the live session's watcher ------------------------------------------------------------------------
    def _make_watchdog(self, factory: Factory, history_path: Path | None) -> Watchdog:
        """A new watchdog for a new live session (the session calls this, on the GUI thread)."""
        dog = Watchdog(factory, log_path=history_path, time_scale=self.time_scale)
        self.dog = dog
        self.detections, self.done = [], {}
        connect_on_gui(dog.detected, lambda d: self._on_detected(dog, d))
        self._follow(self._document())
        self._timer.start()
        self.refresh()
        return dog

    def _follow(self, document: FactoryDocument | None) -> None:
        """Compare with every new version of the document (an edit, a recalibration, an undo)."""
        self._followed = follow_versions(self._followed, document, self._on_new_version)

    def _on_new_version(self, _ids: object) -> None:
        document = self._document()
        if self.dog is not None and document is not None and document is self._followed:
            restarted = self.dog.set_factory(document.factory)
            # a detection against the model as it was (a deployment's first cycle, a value edited) is over:
            # its channel compares with the new model from now (the row stays, marked)
            stale = {i for i, d in enumerate(self.detections) if i not in self.done and (d.machine, d.param) in restarted}
            for i in stale:
                self.done[i] = text.MODEL_CHANGED
            if stale:
                self.refresh()
            self.refresh_summary()

    def _on_detected(self, dog: Watchdog, detection: Detection) -> None:
        if dog is not self.dog:
            return  # of a session ended meanwhile
        self.detections.append(detection)
        self.refresh()
        self.table.selectRow(0)
        dock = self.parentWidget()
        while dock is not None and not isinstance(dock, QtWidgets.QDockWidget):
            dock = dock.parentWidget()
        if dock is not None and dock.isVisible():
            dock.raise_()  # an alarm: its tab comes to the front

    # -- showing -------------------------------------------------------------------------------------
    def refresh(self) -> None:
        dog = self.dog
        for i, found in enumerate(self.detections):  # a run of long cycles that the later ones do not bear out
            sized = dog.withdraw_if_unfounded(found) if i not in self.done and dog is not None else None
            if sized is not None:
                self.detections[i], self.done[i] = sized, text.UNFOUNDED
        rows = list(reversed(list(enumerate(self.detections))))
        selected = self.selected_index()
        self.table.blockSignals(True)
        self.table.setRowCount(len(rows))
        for r, (i, found) in enumerate(rows):
            d = dog.latest(found) if dog is not None and i not in self.done else found  # narrowed by later cycles
            said = text.withdrawn_text(d) if self.done.get(i) == text.UNFOUNDED else d.text
            cells = (d.machine, said, d.clock(d.detected_ts), self.done.get(i, ""))
            for c, words in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(words)
                item.setData(QtCore.Qt.ItemDataRole.UserRole, i)
                item.setToolTip(said)
                if i not in self.done:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(r, c, item)
            if i == selected:
                self.table.selectRow(r)
        self.table.resizeColumnToContents(0)
        self._fit_row_heights()
        self.table.blockSignals(False)
        self.waiting_changed.emit(len(self.detections) - len(self.done))
        self._on_selection()
        self.refresh_summary()

    def refresh_summary(self) -> None:
        dog = self.dog
        if dog is None or not dog.running:
            self.summary.setText("Drift watchdog: runs while live" + (" (not live now)" if dog is not None else ""))
            self._timer.stop()
            return
        pending = [text.pending_text(*p) for p in dog.pending()]
        machines = len({m for m, _p in dog.channels})
        unbound = len(text.without_cycle_time(dog.factory))
        found = sum(1 for i in range(len(self.detections)) if self.done.get(i) not in (text.UNFOUNDED, text.MODEL_CHANGED))
        self.summary.setText(text.watch_summary(len(dog.channels), machines, pending, found, unbound))
        self.summary.setToolTip("\n".join([self.summary.text(), *pending[1:]]))

    def selected_index(self) -> int | None:
        items = self.table.selectedItems()
        return None if not items else int(items[0].data(QtCore.Qt.ItemDataRole.UserRole))

    def _selected(self) -> Detection | None:
        i = self.selected_index()
        return None if i is None or i in self.done else self.detections[i]

    def _on_selection(self) -> None:
        d, dog = self._selected(), self.dog
        can = d is not None and dog is not None and dog.running and self._document() is not None
        d = dog.latest(d) if can and d is not None and dog is not None else None
        # nothing to recalibrate to while the size waits for enough observations since the change point
        sized = d is not None and dog is not None and d.size_known and (d.machine, d.param) in dog.channels
        self.recalibrate_button.setVisible(sized)
        self.dismiss_button.setVisible(can)
        self._shown = d if sized else None  # the estimate the button names is the one a click applies
        if sized and d is not None and dog is not None:
            label = text.recalibration_label(d, dog.changes_for(d))
            self.recalibrate_button.setText(label)
            self.recalibrate_button.setToolTip(f"{label}: one undoable edit; the watchdog compares with it from now")

    def _on_clicked(self, row: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.machine_selected.emit(item.text())

    # -- acting -------------------------------------------------------------------------------------------
    def recalibrate_selected(self) -> None:
        """Set the selected detection's parameter to what the plant showed: one undo step; the watchdog
        logs it and watches that parameter again against the new value."""
        d, dog, document = self._selected(), self.dog, self._document()
        if d is None or dog is None or document is None or (d.machine, d.param) not in dog.channels:
            return  # (not one of a machine removed from the layout since)
        shown = self._shown
        if shown is None or (shown.machine, shown.param, shown.detected_ts) != (d.machine, d.param, d.detected_ts):
            return  # its size is not known yet: nothing to set
        # the estimate the button names, not one re-estimated since (cycles may have come in meanwhile)
        label = text.recalibration_label(shown, dog.changes_for(shown))
        changes = dog.recalibrate(shown)
        before = document.factory
        after = apply(Scenario(name="recalibrated", factory=before, changes=changes))
        i = self.detections.index(d)
        self.detections[i] = shown  # the row keeps the size that was set
        self.done[i] = "recalibrated"

        def undone(yes: bool, dog=dog) -> None:  # the row and the log say what the model is now
            self.done[i] = "recalibration undone" if yes else "recalibrated"
            dog.log_undo(shown, yes)
            self.refresh()

        self.undo_stack.push(RecalibrateCommand(document, before, after, d.machine, label, undone))
        self.refresh()

    def dismiss_selected(self) -> None:
        d, dog = self._selected(), self.dog
        if d is None or dog is None:
            return
        dog.dismiss(d, time.time())
        self.done[self.detections.index(d)] = "dismissed"
        self.refresh()

    def show_log(self) -> None:
        """The watchdog log of the open factory's history file: every detection and what was done."""
        path = self.history_path()
        entries = read_log(path) if path is not None and path.exists() else []
        dialog = QtWidgets.QDialog(self.window())
        dialog.setObjectName("watchdog_log")
        dialog.setWindowTitle("Watchdog log")
        layout = QtWidgets.QVBoxLayout(dialog)
        where = f" in {path.name}" if path is not None else ""
        layout.addWidget(QtWidgets.QLabel(f"{len(entries)} entries{where}, newest first" if entries else "Nothing logged yet"))
        rows = text.log_rows(entries)
        table = QtWidgets.QTableWidget(len(rows), len(text.LOG_COLUMNS), dialog)
        table.setObjectName("watchdog_log_table")
        table.setHorizontalHeaderLabels(text.LOG_COLUMNS)
        table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        for r, row in enumerate(rows):
            for c, words in enumerate(row):
                table.setItem(r, c, QtWidgets.QTableWidgetItem(words))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(table)
        close = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close, dialog)
        close.rejected.connect(dialog.reject)
        layout.addWidget(close)
        dialog.resize(820, 360)
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.log_dialog = dialog
