"""User settings (recent files, theme, window layout) in an INI file in the user's config folder.

What each setting means is ``app.preferences``; this keeps them in ``QSettings`` and adds the window layout.
A settings file that cannot be read is moved aside to ``*.bak`` and replaced by defaults, with a warning:
a broken file never stops the application from starting.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6 import QtCore

from app.preferences import Preferences

log = logging.getLogger(__name__)


class Settings(Preferences):
    """The preferences in the user's INI file, and the window's geometry and dock layout."""

    store: QtCore.QSettings

    def __init__(self, qsettings: QtCore.QSettings | None = None):
        super().__init__(
            qsettings
            or QtCore.QSettings(QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Scope.UserScope, "floortwin", "floortwin")
        )
        if self.store.status() != QtCore.QSettings.Status.NoError:
            self._reset_broken()

    @property
    def q(self) -> QtCore.QSettings:
        """The ``QSettings`` behind these settings."""
        return self.store

    def _reset_broken(self) -> None:
        path = Path(self.store.fileName())
        backup = path.with_suffix(path.suffix + ".bak")
        try:
            os.replace(path, backup)
            log.warning("settings file %s was unreadable; moved it to %s and started from defaults", path, backup)
        except OSError as e:
            log.warning("settings file %s is unreadable and could not be moved aside: %s", path, str(e))
        self.store = QtCore.QSettings(str(path), QtCore.QSettings.Format.IniFormat)

    @property
    def path(self) -> str:
        return self.store.fileName()

    def window_state(self) -> tuple[QtCore.QByteArray | None, QtCore.QByteArray | None]:
        geom = self.store.value("window/geometry")
        state = self.store.value("window/state")
        return (geom if isinstance(geom, QtCore.QByteArray) else None, state if isinstance(state, QtCore.QByteArray) else None)

    def save_window_state(self, geometry: QtCore.QByteArray, state: QtCore.QByteArray) -> None:
        self.store.setValue("window/geometry", geometry)
        self.store.setValue("window/state", state)

    def sync(self) -> None:
        self.store.sync()
