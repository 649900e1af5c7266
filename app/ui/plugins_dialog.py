"""Help ▸ Plugins: every plugin found, its version, state and errors; enable or disable it (next start)."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from app.plugins import PluginManager

STATE_TEXT = {"loaded": "loaded", "disabled": "disabled", "failed": "failed", "skipped": "skipped", "found": "not loaded"}


class PluginsDialog(QtWidgets.QDialog):
    """The plugin list. Ticking "Enabled" changes the settings; it takes effect at the next start."""

    def __init__(self, manager: PluginManager, disabled: list[str], parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Plugins")
        self.setObjectName("plugins_dialog")
        self.manager = manager
        self.disabled = set(disabled)
        layout = QtWidgets.QVBoxLayout(self)
        cols = ["Enabled", "Plugin", "Version", "State", "Adds", "Problem", "From"]
        plugins = list(manager.plugins.values())
        self.table = QtWidgets.QTableWidget(len(plugins), len(cols), self)
        self.table.setHorizontalHeaderLabels(cols)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        for i, p in enumerate(plugins):
            check = QtWidgets.QTableWidgetItem()
            check.setFlags(QtCore.Qt.ItemFlag.ItemIsUserCheckable | QtCore.Qt.ItemFlag.ItemIsEnabled)
            check.setCheckState(QtCore.Qt.CheckState.Unchecked if p.name in self.disabled else QtCore.Qt.CheckState.Checked)
            check.setData(QtCore.Qt.ItemDataRole.UserRole, p.name)
            if p.state == "skipped":
                check.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled)  # a clash: the other one of this name is it
            self.table.setItem(i, 0, check)
            state = QtWidgets.QTableWidgetItem(STATE_TEXT.get(p.state, p.state))
            if p.state in ("failed", "skipped"):
                state.setForeground(QtGui.QBrush(QtGui.QColor(192, 57, 43)))
            values = [p.name, p.version, None, ", ".join(p.contributes), p.error, p.source]
            for c, v in enumerate(values, start=1):
                self.table.setItem(i, c, state if v is None else QtWidgets.QTableWidgetItem(v))
            self.table.item(i, 1).setToolTip(p.description or p.name)
            self.table.item(i, 5).setToolTip(p.error)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemChanged.connect(self._on_changed)
        layout.addWidget(self.table, 1)
        self.note = QtWidgets.QLabel(
            "Plugins come from the plugins/ folder, your own plugin folder and installed packages "
            "(entry point floortwin.plugins). Enabling or disabling takes effect at the next start.",
            self,
        )
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
        self.resize(900, 320)

    def _on_changed(self, item: QtWidgets.QTableWidgetItem) -> None:
        name = item.data(QtCore.Qt.ItemDataRole.UserRole)
        if item.column() != 0 or not name:
            return
        if item.checkState() == QtCore.Qt.CheckState.Checked:
            self.disabled.discard(name)
        else:
            self.disabled.add(name)

    def set_enabled(self, name: str, on: bool) -> None:
        """Tick or untick a plugin by name (as a click does)."""
        for i in range(self.table.rowCount()):
            item = self.table.item(i, 0)
            if item.data(QtCore.Qt.ItemDataRole.UserRole) == name:
                item.setCheckState(QtCore.Qt.CheckState.Checked if on else QtCore.Qt.CheckState.Unchecked)
