"""The factory as a tree of its hierarchy (enterprise › site › area › line › cell) and machines, with what a
filter matches. No widgets: the factory tree dock shows it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.model.factory import Factory, Machine
from app.model.hierarchy import NO_LINE, PlantTree
from app.model.kinds import get_kind

__all__ = ["NO_LINE", "ShownTree", "TreeMachine", "line_heading", "machines_by_line", "tree_machine"]


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


class ShownTree:
    """The rows the factory tree shows for a filter: the hierarchy's groups (an implicit group's rows lifted
    into its parent) with, under each, its groups then its machines.

    Nodes are numbered for the view: 0 is the root, ``1 + g`` group ``g`` of ``tree.groups``, ``1 + G + i``
    machine ``i``. A filter shows the machines whose name, id or kind contain it, and every machine of a
    group whose name contains it, each under its groups; an empty filter shows everything, empty groups too.

    >>> from app.model.io import load_factory
    >>> from app.paths import DEMO_FACTORY
    >>> f = load_factory(DEMO_FACTORY)
    >>> shown = ShownTree(PlantTree.of(f), [tree_machine(m) for m in f.machines])
    >>> shown.set_filter("press")
    >>> site = shown.rows[0][0]
    >>> area = shown.rows[site][0]
    >>> shown.title(site), shown.title(area), [shown.title(n) for n in shown.rows[area]]
    ('Demo plant', 'Fabrication', ['Pressing'])
    """

    def __init__(self, tree: PlantTree, machines: list[TreeMachine]):
        self.tree = tree
        self.machines = machines
        self.n_groups = tree.n_groups
        self._match = [m.match.casefold() for m in machines]
        self._group_names = [g.name.casefold() for g in tree.groups]
        self._shown_parent = []  # each group's parent as shown (past implicit groups)
        for grp in tree.groups:
            p = grp.parent
            while p >= 0 and tree.groups[p].implicit:
                p = tree.groups[p].parent
            self._shown_parent.append(p)
        self.text = ""
        self.set_filter("")

    def group_node(self, g: int) -> int:
        return 1 + g

    def machine_node(self, i: int) -> int:
        return 1 + self.n_groups + i

    def group_of(self, node: int) -> int | None:
        """The group a node is (None: a machine or the root)."""
        return node - 1 if 1 <= node <= self.n_groups else None

    def machine_of(self, node: int) -> int | None:
        """The machine a node is (None: a group or the root)."""
        return node - 1 - self.n_groups if node > self.n_groups else None

    def title(self, node: int) -> str:
        g = self.group_of(node)
        if g is not None:
            return self.tree.groups[g].name
        i = self.machine_of(node)
        return self.machines[i].name if i is not None else ""

    def set_filter(self, text: str) -> None:
        """Show what matches ``text`` (case-insensitive; empty: everything)."""
        self.text = text = text.strip().casefold()
        tree, n = self.tree, len(self.machines)
        if not text:
            ok = np.ones(n, dtype=bool)
            group_ok = np.ones(self.n_groups, dtype=bool)
        else:
            ok = np.fromiter((text in s for s in self._match), dtype=bool, count=n)
            named = np.fromiter((text in s for s in self._group_names), dtype=bool, count=self.n_groups)
            ok[tree.pair_machine[named[tree.pair_group]]] = True  # every machine of a group named so
            group_ok = np.bincount(tree.pair_group, weights=ok[tree.pair_machine], minlength=self.n_groups) > 0
            for named_g in np.nonzero(named)[0].tolist():  # a group named so shows, even empty, with those above
                up: int = named_g
                while up >= 0:
                    group_ok[up] = True
                    up = tree.groups[up].parent
        self.shown_machines = ok
        rows: dict[int, list[int]] = {0: []}
        for g, grp in enumerate(tree.groups):
            if group_ok[g] and not grp.implicit:
                rows.setdefault(self._shown_parent[g] + 1, []).append(self.group_node(g))
                rows.setdefault(self.group_node(g), [])
        for g, direct in enumerate(tree.direct):
            if direct and group_ok[g]:
                target = self.group_node(g) if not tree.groups[g].implicit else self._shown_parent[g] + 1
                rows.setdefault(target, []).extend(self.machine_node(i) for i in direct if ok[i])
        self.rows = rows
        self.parent_of = {child: node for node, children in rows.items() for child in children}
        self.row_of = {child: r for children in rows.values() for r, child in enumerate(children)}

    def shown_members(self, g: int) -> list[int]:
        """The machines under group ``g`` that the filter shows, in file order."""
        members = self.tree.members(g)
        return members[self.shown_machines[members]].tolist()
