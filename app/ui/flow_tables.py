"""The Material flow dock's tables: the per-flow list and the from-to matrix, as Qt models over what
``app.optimise.flow_view`` made (texts, tool tips, sort keys)."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6 import QtCore

from app.optimise.flow_view import LEG_HEADER_TIPS, LEG_HEADERS, LegRow, matrix_text

Role = QtCore.Qt.ItemDataRole
RIGHT = int(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)


class LegTable(QtCore.QAbstractTableModel):
    """The per-flow list: from → to, parts/h, metres, effort, share (sortable by any column)."""

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.rows: list[LegRow] = []

    def set_rows(self, rows: list[LegRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: Any = QtCore.QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Any = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(LEG_HEADERS)

    def data(self, index: Any, role: int = Role.DisplayRole) -> Any:
        row = self.rows[index.row()]
        if role == Role.DisplayRole:
            return row.texts()[index.column()]
        if role == Role.ToolTipRole:
            return row.tip
        if role == Role.TextAlignmentRole and index.column() >= 1:
            return RIGHT
        return None

    def headerData(self, section: int, orientation: QtCore.Qt.Orientation, role: int = Role.DisplayRole) -> Any:
        if orientation == QtCore.Qt.Orientation.Horizontal and role in (Role.DisplayRole, Role.ToolTipRole):
            return (LEG_HEADERS if role == Role.DisplayRole else LEG_HEADER_TIPS)[section]
        return None

    def sort(self, column: int, order: QtCore.Qt.SortOrder = QtCore.Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        descending = order == QtCore.Qt.SortOrder.DescendingOrder
        self.rows.sort(key=lambda r: r.sort_keys()[column], reverse=descending)  # type: ignore[arg-type, return-value]
        self.layoutChanged.emit()


class MatrixTable(QtCore.QAbstractTableModel):
    """The from-to matrix (parts/h, row → column), cells read from the array as they are drawn (a 2,000-machine
    plant has four million of them), zeros blank."""

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.names: tuple[str, ...] = ()
        self.matrix = np.zeros((0, 0))

    def set_matrix(self, names: tuple[str, ...], matrix: np.ndarray) -> None:
        self.beginResetModel()
        self.names, self.matrix = names, matrix
        self.endResetModel()

    def rowCount(self, parent: Any = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.names)

    def columnCount(self, parent: Any = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.names)

    def data(self, index: Any, role: int = Role.DisplayRole) -> Any:
        value = float(self.matrix[index.row(), index.column()])
        if role == Role.DisplayRole:
            return matrix_text(value)
        if role == Role.ToolTipRole and value:
            return f"{self.names[index.row()]} → {self.names[index.column()]}: {matrix_text(value)} parts/h"
        if role == Role.TextAlignmentRole:
            return RIGHT
        return None

    def headerData(self, section: int, orientation: QtCore.Qt.Orientation, role: int = Role.DisplayRole) -> Any:
        if role == Role.DisplayRole:
            return self.names[section]
        if role == Role.ToolTipRole:
            rows = orientation == QtCore.Qt.Orientation.Vertical
            return f"from {self.names[section]} (row)" if rows else f"to {self.names[section]} (column)"
        return None
