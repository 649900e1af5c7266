"""The deployment log: every plan, confirmation, write, stage verdict and rollback, with who, when, the
node and its old and new value and the server's status (SQLite, WAL, one transaction per entry), in a
file beside the history file.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

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


class DeployLog:
    """Appends entries to ``path`` (created if needed) and reads them back."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._con = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")
        self._con.executescript(SCHEMA)

    def append(self, e: DeployEntry) -> None:
        """Commit one entry now."""
        with self._lock, self._con:
            self._con.execute(
                "INSERT INTO deploy_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (e.t, e.deployment, e.stage, e.kind, e.user, e.node, e.old, e.new, e.status, e.text),
            )

    def close(self) -> None:
        with self._lock:
            self._con.close()


def read_log(path: str | os.PathLike[str]) -> list[DeployEntry]:
    """Every entry in ``path``, oldest first (empty when it has none)."""
    con = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, timeout=30)
    with con:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'deploy_log'").fetchone():
            return []
        rows = con.execute("SELECT * FROM deploy_log ORDER BY rowid").fetchall()
    con.close()
    return [DeployEntry(*row) for row in rows]
