"""Where the docks go: the default arrangement at the first show (sized from the window), whole tab titles,
and the View ▸ Panels menu."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6 import QtCore, QtWidgets

Dock = QtWidgets.QDockWidget

#: Bumped when docks are added: a window layout saved by an older version is then replaced by the default
#: one (which arranges the new docks) instead of leaving them stacked where Qt puts unknown docks.
DOCK_LAYOUT_VERSION = 11


@dataclass
class DockAreas:
    """The window's docks by side, in tab order: the one registry that places them, arranges them at the
    first show, lists them in View ▸ Panels and versions the saved layout. ``pinned`` (the properties) sits
    above the right-hand tabs on a tall screen. Plugin panels join ``bottom`` as they come and go."""

    left: list[Dock]
    pinned: Dock
    right: list[Dock]
    bottom: list[Dock]

    def all(self) -> list[Dock]:
        return [*self.left, self.pinned, *self.right, *self.bottom]

    def layout_version(self, plugin_docks: Sequence[Dock]) -> int:
        """The saved layout's version: the docks' version and which plugin panels exist, so a layout saved
        with other plugins is replaced by the default one instead of leaving their panels astray."""
        names = ",".join(sorted(d.objectName() for d in plugin_docks))
        return DOCK_LAYOUT_VERSION * 100_000 + zlib.crc32(names.encode()) % 100_000


def place_docks(window: QtWidgets.QMainWindow, areas: DockAreas) -> None:
    """Put the docks on their sides (stacked; ``arrange_default`` tabs them at the first show)."""
    Area = QtCore.Qt.DockWidgetArea
    sides = ((Area.LeftDockWidgetArea, areas.left), (Area.RightDockWidgetArea, [areas.pinned, *areas.right]))
    for area, docks in (*sides, (Area.BottomDockWidgetArea, areas.bottom)):
        for dock in docks:
            window.addDockWidget(area, dock)


def arrange_default(window: QtWidgets.QMainWindow, areas: DockAreas, more_bottom: Sequence[Dock] = ()) -> None:
    """Tab each group behind its first dock and size the sides from the window's own size: the 3D view keeps
    most of a 1366×768 screen, and on a short screen the pinned dock joins the right-hand tabs instead of
    being squeezed under them. (Tabbing before the window is on screen leaves stale tab bars drawn over the
    docks — Qt — so this runs at the first show.)"""
    left, right, bottom, properties = areas.left, areas.right, [*areas.bottom, *more_bottom], areas.pinned
    for group in (left, bottom, right):
        for dock in group[1:]:
            window.tabifyDockWidget(group[0], dock)
    width, height = window.width(), window.height()
    short = height < 900
    if short:
        window.tabifyDockWidget(right[0], properties)
    if (layout := window.layout()) is not None:
        layout.activate()  # the sides' heights as tabbed, not as stacked: the sizes below are then kept
    for dock in (left[0], right[0], bottom[0]):
        dock.raise_()
    side_l = int(min(max(width * 0.17, 200), 300))
    side_r = int(min(max(width * 0.2, 250), 340))
    window.resizeDocks([left[0], right[0]], [side_l, side_r], QtCore.Qt.Orientation.Horizontal)
    window.resizeDocks([bottom[0]], [int(min(max(height * 0.12, 90), 160))], QtCore.Qt.Orientation.Vertical)
    if not short:
        window.resizeDocks([properties, right[0]], [220, 600], QtCore.Qt.Orientation.Vertical)


def unelide_dock_tabs(window: QtWidgets.QMainWindow) -> None:
    """Dock tabs show their whole titles ("Factory", not "Fact…"): short of room, the tab bar scrolls.
    Qt makes the tab bars of tabbed docks as needed, so this runs again whenever a dock moves."""
    for bar in window.findChildren(QtWidgets.QTabBar):
        if bar.parent() is window:
            bar.setElideMode(QtCore.Qt.TextElideMode.ElideNone)
            bar.setUsesScrollButtons(True)
    for dock in window.findChildren(QtWidgets.QDockWidget):
        if not dock.property("_unelide_hooked"):
            dock.setProperty("_unelide_hooked", True)
            dock.dockLocationChanged.connect(lambda *_: QtCore.QTimer.singleShot(0, lambda: unelide_dock_tabs(window)))


def add_panels_menu(view_menu: QtWidgets.QMenu) -> QtWidgets.QMenu:
    """View ▸ Panels (filled by ``fill_panels_menu``)."""
    view_menu.addSeparator()
    return view_menu.addMenu("&Panels")


def fill_panels_menu(menu: QtWidgets.QMenu, panels: Sequence[QtWidgets.QDockWidget | QtWidgets.QToolBar]) -> None:
    """One check item per dock and tool bar, built-in and plugin panels alike (refilled as plugins come and go)."""
    menu.clear()
    for panel in panels:
        menu.addAction(panel.toggleViewAction())
