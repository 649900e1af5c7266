"""Which machines are selected: shared by the 3D view, the factory tree and the properties dock."""

from __future__ import annotations

from collections.abc import Iterable

from psygnal import Signal


class Selection:
    """An ordered set of selected machine ids; the last one selected is ``current``.

    Setting the same selection again emits nothing, so views that echo a change back stop there.

    Examples
    --------
    >>> s = Selection()
    >>> s.changed.connect(lambda ids: print(ids))
    <function <lambda> at ...>
    >>> s.select(["M1"])
    ('M1',)
    """

    changed = Signal(tuple)

    def __init__(self) -> None:
        self._ids: tuple[str, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        return self._ids

    @property
    def current(self) -> str | None:
        return self._ids[-1] if self._ids else None

    def select(self, ids: Iterable[str]) -> None:
        """Replace the selection."""
        new = tuple(dict.fromkeys(ids))
        if new != self._ids:
            self._ids = new
            self.changed.emit(new)

    def toggle(self, machine_id: str) -> None:
        """Add or remove one machine (Ctrl+click)."""
        if machine_id in self._ids:
            self.select(i for i in self._ids if i != machine_id)
        else:
            self.select((*self._ids, machine_id))

    def clear(self) -> None:
        self.select(())
