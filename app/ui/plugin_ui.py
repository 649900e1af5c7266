"""The plugins in the window: their panels as docks (built when first shown; floortwin's own, from its
built-in plugin, at once), their failures in the status bar, and the question asked before a new plugin
runs. The plugin manager does the work; this only shows.
"""

from __future__ import annotations

import logging

from PySide6 import QtCore, QtWidgets

from app.plugins import Plugin, PluginManager
from app.ui.gui_thread import connect_on_gui
from app.ui.plugins_dialog import ConsentDialog
from app.ui.settings import Settings

log = logging.getLogger(__name__)

_AREAS = {
    "left": QtCore.Qt.DockWidgetArea.LeftDockWidgetArea,
    "right": QtCore.Qt.DockWidgetArea.RightDockWidgetArea,
    "bottom": QtCore.Qt.DockWidgetArea.BottomDockWidgetArea,
}


class PluginUi(QtCore.QObject):
    """Plugin docks, failure reports and consent for one main window.

    Signals
    -------
    contributions_changed()
        What plugins add changed (a plugin loaded, failed or was allowed): the palette and the heat-map
        list are refilled. Coalesced, on the GUI thread.
    """

    contributions_changed = QtCore.Signal()

    def __init__(
        self,
        window: QtWidgets.QMainWindow,
        plugins: PluginManager,
        settings: Settings,
        below: QtWidgets.QDockWidget,
        ask: bool = True,
    ):
        super().__init__(window)
        self.window_, self.plugins, self.settings, self.below = window, plugins, settings, below
        self.ask = ask
        self.docks: list[QtWidgets.QDockWidget] = []
        self.consent: ConsentDialog | None = None
        self._to_ask: list[Plugin] = []
        self._pending = QtCore.QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(0)
        self._pending.timeout.connect(self._apply_changes)
        self.sync_docks()
        connect_on_gui(plugins.failed, self._on_failed)
        connect_on_gui(plugins.changed, self._on_changed)

    # -- docks --------------------------------------------------------------------------------------------
    def sync_docks(self) -> None:
        """A dock per panel of every enabled plugin, on the side its plugin asked for; the docks of plugins
        that failed go."""
        wanted = self.plugins.panels()
        for dock in list(self.docks):
            if dock.property("plugin_panel") not in [list(w) for w in wanted]:
                self.docks.remove(dock)
                self.window_.removeDockWidget(dock)
                dock.deleteLater()
        have = [dock.property("plugin_panel") for dock in self.docks]
        for k, (plugin, title) in enumerate(wanted):
            if [plugin, title] in have:
                continue
            dock = QtWidgets.QDockWidget(title, self.window_)
            dock.setObjectName(f"dock_plugin_{plugin}_{sum(1 for p, _t in wanted[:k] if p == plugin)}")
            dock.setProperty("plugin_panel", [plugin, title])
            waiting = QtWidgets.QLabel(f"{title} (plugin {plugin}) opens when shown", dock)
            waiting.setObjectName("plugin_panel_waiting")
            waiting.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            dock.setWidget(waiting)
            area = self.plugins.panel_area(plugin, title)
            self.window_.addDockWidget(_AREAS[area], dock)
            if self.window_.isVisible() and area == "bottom":
                self.window_.tabifyDockWidget(self.below, dock)
            # Checked a moment later: at the window's first show every dock is "visible" until the docks
            # are tabbed, and a panel behind a tab has nothing on screen.
            dock.visibilityChanged.connect(lambda on, d=dock: on and QtCore.QTimer.singleShot(0, lambda: self._shown(d)))
            self.docks.append(dock)
            if self.plugins.plugins[plugin].builtin:
                self.fill(dock)  # floortwin's own panels: their plugin is loaded, and they show at once

    def dock_of(self, plugin: str, title: str) -> QtWidgets.QDockWidget | None:
        """The dock of a plugin's panel (None: that plugin has no such panel now)."""
        return next((d for d in self.docks if d.property("plugin_panel") == [plugin, title]), None)

    def _shown(self, dock: QtWidgets.QDockWidget) -> None:
        if dock in self.docks and dock.isVisible() and not dock.visibleRegion().isEmpty():
            self.fill(dock)

    def fill(self, dock: QtWidgets.QDockWidget) -> None:
        """Build a panel's widget (its plugin's code is loaded now) the first time its dock is shown."""
        widget = dock.widget()
        if widget is None or widget.objectName() != "plugin_panel_waiting":
            return
        plugin, title = dock.property("plugin_panel")
        widget = self.plugins.make_panel(plugin, title)
        if widget is not None and dock in self.docks:
            dock.setWidget(widget)

    # -- reports ------------------------------------------------------------------------------------------
    def _on_failed(self, plugin: Plugin) -> None:
        msg = f"Plugin {plugin.name} was disabled: {plugin.error} (Help ▸ Plugins; see Log)"
        self.window_.statusBar().showMessage(msg, 15000)

    def _on_changed(self) -> None:
        self._pending.start()  # many changes (a plugin loading) make one refresh

    def _apply_changes(self) -> None:
        self.sync_docks()
        self.contributions_changed.emit()

    # -- consent ------------------------------------------------------------------------------------------
    def start(self) -> None:
        """After the window is up: say which plugins could not load, and ask about new ones (or, when
        nobody is there to answer, leave them off and log how to turn them on)."""
        broken = [p.name for p in self.plugins.plugins.values() if p.state in ("failed", "skipped")]
        if broken:
            self.window_.statusBar().showMessage(
                f"Plugin(s) not loaded: {', '.join(broken)} (Help ▸ Plugins says why)", 15000
            )
        new = self.plugins.new_plugins()
        if not self.ask:
            for p in new:
                log.warning(
                    "plugin %s (%s) is new and stays off until allowed: start floortwin and answer its question, "
                    "or tick it in Help ▸ Plugins",
                    p.name,
                    p.source,
                )
            return
        self._to_ask = list(new)
        self._ask_next()

    def _ask_next(self) -> None:
        if not self._to_ask or self.consent is not None:
            return
        dialog = ConsentDialog(self._to_ask.pop(0), self.window_)
        dialog.finished.connect(lambda *_: self._answered(dialog))
        self.consent = dialog
        dialog.open()

    def _answered(self, dialog: ConsentDialog) -> None:
        p = dialog.plugin
        if dialog.allowed:
            self.settings.trusted_plugins = [*self.settings.trusted_plugins, p.trust_key]
            self.settings.disabled_plugins = [n for n in self.settings.disabled_plugins if n != p.name]
            self.plugins.allow(p.name)
        else:
            self.settings.disabled_plugins = [*self.settings.disabled_plugins, p.name]
            self.plugins.refuse(p.name)
        self.consent = None
        dialog.deleteLater()
        self._ask_next()
