"""The factory tree: enterprise › site › area › line › cell › machine, filterable, synchronised with the
selection, each group with its live rolled-up figures; a group can be isolated in the 3D view."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from PySide6 import QtCore, QtWidgets

from app.model.factory import Factory
from app.model.hierarchy import Place, PlantTree, places
from app.model.machine_tree import ShownTree, tree_machine
from app.rollup.live import LiveRollup
from app.sim.numbers import count_of
from app.ui.plant_tree_model import GROUP_ROLE, ID_ROLE, PlantTreeModel

__all__ = ["GROUP_ROLE", "ID_ROLE", "FactoryTreeDock"]

#: The tree opens level by level while at most this many rows come on view (a small plant opens fully).
EXPAND_ALL_UP_TO = 2000
#: Live figures are rolled up at most this often (ms): a tree row is read, not watched frame by frame.
ROLLUP_INTERVAL_MS = 1000


class Isolating(Protocol):
    """What the tree asks of the 3D view: show only some machines, or all of them."""

    def isolate(self, ids: Sequence[str]) -> None: ...

    def show_all(self) -> None: ...


class FactoryTreeDock(QtWidgets.QDockWidget):
    """A dock listing every machine under its groups; selecting here selects in the 3D view and back.

    Signals
    -------
    machine_activated(str)
        A machine was double-clicked (fly the camera there).
    move_requested(list, Place)
        Move these machines to another line or cell (the editor makes it one undo step).
    """

    machine_activated = QtCore.Signal(str)
    move_requested = QtCore.Signal(list, object)  # machine ids, the Place (app.model.hierarchy) to move them to

    def __init__(self, selection, view: Isolating | None = None, parent: QtWidgets.QWidget | None = None):
        super().__init__("Factory", parent)
        self.setObjectName("dock_factory")
        self._selection = selection
        self._view = view
        self._factory: Factory | None = None
        self._index: dict[str, int] = {}
        self.rollup: LiveRollup | None = None
        self._live = None
        self.isolated: str | None = None  # the group on view alone (its name), None: every machine
        self._syncing = False
        body = QtWidgets.QWidget(self)
        layout = QtWidgets.QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.filter = QtWidgets.QLineEdit(body)
        self.filter.setPlaceholderText("Filter machines (name, id, kind, area, line)…")
        self.filter.setClearButtonEnabled(True)
        layout.addWidget(self.filter)
        bar = QtWidgets.QHBoxLayout()
        self.isolated_label = QtWidgets.QLabel(body)
        self.isolated_label.setWordWrap(True)
        self.show_all_button = QtWidgets.QPushButton("Show all", body)
        self.show_all_button.setToolTip("Show every machine in the 3D view again")
        bar.addWidget(self.isolated_label, 1)
        bar.addWidget(self.show_all_button)
        layout.addLayout(bar)
        self.model = PlantTreeModel(self)
        self.tree = QtWidgets.QTreeView(body)
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setIndentation(14)  # five levels stay readable in a narrow dock
        self.tree.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.CustomContextMenu)
        # The id always fits, the kind shows its colour, the name takes what is left (elided in a narrow
        # dock, whole in the tooltips): every column stays on screen from 1366×768 up.
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(40)
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.Interactive)
        header.resizeSection(2, 34)  # the kind as its colour (its name in the tooltip, whole when widened)
        self.tree.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tree.setTextElideMode(QtCore.Qt.TextElideMode.ElideRight)
        layout.addWidget(self.tree)
        self.setWidget(body)
        self._rollup_timer = QtCore.QTimer(self)
        self._rollup_timer.setSingleShot(True)
        self._rollup_timer.setInterval(ROLLUP_INTERVAL_MS)
        self._rollup_timer.timeout.connect(self.update_figures)
        self._show_isolation()
        self.filter.textChanged.connect(self._on_filter)
        self.show_all_button.clicked.connect(self.show_all)
        self.tree.selectionModel().selectionChanged.connect(self._on_tree_selection)
        self.tree.doubleClicked.connect(self._on_double_click)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        selection.changed.connect(self._on_model_selection)

    # -- content -----------------------------------------------------------------------------------------
    def set_factory(self, factory: Factory) -> None:
        """Rebuild the tree for ``factory`` (the filter kept; any isolation ends, as the view is rebuilt)."""
        self._factory = factory
        self._index = factory.machine_index()
        tree = PlantTree.of(factory)
        shown = ShownTree(tree, [tree_machine(m) for m in factory.machines])
        shown.set_filter(self.filter.text())
        self.model.set_tree(shown)
        if self.rollup is None:
            self.rollup = LiveRollup(factory, tree=tree)
        else:
            self.rollup.set_factory(factory, tree)
        self.isolated = None
        self._show_isolation()
        self._expand()
        self._on_model_selection(self._selection.ids)

    def _expand(self) -> None:
        shown = self.model.shown
        if shown is None:
            return
        for node, children in shown.rows.items():  # a group row's name and figures take the whole width
            parent = self.model.node_index(node)
            for row, child in enumerate(children):
                if shown.group_of(child) is None:
                    break  # a group's rows: its groups first, then its machines
                self.tree.setFirstColumnSpanned(row, parent, True)
        # Open level by level while the rows on view stay at most EXPAND_ALL_UP_TO (every row, in a small plant).
        level, on_view, depth = list(shown.rows.get(0, [])), len(shown.rows.get(0, [])), -1
        while level:
            below = [c for node in level for c in shown.rows.get(node, ())]
            if not below or on_view + len(below) > EXPAND_ALL_UP_TO:
                break
            on_view, level, depth = on_view + len(below), below, depth + 1
        if not level or not [c for node in level for c in shown.rows.get(node, ())]:
            self.tree.expandAll()
        elif depth >= 0:
            self.tree.expandToDepth(depth)

    def _on_filter(self, text: str) -> None:
        self.model.set_filter(text)
        self._expand()
        self._on_model_selection(self._selection.ids)

    # -- live figures --------------------------------------------------------------------------------------
    def follow_live(self, live, went_offline) -> None:
        """Roll up ``live``'s state (a ``LiveLink``: ``shown()``, ``output_rates()``, ``rates_counting()``, ``time_scale``)
        after its values change, at most once a second, and at each replayed time; the figures go with the link
        (``went_offline``)."""
        self._live = live
        live.values_flushed.connect(self._schedule_figures)
        live.replay_shown.connect(self._on_replay)
        went_offline.connect(self.clear_figures)

    def _on_replay(self, _t: float) -> None:
        """Another moment on view (a replayed time, or live again): its figures, time shares watched anew."""
        if self.rollup is not None:
            self.rollup.reset()
        self.update_figures()

    def _schedule_figures(self, _changed: object = None) -> None:
        if not self._rollup_timer.isActive():
            self._rollup_timer.start()

    def clear_figures(self) -> None:
        """No live figures (offline): group rows show their names and sizes, and watching starts again."""
        self._rollup_timer.stop()
        if self.rollup is not None:
            self.rollup.reset()
        self.model.set_figures(None, self._rows_on_screen())

    def update_figures(self) -> None:
        """Roll up the live state now (the timer's work; tests call it)."""
        live, rollup = self._live, self.rollup
        shown = live.shown() if live is not None else None
        if rollup is None:
            return
        if shown is None:
            self.model.set_figures(None, self._rows_on_screen())
            return
        store, t = shown
        figures = rollup.update(store, t, live.output_rates(), live.rates_counting(), live.time_scale)  # plant time
        self.model.set_figures(figures, self._rows_on_screen())

    def _rows_on_screen(self) -> list[QtCore.QModelIndex]:
        """The rows the tree shows now, top to bottom (a few dozen, whatever the plant's size)."""
        out, bottom = [], self.tree.viewport().height()
        index = self.tree.indexAt(QtCore.QPoint(1, 1))
        while index.isValid() and self.tree.visualRect(index).top() < bottom:
            out.append(index)
            index = self.tree.indexBelow(index)
        return out

    # -- isolation ---------------------------------------------------------------------------------------
    def isolate_group(self, g: int) -> None:
        """Show only group ``g``'s machines in the 3D view."""
        shown = self.model.shown
        if shown is None or self._view is None:
            return
        grp = shown.tree.groups[g]
        members = shown.tree.members(g)
        self._view.isolate([shown.machines[i].id for i in members])
        self.isolated = grp.name
        self._show_isolation(len(members), grp.level)

    def show_all(self) -> None:
        """Every machine on view again."""
        if self._view is not None:
            self._view.show_all()
        self.isolated = None
        self._show_isolation()

    def _show_isolation(self, count: int = 0, level: str = "") -> None:
        on = self.isolated is not None
        noun = "machine" if count == 1 else "machines"
        self.isolated_label.setText(f"3D: only {self.isolated} ({count})" if on else "")
        self.isolated_label.setToolTip(
            f"The 3D view shows only the {count} {noun} of {level} {self.isolated}, the others as faint hulls" if on else ""
        )
        self.isolated_label.setVisible(on)
        self.show_all_button.setVisible(on)

    def _context_menu(self, pos: QtCore.QPoint) -> None:
        menu = self.context_menu(self.tree.indexAt(pos))
        if menu is not None:
            menu.exec(self.tree.viewport().mapToGlobal(pos))

    def context_menu(self, index: QtCore.QModelIndex) -> QtWidgets.QMenu | None:
        """The menu for a row: isolate its group (a machine's: its own line or cell), show all."""
        shown = self.model.shown
        if shown is None or self._view is None:
            return None
        menu = QtWidgets.QMenu(self.tree)
        g = index.data(GROUP_ROLE) if index.isValid() else None
        if g is None and index.isValid() and index.data(ID_ROLE):
            g = int(shown.tree.leaf_of[self._index[index.data(ID_ROLE)]])
        if g is not None:
            grp = shown.tree.groups[g]
            menu.addAction(f"Isolate {grp.level} “{grp.name}”", lambda: self.isolate_group(g))
            menu.addAction(f"Select its {len(shown.shown_members(g))} machines", lambda: self._select_group(g))
        show_all = menu.addAction("Show all machines", self.show_all)
        show_all.setEnabled(self.isolated is not None)
        ids = list(self._selection.ids)
        if ids and self._factory is not None and (choices := places(self._factory)):
            menu.addSeparator()
            self._add_places(menu.addMenu(f"Move {count_of(len(ids), 'machine')} to line"), choices, ids)
        return menu

    def _add_places(self, menu: QtWidgets.QMenu, choices: list[Place], ids: list[str]) -> None:
        """Each line (and cell) as an entry; with areas, one submenu per area, filled when opened."""
        by_area: dict[str, list[Place]] = {}
        for p in choices:
            by_area.setdefault(p.titles[0] if len(p.titles) > 1 else "", []).append(p)
        for area, ps in by_area.items():
            target = menu.addMenu(area) if area else menu

            def fill(target: QtWidgets.QMenu = target, ps: list[Place] = ps) -> None:
                if not target.actions():
                    for p in ps:
                        label = " › ".join(p.titles[1:] if len(p.titles) > 1 else p.titles)
                        target.addAction(label, lambda p=p: self.move_requested.emit(ids, p))

            if area:
                target.aboutToShow.connect(fill)
            else:
                fill()

    def _select_group(self, g: int) -> None:
        shown = self.model.shown
        if shown is not None:
            self._selection.select([shown.machines[i].id for i in shown.shown_members(g)])

    # -- selection -----------------------------------------------------------------------------------------
    def _on_tree_selection(self, *_args) -> None:
        if self._syncing or self.model.shown is None:
            return
        shown = self.model.shown
        ids: dict[str, None] = {}
        for index in self.tree.selectionModel().selectedRows(0):
            g = index.data(GROUP_ROLE)
            if g is not None:  # a group row selects its machines (those the filter shows)
                ids.update(dict.fromkeys(shown.machines[i].id for i in shown.shown_members(g)))
            elif mid := index.data(ID_ROLE):
                ids[mid] = None
        self._syncing = True
        try:
            self._selection.select(list(ids))
        finally:
            self._syncing = False

    def index_of(self, machine_id: str, column: int = 0) -> QtCore.QModelIndex:
        """The row of a machine (invalid when unknown or filtered out)."""
        shown, i = self.model.shown, self._index.get(machine_id)
        if shown is None or i is None:
            return QtCore.QModelIndex()
        return self.model.node_index(shown.machine_node(i), column)

    def _on_model_selection(self, ids: tuple[str, ...]) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            sel = QtCore.QItemSelection()
            for mid in ids:
                left = self.index_of(mid)
                if left.isValid():
                    sel.select(left, left.siblingAtColumn(2))
            flags = QtCore.QItemSelectionModel.SelectionFlag.ClearAndSelect | QtCore.QItemSelectionModel.SelectionFlag.Rows
            self.tree.selectionModel().select(sel, flags)
            if ids and (last := self.index_of(ids[-1])).isValid():
                self.tree.scrollTo(last)
        finally:
            self._syncing = False

    def _on_double_click(self, index: QtCore.QModelIndex) -> None:
        mid = index.data(ID_ROLE)
        if mid:
            self.machine_activated.emit(mid)

    def selected_ids(self) -> list[str]:
        """Machine ids whose rows are selected in the tree (for tests and commands)."""
        return [i.data(ID_ROLE) for i in self.tree.selectionModel().selectedRows(0) if i.data(ID_ROLE)]
