"""The main window: assembles the 3D view, the docks and the action table, and runs file commands."""

from __future__ import annotations

import logging
import os

from PySide6 import QtCore, QtGui, QtWidgets

from app.assets import AssetLibrary, MeshAsset, load_factory_assets, placeholder_note
from app.model.document import FactoryDocument
from app.model.selection import Selection, selection_text
from app.paths import DEMO_FACTORY, RESOURCES_DIR
from app.physics.world import problems_text
from app.plugins import PluginManager, standard_plugins
from app.scene.view import FactoryView
from app.ui.actions import ACTIONS, install_actions, refresh_actions
from app.ui.alarms_dock import AlarmsDock
from app.ui.browse_dock import BrowseDock
from app.ui.builtin_panels import FlowDock, add_builtin_panels
from app.ui.dock_layout import DockAreas, add_panels_menu, arrange_default, fill_panels_menu, place_docks, unelide_dock_tabs
from app.ui.embedded_plant import EmbeddedPlant
from app.ui.error_box import error_box
from app.ui.file_commands import FileCommands
from app.ui.forecast_dock import ForecastDock
from app.ui.gantt_link import GanttLink
from app.ui.heat_controller import HeatController
from app.ui.heat_dock import HeatDock
from app.ui.help_dialogs import about_box, plugins_dialog, shortcuts_box
from app.ui.layout_check_dock import LayoutCheckDock
from app.ui.layout_check_task import LayoutCheckTask
from app.ui.layout_editor import LayoutEditor
from app.ui.live_console import LiveController, LiveViews
from app.ui.live_link import LiveLink
from app.ui.log_dock import LogDock
from app.ui.oee_link import OeeLink
from app.ui.palette_dock import PaletteDock
from app.ui.plugin_ui import PluginUi
from app.ui.screenshot import save_window_png
from app.ui.settings import Settings
from app.ui.theme import apply_theme
from app.ui.timeline_bar import TimelineBar
from app.ui.tree_dock import FactoryTreeDock
from app.ui.trends_dock import TrendsDock
from app.ui.window_parts import make_node_tools, make_whatif

log = logging.getLogger(__name__)


class MainWindow(QtWidgets.QMainWindow):
    """floortwin's main window.

    Parameters
    ----------
    settings
        Where recent files, theme and layout are kept (tests pass an isolated one).
    assets
        The mesh cache shared by everything that shows machines.
    plugins
        The plugins this window runs (default: the bundled, the user's and the installed ones, with the
        user's choices); the window owns them and closes them with itself.
    ask_plugins
        Ask before a plugin found for the first time runs (off for unattended runs: new ones stay off).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        assets: AssetLibrary | None = None,
        plugins: PluginManager | None = None,
        ask_plugins: bool = True,
    ):
        super().__init__()
        self.setObjectName("floortwin_main")
        self.setWindowIcon(QtGui.QIcon(str(RESOURCES_DIR / "icons" / "floortwin.svg")))
        self.settings = settings or Settings()
        self.assets = assets or AssetLibrary()
        self.document: FactoryDocument | None = None
        self.asset_of: dict[str, MeshAsset] = {}
        self.selection = Selection()
        self.theme = self.settings.theme
        self.last_error: QtWidgets.QMessageBox | None = None

        self.plugins = plugins or standard_plugins(self.settings.trusted_plugins, self.settings.disabled_plugins)
        self.view = FactoryView(self)
        self.setCentralWidget(self.view)
        self.tree_dock = FactoryTreeDock(self.selection, self.view, self)
        self.log_dock = LogDock(self)
        self.alarms_dock = AlarmsDock(self)
        self.trends_dock = TrendsDock(self)
        self.browse_dock = BrowseDock(self)
        self.timeline = TimelineBar(self)
        self.layout_check_dock = LayoutCheckDock(self)
        self.layout_check = LayoutCheckTask(self)  # the check of an opened layout, off the GUI thread
        self.layout_check.finished.connect(self._on_opened_layout_checked)
        self.layout_check.failed.connect(lambda why: self.layout_check_dock.show_failed(why))
        self.palette_dock = PaletteDock(self, self.assets)
        self.heat_dock = HeatDock(self)
        self.whatif, self.whatif_dock = make_whatif(self)
        self.forecast_dock = ForecastDock(self)  # the shift's parts out, forecast from the live state
        self.undo_dock = QtWidgets.QDockWidget("Undo History", self)
        self.undo_dock.setObjectName("dock_undo")
        self.gantt = GanttLink(lambda: self.document, lambda: self.console.history_path(), self.selection, self)
        self.oee = OeeLink(  # the OEE dashboard: the last run or the history, the operator's downtime reasons
            lambda: self.document, lambda: self.console.history_path(), self.whatif, self.selection,
            lambda: self.live.shown(), lambda: self.console.link_time_scale, self,
        )
        add_builtin_panels(self.plugins)  # floortwin's own panels: docks made as every plugin's panels are
        self.plugin_ui = PluginUi(self, self.plugins, self.settings, self.log_dock, ask=ask_plugins)
        self.properties_dock = self.plugin_ui.dock_of("floortwin", "Properties")
        self.docks = DockAreas(
            left=[self.tree_dock, self.browse_dock, self.palette_dock],
            pinned=self.properties_dock,
            right=[self.trends_dock, self.heat_dock, self.whatif_dock, self.forecast_dock, FlowDock(self), self.oee.dock],
            bottom=[self.log_dock, self.alarms_dock, self.layout_check_dock, self.undo_dock, self.gantt.dock],
        )
        place_docks(self, self.docks)
        self.addToolBar(QtCore.Qt.ToolBarArea.BottomToolBarArea, self.timeline)
        self._docks_tabbed = False  # tabbed at the first show (see showEvent)
        self._asked = self.size()
        self.live = LiveLink(self.view, self, plugins=self.plugins)
        self.node_tools = make_node_tools(self)  # the selected node's attributes, the Watch dock, Write Value…
        self.plugins.host.set_selection(self.selection)
        self.plugins.host.set_state_source(self.live.shown)
        self.live.values_flushed.connect(self.plugins.host.publish_live)
        self.live.replay_shown.connect(self.plugins.host.publish_live)
        self.plugin_ui.contributions_changed.connect(self._on_plugins_changed)
        QtCore.QTimer.singleShot(0, self.plugin_ui.start)
        self.layout_editor = LayoutEditor(self)
        self.files = FileCommands(
            self,
            self.settings,
            lambda: self.document,
            self._set_document,
            self.layout_editor.recover,
            lambda: self.console.connect_from_file(),
            self.show_error,
        )
        self.undo_dock.setWidget(QtWidgets.QUndoView(self.layout_editor.stack, self.undo_dock))
        self.layout_editor.stack.indexChanged.connect(self._on_undo_index)
        self.layout_check_dock.machine_activated.connect(self._fly_to)
        self.palette_dock.activated.connect(self.layout_editor.add_at_view_centre)
        self.palette_dock.import_requested.connect(self.layout_editor.import_dialog)
        self.heat = HeatController(
            self.heat_dock,
            self.view,
            self.live,
            show_kinds=lambda: self.view.show_kind_colours(self.document.factory, self.asset_of),
            editing=lambda: self.layout_editor.active,
            plugin_layers=self.plugins.heat_layer_units,
            say=lambda text: self.statusBar().showMessage(text, 8000),
            show_error=lambda title, text: self.show_error(title, text, ""),
            parent=self,
        )
        self.heat_maps = self.heat.maps  # the material layers on the view
        self.heat_dock.image_requested.connect(self.screenshot_dialog)
        self.console = LiveController(
            self.live,
            lambda: self.document,
            self.settings,
            self.view,
            LiveViews(self.alarms_dock, self.trends_dock, self.timeline, self.browse_dock, self.forecast_dock),
            self.statusBar(),
            self.layout_editor.stack,
            self.show_error,
            self,
        )
        self.console.actions_changed.connect(self.refresh_actions)
        self.console.went_offline.connect(self._draw_offline)
        self.tree_dock.follow_live(self.live, self.console.went_offline)  # each group's rolled-up figures
        self.console.binding_applied.connect(lambda _machine: self._on_selection_changed(self.selection.ids))
        self.timeline.time_requested.connect(self.live.show_time)
        self.gantt.follow(self.whatif.job_changed, self.live.replay_shown)  # the last run; the replay cursor
        self.alarms_dock.machine_activated.connect(self._fly_to)

        self.toolbar = self.addToolBar("Main")
        self.toolbar.setObjectName("toolbar_main")
        self.toolbar.setIconSize(QtCore.QSize(18, 18))
        self.toolbar.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.actions_by_id = install_actions(self, ACTIONS, self.toolbar)
        self.recent_menu = self.files.build_recent_menu(
            self.findChild(QtWidgets.QMenu, "menu_file"), self.actions_by_id["file.demo"]
        )
        self.panels_menu = add_panels_menu(self.findChild(QtWidgets.QMenu, "menu_view"))
        self._fill_panels_menu()

        self.status_plant, self.status_link = self.console.plant_label, self.console.link_label
        self.status_machines, self.status_file = QtWidgets.QLabel(""), QtWidgets.QLabel("")
        for label in (self.status_link, self.status_plant, self.status_machines, self.status_file):
            self.statusBar().addPermanentWidget(label)

        self.view.machine_clicked.connect(self.selection.click)
        self.tree_dock.machine_activated.connect(self._fly_to)
        self.selection.changed.connect(self._on_selection_changed)

        geometry, state = self.settings.window_state()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1400, 900)
        if state is not None and self.restoreState(state, self.layout_version()):
            self._docks_tabbed = True
        self.set_theme(self.theme)
        self._update_title()
        self.refresh_actions()

    # -- screenshots ----------------------------------------------------------------------------------------
    def screenshot_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save screenshot", "floortwin.png", "PNG images (*.png)")
        if path:
            self.save_screenshot(path)

    def save_screenshot(self, path: str | os.PathLike[str]) -> bool:
        """Write a PNG of the whole window including the 3D view."""
        ok = save_window_png(self, self.view, path)
        if not ok:
            self.show_error("Cannot save screenshot", f"Could not write {path}", "")
        return ok

    def _set_document(self, document: FactoryDocument) -> None:
        if self.live.active:
            self.console.disconnect_live()
        self.document = document
        self.asset_of = load_factory_assets(document.factory, document.path, self.assets)
        if note := placeholder_note(self.asset_of):
            self.statusBar().showMessage(note, 15000)
        self.selection.clear()
        self.view.show_factory(document.factory, self.asset_of)
        self.layout_editor.reset()
        # A layout with problems opens, and says so: checked on a worker thread, the window stays usable.
        self.layout_check_dock.show_checking()
        self.layout_check.start(document.factory, self.asset_of)  # shapes made on the worker too
        self.tree_dock.set_factory(document.factory)
        self.plugins.host.set_meshes(self.asset_of)
        self.plugins.host.set_document(document)
        self.heat.open_factory(document.factory)
        self.whatif.load_for(document.factory)
        document.layout_changed.connect(self._on_layout_changed)
        document.machines_changed.connect(self._on_machines_changed)  # moved (or re-tagged) machines
        document.dirty_changed.connect(self._update_title)
        document.path_changed.connect(self._update_title)
        self.status_machines.setText(f"{len(document.factory.machines)} machines")
        self._on_selection_changed(())
        self._update_title()
        self.refresh_actions()

    def _on_opened_layout_checked(self, verdicts) -> None:
        if self.document is None:
            return
        self.layout_check_dock.show_verdicts(verdicts)
        if verdicts:
            msg = problems_text(verdicts, opened=True)
            log.warning("%s: %s", self.document.path or self.document.factory.name, msg)
            self.statusBar().showMessage(msg + " (Edit ▸ Check Layout lists them)", 15000)

    def _update_title(self, *_args: object) -> None:
        if self.document is None:
            self.setWindowTitle("floortwin")
            self.status_file.setText("no factory open")
            return
        name = self.document.path.name if self.document.path else "untitled"
        self.setWindowTitle(f"{name}[*] — {self.document.factory.name} — floortwin")
        self.setWindowModified(self.document.dirty)
        self.status_file.setText(str(self.document.path or "not saved"))

    # -- docks menu ---------------------------------------------------------------------------------------
    def _fill_panels_menu(self) -> None:
        fill_panels_menu(self.panels_menu, [*self.docks.all(), *self.plugin_docks, self.toolbar, self.timeline])

    # -- selection -----------------------------------------------------------------------------------
    def _on_selection_changed(self, ids: tuple[str, ...]) -> None:
        self.view.set_selection(ids)
        current = self.selection.current
        factory = self.document.factory if self.document else None
        self.trends_dock.set_machine(current, self.live.units_of(current) if current else None)
        if current is not None and factory is not None:
            self.statusBar().showMessage(selection_text({current: factory.machine(current).name}, ids))
        elif self.statusBar().currentMessage().endswith("]") or " more)" in self.statusBar().currentMessage():
            self.statusBar().clearMessage()  # the selection was cleared: so is its line in the status bar
        self.refresh_actions()

    def _fly_to(self, machine_id: str) -> None:
        if self.document is None or machine_id not in self.view.machines.index:  # e.g. an old alarm's, removed since
            self.statusBar().showMessage(f"{machine_id} is not in the layout any more", 6000)
            return
        self.selection.select([machine_id])
        self.view.fly_to(machine_id)

    def _on_machines_changed(self, ids: list[str]) -> None:
        self._on_layout_changed(ids)
        self._on_selection_changed(self.selection.ids)  # the properties show the machines as they now are

    def _on_layout_changed(self, _ids: list[str]) -> None:
        self.layout_check.cancel()  # the check of the layout as opened is out of date now
        self.heat.set_factory(self.document.factory if self.document else None)

    def _on_undo_index(self, _index: int) -> None:
        self.layout_editor.refresh_verdicts()  # verdicts follow undo and redo as they follow edits
        self.refresh_actions()

    def show_layout_check(self) -> None:
        """List every collision and clearance problem (Edit ▸ Check Layout)."""
        self.layout_check.cancel()  # this answer replaces the one of the background check
        verdicts = self.layout_editor.check_layout()
        self.layout_check_dock.show_verdicts(verdicts)
        self.layout_check_dock.show()
        self.layout_check_dock.raise_()
        self.layout_editor.show_problems(verdicts)
        self.statusBar().showMessage(problems_text(verdicts), 8000)

    # -- look and feel --------------------------------------------------------------------------------
    def set_theme(self, theme: str) -> None:
        self.theme = theme
        self.settings.theme = theme
        apply_theme(QtWidgets.QApplication.instance(), theme)
        self.view.set_theme(theme)
        self.refresh_actions()

    def toggle_theme(self) -> None:
        self.set_theme("light" if self.theme == "dark" else "dark")

    def refresh_actions(self) -> None:
        refresh_actions(self, ACTIONS, self.actions_by_id)

    # -- dialogs ---------------------------------------------------------------------------------------
    def show_error(self, title: str, text: str, details: str) -> QtWidgets.QMessageBox:
        """A non-blocking error box (the app keeps working behind it)."""
        self.last_error = error_box(self, title, text, details)
        return self.last_error

    def show_shortcuts(self) -> None:
        shortcuts_box(self)

    def layout_version(self) -> int:
        """The saved window layout's version (``DockAreas.layout_version``)."""
        return self.docks.layout_version(self.plugin_docks)

    @property
    def plugin_docks(self) -> list[QtWidgets.QDockWidget]:
        """The docks of other plugins' panels (built when first shown), not placed by ``docks``."""
        return [d for d in self.plugin_ui.docks if d not in self.docks.all()]

    def show_plugins(self) -> None:
        self.plugins_dialog = plugins_dialog(self, self.plugins, self.settings)

    def _on_plugins_changed(self) -> None:
        """A plugin loaded, failed or was allowed: the palette and the heat-map list show what there is now."""
        self.palette_dock.set_assets({})
        self.heat.offer_signals()
        self._fill_panels_menu()

    def show_about(self) -> None:
        self.about_box = about_box(self, self.plugins, self.windowIcon())

    def show_welcome(self) -> None:
        """The welcome page (at start without a factory, or Help ▸ Welcome)."""
        from app.ui.welcome import WelcomeDialog

        self.welcome = WelcomeDialog(self)
        self.welcome.show()

    def open_demo_live(self) -> None:
        """The demo plant with its embedded plant simulator, as ``--demo`` opens it."""
        if self.files.open_demo():
            self.console.start_embedded_plant(DEMO_FACTORY)

    @property
    def plant(self) -> EmbeddedPlant | None:
        """The embedded plant simulator (None until ``console.start_embedded_plant``)."""
        return self.console.plant

    def _draw_offline(self) -> None:
        if self.document is not None:
            self.view.show_kind_colours(self.document.factory, self.asset_of)  # with its legend

    def setVisible(self, visible: bool) -> None:
        if visible and not self._docks_tabbed:
            self._asked = self.size()  # before the docks, still side by side, widen it (see showEvent)
        super().setVisible(visible)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        QtCore.QTimer.singleShot(0, lambda: unelide_dock_tabs(self))
        if not self._docks_tabbed:
            self._docks_tabbed = True
            arrange_default(self, self.docks, self.plugin_docks)
            self.resize(self._asked)  # tabbed, the docks no longer need the width they took side by side

    # -- shutdown --------------------------------------------------------------------------------------
    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if not self.files.may_leave("closing"):
            event.ignore()
            return
        self.settings.save_window_state(self.saveGeometry(), self.saveState(self.layout_version()))
        self.settings.sync()
        self.console.close()  # the live link and the embedded plant simulator
        self.files.close()
        self.whatif_dock.shutdown()
        self.whatif.shutdown()
        self.oee.close()
        self.gantt.close()
        self.layout_editor.close()
        self.layout_check.close()
        self.log_dock.detach()
        self.view.close_scene()
        self.plugins.close()
        super().closeEvent(event)

