"""Light and dark application themes (Qt Fusion style with a matching palette)."""

from __future__ import annotations

from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

_DARK = {
    "Window": "#2b2d31",
    "WindowText": "#e6e6e6",
    "Base": "#1f2124",
    "AlternateBase": "#282a2e",
    "ToolTipBase": "#393c41",
    "ToolTipText": "#f0f0f0",
    "Text": "#e6e6e6",
    "Button": "#33363b",
    "ButtonText": "#e6e6e6",
    "BrightText": "#ff5555",
    "Highlight": "#3d7bd9",
    "HighlightedText": "#ffffff",
    "Link": "#6aa6ff",
    "PlaceholderText": "#8a8d93",
}


def apply_theme(app: QtCore.QCoreApplication | None, theme: str) -> None:
    """Apply ``light`` or ``dark`` to the whole application (nothing without a widget application)."""
    if not isinstance(app, QtWidgets.QApplication):
        return
    app.setStyle("Fusion")
    if theme == "dark":
        pal = QtGui.QPalette()
        for role, colour in _DARK.items():
            pal.setColor(getattr(QtGui.QPalette.ColorRole, role), QtGui.QColor(colour))
        disabled = QtGui.QPalette.ColorGroup.Disabled
        for role in ("Text", "ButtonText", "WindowText"):
            pal.setColor(disabled, getattr(QtGui.QPalette.ColorRole, role), QtGui.QColor("#6d7076"))
    else:
        pal = app.style().standardPalette()
    app.setPalette(pal)


def colour_plot(plot: Any, palette: QtGui.QPalette) -> None:
    """A pyqtgraph PlotWidget in the theme's colours (light or dark, not a fixed white): its background and
    the pens of its left and bottom axes."""
    plot.setBackground(palette.color(QtGui.QPalette.ColorRole.Base))
    text = palette.color(QtGui.QPalette.ColorRole.Text)
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        axis.setPen(text)
        axis.setTextPen(text)
