"""Where the docks go: the default arrangement at the first show (sized from the window), whole tab titles,
and the View ▸ Panels menu."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6 import QtCore, QtWidgets

Dock = QtWidgets.QDockWidget


def place_docks(window: QtWidgets.QMainWindow, left: Sequence[Dock], right: Sequence[Dock], bottom: Sequence[Dock]) -> None:
    """Put the docks on their sides (stacked; ``arrange_default`` tabs them at the first show)."""
    Area = QtCore.Qt.DockWidgetArea
    for area, docks in ((Area.LeftDockWidgetArea, left), (Area.RightDockWidgetArea, right), (Area.BottomDockWidgetArea, bottom)):
        for dock in docks:
            window.addDockWidget(area, dock)


def arrange_default(
    window: QtWidgets.QMainWindow,
    left: Sequence[Dock],
    right: Sequence[Dock],
    bottom: Sequence[Dock],
    properties: Dock,
) -> None:
    """Tab each group behind its first dock and size the sides from the window's own size: the 3D view keeps
    most of a 1366×768 screen, and on a short screen ``properties`` joins the right-hand tabs instead of
    being squeezed under them. (Tabbing before the window is on screen leaves stale tab bars drawn over the
    docks — Qt — so this runs at the first show.)"""
    for group in (left, bottom, right):
        for dock in group[1:]:
            window.tabifyDockWidget(group[0], dock)
    width, height = window.width(), window.height()
    short = height < 900
    if short:
        window.tabifyDockWidget(right[0], properties)
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


def add_panels_menu(view_menu: QtWidgets.QMenu, panels: Sequence[QtWidgets.QDockWidget | QtWidgets.QToolBar]) -> None:
    """View ▸ Panels: one check item per dock and tool bar."""
    view_menu.addSeparator()
    menu = view_menu.addMenu("&Panels")
    for panel in panels:
        menu.addAction(panel.toggleViewAction())
