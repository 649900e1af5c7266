"""Optimise ▸ Parameters…: a thin view of the scenario optimiser service (`app.optimise.params_service`).

Left, what to search: decision variables (a table), an optional budget, the objectives, the simulation of
each candidate, the search's limits, the selection's indifference zone and confidence, and where the
replications run. Start runs the search on the service's thread (progress, Cancel). Right, what came out:
the selection's claim in words first, the candidates in a table (the recommended one highlighted), and for
two objectives a Pareto scatter. Apply makes the picked candidate ONE undo step of the document; Save as
scenario hands it to What-if; Open result… reopens a file of ``python -m app.optimise params --out``. Texts
come from `app.optimise.params_view`.
"""

from __future__ import annotations

import html
import weakref

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from app.optimise.params_problem import ParamsInputError, check_request
from app.optimise.params_result import ParamsResult
from app.optimise.params_service import ParamsOptimiser
from app.optimise.params_view import (
    axis_title,
    candidate_name,
    candidate_rows,
    claim_text,
    front_points,
    headers,
    machines_touched,
    progress_text,
    summary_text,
    undo_text,
)
from app.sim.scenario import ScenarioError
from app.ui.gui_thread import connect_on_gui
from app.ui.params_setup import ParametersCommand, ParamsSetup, row
from app.ui.sizing import size_to_screen
from app.ui.theme import colour_plot

POINT_RGB = (0, 114, 178)
OTHER_RGB = (150, 150, 150)
CHOSEN_RGB = (230, 97, 0)
SETUP_SHARE = 0.3  # of the dialog's width at least for the settings (as wide as they need at most)
SCROLL_BAR_PX = 20
MESSAGE_LINES = 3
RUNNING = "Searching: the candidates and the verdict appear here when the search and the selection are done."
HINT = "Add a decision variable and Start (or open a result file)."
LEGEND = "Bars: 95% intervals · ● Pareto front · ○ beaten in both · ◆ today's settings · orange ring: recommended, orange: picked"



class ParamsDialog(QtWidgets.QDialog):
    """Modeless dialog over the main window ``window`` (its document, undo stack and What-if service)."""

    def __init__(self, window):
        super().__init__(window)
        self.setObjectName("params_optimiser")
        self.setWindowTitle("Optimise Parameters")
        self.window_ = window
        self.service = ParamsOptimiser()
        self.result: ParamsResult | None = None
        self.chosen: int | None = None
        for signal, slot in (
            (self.service.progressed, self._on_progress),
            (self.service.finished, self._on_finished),
            (self.service.failed, self._on_failed),
            (self.service.cancelled, self._on_cancelled),
        ):
            connect_on_gui(signal, slot)
        # Destroyed with the window (no done()) or the application quitting: the search stops, nothing is
        # left running to keep the process alive or to report to a dialog that is gone.
        service, alive = self.service, weakref.ref(self.service)
        self.destroyed.connect(lambda *_a: service.close())
        QtWidgets.QApplication.instance().aboutToQuit.connect(lambda: (s := alive()) is not None and s.cancel())
        self._build()

    # -- layout of the dialog -------------------------------------------------------------------
    def _build(self) -> None:
        self.setup = ParamsSetup(self.window_.document.factory, self.window_.whatif.dask_address)

        self.claim = QtWidgets.QLabel(HINT)
        self.claim.setObjectName("claim")
        self.claim.setWordWrap(True)
        self.claim.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.claim.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.claim.setMargin(6)
        self.claim.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.table = QtWidgets.QTableWidget(0, 0)
        self.table.setObjectName("candidates")
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self._on_row)
        self.table.setMinimumHeight(150)  # five rows
        self.plot = pg.PlotWidget()
        self._plot_colours()
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setMinimumHeight(180)
        self.bars = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), beam=0.0)
        self.plot.addItem(self.bars)  # each point's 95% intervals: points whose bars overlap are not told apart
        self.scatter = pg.ScatterPlotItem(hoverable=True, tip=None)
        self.scatter.sigClicked.connect(self._on_clicked)
        self.plot.addItem(self.scatter)
        self.plot_box = QtWidgets.QWidget()
        box = QtWidgets.QVBoxLayout(self.plot_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.plot, 1)
        legend = QtWidgets.QLabel(LEGEND)
        legend.setWordWrap(True)
        box.addWidget(legend)
        self.plot_box.setVisible(False)
        results_split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        results_split.addWidget(self.table)
        results_split.addWidget(self.plot_box)
        results_split.setStretchFactor(0, 1)
        results_split.setStretchFactor(1, 1)
        self.summary = QtWidgets.QLabel()
        self.summary.setWordWrap(True)
        results = QtWidgets.QWidget()
        right = QtWidgets.QVBoxLayout(results)
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.claim)
        right.addWidget(results_split, 1)
        right.addWidget(self.summary)
        self.split = split = QtWidgets.QSplitter()
        split.addWidget(self.setup)
        split.addWidget(results)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)

        self.start_button = QtWidgets.QPushButton("Start")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QtWidgets.QPushButton("Cancel search")
        self.cancel_button.clicked.connect(self.service.cancel)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("")
        self.message = QtWidgets.QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QtWidgets.QPushButton("Open result…")
        self.open_button.setToolTip("Reopen a result written by python -m app.optimise params --out")
        self.open_button.clicked.connect(self.open_dialog)
        self.scenario_button = QtWidgets.QPushButton("Save as scenario")
        self.scenario_button.setToolTip("Add the picked candidate to the What-if scenarios, to simulate and compare it there")
        self.scenario_button.clicked.connect(self.save_scenario)
        self.apply_button = QtWidgets.QPushButton("Apply")
        self.apply_button.setToolTip("Give the factory the picked candidate's settings (one undo step)")
        self.apply_button.clicked.connect(self.apply)
        close = QtWidgets.QPushButton("Close")
        close.clicked.connect(self.close)
        run = QtWidgets.QHBoxLayout()
        for w in (self.start_button, self.cancel_button):
            run.addWidget(w)
        run.addWidget(self.progress, 1)
        buttons = row(("", self.open_button))
        for b in (self.scenario_button, self.apply_button, close):
            buttons.addWidget(b)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addLayout(run)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self._update_buttons()

    def _plot_colours(self) -> None:
        colour_plot(self.plot, QtWidgets.QApplication.palette())

    def changeEvent(self, event: QtCore.QEvent) -> None:
        if event.type() in (QtCore.QEvent.Type.PaletteChange, QtCore.QEvent.Type.ApplicationPaletteChange):
            self._plot_colours()
        super().changeEvent(event)

    def _update_buttons(self) -> None:
        running = self.service.running
        for w in (self.start_button, self.open_button, self.setup):
            w.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        c = self.result.candidate(self.chosen) if self.result is not None and self.chosen is not None else None
        self.scenario_button.setEnabled(c is not None and c.feasible)
        self.apply_button.setEnabled(c is not None and c.feasible and not c.current and not running)

    # -- running ----------------------------------------------------------------------------------
    def start(self) -> None:
        doc = self.window_.document
        request = self.setup.request()
        try:
            check_request(doc.factory, request)  # refused at once: the last result stays on view
        except ParamsInputError as e:
            self._on_failed(str(e))
            return
        self.show_result(None)  # a new search: the last one's table and claim go
        self.message.clear()
        self.progress.setValue(0)
        self.progress.setFormat("Simulating today's settings and the first generation of candidates…")
        self.claim.setText(RUNNING)
        self.service.start(doc.factory, request, factory_path=doc.path, dask_address=self.setup.dask_address())
        self._update_buttons()

    def _on_progress(self, p) -> None:
        self.progress.setValue(int(1000 * min(1.0, p.fraction)))
        self.progress.setFormat(progress_text(p))

    def _on_finished(self, result: ParamsResult) -> None:
        self.progress.setValue(1000)
        self.progress.setFormat("Search cancelled — what was simulated so far" if result.stopped_by == "cancelled" else "Done")
        self.show_result(result)

    def _on_failed(self, why: str) -> None:
        self.progress.setValue(0)
        self.progress.setFormat("")
        lines = why.strip().splitlines() or [""]
        more = " … (the whole message in the tooltip)" if len(lines) > MESSAGE_LINES else ""
        self.message.setText(f"Cannot optimise: {' '.join(lines[:MESSAGE_LINES])}{more}")
        self.message.setToolTip(why)  # a fault's long text does not push the results off the dialog
        self._update_buttons()

    def _on_cancelled(self) -> None:
        self.progress.setValue(0)
        self.progress.setFormat("Cancelled: nothing selected, the factory is unchanged")
        self._update_buttons()

    # -- the result -------------------------------------------------------------------------------
    def show_result(self, result: ParamsResult | None) -> None:
        self.result, self.chosen = result, None
        self.table.clearSelection()
        self.table.setRowCount(0)
        self.scatter.clear()
        # every array at once: pyqtgraph keeps the ones not given, and old bars with no points crash it
        self.bars.setData(x=np.zeros(0), y=np.zeros(0), width=np.zeros(0), height=np.zeros(0))
        self.plot_box.setVisible(result is not None and len(result.objectives) >= 2)
        if result is None:
            self.claim.setText(HINT)
            self.summary.clear()
            self._update_buttons()
            return
        verdict, _, rest = claim_text(result).partition("\n")  # the verdict in bold, what follows from it plain
        lines = [f"<b>{html.escape(verdict, quote=False)}</b>", *(html.escape(r, quote=False) for r in rest.splitlines())]
        self.claim.setText("<br>".join(lines))
        self.summary.setText(summary_text(result))
        titles = headers(result)
        self.table.setColumnCount(len(titles))
        self.table.setHorizontalHeaderLabels(titles)
        rows = candidate_rows(result)
        self.table.setRowCount(len(rows))
        bold = self.table.font()
        bold.setBold(True)
        for i, r in enumerate(rows):
            for j, text in enumerate([r.name, *r.values, *r.kpis, r.role]):
                item = QtWidgets.QTableWidgetItem(text)
                item.setData(QtCore.Qt.ItemDataRole.UserRole, r.id)
                if r.recommended:
                    item.setFont(bold)
                    item.setBackground(QtGui.QColor(*CHOSEN_RGB, 60))
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        if len(result.objectives) >= 2:
            self.plot.setLabel("bottom", axis_title(result.objectives[0]))
            self.plot.setLabel("left", axis_title(result.objectives[1]))
            points = front_points(result)
            xs, ys = (np.array([getattr(p, a) for p in points], dtype=float) for a in ("x", "y"))
            self.bars.setData(
                x=xs, y=ys, width=2 * np.array([p.x_hw for p in points]), height=2 * np.array([p.y_hw for p in points]),
                pen=pg.mkPen(*OTHER_RGB, 150),
            )
            self.scatter.setData(
                [
                    {
                        "pos": (p.x, p.y),
                        "data": p.id,
                        "size": 12 if p.pareto else 9,
                        "symbol": "d" if p.current else "o",
                        "brush": pg.mkBrush(*POINT_RGB, 210) if p.pareto else pg.mkBrush(0, 0, 0, 0),
                        "pen": pg.mkPen(CHOSEN_RGB, width=3) if p.recommended else pg.mkPen(POINT_RGB if p.pareto else OTHER_RGB),
                    }
                    for p in points
                ]
            )
            self.plot.autoRange()
        self.choose(result.recommended)

    def _on_row(self) -> None:
        items = self.table.selectedItems()
        if items:
            self.choose(int(items[0].data(QtCore.Qt.ItemDataRole.UserRole)), from_table=True)

    def _on_clicked(self, _item, points, _event=None) -> None:
        if len(points):
            self.choose(int(points[0].data()))

    def choose(self, candidate_id: int | None, from_table: bool = False) -> None:
        """Pick candidate ``candidate_id`` for Apply and Save as scenario (its row selected, its point orange)."""
        self.chosen = candidate_id if self.result is not None else None
        if not from_table:
            self.table.blockSignals(True)
            self.table.clearSelection()
            for row in range(self.table.rowCount()):
                if self.table.item(row, 0).data(QtCore.Qt.ItemDataRole.UserRole) == self.chosen:
                    self.table.selectRow(row)
                    self.table.scrollToItem(self.table.item(row, 0))
            self.table.blockSignals(False)
        for spot in self.scatter.points():
            if spot.data() == self.chosen:
                spot.setBrush(pg.mkBrush(*CHOSEN_RGB, 230))
        self._update_buttons()

    def apply(self) -> None:
        """The picked candidate's settings as one undo step of the document (Edit ▸ Undo restores them)."""
        if self.result is None or self.chosen is None:
            return
        doc = self.window_.document
        before = doc.factory
        try:
            after = self.result.applied_to(before, self.chosen)
        except (ScenarioError, ValueError, KeyError) as e:
            self.message.setText(f"Not applied: {e} (the result is for {self.result.factory})")
            return
        name = candidate_name(self.result, self.chosen)
        if after == before:
            self.message.setText(f"Not applied: {name} has the factory's settings already — nothing to change.")
            return
        text = undo_text(self.result, self.chosen)
        self.window_.layout_editor.stack.push(ParametersCommand(doc, before, after, machines_touched(self.result), text))
        self.message.setText(f"Applied {name} (Edit ▸ Undo restores the previous settings).")

    def save_scenario(self) -> None:
        """The picked candidate as a new What-if scenario of the open factory (nothing applied here)."""
        if self.result is None or self.chosen is None:
            return
        factory = self.window_.document.factory
        try:
            self.result.applied_to(factory, self.chosen)  # a scenario that cannot run is refused as Apply is
        except (ScenarioError, ValueError, KeyError) as e:
            self.message.setText(f"Not saved: {e} (the result is for {self.result.factory})")
            return
        entry = self.window_.whatif.add(self.result.scenario(factory, self.chosen))
        if entry is not None:
            self.message.setText(f"Saved as the scenario “{entry.scenario.name}” (What-if dock: run it to compare).")

    def open_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open parameter result", "", "Parameter results (*.json);;All files (*)"
        )
        if path:
            self.open_result(path)

    def open_result(self, path: str) -> bool:
        try:
            result = ParamsResult.load(path)
        except (OSError, ValueError) as e:
            self.message.setText(f"Cannot open: {e}")
            return False
        self.message.clear()
        self.setup.show_request_of(result)
        self.show_result(result)
        return True

    def done(self, code: int) -> None:
        """Closed (Close, Esc, the title bar): a running search is cancelled, nothing is applied."""
        self.service.close()
        super().done(code)


def show_params_optimiser(window) -> ParamsDialog:
    """Open Optimise ▸ Parameters… for ``window``'s factory (one dialog at a time), sized to the screen."""
    existing = window.findChild(ParamsDialog, "params_optimiser")
    if existing is not None and existing.isVisible():
        existing.raise_()
        return existing
    dialog = ParamsDialog(window)
    dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    size_to_screen(dialog, 0.9, (1100, 640))
    setup = max(dialog.setup.widget().sizeHint().width() + SCROLL_BAR_PX, int(SETUP_SHARE * dialog.width()))
    dialog.split.setSizes([setup, dialog.width() - setup])  # the results get the rest
    room = (window.screen() or QtWidgets.QApplication.primaryScreen()).availableGeometry()
    at = window.frameGeometry().center() - dialog.rect().center()
    x = max(room.left(), min(at.x(), room.right() - dialog.width()))
    dialog.move(x, max(room.top(), min(at.y(), room.bottom() - dialog.height())))
    dialog.show()
    return dialog
