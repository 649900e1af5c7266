"""Optimise ▸ Layout…: a thin view of the layout optimiser service (`app.optimise.layout_service`).

The user picks who may move, the region, the search time and how many finalists to simulate; Start runs the
search on the service's thread (progress bar, Cancel). The Pareto front is a scatter — transport effort
against metres moved, point size for the floor area — and a clicked point is previewed in the 3D view as
ghosts with arrows. Apply makes the chosen layout one undo step of the layout editor. Texts come from
`app.optimise.layout_view`.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from app.optimise.layout_problem import LayoutRequest
from app.optimise.layout_result import LayoutResult
from app.optimise.layout_service import LayoutOptimiser
from app.optimise.layout_view import (
    candidate_text,
    follows_paths_by_default,
    front_points,
    progress_text,
    scenario_of,
    summary_text,
)
from app.ui.gui_thread import connect_on_gui
from app.ui.layout_commands import MoveCommand
from app.ui.sizing import place_beside
from app.ui.theme import colour_plot

POINT_RGB = (0, 114, 178)
CHOSEN_RGB = (230, 97, 0)
NARROW_PX = 700  # narrower than this beside the floor: the plot above the details


class LayoutOptimiserDialog(QtWidgets.QDialog):
    """Modeless dialog over the main window ``window`` (its document, selection, layout editor and view)."""

    def __init__(self, window):
        super().__init__(window)
        self.setObjectName("layout_optimiser")
        self.setWindowTitle("Optimise Layout")
        self.window_ = window
        self.service = LayoutOptimiser()
        self.result: LayoutResult | None = None
        self.chosen: int | None = None
        for signal, slot in (
            (self.service.progressed, self._on_progress),
            (self.service.validating, self._on_validating),
            (self.service.finished, self._on_finished),
            (self.service.failed, self._on_failed),
            (self.service.cancelled, self._on_cancelled),
        ):
            connect_on_gui(signal, slot)
        self._build()
        self.resize(980, 620)

    # -- layout of the dialog -------------------------------------------------------------------
    def _build(self) -> None:
        factory = self.window_.document.factory
        selected = list(self.window_.selection.ids)
        form = QtWidgets.QFormLayout()
        who = QtWidgets.QHBoxLayout()
        self.only_selected = QtWidgets.QRadioButton(f"Selected machines ({len(selected)})")
        self.all_machines = QtWidgets.QRadioButton(f"All machines ({len(factory.machines)})")
        (self.only_selected if selected else self.all_machines).setChecked(True)
        self.only_selected.setEnabled(bool(selected))
        who.addWidget(self.only_selected)
        who.addWidget(self.all_machines)
        who.addStretch(1)
        form.addRow("May move:", who)
        region = QtWidgets.QHBoxLayout()
        self.region: list[QtWidgets.QDoubleSpinBox] = []
        w, d = factory.floor.width_m, factory.floor.depth_m
        for name, value, top in (("x0", 0.0, w), ("y0", 0.0, d), ("x1", w, w), ("y1", d, d)):
            box = QtWidgets.QDoubleSpinBox()
            box.setObjectName("region_" + name)
            box.setRange(0.0, top)
            box.setDecimals(1)
            box.setSuffix(" m")
            box.setValue(value)
            region.addWidget(QtWidgets.QLabel(name))
            region.addWidget(box)
            self.region.append(box)
        region.addStretch(1)
        form.addRow("Region:", region)
        self.seconds = QtWidgets.QDoubleSpinBox()
        self.seconds.setRange(0.5, 600.0)
        self.seconds.setValue(20.0)
        self.seconds.setSuffix(" s")
        self.validate = QtWidgets.QSpinBox()
        self.validate.setRange(0, 5)
        self.validate.setValue(1)
        self.validate.setToolTip("How many of the best candidates to check by simulation (paired runs, same random numbers)")
        self.replications = QtWidgets.QSpinBox()
        self.replications.setRange(2, 50)
        self.replications.setValue(5)
        limits = QtWidgets.QHBoxLayout()
        for label, box in (("Search time", self.seconds), ("simulate best", self.validate), ("replications", self.replications)):
            limits.addWidget(QtWidgets.QLabel(label))
            limits.addWidget(box)
        limits.addStretch(1)
        form.addRow("Limits:", limits)
        self.follow = QtWidgets.QCheckBox("along the transport paths, as the simulation carries parts")
        self.follow.setObjectName("follow_transports")
        self.follow.setChecked(follows_paths_by_default(factory))
        self.follow.setToolTip(
            "Measure each leg along its transport path's waypoints (what the simulation does), not the shortest "
            "way along the aisles: with fixed waypoints a layout shorter by the shortest way can be slower"
        )
        form.addRow("Distances:", self.follow)

        self.start_button = QtWidgets.QPushButton("Start")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QtWidgets.QPushButton("Cancel search")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.service.cancel)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress_label = QtWidgets.QLabel()  # under the bar: a long line wraps instead of overflowing it
        self.progress_label.setObjectName("progress_text")
        self.progress_label.setWordWrap(True)
        run = QtWidgets.QHBoxLayout()
        run.addWidget(self.start_button)
        run.addWidget(self.cancel_button)
        run.addWidget(self.progress, 1)
        self.message = QtWidgets.QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)

        self.plot = pg.PlotWidget()
        self._plot_colours()
        self.plot.setLabel("bottom", "Rearrangement (metres moved in total)")
        self.plot.setLabel("left", "Transport effort (part·m/h)")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setMinimumWidth(420)
        self.scatter = pg.ScatterPlotItem(hoverable=True, tip=None)
        self.scatter.sigClicked.connect(self._on_clicked)
        self.plot.addItem(self.scatter)
        self.details = QtWidgets.QPlainTextEdit()
        self.details.setObjectName("details")
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("Start a search (or open a result file), then click a point to preview it.")
        split = QtWidgets.QSplitter()
        split.addWidget(self.plot)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.summary = QtWidgets.QLabel()
        self.summary.setWordWrap(True)

        buttons = QtWidgets.QHBoxLayout()
        self.open_button = QtWidgets.QPushButton("Open result…")
        self.open_button.setToolTip("Reopen a result written by python -m app.optimise layout --out")
        self.open_button.clicked.connect(self.open_dialog)
        self.none_button = QtWidgets.QPushButton("Preview none")
        self.none_button.clicked.connect(lambda: self.choose(None))
        self.apply_button = QtWidgets.QPushButton("Apply")
        self.apply_button.setToolTip("Move the machines to the chosen layout (one undo step)")
        self.apply_button.clicked.connect(self.apply)
        self.scenario_button = QtWidgets.QPushButton("Save as scenario")
        self.scenario_button.setToolTip("Add the chosen layout to the What-if scenarios, to simulate and compare it there")
        self.scenario_button.clicked.connect(self.save_scenario)
        close = QtWidgets.QPushButton("Close")
        close.clicked.connect(self.close)
        for b in (self.open_button, self.none_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.scenario_button)
        buttons.addWidget(self.apply_button)
        buttons.addWidget(close)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(run)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.message)
        layout.addWidget(split, 1)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
        self._update_buttons()

    def _plot_colours(self) -> None:
        """The plot in the theme's colours (light or dark), also after View ▸ theme changes."""
        colour_plot(self.plot, QtWidgets.QApplication.palette())

    def changeEvent(self, event: QtCore.QEvent) -> None:
        if event.type() in (QtCore.QEvent.Type.PaletteChange, QtCore.QEvent.Type.ApplicationPaletteChange):
            self._plot_colours()
        super().changeEvent(event)

    def _update_buttons(self) -> None:
        running = self.service.running
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.open_button.setEnabled(not running)
        has = self.chosen is not None and self.result is not None
        self.apply_button.setEnabled(has and not running and self.result.candidate(self.chosen).feasible)  # type: ignore[union-attr]
        self.none_button.setEnabled(has)
        self.scenario_button.setEnabled(has)

    # -- running ----------------------------------------------------------------------------------
    def request(self) -> LayoutRequest:
        x0, y0, x1, y1 = (b.value() for b in self.region)
        floor = self.window_.document.factory.floor
        region = None if (x0, y0, x1, y1) == (0.0, 0.0, round(floor.width_m, 1), round(floor.depth_m, 1)) else (x0, y0, x1, y1)
        follow = self.follow.isChecked()
        if self.all_machines.isChecked():
            return LayoutRequest(move_all=True, region=region, seconds=self.seconds.value(), follow_transports=follow)
        return LayoutRequest(
            movable=tuple(self.window_.selection.ids), region=region, seconds=self.seconds.value(), follow_transports=follow
        )

    def start(self) -> None:
        doc = self.window_.document
        self.choose(None)
        self.result = None  # a new search: the last one's front and texts go
        self.scatter.clear()
        self.details.clear()
        self.summary.clear()
        self.message.clear()
        self.progress.setValue(0)
        self.progress_label.setText("Preparing the collision world…")
        self.service.start(
            doc.factory,
            self.request(),
            factory_path=doc.path,
            validate=self.validate.value(),
            replications=self.replications.value(),
        )
        self._update_buttons()

    def _on_progress(self, p) -> None:
        self.progress.setValue(int(1000 * min(1.0, p.fraction)))
        self.progress_label.setText(progress_text(p.phase, p.best_effort, p.feasible, p.evaluations))

    def _on_validating(self, share: float) -> None:
        self.progress.setValue(int(1000 * share))
        self.progress_label.setText(f"Simulating the best candidates… {share:.0%}")

    def _on_finished(self, result: LayoutResult) -> None:
        self.progress.setValue(1000)
        self.progress_label.setText("Search cancelled — what was found so far" if result.stopped_by == "cancelled" else "Done")
        self.show_result(result)

    def _on_failed(self, why: str) -> None:
        self.progress.setValue(0)
        self.progress_label.setText("")
        self.message.setText(f"Cannot optimise: {why}")
        self._update_buttons()

    def _on_cancelled(self) -> None:
        self.progress.setValue(0)
        self.progress_label.setText("Cancelled: nothing found, the layout is unchanged")
        self._update_buttons()

    # -- the result -------------------------------------------------------------------------------
    def show_result(self, result: LayoutResult) -> None:
        self.result = result
        self.chosen = None
        points = front_points(result)
        areas = [p.area_m2 for p in points]
        lo, hi = (min(areas), max(areas)) if areas else (0.0, 0.0)
        spots = [
            {
                "pos": (p.moved_m, p.effort),
                "data": p.id,
                "size": 10 + (14 * (p.area_m2 - lo) / (hi - lo) if hi > lo else 6),
                "brush": pg.mkBrush(*POINT_RGB, 200),
                "pen": pg.mkPen(CHOSEN_RGB, width=2) if p.recommended else pg.mkPen(POINT_RGB),
            }
            for p in points
        ]
        self.scatter.setData(spots)
        self.plot.autoRange()
        legend = "Point size: floor area used; orange: previewed in 3D; orange ring: recommended. "
        self.summary.setText(legend + summary_text(result))
        self.details.setPlainText("Click a point to preview that layout." if points else "No feasible layout was found.")
        if result.recommended is not None:
            self.choose(result.recommended)
        self._update_buttons()

    def _on_clicked(self, _item, points, _event=None) -> None:
        if len(points):
            self.choose(int(points[0].data()))

    def choose(self, candidate_id: int | None) -> None:
        """Preview candidate ``candidate_id`` (None: no preview)."""
        w = self.window_
        self.chosen = candidate_id if self.result is not None else None
        for spot in self.scatter.points():
            spot.setBrush(pg.mkBrush(*(CHOSEN_RGB if spot.data() == self.chosen else POINT_RGB), 220))
        if self.chosen is None:
            w.view.preview.clear()
        else:
            assert self.result is not None
            by_id = {m.id: m for m in w.document.factory.machines}
            changes = {mid: pose for mid, pose in self.result.changes(self.chosen).items() if mid in by_id}
            before = [by_id[mid] for mid in changes]
            after = [m.model_copy(update={"pose": changes[m.id]}) for m in before]
            w.view.preview.show(before, after, w.asset_of)
            self.details.setPlainText(candidate_text(self.result, self.chosen))
        w.view.request_render()
        self._update_buttons()

    def apply(self) -> None:
        """The chosen layout as one undo step of the layout editor."""
        if self.result is None or self.chosen is None:
            return
        editor = self.window_.layout_editor
        by_id = editor.machines()
        changes = self.result.changes(self.chosen)
        missing = [mid for mid in changes if mid not in by_id]
        if missing:
            names = ", ".join(missing)
            self.message.setText(f"Not applied: this factory has no {names} (the result is for {self.result.factory})")
            return
        before = {mid: by_id[mid].pose for mid in changes}
        text = f"Optimised layout (candidate {self.chosen}, {len(changes)} machines)"
        editor.stack.push(MoveCommand(editor, before, changes, text))
        self.message.setText(f"Applied candidate {self.chosen}: {len(changes)} machines moved (Edit ▸ Undo restores them).")
        self.choose(None)

    def save_scenario(self) -> None:
        """The chosen layout as a new what-if scenario of the open factory (nothing applied here)."""
        if self.result is None or self.chosen is None:
            return
        doc = self.window_.document
        path = None if doc.path is None else str(doc.path)
        entry = self.window_.whatif.add(scenario_of(self.result, self.chosen, doc.factory, path))
        if entry is not None:
            self.message.setText(f"Saved as the scenario “{entry.scenario.name}” (What-if dock: run it to compare).")

    def open_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open layout result", "", "Layout results (*.json);;All files (*)")
        if path:
            self.open_result(path)

    def open_result(self, path: str) -> bool:
        try:
            result = LayoutResult.load(path)
        except (OSError, ValueError) as e:
            self.message.setText(f"Cannot open: {e}")
            return False
        self.message.clear()
        self.show_result(result)
        return True

    # -- closing --------------------------------------------------------------------------------
    def moveEvent(self, event: QtGui.QMoveEvent) -> None:
        super().moveEvent(event)
        self._keep_floor_in_sight()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._keep_floor_in_sight()

    def _keep_floor_in_sight(self) -> None:
        """The 3D view fits the floor into the part of it this dialog leaves in sight (at 1366×768 the dialog
        stands over its right quarter, where the preview's ghosts would be hidden)."""
        if not self.isVisible():
            return
        render = self.window_.view.render_widget
        left, right = render.mapToGlobal(render.rect().topLeft()).x(), render.mapToGlobal(render.rect().topRight()).x()
        over = right - self.frameGeometry().left() if self.frameGeometry().left() > left else 0
        self.window_.view.keep_clear_right(max(0, over) / max(1, right - left))

    def done(self, code: int) -> None:
        """Closed (Close, Esc, the title bar): the preview goes, a running search is cancelled."""
        self.window_.view.keep_clear_right(0.0)
        self.window_.view.preview.clear()
        self.window_.view.request_render()
        self.service.close()
        super().done(code)


def show_layout_optimiser(window) -> LayoutOptimiserDialog:
    """Open Optimise ▸ Layout… for ``window``'s factory (one dialog at a time)."""
    existing = window.findChild(LayoutOptimiserDialog, "layout_optimiser")
    if existing is not None and existing.isVisible():
        existing.raise_()
        return existing
    dialog = LayoutOptimiserDialog(window)
    dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    # Beside the floor, over the right-hand docks and the legend: the preview in the 3D view stays in sight
    # (at 1366×768 it covered most of the floor). Narrow there: the plot above the details, not beside them.
    render = window.view.render_widget
    free = window.frameGeometry().right() - render.mapToGlobal(render.rect().topRight()).x()
    split = dialog.findChild(QtWidgets.QSplitter)
    if free < NARROW_PX and split is not None:
        split.setOrientation(QtCore.Qt.Orientation.Vertical)
    place_beside(dialog, render, 980)
    dialog.show()
    dialog._keep_floor_in_sight()
    return dialog
