"""The factory tree: machines grouped by production line, filterable, synchronised with the selection."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from app.model.factory import Factory
from app.model.machine_tree import line_heading, machines_by_line
from app.model.selection import Selection

ID_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1
FILTER_ROLE = QtCore.Qt.ItemDataRole.UserRole + 2  # "name id kind": what the filter box matches


class FactoryTreeDock(QtWidgets.QDockWidget):
    """A dock listing every machine under its line; selecting here selects in the 3D view and back.

    Signals
    -------
    machine_activated(str)
        A machine was double-clicked (fly the camera there).
    """

    machine_activated = QtCore.Signal(str)

    def __init__(self, selection: Selection, parent: QtWidgets.QWidget | None = None):
        super().__init__("Factory", parent)
        self.setObjectName("dock_factory")
        self._selection = selection
        self._items: dict[str, QtGui.QStandardItem] = {}
        self._syncing = False
        body = QtWidgets.QWidget(self)
        layout = QtWidgets.QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.filter = QtWidgets.QLineEdit(body)
        self.filter.setPlaceholderText("Filter machines (name, id, kind)…")
        self.filter.setClearButtonEnabled(True)
        layout.addWidget(self.filter)
        self.model = QtGui.QStandardItemModel(0, 3, self)
        self.model.setHorizontalHeaderLabels(["Name", "Id", "Kind"])
        self.proxy = QtCore.QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setRecursiveFilteringEnabled(True)
        self.proxy.setFilterCaseSensitivity(QtCore.Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(0)
        self.proxy.setFilterRole(FILTER_ROLE)
        self.tree = QtWidgets.QTreeView(body)
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        # The id always fits, the kind shows its colour, the name takes what is left (elided in a narrow
        # dock, whole in the tooltips): every column stays on screen from 1366×768 up.
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(40)
        self.tree.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tree.setTextElideMode(QtCore.Qt.TextElideMode.ElideRight)
        layout.addWidget(self.tree)
        self.setWidget(body)
        self.filter.textChanged.connect(self._on_filter)
        self.tree.selectionModel().selectionChanged.connect(self._on_tree_selection)
        self.tree.doubleClicked.connect(self._on_double_click)
        selection.changed.connect(self._on_model_selection)

    def set_factory(self, factory: Factory) -> None:
        """Rebuild the tree for ``factory``."""
        self.model.removeRows(0, self.model.rowCount())
        self._items.clear()
        root = self.model.invisibleRootItem()
        for line_name, machines in machines_by_line(factory).items():
            parent = QtGui.QStandardItem(line_heading(line_name, len(machines)))
            parent.setSelectable(False)
            parent.setData(line_name, FILTER_ROLE)
            font = parent.font()
            font.setBold(True)
            parent.setFont(font)
            root.appendRow([parent, QtGui.QStandardItem(""), QtGui.QStandardItem("")])
            for m in machines:
                name_item = QtGui.QStandardItem(m.name)
                name_item.setData(m.id, ID_ROLE)
                name_item.setToolTip(m.tooltip)
                name_item.setData(m.match, FILTER_ROLE)
                id_item = QtGui.QStandardItem(m.id)
                id_item.setData(m.id, ID_ROLE)
                # The kind as its colour swatch; its name in the tooltip (a narrow column would only show "…").
                kind_item = QtGui.QStandardItem("" if m.colour else m.kind_label)
                kind_item.setData(m.id, ID_ROLE)
                kind_item.setToolTip(m.kind_label)
                if m.colour:
                    kind_item.setData(QtGui.QColor(*m.colour), QtCore.Qt.ItemDataRole.DecorationRole)
                parent.appendRow([name_item, id_item, kind_item])
                self._items[m.id] = name_item
        self.tree.expandAll()
        header = self.tree.header()
        if header.count() >= 3:
            header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
            header.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
            header.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.Interactive)
            # The kind as its colour (its name in the tooltip, and whole when the user widens the column).
            header.resizeSection(2, 34)

    def _on_filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)
        self.tree.expandAll()

    def _on_tree_selection(self, *_args) -> None:
        if self._syncing:
            return
        ids = []
        for index in self.tree.selectionModel().selectedRows(0):
            mid = index.data(ID_ROLE)
            if mid:
                ids.append(mid)
        self._syncing = True
        try:
            self._selection.select(ids)
        finally:
            self._syncing = False

    def _on_model_selection(self, ids: tuple[str, ...]) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            sel = QtCore.QItemSelection()
            for mid in ids:
                item = self._items.get(mid)
                if item is None:
                    continue
                src = item.index()
                left = self.proxy.mapFromSource(src)
                right = self.proxy.mapFromSource(src.siblingAtColumn(2))
                if left.isValid():
                    sel.select(left, right)
            flags = QtCore.QItemSelectionModel.SelectionFlag.ClearAndSelect | QtCore.QItemSelectionModel.SelectionFlag.Rows
            self.tree.selectionModel().select(sel, flags)
            if ids and ids[-1] in self._items:
                self.tree.scrollTo(self.proxy.mapFromSource(self._items[ids[-1]].index()))
        finally:
            self._syncing = False

    def _on_double_click(self, index: QtCore.QModelIndex) -> None:
        mid = index.data(ID_ROLE)
        if mid:
            self.machine_activated.emit(mid)

    def selected_ids(self) -> list[str]:
        """Machine ids selected in the tree (for tests and commands)."""
        return [i.data(ID_ROLE) for i in self.tree.selectionModel().selectedRows(0) if i.data(ID_ROLE)]
