"""Alarms: raised and cleared from live signals, acknowledged by the operator. Plain Python, evented."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from psygnal import Signal

from app.state.store import StateStore


@dataclass
class Alarm:
    """One alarm occurrence (times in UNIX seconds)."""

    id: int
    machine: str
    text: str
    raised: float
    cleared: float | None = None
    acknowledged: bool = False

    @property
    def active(self) -> bool:
        return self.cleared is None


def recorded_alarms(store: StateStore) -> np.ndarray:
    """Per machine of a recorded (replayed) state: whether its alarm was active then. A replay shows it
    steadily: acknowledging is a live matter."""
    return store.column("Alarm") > 0.5


class AlarmLog:
    """Active and past alarms, newest first; keeps the last ``keep`` cleared ones.

    Signals
    -------
    changed()
        Something was raised, cleared or acknowledged.

    Examples
    --------
    >>> log = AlarmLog()
    >>> log.update("CNC-01", True, "Breakdown", 10.0)
    >>> [a.text for a in log.active()]
    ['Breakdown']
    >>> log.update("CNC-01", False, "", 25.0)
    >>> log.active(), log.all()[0].cleared
    ([], 25.0)
    """

    changed = Signal()

    def __init__(self, keep: int = 5000):
        self._alarms: list[Alarm] = []
        self._active: dict[str, Alarm] = {}
        self._next = 1
        self.keep = keep

    def update(self, machine: str, active: bool, text: str, t: float) -> None:
        """Feed a machine's current alarm state; only transitions change the log."""
        current = self._active.get(machine)
        if active and current is None:
            alarm = Alarm(self._next, machine, text or "Alarm", t)
            self._next += 1
            self._alarms.insert(0, alarm)
            self._active[machine] = alarm
            self._trim()
            self.changed.emit()
        elif active and current is not None and text and text != current.text:
            current.text = text
            self.changed.emit()
        elif not active and current is not None:
            current.cleared = t
            del self._active[machine]
            self.changed.emit()

    def end(self, machine: str, t: float, why: str) -> None:
        """End a machine's active alarm for a reason other than the plant clearing it (the machine was
        removed from the layout): cleared at ``t``, ``why`` added to its text.

        >>> log = AlarmLog()
        >>> log.update("CNC-03", True, "Breakdown", 10.0)
        >>> log.end("CNC-03", 12.0, "machine removed from the layout")
        >>> a = log.all()[0]
        >>> a.active, a.cleared, a.text
        (False, 12.0, 'Breakdown (machine removed from the layout)')
        """
        current = self._active.pop(machine, None)
        if current is not None:
            current.cleared = t
            current.text = f"{current.text} ({why})"
            self.changed.emit()

    def acknowledge(self, alarm_id: int) -> None:
        for a in self._alarms:
            if a.id == alarm_id and not a.acknowledged:
                a.acknowledged = True
                self.changed.emit()
                return

    def acknowledge_all(self) -> None:
        changed = False
        for a in self._alarms:
            if a.active and not a.acknowledged:
                a.acknowledged = True
                changed = True
        if changed:
            self.changed.emit()

    def active(self) -> list[Alarm]:
        return [a for a in self._alarms if a.active]

    def active_machines(self) -> set[str]:
        return set(self._active)

    def unacknowledged_machines(self) -> set[str]:
        return {m for m, a in self._active.items() if not a.acknowledged}

    def all(self) -> list[Alarm]:
        return list(self._alarms)

    def follow(self, store: StateStore, machines: Iterable[int], t: float) -> None:
        """Raise or clear the alarms of ``machines`` (row numbers of ``store``, those that changed) from their
        ``Alarm`` and ``AlarmText`` signals at time ``t``; machines without an Alarm value are left as they are.

        Examples
        --------
        >>> from app.state.store import Update
        >>> store = StateStore(["CNC-01", "CNC-02"], ["Alarm", "AlarmText"])
        >>> a, b = store.bind("CNC-01", "Alarm", "ns=2;s=A"), store.bind("CNC-01", "AlarmText", "ns=2;s=T")
        >>> store.ingest([Update(a, True, received_ts=1.0), Update(b, "Spindle overload", received_ts=1.0)])
        >>> alarms = AlarmLog()
        >>> alarms.follow(store, store.flush(), 1.0)
        >>> [(x.machine, x.text) for x in alarms.active()]
        [('CNC-01', 'Spindle overload')]
        """
        j = store.signal_index.get("Alarm")
        if j is None:
            return
        k = store.signal_index.get("AlarmText")
        for i in machines:
            v = store.values[i, j]
            if np.isfinite(v):
                text = store.texts[i, k] if k is not None else ""
                self.update(store.machines[i], bool(v), text or "", t)

    def shown(self, store: StateStore) -> np.ndarray:
        """Per machine of ``store``: whether it shows as alarmed live — an active alarm not yet acknowledged."""
        alarmed = np.zeros(len(store.machines), dtype=bool)
        rows = [store.machine_index[m] for m in self.unacknowledged_machines() if m in store.machine_index]
        alarmed[rows] = True
        return alarmed

    def _trim(self) -> None:
        if len(self._alarms) > self.keep:
            self._alarms = [a for a in self._alarms if a.active] + [a for a in self._alarms if not a.active][: self.keep]
