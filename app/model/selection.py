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

    def click(self, machine_id: str, toggle: bool) -> None:
        """A click on ``machine_id`` ("" for empty floor), with Ctrl (``toggle``) or without: a plain click
        selects that machine or, on the floor, nothing; Ctrl+click adds or removes it and keeps the rest.

        >>> s = Selection(); s.click("A", False); s.click("B", True); s.ids
        ('A', 'B')
        >>> s.click("", True); s.ids, (s.click("", False), s.ids)[1]
        (('A', 'B'), ())
        """
        if not machine_id:
            if not toggle:
                self.clear()
        elif toggle:
            self.toggle(machine_id)
        else:
            self.select([machine_id])


def selection_text(names: dict[str, str], ids: tuple[str, ...]) -> str:
    """The status bar's line for a selection: the current machine's name and id, and how many more.

    >>> selection_text({"A": "Mill A", "B": "Press B"}, ("A", "B"))
    'Press B [B] (+1 more)'
    >>> selection_text({}, ())
    ''
    """
    if not ids:
        return ""
    more = f" (+{len(ids) - 1} more)" if len(ids) > 1 else ""
    return f"{names.get(ids[-1], ids[-1])} [{ids[-1]}]{more}"
