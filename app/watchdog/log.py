"""The watchdog's log: every detection and recalibration, committed as it happens (SQLite, WAL).

It lives in the history file beside the recorded samples (its own table, ``watchdog_log``) or in a file
of its own. Each entry is one transaction, so a crash loses nothing that was reported; detections are
rare, so the commit is made at once on the thread that found them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from app.history.event_log import EventLog, read_events

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


class WatchdogLog(EventLog[LogEntry]):
    """Appends entries to ``path`` (created if needed; a history file is fine) and reads them back."""

    def __init__(self, path: str | os.PathLike[str]):
        super().__init__(path, "watchdog_log", SCHEMA)


def read_log(path: str | os.PathLike[str]) -> list[LogEntry]:
    """Every entry in ``path``, oldest first (empty when the file has no watchdog log)."""
    return read_events(path, "watchdog_log", LogEntry, order="t, rowid")
