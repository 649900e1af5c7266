"""Downtime reasons entered by an operator for a down machine, kept in the history file as events.

An entry says: machine M was down at plant time ``t`` (the recorded time the operator saw) because of
``reason``; the OEE computation gives that reason to the whole down period around ``t`` (from the moment the
machine went down to the moment it came back). A later entry for the same period wins.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "history.sqlite"
>>> log = ReasonLog(path)
>>> log.append(ReasonEntry("CNC-01", 100.0, "tool change", 101.0))
>>> log.close()
>>> [e.reason for e in read_reasons(path)]
['tool change']
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from app.history.event_log import EventLog, read_events

TABLE = "down_reasons"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    machine TEXT NOT NULL, t REAL NOT NULL, reason TEXT NOT NULL, entered REAL NOT NULL
);
"""


@dataclass(frozen=True)
class ReasonEntry:
    """An operator's reason for a machine's downtime: ``t`` a recorded time while it was down (UNIX seconds,
    as the history stamps samples), ``entered`` when it was entered."""

    machine: str
    t: float
    reason: str
    entered: float


class ReasonLog(EventLog[ReasonEntry]):
    """The operator's reasons, appended to the history file (table ``down_reasons``)."""

    def __init__(self, path: str | os.PathLike[str]):
        super().__init__(path, TABLE, SCHEMA)


def read_reasons(path: str | os.PathLike[str]) -> list[ReasonEntry]:
    """Every entry, in the order entered (none when the file has none, or does not exist)."""
    if not Path(path).exists():
        return []
    return read_events(path, TABLE, ReasonEntry, order="entered, rowid")
