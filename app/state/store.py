"""The one store of live state: the latest value of every bound signal, its quality and its age.

Values live in numpy arrays indexed by (machine, signal slot), so a whole plant is read or recoloured in
one array operation. Updates arrive in batches (``ingest``); the store remembers which machines changed and
emits them once per ``flush`` — the GUI calls ``flush`` on a timer (≤ 30 Hz), so nothing repaints per tag.
Nobody else caches live values: views pull from here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
from psygnal import Signal

#: Status codes are OPC UA's 32-bit codes; the top two bits say good (00), uncertain (01) or bad (10).
GOOD = 0
NO_DATA = 0x80310000  # BadNoData: nothing received yet
STATE_CODES = {"running": 0, "setup": 1, "starved": 2, "idle": 2, "blocked": 3, "down": 4}


def is_good(status: np.ndarray | int) -> np.ndarray | bool:
    """True where an OPC UA status code is Good (severity bits 00)."""
    return (np.asarray(status, dtype=np.uint32) >> 30) == 0


class Update(NamedTuple):
    """One received value: the binding it belongs to, the value, OPC UA status and timestamps (UNIX s).
    (A named tuple: thousands are made every second.)"""

    binding: int
    value: object
    status: int = GOOD
    source_ts: float = math.nan
    received_ts: float = math.nan


class StateStore:
    """Latest values of ``signals`` for each of ``machines``.

    Signals
    -------
    changed(np.ndarray)
        Indices of machines whose values changed since the last ``flush``.
    rejected(int)
        How many values were ignored in the last flush because they were NaN/inf (counted, not stored).

    Examples
    --------
    >>> s = StateStore(["M1", "M2"], ["Temperature", "State"])
    >>> b = s.bind("M2", "Temperature", "ns=2;s=T2")
    >>> s.ingest([Update(b, 41.5, received_ts=100.0)])
    >>> float(s.value("M2", "Temperature"))
    41.5
    """

    changed = Signal(object)
    rejected = Signal(int)

    def __init__(self, machines: Sequence[str], signals: Sequence[str]):
        self.machines = list(machines)
        self.signals = list(signals)
        self.machine_index = {m: i for i, m in enumerate(self.machines)}
        self.signal_index = {s: i for i, s in enumerate(self.signals)}
        shape = (len(self.machines), len(self.signals))
        self.values = np.full(shape, np.nan)
        self.texts = np.full(shape, None, dtype=object)  # string values (e.g. State)
        self.status = np.full(shape, NO_DATA, dtype=np.uint32)
        self.source_ts = np.full(shape, np.nan)
        self.received_ts = np.full(shape, np.nan)
        self.bindings: list[tuple[int, int, str]] = []  # (machine, signal, node id)
        self._dirty = np.zeros(len(self.machines), dtype=bool)
        self._rejected = 0
        self.received = 0
        # A subscription only reports changes: while the link is up, an unchanged value is still current.
        # The link vouches for values received since ``confirmed_since`` up to ``confirmed_ts``.
        self.confirmed_ts = math.nan
        self.confirmed_since = math.inf

    # -- bindings ---------------------------------------------------------------------------------
    def bind(self, machine: str, signal: str, node_id: str) -> int:
        """Register a binding; returns its number (used in ``Update.binding``)."""
        if signal not in self.signal_index:
            self.signal_index[signal] = len(self.signals)
            self.signals.append(signal)
            grow = np.full((len(self.machines), 1), np.nan)
            self.values = np.hstack([self.values, grow])
            self.texts = np.hstack([self.texts, np.full((len(self.machines), 1), None, dtype=object)])
            self.status = np.hstack([self.status, np.full((len(self.machines), 1), NO_DATA, dtype=np.uint32)])
            self.source_ts = np.hstack([self.source_ts, grow.copy()])
            self.received_ts = np.hstack([self.received_ts, grow.copy()])
        self.bindings.append((self.machine_index[machine], self.signal_index[signal], node_id))
        return len(self.bindings) - 1

    def binding_of(self, k: int) -> tuple[str, str, str]:
        i, j, node = self.bindings[k]
        return self.machines[i], self.signals[j], node

    # -- writing ---------------------------------------------------------------------------------
    def ingest(self, updates: Iterable[Update]) -> None:
        """Store a batch of received values (no signal is emitted until ``flush``)."""
        b = self.bindings
        for u in updates:
            i, j, _ = b[u.binding]
            self.received += 1
            self._put(i, j, u.value, u.status, u.source_ts, u.received_ts if math.isfinite(u.received_ts) else time.time())

    def _put(self, i: int, j: int, v: object, status: int, source_ts: float, received_ts: float) -> None:
        if isinstance(v, bool):
            v = float(v)
        if isinstance(v, (int, float)):
            if not math.isfinite(v):
                self._rejected += 1
                self.status[i, j] = 0x80000000 | (self.status[i, j] & 0xFFFF)  # bad: an unusable reading
                self.received_ts[i, j] = received_ts
                self._dirty[i] = True
                return
            self.values[i, j] = v
            self.texts[i, j] = None
        elif isinstance(v, str):
            self.texts[i, j] = v
            self.values[i, j] = STATE_CODES.get(v.lower(), np.nan)
        else:
            self.texts[i, j] = None if v is None else str(v)
            self.values[i, j] = np.nan
        self.status[i, j] = status
        self.source_ts[i, j] = source_ts
        self.received_ts[i, j] = received_ts
        self._dirty[i] = True

    def restore(self, snapshot: Mapping[tuple[str, str], tuple[float | None, str | None, int, float, float]]) -> None:
        """Set values from a recorded snapshot ((machine, signal) → (value, text, status, source time,
        received time)), as ``History.state_at`` returns it. Machines and signals this store does not know
        are skipped."""
        for (machine, signal), (value, text, status, t, received) in snapshot.items():
            i, j = self.machine_index.get(machine), self.signal_index.get(signal)
            if i is None or j is None:
                continue
            self._put(i, j, text if value is None else value, int(status), t, received)
        self._rejected = 0

    def empty_copy(self) -> StateStore:
        """A store with the same machines and signals and no values."""
        return StateStore(self.machines, self.signals)

    def mark_bad(self, binding: int, status: int) -> None:
        """A binding failed (unknown node, lost link): keep its last value but mark its quality."""
        i, j, _ = self.bindings[binding]
        self.status[i, j] = status
        self._dirty[i] = True

    def flush(self) -> np.ndarray:
        """Emit ``changed`` once for every machine that changed since the last flush; returns them."""
        idx = np.nonzero(self._dirty)[0]
        if len(idx):
            self._dirty[:] = False
            self.changed.emit(idx)
        if self._rejected:
            self.rejected.emit(self._rejected)
            self._rejected = 0
        return idx

    # -- reading ---------------------------------------------------------------------------------
    def value(self, machine: str, signal: str) -> float:
        return self.values[self.machine_index[machine], self.signal_index[signal]]

    def text(self, machine: str, signal: str) -> str | None:
        return self.texts[self.machine_index[machine], self.signal_index[signal]]

    def column(self, signal: str) -> np.ndarray:
        """Values of one signal for every machine (NaN where none)."""
        j = self.signal_index.get(signal)
        return self.values[:, j] if j is not None else np.full(len(self.machines), np.nan)

    def confirm(self, now: float, since: float) -> None:
        """The link was alive at ``now``: values received since ``since`` (this session) are still current."""
        self.confirmed_ts, self.confirmed_since = now, since

    def ages(self, signal: str, now: float) -> np.ndarray:
        """Per machine, seconds since ``signal``'s value was last received or vouched for by a live link
        (infinite where nothing was received)."""
        j = self.signal_index.get(signal)
        if j is None:
            return np.full(len(self.machines), np.inf)
        received = self.received_ts[:, j]
        with np.errstate(invalid="ignore"):
            vouched = np.where(received >= self.confirmed_since, np.fmax(received, self.confirmed_ts), received)
        age = now - vouched
        return np.where(np.isfinite(age), age, np.inf)

    def fresh(self, signal: str, now: float, max_age_s: float) -> np.ndarray:
        """Per machine: a good value of ``signal`` no older than ``max_age_s`` (see ``ages``)."""
        j = self.signal_index.get(signal)
        if j is None:
            return np.zeros(len(self.machines), dtype=bool)
        return is_good(self.status[:, j]) & (self.ages(signal, now) <= max_age_s)
