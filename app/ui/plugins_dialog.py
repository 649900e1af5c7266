"""Help ▸ Plugins: every plugin found, its version, state and errors; enable or disable it (next start).
And the question asked before a plugin found for the first time may run."""

from __future__ import annotations

import html

from PySide6 import QtCore, QtGui, QtWidgets

from app.plugins import Plugin, PluginManager

STATE_TEXT = {
    "ready": "ready (loads when needed)",
    "loaded": "loaded",
    "new": "new: not allowed yet",
    "disabled": "disabled",
    "failed": "failed",
    "skipped": "skipped",
    "found": "not loaded",
}


class PluginsDialog(QtWidgets.QDialog):
    """The plugin list. Ticking "Enabled" changes the settings (a new plugin ticked is allowed to run);
    it takes effect at the next start."""

    def __init__(
        self,
        manager: PluginManager,
        disabled: list[str],
        parent: QtWidgets.QWidget | None = None,
        trusted: list[str] | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("Plugins")
        self.setObjectName("plugins_dialog")
        self.manager = manager
        self.disabled = set(disabled)
        self.trusted = set(trusted or ())
        layout = QtWidgets.QVBoxLayout(self)
        cols = ["Enabled", "Plugin", "Version", "State", "Adds", "Problem", "From"]
        plugins = list(manager.plugins.values())
        self._by_name = {p.name: p for p in plugins}
        self.table = QtWidgets.QTableWidget(len(plugins), len(cols), self)
        self.table.setHorizontalHeaderLabels(cols)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        for i, p in enumerate(plugins):
            check = QtWidgets.QTableWidgetItem()
            check.setFlags(QtCore.Qt.ItemFlag.ItemIsUserCheckable | QtCore.Qt.ItemFlag.ItemIsEnabled)
            on = p.name not in self.disabled and p.state != "new"
            check.setCheckState(QtCore.Qt.CheckState.Checked if on else QtCore.Qt.CheckState.Unchecked)
            check.setData(QtCore.Qt.ItemDataRole.UserRole, p.name)
            if p.state == "skipped" or p.builtin:  # a clash (the other one of this name is it), or floortwin's own
                check.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled)
            self.table.setItem(i, 0, check)
            state = QtWidgets.QTableWidgetItem(STATE_TEXT.get(p.state, p.state))
            if p.state in ("failed", "skipped"):
                state.setForeground(QtGui.QBrush(QtGui.QColor(192, 57, 43)))
            values = [p.name, p.version, None, ", ".join(p.contributes), p.error, p.source]
            for c, v in enumerate(values, start=1):
                self.table.setItem(i, c, state if v is None else QtWidgets.QTableWidgetItem(v))
            who = f" — by {p.author}" if p.author else ""
            self.table.item(i, 1).setToolTip(f"{p.description or p.name}{who} (plugin API {p.api})")
            self.table.item(i, 5).setToolTip(p.error)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemChanged.connect(self._on_changed)
        layout.addWidget(self.table, 1)
        self.note = QtWidgets.QLabel(
            "Plugins come from the plugins/ folder, your own plugin folder and installed packages "
            "(entry point floortwin.plugins). A plugin runs with your privileges: enable only those you trust. "
            "Enabling or disabling takes effect at the next start.",
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
        p = self._by_name.get(name)
        if item.checkState() == QtCore.Qt.CheckState.Checked:
            self.disabled.discard(name)
            if p is not None:
                self.trusted.add(p.trust_key)  # ticking a plugin is allowing it
        else:
            self.disabled.add(name)

    def set_enabled(self, name: str, on: bool) -> None:
        """Tick or untick a plugin by name (as a click does)."""
        for i in range(self.table.rowCount()):
            item = self.table.item(i, 0)
            if item.data(QtCore.Qt.ItemDataRole.UserRole) == name:
                item.setCheckState(QtCore.Qt.CheckState.Checked if on else QtCore.Qt.CheckState.Unchecked)


class ConsentDialog(QtWidgets.QMessageBox):
    """"Allow this plugin to run?" for a plugin found for the first time: what it is, who made it, where
    its code is and what it would add. The answer is remembered (``allowed`` after it is answered)."""

    def __init__(self, plugin: Plugin, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.plugin = plugin
        self.setObjectName("plugin_consent")
        self.setWindowTitle("New plugin")
        self.setIcon(QtWidgets.QMessageBox.Icon.Question)
        name = html.escape(plugin.name)
        self.setText(f"<b>Allow the plugin {name} {html.escape(plugin.version)} to run?</b>")
        adds = "".join(f"<li>{html.escape(c)}</li>" for c in plugin.contributes) or "<li>nothing declared</li>"
        self.setInformativeText(
            f"{html.escape(plugin.description)}<br><br>"
            f"Author: {html.escape(plugin.author or 'not given')}<br>"
            f"From: {html.escape(plugin.source)}<br>"
            f"It would add:<ul>{adds}</ul>"
            "A plugin runs with your privileges (it can read and change your files). Allow only plugins "
            "from people you trust. Help ▸ Plugins changes this later."
        )
        self.allow_button = self.addButton("Allow", QtWidgets.QMessageBox.ButtonRole.AcceptRole)
        self.refuse_button = self.addButton("Don't allow", QtWidgets.QMessageBox.ButtonRole.RejectRole)
        self.setDefaultButton(self.refuse_button)
        self.setEscapeButton(self.refuse_button)
        self.setWindowModality(QtCore.Qt.WindowModality.WindowModal)

    @property
    def allowed(self) -> bool:
        return self.clickedButton() is self.allow_button
