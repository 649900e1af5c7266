"""Every command of the main window, declared once: id, title, handler, menu, shortcut, enabled-when.

The table builds the menus, the toolbar and the keyboard-shortcut list, so they never disagree. Handlers
receive a ``Workbench``: what the commands act on (the document, the selection, the editor, the live link,
the view), described as a protocol — the table does not import the main window, which composes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from PySide6 import QtGui, QtWidgets

from app.ui.build_twin_dialog import build_twin
from app.ui.layout_optimiser_dialog import show_layout_optimiser
from app.ui.params_dialog import show_params_optimiser

if TYPE_CHECKING:
    from app.model.document import FactoryDocument
    from app.model.selection import Selection
    from app.scene.view import FactoryView
    from app.ui.file_commands import FileCommands
    from app.ui.layout_editor import LayoutEditor
    from app.ui.live_console import LiveController
    from app.ui.live_link import LiveLink
    from app.ui.settings import Settings
    from app.ui.timeline_bar import TimelineBar


class Workbench(Protocol):
    """What the commands act on (the main window is one)."""

    document: FactoryDocument | None
    selection: Selection
    settings: Settings
    theme: str
    view: FactoryView
    layout_editor: LayoutEditor
    live: LiveLink
    console: LiveController
    files: FileCommands
    timeline: TimelineBar
    asset_of: dict  # asset id → the loaded mesh (its extents size new machines)

    def screenshot_dialog(self) -> None: ...
    def close(self) -> bool: ...
    def show_layout_check(self) -> None: ...
    def toggle_theme(self) -> None: ...
    def show_shortcuts(self) -> None: ...
    def show_welcome(self) -> None: ...
    def show_plugins(self) -> None: ...
    def show_about(self) -> None: ...

SP = QtWidgets.QStyle.StandardPixmap


@dataclass(frozen=True)
class ActionSpec:
    """One command of the main window."""

    id: str
    title: str
    handler: Callable[[Workbench], object]
    menu: str
    shortcut: str | QtGui.QKeySequence.StandardKey | None = None
    tip: str = ""
    toolbar: bool = False
    icon: SP | None = None
    enabled_when: Callable[[Workbench], bool] | None = None
    checkable: bool = False
    checked_when: Callable[[Workbench], bool] | None = None
    separator_before: bool = False


Key = QtGui.QKeySequence.StandardKey


def _nudge(dx: int, dy: int) -> Callable[[Workbench], object]:
    return lambda w: w.layout_editor.nudge_selection(dx, dy)


def _arrange(how: str) -> Callable[[Workbench], object]:
    return lambda w: w.layout_editor.arrange_selection(how)


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "file.open",
        "&Open…",
        lambda w: w.files.open_dialog(),
        "&File",
        Key.Open,
        "Open a factory file",
        True,
        SP.SP_DialogOpenButton,
    ),
    ActionSpec("file.demo", "Open &Demo Plant", lambda w: w.files.open_demo(), "&File", None, "Open the bundled demo factory"),
    ActionSpec(
        "file.save",
        "&Save",
        lambda w: w.files.save(),
        "&File",
        Key.Save,
        "Save the factory file",
        True,
        SP.SP_DialogSaveButton,
        enabled_when=lambda w: w.document is not None,
        separator_before=True,
    ),
    ActionSpec(
        "file.save_as",
        "Save &As…",
        lambda w: w.files.save_as_dialog(),
        "&File",
        Key.SaveAs,
        "Save to another file",
        enabled_when=lambda w: w.document is not None,
    ),
    ActionSpec(
        "file.screenshot",
        "Save Screens&hot…",
        lambda w: w.screenshot_dialog(),
        "&File",
        "Ctrl+Shift+P",
        "Save a PNG of the window",
        separator_before=True,
    ),
    ActionSpec("file.quit", "&Quit", lambda w: w.close(), "&File", Key.Quit, "Quit floortwin", separator_before=True),
    ActionSpec(
        "live.connect",
        "&Connect to Server…",
        lambda w: w.console.connect_dialog(),
        "&Live",
        "Ctrl+K",
        "Connect to an OPC UA server and show its live values on the open factory",
        enabled_when=lambda w: not w.live.active,
    ),
    ActionSpec(
        "live.disconnect",
        "&Disconnect from Server",
        lambda w: w.console.disconnect_live(),
        "&Live",
        None,
        "Stop the live OPC UA link",
        enabled_when=lambda w: w.live.active,
    ),
    ActionSpec(
        "live.connect_on_open",
        "Connect When &Opening a File",
        lambda w: w.console.toggle_connect_on_open(),
        "&Live",
        None,
        "Connect to the server a factory file names (its opcua.endpoint) as soon as the file is opened",
        checkable=True,
        checked_when=lambda w: w.settings.connect_on_open,
    ),
    ActionSpec("live.build_twin", "&Build Twin from Server…", lambda w: build_twin(w), "&Live", None,
               "Find the server's machines (OPC UA for Machinery), preview them, then place and bind them"),
    ActionSpec(
        "live.back_to_live",
        "Back to &Live",
        lambda w: w.timeline.go_live(),
        "&Live",
        "Ctrl+L",
        "Leave the replay and show live values",
        separator_before=True,
        enabled_when=lambda w: w.live.replay_time is not None,
    ),
    ActionSpec(
        "live.replay_back",
        "Replay One &Minute Back",
        lambda w: w.timeline.show_time((w.timeline.time or time.time()) - 60),
        "&Live",
        "Ctrl+Left",
        "Show the factory as it was a minute earlier",
        enabled_when=lambda w: w.live.history is not None,
    ),
    ActionSpec("view.fit", "&Fit All", lambda w: w.view.camera_preset("fit"), "&View", "F", "Show the whole factory", True),
    ActionSpec(
        "view.top", "&Top View", lambda w: w.view.camera_preset("top"), "&View", "T", "Look straight down on the floor", True
    ),
    ActionSpec("view.iso", "&Isometric View", lambda w: w.view.camera_preset("iso"), "&View", "I", "Oblique overview", True),
    ActionSpec(
        "view.front", "F&ront View", lambda w: w.view.camera_preset("front"), "&View", "Shift+F", "Look from the south wall"
    ),
    ActionSpec(
        "view.focus",
        "Fly to &Selection",
        lambda w: w.view.fly_to(w.selection.current) if w.selection.current else None,
        "&View",
        "Z",
        "Centre the camera on the selected machine",
        enabled_when=lambda w: w.selection.current is not None,
    ),
    ActionSpec(
        "view.dark",
        "&Dark Theme",
        lambda w: w.toggle_theme(),
        "&View",
        "Ctrl+Shift+D",
        "Switch between light and dark themes",
        checkable=True,
        checked_when=lambda w: w.theme == "dark",
        separator_before=True,
    ),
    ActionSpec(
        "edit.undo",
        "&Undo",
        lambda w: w.layout_editor.stack.undo(),
        "&Edit",
        Key.Undo,
        "Undo the last layout change",
        enabled_when=lambda w: w.layout_editor.stack.canUndo(),
    ),
    ActionSpec(
        "edit.redo",
        "&Redo",
        lambda w: w.layout_editor.stack.redo(),
        "&Edit",
        "Ctrl+Shift+Z",
        "Redo the change undone last",
        enabled_when=lambda w: w.layout_editor.stack.canRedo(),
    ),
    ActionSpec(
        "edit.layout_mode",
        "&Edit Layout",
        lambda w: w.layout_editor.set_active(not w.layout_editor.active),
        "&Edit",
        "Ctrl+E",
        "Move, rotate, duplicate and delete machines; every placement is checked for collisions and clearances",
        True,
        enabled_when=lambda w: w.document is not None,
        checkable=True,
        checked_when=lambda w: w.layout_editor.active,
        separator_before=True,
    ),
    ActionSpec(
        "edit.snap",
        "&Snap to Grid",
        lambda w: setattr(w.layout_editor, "snap_enabled", not w.layout_editor.snap_enabled),
        "&Edit",
        "Ctrl+G",
        "Snap dragged machines to the floor grid (hold Alt to place freely)",
        checkable=True,
        checked_when=lambda w: w.layout_editor.snap_enabled,
    ),
    ActionSpec(
        "edit.rotate",
        "Rotate &15°",
        lambda w: w.layout_editor.rotate_selection(15),
        "&Edit",
        "R",
        "Turn the selection 15° anticlockwise",
        enabled_when=lambda w: w.layout_editor.active and w.selection.current is not None,
    ),
    ActionSpec(
        "edit.rotate_90",
        "Rotate &90°",
        lambda w: w.layout_editor.rotate_selection(90),
        "&Edit",
        "Shift+R",
        "Turn the selection 90° anticlockwise",
        enabled_when=lambda w: w.layout_editor.active and w.selection.current is not None,
    ),
    *(
        ActionSpec(
            f"edit.nudge_{name}",
            f"Nudge {name.title()}",
            _nudge(dx, dy),
            "&Edit",
            f"Alt+{key}",
            f"Move the selection one grid step {name}",
            enabled_when=lambda w: w.layout_editor.active and w.selection.current is not None,
        )
        for name, key, dx, dy in (("left", "Left", -1, 0), ("right", "Right", 1, 0), ("up", "Up", 0, 1), ("down", "Down", 0, -1))
    ),
    ActionSpec(
        "edit.place",
        "Set &Position…",
        lambda w: w.layout_editor.place_dialog(),
        "&Edit",
        "P",
        "Type the exact position and rotation of the selected machine",
        enabled_when=lambda w: w.layout_editor.active and w.selection.current is not None,
    ),
    *(
        ActionSpec(
            f"edit.arrange_{how}",
            title,
            _arrange(how),
            "&Edit",
            None,
            tip,
            enabled_when=lambda w: w.layout_editor.active and len(w.selection.ids) >= 2,
            separator_before=how == "left",
        )
        for how, title, tip in (
            ("left", "Align &Left", "Line the selected machines up on the leftmost one's left edge"),
            ("right", "Align &Right", "Line the selected machines up on the rightmost one's right edge"),
            ("bottom", "Align &Bottom", "Line the selected machines up on the lowest one's bottom edge"),
            ("top", "Align &Top", "Line the selected machines up on the highest one's top edge"),
            ("centre_x", "Align Centres &Vertically", "Put the selected machines' centres on one vertical line"),
            ("centre_y", "Align Centres &Horizontally", "Put the selected machines' centres on one horizontal line"),
            ("x", "Distribute Along &X", "Space the selected machines evenly from left to right"),
            ("y", "Distribute Along &Y", "Space the selected machines evenly from bottom to top"),
        )
    ),
    ActionSpec(
        "edit.duplicate",
        "D&uplicate",
        lambda w: w.layout_editor.duplicate_selection(),
        "&Edit",
        "Ctrl+D",
        "Copy the selected machines next to themselves",
        enabled_when=lambda w: w.layout_editor.active and w.selection.current is not None,
    ),
    ActionSpec(
        "edit.delete",
        "&Delete",
        lambda w: w.layout_editor.delete_selection(),
        "&Edit",
        Key.Delete,
        "Remove the selected machines (their transport paths go with them)",
        enabled_when=lambda w: w.layout_editor.active and w.selection.current is not None,
    ),
    ActionSpec(
        "edit.check_layout",
        "&Check Layout",
        lambda w: w.show_layout_check(),
        "&Edit",
        "Ctrl+Shift+L",
        "List every collision and clearance problem of the layout",
        enabled_when=lambda w: w.document is not None,
    ),
    ActionSpec(
        "edit.select_none",
        "Select &None",
        lambda w: w.selection.clear(),
        "&Edit",
        "Esc",
        "Clear the selection",
        separator_before=True,
    ),
    ActionSpec("optimise.layout", "&Layout…", lambda w: show_layout_optimiser(w), "&Optimise", None,
               "Search layouts with less transport (Pareto front, 3D preview, one undo step)",
               enabled_when=lambda w: w.document is not None),
    ActionSpec("optimise.params", "&Parameters…", lambda w: show_params_optimiser(w), "&Optimise", None,
               "Choose buffers, servers, release rates or speeds by simulation, the best proven with stated confidence",
               enabled_when=lambda w: w.document is not None),
    ActionSpec("help.shortcuts", "&Keyboard Shortcuts", lambda w: w.show_shortcuts(), "&Help", "F1", "List every shortcut"),
    ActionSpec(
        "help.welcome", "&Welcome", lambda w: w.show_welcome(), "&Help", None, "Open the demo, a file, a server or a recent file"
    ),
    ActionSpec("help.plugins", "&Plugins…", lambda w: w.show_plugins(), "&Help", None, "Plugins found, their state and errors"),
    ActionSpec("help.about", "&About floortwin", lambda w: w.show_about(), "&Help", None, "Versions and licence"),
)


def shortcut_text(spec: ActionSpec) -> str:
    """The shortcut as the user's platform spells it ("" if none)."""
    if spec.shortcut is None:
        return ""
    return QtGui.QKeySequence(spec.shortcut).toString(QtGui.QKeySequence.SequenceFormat.NativeText)


def install_actions(
    window: QtWidgets.QMainWindow, specs: Sequence[ActionSpec], toolbar: QtWidgets.QToolBar
) -> dict[str, QtGui.QAction]:
    """Create a QAction per spec, put it in its menu (and the toolbar), and return them by id."""
    menus: dict[str, QtWidgets.QMenu] = {}
    actions: dict[str, QtGui.QAction] = {}
    style = window.style()
    for spec in specs:
        menu = menus.get(spec.menu)
        if menu is None:
            menu = menus[spec.menu] = window.menuBar().addMenu(spec.menu)
            menu.setObjectName("menu_" + spec.menu.replace("&", "").lower())
        if spec.separator_before:
            menu.addSeparator()
        act = QtGui.QAction(spec.title, window)
        act.setObjectName(spec.id)
        if spec.icon is not None:
            act.setIcon(style.standardIcon(spec.icon))
        if spec.shortcut is not None:
            act.setShortcut(QtGui.QKeySequence(spec.shortcut))
            act.setShortcutContext(QtGui.Qt.ShortcutContext.WindowShortcut)
        tip = spec.tip + (f" ({shortcut_text(spec)})" if spec.shortcut is not None else "")
        act.setToolTip(tip)
        act.setStatusTip(spec.tip)
        act.setCheckable(spec.checkable)
        act.triggered.connect(lambda _checked=False, s=spec: s.handler(window))  # type: ignore[arg-type]
        menu.addAction(act)
        window.addAction(act)  # shortcuts work even when the menu bar is hidden
        if spec.toolbar:
            toolbar.addAction(act)
        actions[spec.id] = act
    return actions


def refresh_actions(window: Workbench, specs: Sequence[ActionSpec], actions: dict[str, QtGui.QAction]) -> None:
    """Re-evaluate every spec's enabled-when and checked-when."""
    for spec in specs:
        act = actions[spec.id]
        if spec.enabled_when is not None:
            act.setEnabled(bool(spec.enabled_when(window)))
        if spec.checked_when is not None:
            act.blockSignals(True)
            act.setChecked(bool(spec.checked_when(window)))
            act.blockSignals(False)
