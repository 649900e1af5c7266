"""The user's preferences (recent files, theme, plugin choices, flags, history limits), typed, over any
key–value store: the GUI keeps them in an INI file through ``QSettings`` (``app.ui.settings``), tests in a
dict. Qt-free: what a stored value means and what a broken one falls back to is decided here.

>>> p = Preferences(MemoryStore())
>>> p.theme, p.connect_on_open
('light', True)
>>> p.theme = "dark"; p.connect_on_open = False
>>> p.theme, p.connect_on_open
('dark', False)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

from app.history.recorder import DEFAULT_MAX_BYTES, DEFAULT_RETENTION_S

MAX_RECENT = 10


class KeyValueStore(Protocol):
    """Where preferences are kept: ``QSettings`` has this interface (values come back as stored, or as
    strings when read from an INI file)."""

    def value(self, key: str, defaultValue: Any = None) -> Any: ...  # QSettings' own names
    def setValue(self, key: str, value: Any) -> None: ...


class MemoryStore:
    """A store in a dict (tests, and runs that must not touch the user's files)."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.values: dict[str, Any] = dict(values or {})

    def value(self, key: str, defaultValue: Any = None) -> Any:
        return self.values.get(key, defaultValue)

    def setValue(self, key: str, value: Any) -> None:
        self.values[key] = value


def _number(value: object, default: float) -> float:
    """A non-negative number from the store; a typing error there falls back to the default."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return number if number >= 0 and number == number and number != float("inf") else default


def _names(value: object) -> list[str]:
    """A list of names as stored: an INI file gives one name as a plain string, none as ""."""
    if isinstance(value, str):
        value = [value] if value else []
    return [str(v) for v in value] if isinstance(value, list) else []


class Preferences:
    """Typed access to the few preferences floortwin keeps, in ``store``."""

    def __init__(self, store: KeyValueStore) -> None:
        self.store = store

    def recent_files(self) -> list[str]:
        """The files opened last, newest first."""
        return [v for v in _names(self.store.value("recent_files", [])) if v]

    def add_recent_file(self, path: str | os.PathLike[str]) -> list[str]:
        """``path`` becomes the newest recent file (once; at most ``MAX_RECENT`` are kept).

        >>> p = Preferences(MemoryStore())
        >>> for f in ("/a", "/b", "/a"):
        ...     files = p.add_recent_file(f)
        >>> [Path(f).name for f in files]
        ['a', 'b']
        """
        p = str(Path(path).resolve())
        files = [p] + [f for f in self.recent_files() if f != p]
        files = files[:MAX_RECENT]
        self.store.setValue("recent_files", files)
        return files

    def remove_recent_file(self, path: str) -> None:
        self.store.setValue("recent_files", [f for f in self.recent_files() if f != path])

    @property
    def theme(self) -> str:
        value = str(self.store.value("theme", "light"))
        return value if value in ("light", "dark") else "light"

    @theme.setter
    def theme(self, value: str) -> None:
        self.store.setValue("theme", value)

    @property
    def disabled_plugins(self) -> list[str]:
        return _names(self.store.value("plugins/disabled", []))

    @disabled_plugins.setter
    def disabled_plugins(self, names: list[str]) -> None:
        self.store.setValue("plugins/disabled", sorted(set(names)))

    @property
    def trusted_plugins(self) -> list[str]:
        """Plugins the user allowed to run, by trust key ("name @ where")."""
        return _names(self.store.value("plugins/trusted", []))

    @trusted_plugins.setter
    def trusted_plugins(self, keys: list[str]) -> None:
        self.store.setValue("plugins/trusted", sorted(set(keys)))

    def _flag(self, key: str, default: bool) -> bool:
        """A yes/no preference, stored as "true"/"false"."""
        return str(self.store.value(key, "true" if default else "false")).lower() == "true"

    def _set_flag(self, key: str, value: bool) -> None:
        self.store.setValue(key, "true" if value else "false")

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
        return _number(self.store.value("history/retention_days", DEFAULT_RETENTION_S / 86_400), DEFAULT_RETENTION_S / 86_400)

    @history_retention_days.setter
    def history_retention_days(self, value: float) -> None:
        self.store.setValue("history/retention_days", float(value))

    @property
    def history_max_mb(self) -> float:
        """Largest size of a factory's history in MB (0: no cap); beyond it the oldest samples go first."""
        return _number(self.store.value("history/max_mb", DEFAULT_MAX_BYTES / 2**20), DEFAULT_MAX_BYTES / 2**20)

    @history_max_mb.setter
    def history_max_mb(self, value: float) -> None:
        self.store.setValue("history/max_mb", float(value))
