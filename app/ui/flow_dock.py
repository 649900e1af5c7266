"""The Material flow dock: the from-to matrix, the transport effort and its change against the saved layout
(live while a machine is dragged), the flows one by one, the distance–intensity chart and the ribbons in 3D.

A thin view of ``app.optimise.flow_service.FlowService`` (the analysis runs on its thread) and
``app.optimise.flow_view`` (every text and number shown is made there).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets
from shiboken6 import isValid

from app.editing.service import refusal
from app.model.factory import Pose
from app.optimise.flow_service import FlowService, FlowState
from app.optimise.flow_view import (
    RIBBON_TABLE,
    RIBBON_TITLE,
    delta_text,
    drag_spot_text,
    drag_text,
    effort_text,
    empty_text,
    widest_ribbon_m,
)
from app.ui.flow_tables import LegTable, MatrixTable
from app.ui.gui_thread import connect_on_gui
from app.ui.theme import colour_plot

if TYPE_CHECKING:
    from app.model.document import FactoryDocument
    from app.plugins import PluginManager
    from app.scene.view import FactoryView

POINT, CHOSEN = (0, 114, 178), (230, 159, 0)  # Okabe–Ito blue, and orange for the leg clicked
PAGES = {"message": 0, "analysis": 1}


class FlowWorkbench(Protocol):
    """What the dock needs of the window: the 3D view, the open document, the plugin host's document events
    and (once made) the layout editor's ``dragging`` signal."""

    view: FactoryView
    document: FactoryDocument | None
    plugins: PluginManager


def _while_alive(dock: QtWidgets.QWidget, method: str) -> Callable[..., None]:
    """A call of ``dock.method`` that holds the dock weakly and does nothing once it is gone."""
    alive = weakref.ref(dock)

    def call(*args: object) -> None:
        target = alive()
        if target is not None and isValid(target):
            getattr(target, method)(*args)

    return call


MATRIX_FIT_MAX = 200  # machines up to which the from-to matrix's columns are fitted to their figures


class FlowDock(QtWidgets.QDockWidget):
    """Material flow of the open factory (View ▸ Panels ▸ Material flow)."""

    def __init__(self, workbench: FlowWorkbench):
        super().__init__("Material flow", workbench)  # type: ignore[arg-type]
        self.setObjectName("dock_flow")
        self.workbench = workbench
        self.service = service = FlowService()
        self.state: FlowState | None = None
        self._document: FactoryDocument | None = None
        self._hooked_editor = False
        self._dragged: set[str] = set()  # the machines of a drag in progress
        self.destroyed.connect(lambda *_: service.close())
        # Through a weak reference: an analysis finished as the window closes is dropped, not delivered to a
        # dock that is gone (psygnal's queued call to a dead method raises).
        connect_on_gui(service.analysed, _while_alive(self, "_on_analysed"))
        connect_on_gui(service.failed, _while_alive(self, "_show_message"))
        host = workbench.plugins.host
        host.document_replaced.connect(self._on_replaced)
        host.document_changed.connect(self._on_changed)

        body = QtWidgets.QWidget(self)
        layout = QtWidgets.QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.total = QtWidgets.QLabel("", body)
        self.total.setObjectName("flow_total")
        font = self.total.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.total.setFont(font)
        self.total.setWordWrap(True)  # "Moving Inspection (CMM) 1: 8591 part·m/h" wraps in a narrow dock
        self.total.setToolTip("Transport effort: Σ parts/h × metres along the aisles and transport paths")
        self.delta = QtWidgets.QLabel("", body)
        self.delta.setObjectName("flow_delta")
        self.delta.setWordWrap(True)
        self.ribbons = QtWidgets.QCheckBox("Ribbons in 3D (width ∝ parts/h)", body)
        self.ribbons.setObjectName("flow_ribbons")
        self.ribbons.toggled.connect(self._draw_ribbons)
        self.toggleViewAction().toggled.connect(lambda on: on or self.ribbons.setChecked(False))  # closed: ribbons go
        self.pages = QtWidgets.QStackedWidget(body)
        self.message = QtWidgets.QLabel("No factory open", self.pages)
        self.message.setObjectName("flow_message")
        self.message.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.pages.addWidget(self.message)
        self.tabs = QtWidgets.QTabWidget(self.pages)
        self.pages.addWidget(self.tabs)
        self.legs = LegTable(self)
        self.leg_view = self._table(self.legs, "Flows")
        self.leg_view.setSortingEnabled(True)
        self.leg_view.horizontalHeader().setSortIndicator(1, QtCore.Qt.SortOrder.DescendingOrder)  # by effort
        self.leg_view.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.leg_view.viewport().installEventFilter(self)  # columns that do not fit are hidden whole (``_fit_columns``)
        self.matrix = MatrixTable(self)
        self.matrix_view = self._table(self.matrix, "From-to")
        self.matrix_view.setToolTip("The from-to matrix: parts per hour from the row's machine to the column's")
        self.tabs.addTab(self._chart(), "Distance–intensity")
        self.notes = QtWidgets.QLabel("", body)
        self.notes.setObjectName("flow_notes")
        self.notes.setWordWrap(True)
        for widget in (self.total, self.delta, self.ribbons):
            layout.addWidget(widget)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.notes)
        # In a scroll area, as the Shift forecast dock, with a smaller minimum still: the right-hand docks are
        # stacked until the first show, and a sixth one of the usual minimum made a 1366×768 window 803 px tall.
        scroll = QtWidgets.QScrollArea(self)
        scroll.setMinimumHeight(1)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        self.setWidget(scroll)

    def show_ribbons(self) -> None:
        """Bring the dock to the front with its ribbons drawn (``--flow-ribbons``)."""
        self.show()
        self.raise_()
        self.ribbons.setChecked(True)

    # -- building ---------------------------------------------------------------------------------------
    def _table(self, model: QtCore.QAbstractTableModel, title: str) -> QtWidgets.QTableView:
        view = QtWidgets.QTableView(self.tabs)
        view.setModel(model)
        view.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        view.setAlternatingRowColors(True)
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 6)
        view.verticalHeader().setVisible(model is not self.legs)  # the matrix's rows are named, the list's not
        self.tabs.addTab(view, title)
        return view

    def _chart(self) -> QtWidgets.QWidget:
        page = QtWidgets.QWidget(self.tabs)
        layout = QtWidgets.QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget(page)
        self.plot.setLabel("bottom", "Distance (m)")
        self.plot.setLabel("left", "Intensity (parts/h)")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.scatter = pg.ScatterPlotItem(
            size=9, pen=pg.mkPen(None), brush=pg.mkBrush(*POINT, 200), hoverable=True, tip=self._tip
        )
        self.scatter.sigClicked.connect(self._on_point_clicked)
        self.plot.addItem(self.scatter)
        colour_plot(self.plot, QtWidgets.QApplication.palette())
        self.caption = QtWidgets.QLabel("Hover over a point or click it to name its flow", page)
        self.caption.setObjectName("flow_caption")
        self.caption.setWordWrap(True)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.caption)
        return page

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.Resize and watched is self.leg_view.viewport():
            self._fit_columns()
        return super().eventFilter(watched, event)

    def _fit_columns(self) -> None:
        """Show the list's columns that fit whole, in order, and hide the rest: a right-aligned number cut at
        the edge would read as another number ("18.0" for 18.05). The row's tool tip says every figure."""
        header, room = self.leg_view.horizontalHeader(), self.leg_view.viewport().width()
        for column in range(self.legs.columnCount()):
            header.setSectionHidden(column, False)
        self.leg_view.resizeColumnsToContents()
        used = 0
        for column in range(self.legs.columnCount()):
            used += header.sectionSize(column)
            header.setSectionHidden(column, column > 1 and used > room)

    def _fit_matrix(self, n: int) -> None:
        """Columns as wide as the figures in the rows on view (measuring every cell of a 2,000-machine plant's
        4 million took two minutes on the GUI thread); beyond MATRIX_FIT_MAX machines one width for all."""
        view = self.matrix_view
        view.verticalHeader().setResizeContentsPrecision(0)  # the rows on view, not all of them
        if n <= MATRIX_FIT_MAX:
            view.resizeColumnsToContents()
        else:
            view.horizontalHeader().setDefaultSectionSize(view.fontMetrics().horizontalAdvance("0000.0") + 12)

    def changeEvent(self, event: QtCore.QEvent) -> None:
        if event.type() in (QtCore.QEvent.Type.PaletteChange, QtCore.QEvent.Type.ApplicationPaletteChange):
            colour_plot(self.plot, QtWidgets.QApplication.palette())  # the chart follows light/dark
        super().changeEvent(event)

    # -- the document ----------------------------------------------------------------------------------
    def _on_replaced(self, _factory: object = None) -> None:
        """Another factory was opened: watch its saves, clear what belonged to the last one, analyse."""
        if not self._hooked_editor and (editor := getattr(self.workbench, "layout_editor", None)) is not None:
            editor.dragging.connect(self._on_dragging)  # the editor is made after the docks
            editor.verdicts_changed.connect(self._on_drag_verdicts)
            self._hooked_editor = True
        if self._document is not None:
            self._document.dirty_changed.disconnect(self._on_changed)
        self._document = self.workbench.document
        if self._document is not None:
            self._document.dirty_changed.connect(self._on_changed)  # saved: "vs saved" has a new baseline
        self.state = None
        self.workbench.view.show_flow_ribbons(np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0), np.zeros((0, 3)), None)
        self._on_changed()

    def _on_changed(self, *_args: object) -> None:
        document = self._document
        if document is None:
            self._show_message("No factory open")
            return
        if self.state is None:
            self._show_message("Analysing the material flow…")
        self.service.update(document.factory, document.saved)

    def _on_analysed(self, state: FlowState) -> None:
        if self._document is None or state.factory is not self._document.factory:
            return  # an older version: a newer analysis is on its way
        self.state = state
        s = state.summary
        self.notes.setText("\n".join(s.notes))
        self.notes.setVisible(bool(s.notes))
        if s.empty:
            self.total.setText("Transport effort: none")
            self.delta.setText("")
            self._show_message(empty_text(state.factory))
        else:
            self._show_totals()
            self.legs.set_rows(list(s.rows))
            header = self.leg_view.horizontalHeader()
            self.legs.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
            self.matrix.set_matrix(s.names, s.analysis.from_to)
            x, y = [r.distance_m for r in s.rows], [r.parts_per_h for r in s.rows]
            self.scatter.setData(x=x, y=y, data=list(range(len(s.rows))))
            self.plot.setRange(xRange=(0, max(x) * 1.05 or 1), yRange=(0, max(y) * 1.1 or 1), padding=0)  # from 0
            self.pages.setCurrentIndex(PAGES["analysis"])
            self._fit_matrix(len(s.names))
            self._fit_columns()
        self._draw_ribbons()

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.pages.setCurrentIndex(PAGES["message"])

    def _show_totals(self, total: float | None = None, moving: list[str] | None = None) -> None:
        s = self.state.summary if self.state is not None else None
        if s is None or s.empty:
            return
        if moving:
            self.total.setText(drag_text(moving, total if total is not None else s.total))
        else:
            self.total.setText(f"Transport effort: {effort_text(s.total)}")
        delta = delta_text(total if total is not None else s.total, s.saved_total)
        self.delta.setText(delta or "the saved layout's effort is not known")

    # -- dragging ---------------------------------------------------------------------------------------
    def _on_dragging(self, poses: Mapping[str, Pose]) -> None:
        """A drag in progress: the total and Δ as if the machines stood where they are shown (``{}``: the
        drag ended; the document's own figures again until the drop's new version is analysed)."""
        state, document = self.state, self._document
        if state is None or document is None or state.factory is not document.factory:
            return
        self._dragged = set(poses)
        if not poses:
            self._show_totals()
            return
        total = self.service.preview({mid: (p.x_m, p.y_m) for mid, p in poses.items()})
        names = {m.id: m.name for m in state.factory.machines}
        self._show_totals(total, [names.get(mid, mid) for mid in poses])

    def _on_drag_verdicts(self, verdicts: list) -> None:
        """The editor's verdicts on the spot a drag stands on, under the effort it would give there."""
        if not self._dragged or self.state is None:
            return
        blocked = refusal(verdicts)
        spot = drag_spot_text(blocked.describe() if blocked else None, verdicts[0].describe() if verdicts else None)
        s = self.state.summary
        delta = self.delta.text().split("\n")[0] if s is not None else ""
        self.delta.setText(f"{delta}\n{spot}" if spot else delta)

    # -- ribbons and chart ------------------------------------------------------------------------------
    def _draw_ribbons(self, *_args: object) -> None:
        state, view = self.state, self.workbench.view
        if not self.ribbons.isChecked() or state is None or state.summary.empty:
            view.show_flow_ribbons(np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0), np.zeros((0, 3)), None)
            return
        r = state.ribbons
        widths = r.widths(widest_ribbon_m(state.factory))
        view.show_flow_ribbons(r.a, r.b, widths, r.colours(), (RIBBON_TITLE, r.peak, RIBBON_TABLE))

    def _tip(self, x: float, y: float, data: int) -> str:
        rows = self.state.summary.rows if self.state is not None else ()
        return rows[data].tip if 0 <= data < len(rows) else ""

    def _on_point_clicked(self, _item: object, points: Any, _event: object = None) -> None:
        if not len(points) or self.state is None:
            return
        k = int(points[0].data())
        self.show_leg(k)

    def show_leg(self, k: int) -> None:
        """Name leg ``k`` (of ``state.summary.rows``) under the chart, mark its point and select it in the list."""
        rows = self.state.summary.rows if self.state is not None else ()
        if not 0 <= k < len(rows):
            return
        row = rows[k]
        self.caption.setText(row.tip)
        brushes = [pg.mkBrush(*(CHOSEN if i == k else POINT), 230 if i == k else 200) for i in range(len(rows))]
        self.scatter.setBrush(brushes)
        at = next((i for i, r in enumerate(self.legs.rows) if r is row), None)
        if at is not None:
            self.leg_view.selectRow(at)
