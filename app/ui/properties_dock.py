"""Properties of the selected machine, grouped like a property editor: a panel of floortwin's built-in
plugin, so it reads the application only through the plugin API (the factory, the selection, the loaded
meshes, the state on view) and refreshes on the API's events."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from app.model.properties import machine_properties
from app.plugins import PluginApi


class PropertiesPanel(QtWidgets.QTreeWidget):
    """Shows the properties of the current machine (read-only here; editing goes through commands)."""

    def __init__(self, api: PluginApi, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("properties_panel")
        self.api = api
        self.setColumnCount(2)
        self.setHeaderLabels(["Property", "Value"])
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        self._shown: object = ()  # what is on show, so that live values only redraw when the rows change
        events = api.events
        for event in (events.document_replaced, events.document_changed, events.selection_changed, events.live_values):
            event.connect(self.refresh)
        self.refresh()

    def refresh(self, *_args: object) -> None:
        """Show the current machine (the last one selected) as the open factory has it, with the units the
        server gives for its bound signals; a hint when nothing is selected."""
        factory, ids = self.api.factory, self.api.selection
        current = ids[-1] if ids and factory is not None and ids[-1] in factory.machine_index() else None
        if factory is None or current is None:
            rows = None
        else:
            view = self.api.state()
            units = {s: u for s in view.signals if (u := view.unit(current, s))} if view is not None else {}
            rows = machine_properties(factory.machine(current), self.api.mesh(current), units)
        if rows != self._shown:
            self._shown = rows
            self._fill(rows)

    def _fill(self, sections: list[tuple[str, list[tuple[str, str]]]] | None) -> None:
        self.clear()
        if sections is None:
            item = QtWidgets.QTreeWidgetItem(["No machine selected — click one in the 3D view or the tree", ""])
            item.setDisabled(True)
            self.addTopLevelItem(item)
            item.setFirstColumnSpanned(True)
            return
        for section, rows in sections:
            head = QtWidgets.QTreeWidgetItem([section, ""])
            font = head.font(0)
            font.setBold(True)
            head.setFont(0, font)
            head.setFirstColumnSpanned(True)
            self.addTopLevelItem(head)
            for key, value in rows:
                item = QtWidgets.QTreeWidgetItem([key, value])
                item.setToolTip(1, value)
                item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsSelectable)
                self.addTopLevelItem(item)
        self.resizeColumnToContents(0)

    def value_of(self, key: str) -> str | None:
        """The shown value of a property (first match), for tests."""
        for i in range(self.topLevelItemCount()):
            item = self.topLevelItem(i)
            if item is not None and item.text(0) == key:
                return item.text(1)
        return None
