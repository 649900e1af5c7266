"""Replay: the factory's state as recorded at a past time, read from the history off the caller's thread.

``recorded_state`` answers one time (blocking: it queries SQLite). ``Replayer`` answers a stream of
requests — a slider being dragged — on its own thread, always the latest one: a request made while a
query runs replaces the one waiting, so work never queues up, and ``cancel`` (back to live) makes any
answer still on its way stale. It announces answers with psygnal signals, emitted on its query thread;
a GUI receives them through psygnal's queued connections (``app.ui.gui_thread``) and checks ``Recorded.epoch == replayer.epoch``.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from psygnal import Signal

from app.state.store import StateStore

log = logging.getLogger(__name__)

_epochs = itertools.count(1)  # unique across replayers: an answer of an earlier session is never taken as current
# History queries run here (one at a time, whoever asks: a replay only ever wants its latest time).
_QUERIES = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="history-query")


class RecordedHistory(Protocol):
    """What a replay reads from a history (``app.history.recorder.History`` is one)."""

    path: Path

    def state_at(self, t: float) -> Mapping[tuple[str, str], tuple[float | None, str | None, int, float, float]]: ...

    def link_at(self, t: float) -> tuple[float, float] | None: ...


@dataclass(frozen=True)
class Recorded:
    """The state recorded at ``time`` (UNIX s), and ``window_s`` before it (for output rates)."""

    time: float
    store: StateStore
    before: StateStore
    window_s: float
    epoch: int = 0  # the Replayer's epoch when it was asked (stale once it moved on)


def recorded_state(history: RecordedHistory, template: StateStore, t: float, window_s: float, epoch: int = 0) -> Recorded:
    """The state at ``t`` in stores shaped like ``template`` (same machines, signals, state mappings and
    units). Values the link vouched for at ``t`` count as current then, as they did live."""
    snapshot, link, earlier = history.state_at(t), history.link_at(t), history.state_at(t - window_s)
    store = template.empty_copy()
    store.restore(snapshot)
    if link is not None:
        store.confirm(link[1], link[0])
    before = template.empty_copy()
    before.restore(earlier)
    return Recorded(t, store, before, window_s, epoch)


class Replayer:
    """Answers "the state at time t" from ``history``, latest request first, on a query thread.

    Signals
    -------
    recorded(Recorded)
        The state at a requested time (emitted on the query thread).
    failed(str)
        The history could not be read (a missing or damaged file); the request is dropped.

    Examples
    --------
    >>> import tempfile, time
    >>> from app.history.recorder import History, Recorder
    >>> path = Path(tempfile.mkdtemp()) / "h.sqlite"
    >>> Recorder(path).close()  # an empty history
    >>> template = StateStore(["CNC-01"], ["State"])
    >>> replayer = Replayer(History(path), template, window_s=300.0)
    >>> got = []
    >>> _ = replayer.recorded.connect(got.append)
    >>> replayer.request(time.time())
    >>> replayer.wait(5)
    True
    >>> got[0].store.machines
    ['CNC-01']
    """

    recorded = Signal(object)
    failed = Signal(str)

    def __init__(self, history: RecordedHistory, template: StateStore, window_s: float):
        self.history, self.template, self.window_s = history, template, window_s
        self.epoch = next(_epochs)
        self._wanted: float | None = None
        self._running: concurrent.futures.Future | None = None
        self._lock = threading.Lock()

    def request(self, t: float) -> None:
        """Ask for the state at ``t``; replaces a request not yet started."""
        with self._lock:
            self._wanted = t
            if self._running is None:
                self._running = _QUERIES.submit(self._run)

    def cancel(self) -> None:
        """Forget what was asked: answers still on their way become stale (``epoch`` moves on)."""
        with self._lock:
            self._wanted = None
            self.epoch = next(_epochs)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until no query runs (True) or ``timeout`` passed (False)."""
        with self._lock:
            running = self._running
        if running is None:
            return True
        try:
            running.result(timeout)
        except concurrent.futures.TimeoutError:
            return False
        return True

    def _run(self) -> None:
        while True:
            with self._lock:
                t, epoch = self._wanted, self.epoch
                if t is None:
                    self._running = None
                    return
            try:
                answer = recorded_state(self.history, self.template, t, self.window_s, epoch)
            except (sqlite3.Error, OSError) as e:  # a missing or damaged history file: say so, stay where we are
                log.error("cannot replay %s: %s", self.history.path, e)
                with self._lock:
                    self._wanted, self._running = None, None
                self.failed.emit(f"cannot replay {self.history.path}: {e}")
                return
            with self._lock:
                if self._wanted == t:
                    self._wanted = None
                stale = epoch != self.epoch
            if not stale:
                self.recorded.emit(answer)
