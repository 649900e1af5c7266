"""The Layout Check dock: the list of layout problems; double-click flies to the machine."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6 import QtCore, QtGui, QtWidgets

from app.physics.world import Verdict
from app.ui.verdict_view import COLLISION_RGB


class LayoutCheckDock(QtWidgets.QDockWidget):
    """The list of layout problems; double-click flies to the machine."""

    machine_activated = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__("Layout Check", parent)
        self.setObjectName("dock_layout_check")
        self.list = QtWidgets.QListWidget(self)
        self.list.itemActivated.connect(lambda item: self.machine_activated.emit(item.data(QtCore.Qt.ItemDataRole.UserRole)))
        self.setWidget(self.list)

    def show_checking(self) -> None:
        """While an opened layout is checked in the background."""
        self.list.clear()
        self.list.addItem("Checking the layout for collisions and clearances…")

    def show_failed(self, why: str) -> None:
        self.list.clear()
        self.list.addItem(f"The layout could not be checked: {why}")

    def show_verdicts(self, verdicts: Sequence[Verdict]) -> None:
        self.list.clear()
        if not verdicts:
            self.list.addItem("No collisions or clearance problems")
            return
        listed: set[frozenset[str]] = set()
        for v in verdicts:
            worst = v.worst
            if worst is not None and ":" not in worst.other:  # between two machines: one row for the pair
                pair = frozenset((v.machine, worst.other))
                if pair in listed:
                    continue
                listed.add(pair)
            item = QtWidgets.QListWidgetItem(("● " if v.status == "collision" else "▲ ") + v.describe())
            item.setData(QtCore.Qt.ItemDataRole.UserRole, v.machine)
            item.setForeground(QtGui.QColor(*(COLLISION_RGB if v.status == "collision" else (170, 110, 0))))
            self.list.addItem(item)
