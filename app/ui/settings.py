"""User settings (recent files, theme, window layout) in an INI file in the user's config folder.

A settings file that cannot be read is moved aside to ``*.bak`` and replaced by defaults, with a warning:
a broken file never stops the application from starting.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6 import QtCore

from app.history.recorder import DEFAULT_MAX_BYTES, DEFAULT_RETENTION_S

log = logging.getLogger(__name__)

MAX_RECENT = 10


def _number(value: object, default: float) -> float:
    """A non-negative number from the INI file; a typing error there falls back to the default."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return number if number >= 0 and number == number and number != float("inf") else default


class Settings:
    """Typed access to the few settings floortwin keeps."""

    def __init__(self, qsettings: QtCore.QSettings | None = None):
        self.q = qsettings or QtCore.QSettings(
            QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Scope.UserScope, "floortwin", "floortwin"
        )
        if self.q.status() != QtCore.QSettings.Status.NoError:
            self._reset_broken()

    def _reset_broken(self) -> None:
        path = Path(self.q.fileName())
        backup = path.with_suffix(path.suffix + ".bak")
        try:
            os.replace(path, backup)
            log.warning("settings file %s was unreadable; moved it to %s and started from defaults", path, backup)
        except OSError as e:
            log.warning("settings file %s is unreadable and could not be moved aside: %s", path, str(e))
        self.q = QtCore.QSettings(str(path), QtCore.QSettings.Format.IniFormat)

    @property
    def path(self) -> str:
        return self.q.fileName()

    def recent_files(self) -> list[str]:
        value = self.q.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or []) if v]

    def add_recent_file(self, path: str | os.PathLike[str]) -> list[str]:
        p = str(Path(path).resolve())
        files = [p] + [f for f in self.recent_files() if f != p]
        files = files[:MAX_RECENT]
        self.q.setValue("recent_files", files)
        return files

    def remove_recent_file(self, path: str) -> None:
        self.q.setValue("recent_files", [f for f in self.recent_files() if f != path])

    @property
    def theme(self) -> str:
        value = str(self.q.value("theme", "light"))
        return value if value in ("light", "dark") else "light"

    @theme.setter
    def theme(self, value: str) -> None:
        self.q.setValue("theme", value)

    @property
    def disabled_plugins(self) -> list[str]:
        value = self.q.value("plugins/disabled", [])
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in value] if isinstance(value, list) else []

    @disabled_plugins.setter
    def disabled_plugins(self, names: list[str]) -> None:
        self.q.setValue("plugins/disabled", sorted(set(names)))

    @property
    def trusted_plugins(self) -> list[str]:
        """Plugins the user allowed to run, by trust key ("name @ where")."""
        value = self.q.value("plugins/trusted", [])
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in value] if isinstance(value, list) else []

    @trusted_plugins.setter
    def trusted_plugins(self, keys: list[str]) -> None:
        self.q.setValue("plugins/trusted", sorted(set(keys)))

    def _flag(self, key: str, default: bool) -> bool:
        """A yes/no setting, stored as "true"/"false" in the INI file."""
        return str(self.q.value(key, "true" if default else "false")).lower() == "true"

    def _set_flag(self, key: str, value: bool) -> None:
        self.q.setValue(key, "true" if value else "false")

    @property
    def show_welcome(self) -> bool:
        """Whether the welcome page opens when floortwin starts without a factory."""
        return self._flag("welcome/show", True)

    @show_welcome.setter
    def show_welcome(self, value: bool) -> None:
        self._set_flag("welcome/show", value)

    @property
    def connect_on_open(self) -> bool:
        """Whether opening a factory file whose ``opcua.endpoint`` names a server connects to it."""
        return self._flag("live/connect_on_open", True)

    @connect_on_open.setter
    def connect_on_open(self, value: bool) -> None:
        self._set_flag("live/connect_on_open", value)

    @property
    def history_retention_days(self) -> float:
        """Days of live history kept (0: keep everything); older samples are deleted while recording."""
        return _number(self.q.value("history/retention_days", DEFAULT_RETENTION_S / 86_400), DEFAULT_RETENTION_S / 86_400)

    @history_retention_days.setter
    def history_retention_days(self, value: float) -> None:
        self.q.setValue("history/retention_days", float(value))

    @property
    def history_max_mb(self) -> float:
        """Largest size of a factory's history in MB (0: no cap); beyond it the oldest samples go first."""
        return _number(self.q.value("history/max_mb", DEFAULT_MAX_BYTES / 2**20), DEFAULT_MAX_BYTES / 2**20)

    @history_max_mb.setter
    def history_max_mb(self, value: float) -> None:
        self.q.setValue("history/max_mb", float(value))

    def window_state(self) -> tuple[QtCore.QByteArray | None, QtCore.QByteArray | None]:
        geom = self.q.value("window/geometry")
        state = self.q.value("window/state")
        return (geom if isinstance(geom, QtCore.QByteArray) else None, state if isinstance(state, QtCore.QByteArray) else None)

    def save_window_state(self, geometry: QtCore.QByteArray, state: QtCore.QByteArray) -> None:
        self.q.setValue("window/geometry", geometry)
        self.q.setValue("window/state", state)

    def sync(self) -> None:
        self.q.sync()
