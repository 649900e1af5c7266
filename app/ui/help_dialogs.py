"""The Help menu's boxes: keyboard shortcuts (from the action table), About (versions, plugins, where the
logs are) and the Plugins dialog."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

import app
from app.plugins import PluginManager
from app.ui.actions import ACTIONS, shortcut_text
from app.ui.settings import Settings

_MOUSE = (
    "<tr><td>Rotate</td><td><b>Left drag</b></td></tr><tr><td>Pan</td><td><b>Middle drag / Shift+Left drag</b></td></tr>"
    "<tr><td>Zoom</td><td><b>Wheel / Right drag</b></td></tr>"
    "<tr><td>Select / add to selection</td><td><b>Click / Ctrl+Click</b></td></tr>"
)


def shortcuts_box(parent: QtWidgets.QWidget) -> QtWidgets.QMessageBox:
    """Every shortcut of the action table, and the mouse in the 3D view (shown, not blocking)."""
    keyed = [s for s in ACTIONS if s.shortcut is not None]
    rows = "".join(f"<tr><td>{s.title.replace('&', '')}</td><td><b>{shortcut_text(s)}</b></td></tr>" for s in keyed)
    box = QtWidgets.QMessageBox(parent)
    box.setWindowTitle("Keyboard shortcuts")
    box.setText(f"<table cellspacing=6>{rows}{_MOUSE}</table>")
    box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def about_box(parent: QtWidgets.QWidget, plugins: PluginManager, icon: QtGui.QIcon) -> QtWidgets.QMessageBox:
    """Versions, active plugins, where logs and crash reports go, the licence."""
    from app.paths import user_log_dir
    from app.ui.crash import versions

    v = versions()
    libs = " · ".join(f"{k} {v[k]}" for k in ("Python", "Qt", "PySide6", "VTK", "pyvista", "numpy", "asyncua", "pybullet"))
    active = sum(p.enabled for p in plugins.plugins.values())
    box = QtWidgets.QMessageBox(parent)
    box.setObjectName("about_box")
    box.setWindowTitle("About floortwin")
    box.setIconPixmap(icon.pixmap(64, 64))
    box.setText(f"<b>floortwin {app.__version__}</b><br>A desktop digital twin of a factory floor.")
    box.setInformativeText(
        f"{libs}<br>{v['system']}<br><br>{active} plugin(s) active (Help ▸ Plugins)<br>"
        f"Logs and crash reports: {user_log_dir()}<br><br>"
        "MIT licence · the bundled meshes are original work under the same licence"
    )
    box.setStandardButtons(QtWidgets.QMessageBox.StandardButton.Ok)
    box.show()
    return box


def plugins_dialog(parent: QtWidgets.QWidget, plugins: PluginManager, settings: Settings) -> QtWidgets.QDialog:
    """Help ▸ Plugins: what was found, its state and errors; the user's choices are kept in the settings."""
    from app.ui.plugins_dialog import PluginsDialog

    dialog = PluginsDialog(plugins, settings.disabled_plugins, parent, settings.trusted_plugins)

    def keep(*_args: object) -> None:
        settings.disabled_plugins = sorted(dialog.disabled)
        settings.trusted_plugins = sorted(dialog.trusted)

    dialog.finished.connect(keep)
    dialog.show()
    return dialog
