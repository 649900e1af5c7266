"""The deployment log: every plan, confirmation, write, stage verdict and rollback, with who, when, the
node and its old and new value and the server's status (SQLite, WAL, one transaction per entry), in a
file beside the history file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from app.history.event_log import EventLog, read_events

SCHEMA = """
CREATE TABLE IF NOT EXISTS deploy_log (
    t REAL NOT NULL, deployment TEXT NOT NULL, stage INTEGER, kind TEXT NOT NULL, user TEXT,
    node TEXT, old REAL, new REAL, status TEXT, text TEXT NOT NULL
);
"""
#: What an entry records: ``plan``, ``confirmation``, ``write``, ``stage`` (its verdict), ``rollback``
#: (why), ``rollback write``, ``refused`` (a write the server or the checks refused), ``frozen`` (the link
#: dropped), ``end``.
KINDS = ("plan", "confirmation", "write", "stage", "rollback", "rollback write", "refused", "frozen", "end")


def log_path_beside(history_path: str | os.PathLike[str]) -> Path:
    """The deployment log of a history file: ``plant.sqlite`` → ``plant.deployments.sqlite``."""
    p = Path(history_path)
    return p.with_name(f"{p.stem}.deployments.sqlite")


@dataclass(frozen=True)
class DeployEntry:
    t: float
    deployment: str
    stage: int | None
    kind: str
    user: str | None
    node: str | None
    old: float | None
    new: float | None
    status: str | None
    text: str


class DeployLog(EventLog[DeployEntry]):
    """Appends entries to ``path`` (created if needed) and reads them back."""

    def __init__(self, path: str | os.PathLike[str]):
        super().__init__(path, "deploy_log", SCHEMA)


def read_log(path: str | os.PathLike[str]) -> list[DeployEntry]:
    """Every entry in ``path``, oldest first (empty when it has none)."""
    return read_events(path, "deploy_log", DeployEntry)
