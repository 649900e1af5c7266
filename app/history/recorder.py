"""The history recorder: every received value into SQLite (WAL), written in batches by its own thread.

The GUI thread only appends to a queue; a writer thread commits a batch every ``flush_s`` seconds (or
every ``batch`` rows), so a crash loses at most the last fraction of a second and the database is never
half-written (each batch is one transaction). Queries open their own connections; WAL lets them read
while the writer writes.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

log = logging.getLogger(__name__)

_closing: set[threading.Thread] = set()  # writers closed without waiting, still committing
_closing_lock = threading.Lock()


def wait_for_closing_recorders(timeout_s: float = 15.0) -> bool:
    """Wait (up to ``timeout_s`` in all) for writers closed with ``wait=False`` to commit and end."""
    deadline = time.monotonic() + timeout_s
    with _closing_lock:
        threads = list(_closing)
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    with _closing_lock:
        _closing.difference_update(t for t in threads if not t.is_alive())
        return not _closing


SCHEMA = """
CREATE TABLE IF NOT EXISTS signals (
    id INTEGER PRIMARY KEY, machine TEXT NOT NULL, signal TEXT NOT NULL, node_id TEXT NOT NULL,
    UNIQUE (machine, signal, node_id)
);
CREATE TABLE IF NOT EXISTS samples (
    signal_id INTEGER NOT NULL, t REAL NOT NULL, received REAL NOT NULL, value REAL, text TEXT, status INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_by_signal_time ON samples (signal_id, t);
CREATE INDEX IF NOT EXISTS samples_by_time ON samples (t);
CREATE TABLE IF NOT EXISTS link (t REAL NOT NULL, state TEXT NOT NULL);
"""
#: The application keeps history this long unless the user says otherwise.
DEFAULT_RETENTION_S = 90 * 86_400.0
#: The application's default cap on the recorded data (bytes); beyond it the oldest samples go first.
DEFAULT_MAX_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class LinkEvent:
    """The link to the server changed (``state`` is "connected", "reconnecting", "disconnected", ...)."""

    t: float
    state: str


class Sample(NamedTuple):
    """One recorded value (times in UNIX seconds; ``t`` is the source timestamp, else the receive time).
    (A named tuple: thousands are made every second.)"""

    machine: str
    signal: str
    node_id: str
    t: float
    received: float
    value: float | None
    text: str | None
    status: int


def sample_of(machine: str, signal: str, node_id: str, value: object, status: int, t: float, received: float) -> Sample:
    """The history row of a received value: numbers as numbers, a Boolean also as ``true``/``false`` (a
    state mapping reads it as a truth value on replay, not as 1.0), an OPC UA LocalizedText as its text.

    >>> sample_of("M1", "State", "n", True, 0, 5.0, 5.1)[5:7]
    (1.0, 'true')
    """
    if isinstance(value, bool):
        number, text = float(value), "true" if value else "false"
    elif isinstance(value, (int, float)):
        number, text = float(value), None
    elif value is None:
        number, text = None, None
    else:
        shown = getattr(value, "Text", value)  # a LocalizedText: its text, never its Python representation
        number, text = None, shown if isinstance(shown, str) else ("" if shown is None else str(shown))
    return Sample(machine, signal, node_id, t, received, number, text, status)


def connect(path: str | os.PathLike[str], readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        con = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, timeout=30, check_same_thread=False)
    else:
        con = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.executescript(SCHEMA)
    return con


class Recorder:
    """Records samples to ``path`` from a background thread.

    Parameters
    ----------
    path
        The SQLite file (created if needed).
    flush_s
        Longest time a sample waits in memory before it is committed.
    retention_s
        Samples older than this are deleted (None keeps them however old they are).
    max_bytes
        Largest size of the recorded data; beyond it the oldest samples are deleted (None: no cap).
    prune_every_s
        How often the writer applies retention and the size cap: at its first commit, then at most this often.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        flush_s: float = 0.5,
        batch: int = 20_000,
        retention_s: float | None = None,
        max_bytes: int | None = None,
        prune_every_s: float = 60.0,
    ):
        self.path = Path(path)
        self.flush_s, self.batch, self.retention_s = flush_s, batch, retention_s
        self.max_bytes, self.prune_every_s = max_bytes, prune_every_s
        self.prunes = 0  # pruning passes run so far
        connect(self.path).close()  # create the schema now, so readers can open it at once
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._ids: dict[tuple[str, str, str], int] = {}
        self._stop = threading.Event()
        self._flushed = threading.Event()
        self.written = 0
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="history-writer", daemon=True)
        self._thread.start()

    def record(self, samples: Iterable[Sample]) -> None:
        """Queue samples for writing (cheap: one queue operation per batch, callable from the GUI thread)."""
        batch = list(samples)
        if batch:
            self._queue.put(batch)

    def record_link(self, state: str, t: float | None = None) -> None:
        """Record that the link went up or down: replay needs it to tell an unchanged value from a lost one."""
        self._queue.put(LinkEvent(time.time() if t is None else t, state))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is committed."""
        self._flushed.clear()
        self._queue.put(None)
        return self._flushed.wait(timeout)

    def close(self, wait: bool = True) -> None:
        """Commit what is queued and stop the writer.

        ``wait=False`` returns at once (the GUI thread must not wait for a long commit or a locked file):
        the writer finishes in the background, and ``wait_for_closing_recorders`` waits for every writer
        still finishing (the application calls it when it quits, so nothing queued is lost).
        """
        self._stop.set()
        self._queue.put(None)
        if wait:
            self._thread.join(15)
        else:
            with _closing_lock:
                _closing.add(self._thread)

    @property
    def closed(self) -> bool:
        """True once the writer has committed everything and ended."""
        return self._stop.is_set() and not self._thread.is_alive()

    # -- writer thread ------------------------------------------------------------------------------
    def _run(self) -> None:
        con = connect(self.path)
        for row in con.execute("SELECT id, machine, signal, node_id FROM signals"):
            self._ids[(row[1], row[2], row[3])] = row[0]
        last_prune = -math.inf  # prune at the first commit, then every ``prune_every_s``
        pending: list[Sample | LinkEvent] = []
        deadline = time.monotonic() + self.flush_s
        try:
            while True:
                timeout = max(0.0, deadline - time.monotonic())
                flush_now = False
                try:
                    item = self._queue.get(timeout=timeout)
                    if item is None:
                        flush_now = True
                    elif isinstance(item, list):
                        pending.extend(item)
                        flush_now = len(pending) >= self.batch
                    else:
                        pending.append(item)
                        flush_now = len(pending) >= self.batch
                except queue.Empty:
                    flush_now = True
                if flush_now:
                    if pending:
                        self._write(con, pending)
                        pending = []
                    if (self.retention_s or self.max_bytes) and time.monotonic() - last_prune >= self.prune_every_s:
                        self._prune(con)
                        last_prune = time.monotonic()
                    deadline = time.monotonic() + self.flush_s
                    if self._queue.empty():
                        self._flushed.set()
                    if self._stop.is_set() and self._queue.empty():
                        break
        except Exception as e:
            self.error = str(e) or type(e).__name__
            if not isinstance(e, sqlite3.Error):
                raise  # a defect, not the disk: the crash handler reports it (dialog, report) from this thread
            log.error("history recording stopped: %s (%s)", e, self.path)  # a full disk or a broken file
        finally:
            con.close()
            self._flushed.set()

    def _prune(self, con: sqlite3.Connection) -> None:
        """Delete samples older than the retention period, then the oldest ones while the data is over
        the size cap (SQLite reuses the freed pages, so the file stops growing). Link events are kept:
        they are few, and replay needs the start of a long session."""
        self.prunes += 1
        with con:
            if self.retention_s:
                con.execute("DELETE FROM samples WHERE t < ?", (time.time() - self.retention_s,))
            if not self.max_bytes:
                return
            used = _used_bytes(con)
            if used <= self.max_bytes:
                return
            rows = con.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
            if not rows:
                return
            # Rows cost about the same: drop the oldest share that brings the data 10 % under the cap.
            excess = math.ceil(rows * (1 - 0.9 * self.max_bytes / used))
            con.execute("DELETE FROM samples WHERE rowid IN (SELECT rowid FROM samples ORDER BY t LIMIT ?)", (excess,))
            cap_mb = self.max_bytes / 2**20
            log.info("history over its %.0f MB cap: deleted the oldest %d samples (%s)", cap_mb, excess, self.path.name)

    def _write(self, con: sqlite3.Connection, samples: list[Sample | LinkEvent]) -> None:
        rows = []
        with con:
            for s in samples:
                if isinstance(s, LinkEvent):
                    con.execute("INSERT INTO link VALUES (?, ?)", (s.t, s.state))
                    continue
                key = (s.machine, s.signal, s.node_id)
                sid = self._ids.get(key)
                if sid is None:
                    new_id = con.execute("INSERT INTO signals (machine, signal, node_id) VALUES (?, ?, ?)", key).lastrowid
                    assert new_id is not None  # sqlite3 always sets it after a one-row INSERT
                    sid = self._ids[key] = new_id
                value = s.value if s.value is None or math.isfinite(s.value) else None
                rows.append((sid, s.t, s.received, value, s.text, s.status))
            con.executemany("INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?)", rows)
        self.written += len(rows)


def _used_bytes(con: sqlite3.Connection) -> int:
    """Bytes the database's pages in use take (free pages, which later writes reuse, not counted)."""
    pages = con.execute("PRAGMA page_count").fetchone()[0] - con.execute("PRAGMA freelist_count").fetchone()[0]
    return pages * con.execute("PRAGMA page_size").fetchone()[0]


class History:
    """Queries on a recorded history file (read-only connection, safe beside a running recorder)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    def _con(self) -> sqlite3.Connection:
        return connect(self.path, readonly=True)

    def signals(self) -> list[tuple[str, str, str]]:
        with self._con() as con:
            return [tuple(r) for r in con.execute("SELECT machine, signal, node_id FROM signals ORDER BY machine, signal")]

    def span(self) -> tuple[float, float] | None:
        """First and last recorded time, or None when empty."""
        with self._con() as con:
            lo, hi = con.execute("SELECT MIN(t), MAX(t) FROM samples").fetchone()
        return None if lo is None else (lo, hi)

    def series(
        self, machine: str, signal: str, t0: float = -math.inf, t1: float = math.inf
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(times, values, status) of one signal of one machine in [t0, t1], in time order."""
        with self._con() as con:
            rows = con.execute(
                "SELECT s.t, s.value, s.status FROM samples s JOIN signals g ON g.id = s.signal_id "
                "WHERE g.machine = ? AND g.signal = ? AND s.t BETWEEN ? AND ? ORDER BY s.t",
                (machine, signal, max(t0, -1e18), min(t1, 1e18)),
            ).fetchall()
        if not rows:
            return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.uint32)
        arr = np.array(rows, dtype=float)
        values = np.where(np.isnan(arr[:, 1]), np.nan, arr[:, 1])
        return arr[:, 0], values, arr[:, 2].astype(np.uint32)

    def text_series(self, machine: str, signal: str, t0: float = -math.inf, t1: float = math.inf) -> tuple[np.ndarray, list]:
        """(times, texts) of a text signal (a machine's State) in [t0, t1]; a bad reading's text is None."""
        with self._con() as con:
            rows = con.execute(
                "SELECT s.t, s.text, s.status FROM samples s JOIN signals g ON g.id = s.signal_id "
                "WHERE g.machine = ? AND g.signal = ? AND s.t BETWEEN ? AND ? ORDER BY s.t",
                (machine, signal, max(t0, -1e18), min(t1, 1e18)),
            ).fetchall()
        return np.array([r[0] for r in rows], dtype=float), [r[1] if (r[2] >> 30) == 0 else None for r in rows]

    def state_at(self, t: float) -> dict[tuple[str, str], tuple[float | None, str | None, int, float, float]]:
        """The last value of every signal at or before ``t``:
        (machine, signal) → (value, text, status, source time, received time)."""
        with self._con() as con:
            rows = con.execute(
                "SELECT g.machine, g.signal, s.value, s.text, s.status, s.t, s.received FROM signals g JOIN samples s "
                "ON s.rowid = (SELECT rowid FROM samples WHERE signal_id = g.id AND t <= ? ORDER BY t DESC LIMIT 1)",
                (t,),
            ).fetchall()
        return {(m, sig): (v, txt, st, tt, rt) for m, sig, v, txt, st, tt, rt in rows}

    def link_at(self, t: float) -> tuple[float, float] | None:
        """The connected period around ``t``: (connected since, alive until ≤ t), or None if the link had
        never connected by then. Values received in that period were current until "alive until"."""
        try:
            con = self._con()
        except sqlite3.Error:
            return None
        with con:
            if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'link'").fetchone():
                return None  # a history recorded before link events were kept
            row = con.execute("SELECT MAX(t) FROM link WHERE state = 'connected' AND t <= ?", (t,)).fetchone()
            if row[0] is None:
                return None
            since = row[0]
            end = con.execute("SELECT MIN(t) FROM link WHERE state != 'connected' AND t > ? AND t <= ?", (since, t)).fetchone()[0]
        return since, t if end is None else end

    def count(self) -> int:
        with self._con() as con:
            return con.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
