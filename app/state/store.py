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
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from psygnal import Signal

from app.model.factory import StateMap
from app.state.machine_states import MAPPING_OF_DATA_TYPE, code_in, state_name, table_of

#: Status codes are OPC UA's 32-bit codes; the top two bits say good (00), uncertain (01) or bad (10).
GOOD = 0
NO_DATA = 0x80310000  # BadNoData: nothing received yet
#: The signal whose values are machine states (mapped to codes; see ``app.state.machine_states``).
STATE_SIGNAL = "State"


#: The per-cell arrays of a store: name, fill for "nothing received", dtype.
_CELLS: tuple[tuple[str, object, type], ...] = (
    ("values", np.nan, float),
    ("texts", None, object),
    ("status", NO_DATA, np.uint32),
    ("source_ts", np.nan, float),
    ("received_ts", np.nan, float),
    ("units", None, object),
    ("eu_low", np.nan, float),
    ("eu_high", np.nan, float),
    ("out_of_range", False, bool),
)


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


@dataclass(frozen=True)
class BindingInfo:
    """What the server says about a bound variable: its engineering unit's display name, its EURange
    (NaN where it has none) and its data type (a portable node id, ``nsu=…;i=…`` outside namespace 0)."""

    unit: str = ""
    low: float = math.nan
    high: float = math.nan
    data_type: str = ""


def _text(v: object) -> str:
    """A received value's text: a LocalizedText is its text, never its Python representation."""
    shown = getattr(v, "Text", v)
    return shown if isinstance(shown, str) else ("" if shown is None else str(shown))


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
    >>> k = s.bind("M1", "State", "ns=2;s=Health", states="di-device-health")
    >>> s.ingest([Update(k, 1, received_ts=100.0)])
    >>> s.state("M1")
    'down'
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
        self.units = np.full(shape, None, dtype=object)  # the server's engineering unit (None: not said)
        self.eu_low = np.full(shape, np.nan)  # the server's EURange (NaN: none)
        self.eu_high = np.full(shape, np.nan)
        self.out_of_range = np.zeros(shape, dtype=bool)  # the value lies outside its EURange
        self.bindings: list[tuple[int, int, str]] = []  # (machine, signal, node id)
        self.state_maps: dict[tuple[int, int], StateMap | None] = {}  # cells holding states: their mapping
        self._tables: dict[tuple[int, int], Mapping[str, str]] = {}
        self._raw: dict[tuple[int, int], object] = {}  # last value of a state cell, to map again
        self._unbound: set[int] = set()
        self._gone: dict[int, str] = {}  # bindings of machines no longer in the store: their machine
        self._dirty = np.zeros(len(self.machines), dtype=bool)
        self._rejected = 0
        self.received = 0
        # A subscription only reports changes: while the link is up, an unchanged value is still current.
        # The link vouches for values received since ``confirmed_since`` up to ``confirmed_ts``.
        self.confirmed_ts = math.nan
        self.confirmed_since = math.inf

    # -- bindings ---------------------------------------------------------------------------------
    def bind(self, machine: str, signal: str, node_id: str, states: StateMap | None = None) -> int:
        """Register a binding; returns its number (used in ``Update.binding``).

        ``states`` maps the values to machine states (a built-in mapping's name or a table); the ``State``
        signal uses ``auto`` without one.
        """
        if signal not in self.signal_index:
            self._add_signal(signal)
        i, j = self.machine_index[machine], self.signal_index[signal]
        if states is not None or signal == STATE_SIGNAL:
            self.state_maps[i, j] = states
            self._tables[i, j] = table_of(states)
        self.bindings.append((i, j, node_id))
        return len(self.bindings) - 1

    def _add_signal(self, signal: str) -> None:
        self.signal_index[signal] = len(self.signals)
        self.signals.append(signal)
        n = len(self.machines)
        for name, fill, dtype in _CELLS:
            setattr(self, name, np.hstack([getattr(self, name), np.full((n, 1), fill, dtype=dtype)]))

    def set_machines(self, machines: Sequence[str]) -> list[int]:
        """Follow a new set of machines (machines added or removed while live): the rows take the order of
        ``machines``; a machine kept keeps its values, a new one has no data yet, and the bindings of a
        machine gone are forgotten. Returns the numbers of the bindings forgotten. Binding numbers stay.

        >>> s = StateStore(["M1", "M2"], ["Temperature"])
        >>> a, b = s.bind("M1", "Temperature", "ns=2;s=T1"), s.bind("M2", "Temperature", "ns=2;s=T2")
        >>> s.ingest([Update(b, 41.5, received_ts=1.0)])
        >>> s.set_machines(["M2", "M3"])
        [0]
        >>> float(s.value("M2", "Temperature")), bool(np.isnan(s.value("M3", "Temperature"))), s.binding_of(a)[0]
        (41.5, True, 'M1')
        """
        rows = np.array([self.machine_index.get(m, -1) for m in machines], dtype=int)
        kept = rows >= 0
        new_row = {int(r): n for n, r in enumerate(rows) if r >= 0}
        for name, fill, dtype in _CELLS:
            old = getattr(self, name)
            cells: np.ndarray = np.full((len(machines), len(self.signals)), fill, dtype=dtype)
            cells[kept] = old[rows[kept]]
            setattr(self, name, cells)
        forgotten = []
        for k, (i, j, node) in enumerate(self.bindings):
            n = new_row.get(i, -1) if i >= 0 else -1
            if n < 0 and i >= 0:
                self._gone[k] = self.machines[i]  # still named in log lines and the history
                if k not in self._unbound:
                    forgotten.append(k)
                self._unbound.add(k)
            self.bindings[k] = (n, j, node)
        moved = {(i, j): (new_row[i], j) for i, j in {*self.state_maps, *self._tables, *self._raw} if i in new_row}
        self.state_maps = {moved[c]: v for c, v in self.state_maps.items() if c in moved}
        self._tables = {moved[c]: v for c, v in self._tables.items() if c in moved}
        self._raw = {moved[c]: v for c, v in self._raw.items() if c in moved}
        self.machines = list(machines)
        self.machine_index = {m: i for i, m in enumerate(self.machines)}
        self._dirty = np.ones(len(self.machines), dtype=bool)  # rows moved: every machine is drawn anew
        return forgotten

    def unbind(self, k: int) -> None:
        """Forget binding ``k``: its values no longer count and its cell shows no data."""
        self._unbound.add(k)
        i, j, _ = self.bindings[k]
        if i < 0:
            return  # its machine is gone
        if any(b[:2] == (i, j) for n, b in enumerate(self.bindings) if n not in self._unbound):
            return  # the cell is bound again (a rebinding): the new binding's values fill it
        self.values[i, j], self.texts[i, j], self.status[i, j] = np.nan, None, NO_DATA
        self.source_ts[i, j] = self.received_ts[i, j] = np.nan
        self.units[i, j], self.eu_low[i, j], self.eu_high[i, j], self.out_of_range[i, j] = None, np.nan, np.nan, False
        self._raw.pop((i, j), None)
        self._dirty[i] = True

    def bindings_of(self, machine: str, signal: str) -> list[int]:
        """The numbers of the bindings that feed this machine's signal now."""
        cell = (self.machine_index[machine], self.signal_index.get(signal))
        return [k for k, b in enumerate(self.bindings) if b[:2] == cell and k not in self._unbound]

    def binding_of(self, k: int) -> tuple[str, str, str]:
        """(machine, signal, node id) of binding ``k`` (also of one whose machine is gone)."""
        i, j, node = self.bindings[k]
        return self.machines[i] if i >= 0 else self._gone[k], self.signals[j], node

    def is_bound(self, k: int) -> bool:
        """Whether binding ``k`` still feeds its cell (not unbound, its machine not gone)."""
        return 0 <= k < len(self.bindings) and k not in self._unbound

    def set_info(self, k: int, info: BindingInfo) -> None:
        """What the server says about binding ``k``'s variable: unit, EURange, data type (an ``auto`` state
        mapping follows a data type it recognises, e.g. DI's DeviceHealthEnumeration)."""
        if k in self._unbound:
            return
        i, j, _ = self.bindings[k]
        self.units[i, j] = info.unit or None
        self.eu_low[i, j], self.eu_high[i, j] = info.low, info.high
        v = self.values[i, j]
        self.out_of_range[i, j] = bool(v < info.low or v > info.high)
        builtin = MAPPING_OF_DATA_TYPE.get(info.data_type)
        if builtin is not None and (i, j) in self._tables and self.state_maps[i, j] in (None, "auto"):
            self._tables[i, j] = table_of(builtin)  # type: ignore[arg-type]
            if (i, j) in self._raw:
                self.values[i, j] = code_in(self._raw[i, j], self._tables[i, j])
        self._dirty[i] = True

    # -- writing ---------------------------------------------------------------------------------
    def ingest(self, updates: Iterable[Update]) -> None:
        """Store a batch of received values (no signal is emitted until ``flush``)."""
        b, unbound = self.bindings, self._unbound
        for u in updates:
            if u.binding in unbound:
                continue
            i, j, _ = b[u.binding]
            self.received += 1
            self._put(i, j, u.value, u.status, u.source_ts, u.received_ts if math.isfinite(u.received_ts) else time.time())

    def _put(self, i: int, j: int, v: object, status: int, source_ts: float, received_ts: float) -> None:
        if isinstance(v, float) and not math.isfinite(v):
            self._rejected += 1
            self.status[i, j] = 0x80000000 | (self.status[i, j] & 0xFFFF)  # bad: an unusable reading
            self.received_ts[i, j] = received_ts
            self._dirty[i] = True
            return
        table = self._tables.get((i, j)) if self._tables else None
        if table is not None:  # a state: its code (UNKNOWN for what the mapping does not know, never clipped)
            self._raw[i, j] = v
            self.values[i, j] = code_in(v, table)
            self.texts[i, j] = None if v is None or isinstance(v, (bool, int, float)) else _text(v)
        elif isinstance(v, (bool, int, float)):
            self.values[i, j] = v
            self.texts[i, j] = None
            self.out_of_range[i, j] = bool(v < self.eu_low[i, j] or v > self.eu_high[i, j])
        else:
            self.texts[i, j] = None if v is None else _text(v)
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
            state = (i, j) in self._tables and text is not None  # a state recorded with its text (true, Executing)
            self._put(i, j, text if value is None or state else value, int(status), t, received)
        self._rejected = 0

    def empty_copy(self) -> StateStore:
        """A store with the same machines, signals, state mappings and units, and no values."""
        copy = StateStore(self.machines, self.signals)
        copy.state_maps, copy._tables = dict(self.state_maps), dict(self._tables)
        copy.units, copy.eu_low, copy.eu_high = self.units.copy(), self.eu_low.copy(), self.eu_high.copy()
        return copy

    def mark_bad(self, binding: int, status: int) -> None:
        """A binding failed (unknown node, lost link): keep its last value but mark its quality."""
        if binding in self._unbound:
            return  # unbound (or its machine gone) meanwhile: nothing of it is shown
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

    def state(self, machine: str) -> str | None:
        """The machine's state ("running" … "down", "unknown" for a value its mapping does not know), None
        without a value."""
        j = self.signal_index.get(STATE_SIGNAL)
        return None if j is None else state_name(self.values[self.machine_index[machine], j])

    def unit(self, machine: str, signal: str) -> str | None:
        """The engineering unit the server gives for this machine's signal (None if it gives none)."""
        j = self.signal_index.get(signal)
        return None if j is None else self.units[self.machine_index[machine], j]

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
