"""The watchdog's log: every detection and recalibration, committed as it happens (SQLite, WAL).

It lives in the history file beside the recorded samples (its own table, ``watchdog_log``) or in a file
of its own. Each entry is one transaction, so a crash loses nothing that was reported; detections are
rare, so the commit is made at once on the thread that found them.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS watchdog_log (
    t REAL NOT NULL, kind TEXT NOT NULL, machine TEXT NOT NULL, param TEXT NOT NULL,
    ratio REAL, half_width REAL, since REAL, confidence REAL, n INTEGER, old REAL, new REAL, text TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class LogEntry:
    """One line of the log: a ``detection``, a ``recalibration`` or a ``dismissal`` of ``param`` of ``machine``."""

    t: float
    kind: str
    machine: str
    param: str
    ratio: float | None
    half_width: float | None
    since: float | None
    confidence: float | None
    n: int | None
    old: float | None
    new: float | None
    text: str


class WatchdogLog:
    """Appends entries to ``path`` (created if needed; a history file is fine) and reads them back."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._con = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")
        self._con.executescript(SCHEMA)

    def append(self, entry: LogEntry) -> None:
        """Commit one entry now."""
        with self._lock, self._con:
            self._con.execute(
                "INSERT INTO watchdog_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.t,
                    entry.kind,
                    entry.machine,
                    entry.param,
                    entry.ratio,
                    entry.half_width,
                    entry.since,
                    entry.confidence,
                    entry.n,
                    entry.old,
                    entry.new,
                    entry.text,
                ),
            )

    def close(self) -> None:
        with self._lock:
            self._con.close()


def read_log(path: str | os.PathLike[str]) -> list[LogEntry]:
    """Every entry in ``path``, oldest first (empty when the file has no watchdog log)."""
    con = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, timeout=30)
    with con:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'watchdog_log'").fetchone():
            return []
        rows = con.execute("SELECT * FROM watchdog_log ORDER BY t, rowid").fetchall()
    con.close()
    return [LogEntry(*row) for row in rows]
