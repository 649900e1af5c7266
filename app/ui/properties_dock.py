"""Properties of the selected machine, grouped like a property editor."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6 import QtCore, QtWidgets

from app.assets import MeshAsset
from app.model.factory import Factory
from app.model.properties import machine_properties


class PropertiesDock(QtWidgets.QDockWidget):
    """Shows the properties of the current machine (read-only here; editing goes through commands)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__("Properties", parent)
        self.setObjectName("dock_properties")
        self.table = QtWidgets.QTreeWidget(self)
        self.table.setColumnCount(2)
        self.table.setHeaderLabels(["Property", "Value"])
        self.table.setRootIsDecorated(False)
        self.table.setAlternatingRowColors(True)
        self.table.setUniformRowHeights(True)
        self.setWidget(self.table)
        self.show_machine(None, None, None)

    def show_machine(
        self, factory: Factory | None, machine_id: str | None, asset: MeshAsset | None, units: Mapping[str, str] | None = None
    ) -> None:
        """Fill the dock for ``machine_id`` (None: show a hint); ``units``: the server's, per bound signal."""
        self.table.clear()
        if factory is None or machine_id is None:
            item = QtWidgets.QTreeWidgetItem(["No machine selected — click one in the 3D view or the tree", ""])
            item.setDisabled(True)
            self.table.addTopLevelItem(item)
            item.setFirstColumnSpanned(True)
            return
        m = factory.machine(machine_id)
        for section, rows in machine_properties(m, asset, units):
            head = QtWidgets.QTreeWidgetItem([section, ""])
            font = head.font(0)
            font.setBold(True)
            head.setFont(0, font)
            head.setFirstColumnSpanned(True)
            self.table.addTopLevelItem(head)
            for key, value in rows:
                item = QtWidgets.QTreeWidgetItem([key, value])
                item.setToolTip(1, value)
                item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsSelectable)
                self.table.addTopLevelItem(item)
        self.table.resizeColumnToContents(0)

    def value_of(self, key: str) -> str | None:
        """The shown value of a property (first match), for tests."""
        for i in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(i)
            if item is not None and item.text(0) == key:
                return item.text(1)
        return None
