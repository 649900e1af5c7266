"""The factory tree's Qt model: a lazy view of ``app.model.machine_tree.ShownTree`` (rows are asked for as they
are drawn, so a 20,000-machine plant costs what is on screen), with each group row's rolled-up live figures."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6 import QtCore, QtGui

from app.model.machine_tree import ShownTree
from app.rollup.figures import GroupFigures
from app.rollup.texts import group_row, group_tooltip

ID_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1  # a machine row's id
GROUP_ROLE = QtCore.Qt.ItemDataRole.UserRole + 2  # a group row's index in ``PlantTree.groups``
_Index = QtCore.QModelIndex | QtCore.QPersistentModelIndex


class PlantTreeModel(QtCore.QAbstractItemModel):
    """Name / Id / Kind rows: the hierarchy's groups (bold, with their live figures) and the machines."""

    HEADERS = ("Name", "Id", "Kind")

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.shown: ShownTree | None = None
        self.figures: GroupFigures | None = None
        self._colours: dict[tuple[int, int, int], QtGui.QColor] = {}

    # -- content ---------------------------------------------------------------------------------------
    def set_tree(self, shown: ShownTree | None) -> None:
        self.beginResetModel()
        self.shown = shown
        self.figures = None
        self.endResetModel()

    def set_filter(self, text: str) -> None:
        if self.shown is not None:
            self.beginResetModel()
            self.shown.set_filter(text)
            self.endResetModel()

    def set_figures(self, figures: GroupFigures | None, rows: Iterable[QtCore.QModelIndex] | None = None) -> None:
        """New live figures: the group rows' texts change. ``rows``: only these are said to have changed (the
        rows on screen: others are read afresh when they are scrolled to or opened); None: every group row,
        one change signal per block of them."""
        self.figures = figures
        shown = self.shown
        if shown is None:
            return
        if rows is not None:
            for index in rows:
                if shown.group_of(index.internalId()) is not None:
                    self.dataChanged.emit(index.siblingAtColumn(0), index.siblingAtColumn(0))
            return
        for node, children in shown.rows.items():
            if not children or shown.group_of(children[0]) is None:
                continue  # a group's rows: its groups first, then its machines
            parent = self.node_index(node)
            last = next((r for r, c in enumerate(children) if shown.group_of(c) is None), len(children)) - 1
            self.dataChanged.emit(self.index(0, 0, parent), self.index(last, 0, parent))

    # -- lookup ----------------------------------------------------------------------------------------
    def node_index(self, node: int, column: int = 0) -> QtCore.QModelIndex:
        """The index of a ``ShownTree`` node (invalid for the root or a node the filter hides)."""
        if node == 0 or self.shown is None or node not in self.shown.row_of:
            return QtCore.QModelIndex()
        return self.createIndex(self.shown.row_of[node], column, node)

    # -- QAbstractItemModel ------------------------------------------------------------------------------
    def index(self, row: int, column: int, parent: _Index = QtCore.QModelIndex()) -> QtCore.QModelIndex:  # noqa: B008
        if self.shown is None or parent.column() > 0:
            return QtCore.QModelIndex()
        children = self.shown.rows.get(parent.internalId() if parent.isValid() else 0, [])
        if not 0 <= row < len(children) or not 0 <= column < len(self.HEADERS):
            return QtCore.QModelIndex()
        return self.createIndex(row, column, children[row])

    def parent(self, index: _Index = QtCore.QModelIndex()) -> QtCore.QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid() or self.shown is None:
            return QtCore.QModelIndex()
        return self.node_index(self.shown.parent_of.get(index.internalId(), 0))

    def rowCount(self, parent: _Index = QtCore.QModelIndex()) -> int:  # noqa: B008
        if self.shown is None or parent.column() > 0:
            return 0
        return len(self.shown.rows.get(parent.internalId() if parent.isValid() else 0, ()))

    def columnCount(self, parent: _Index = QtCore.QModelIndex()) -> int:  # noqa: B008
        return len(self.HEADERS)

    def headerData(self, section, orientation, role=QtCore.Qt.ItemDataRole.DisplayRole):
        if orientation == QtCore.Qt.Orientation.Horizontal and role == QtCore.Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: _Index, role: int = QtCore.Qt.ItemDataRole.DisplayRole):
        shown = self.shown
        if shown is None or not index.isValid():
            return None
        node, col = index.internalId(), index.column()
        g = shown.group_of(node)
        R = QtCore.Qt.ItemDataRole
        if g is not None:
            grp = shown.tree.groups[g]
            count = int(shown.tree.starts[g + 1] - shown.tree.starts[g])
            if role == R.DisplayRole and col == 0:
                return group_row(grp.name, self.figures, g, count)
            if role == R.ToolTipRole:
                return group_tooltip(grp.level, grp.name, self.figures, g, count)
            if role == R.FontRole and col == 0:
                font = QtGui.QFont()
                font.setBold(True)
                return font
            if role == GROUP_ROLE:
                return g
            return None
        i = shown.machine_of(node)
        if i is None:
            return None
        m = shown.machines[i]
        if role == ID_ROLE:
            return m.id
        if role == R.DisplayRole:
            return (m.name, m.id, "" if m.colour else m.kind_label)[col]
        if role == R.ToolTipRole:
            return m.kind_label if col == 2 else m.tooltip
        if role == R.DecorationRole and col == 2 and m.colour:
            colour = self._colours.get(m.colour)
            if colour is None:
                colour = self._colours[m.colour] = QtGui.QColor(*m.colour)
            return colour
        return None
