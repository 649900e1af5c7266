"""The factory as a tree of production lines and their machines, with what a filter matches. No widgets:
the factory tree dock shows it."""

from __future__ import annotations

from dataclasses import dataclass

from app.model.factory import Factory, Machine
from app.model.kinds import get_kind

NO_LINE = "(no line)"


@dataclass(frozen=True)
class TreeMachine:
    """A machine's row: ``kind_label`` is the kind's name (its id when the kind is unknown), ``colour`` the
    kind's swatch (None: unknown kind), ``match`` the text a filter searches."""

    id: str
    name: str
    kind_label: str
    colour: tuple[int, int, int] | None
    match: str

    @property
    def tooltip(self) -> str:
        return f"{self.name} ({self.id})"


def tree_machine(m: Machine) -> TreeMachine:
    """A machine as the tree shows it."""
    kind = get_kind(m.kind)
    label = kind.label if kind else m.kind
    return TreeMachine(m.id, m.name, label, kind.colour if kind else None, f"{m.name} {m.id} {label} {m.kind}")


def machines_by_line(f: Factory) -> dict[str, list[TreeMachine]]:
    """The machines under their line, lines in the order their first machine comes in the file.

    >>> from app.model.io import load_factory
    >>> from app.paths import DEMO_FACTORY
    >>> list(machines_by_line(load_factory(DEMO_FACTORY)))[:2]
    ['Logistics', 'Machining']
    """
    lines: dict[str, list[TreeMachine]] = {}
    for m in f.machines:
        lines.setdefault(m.line or NO_LINE, []).append(tree_machine(m))
    return lines


def line_heading(line: str, count: int) -> str:
    """``Machining  (8)``."""
    return f"{line}  ({count})"
