"""An append-only log of events in SQLite (WAL, one transaction per entry, so a crash loses nothing that
was reported): one table whose columns are the fields of a frozen dataclass, in order. The watchdog's
detections and the deployments' writes are such logs."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, Generic, TypeVar

E = TypeVar("E")


class EventLog(Generic[E]):
    """Appends entries (instances of a dataclass) to ``table`` of ``path``; ``schema`` creates the table if
    needed. Safe to append from several threads."""

    def __init__(self, path: str | os.PathLike[str], table: str, schema: str):
        self.path, self.table = Path(path), table
        self._lock = threading.Lock()
        self._con = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")
        self._con.executescript(schema)

    def append(self, entry: E) -> None:
        """Commit one entry now."""
        row = dataclasses.astuple(entry)  # type: ignore[call-overload]  # E is a dataclass
        marks = ", ".join("?" * len(row))
        with self._lock, self._con:
            self._con.execute(f"INSERT INTO {self.table} VALUES ({marks})", row)

    def close(self) -> None:
        with self._lock:
            self._con.close()


def read_events(path: str | os.PathLike[str], table: str, make: Any, order: str = "rowid") -> list[Any]:
    """Every row of ``table`` in ``path`` as ``make(*row)``, ordered by ``order`` (empty when the file has no
    such table)."""
    con = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, timeout=30)
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone():
            return []
        return [make(*row) for row in con.execute(f"SELECT * FROM {table} ORDER BY {order}")]
    finally:
        con.close()
