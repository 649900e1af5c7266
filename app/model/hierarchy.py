"""The plant hierarchy (ISA-95): enterprise › site › area › line › work cell › machine.

A factory file may carry a ``hierarchy`` block naming its enterprise and site and listing its areas, each
with its lines (and a line's work cells); each machine says where it stands with ``area``, ``line`` and
``cell``. A file without the block (or whose block lists no areas) reads as before: its machines' ``line``
names group them, under one implicit area named after the site (or "Plant").

``PlantTree`` is that hierarchy as index arrays: every group (the site, the areas, lines, cells) with its
parent, and every (group, machine) pair, so a figure is summed over every group at once with one
``np.bincount`` (see ``app.rollup``) rather than a Python loop over machines.

Examples
--------
>>> h = Hierarchy(site="Nord", areas=[Area(id="machining", lines=[Line(id="L1")])])
>>> h.areas[0].title, h.areas[0].lines[0].title
('machining', 'L1')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Final

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.model.problems import Problem, duplicate_ids

if TYPE_CHECKING:
    from app.model.factory import Factory

#: The levels of the tree, from the top; machines stand under the deepest group that holds them.
LEVELS: Final = ("enterprise", "site", "area", "line", "cell")
#: The implicit area of a file without a hierarchy block is named after its site, or this.
IMPLICIT_AREA = "Plant"
#: The group of machines a file's lines do not place (as the flat tree always showed them).
NO_LINE = "(no line)"
#: The group of machines a file with a hierarchy leaves without an area.
NO_AREA = "(no area)"

PlaceId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
PlaceName = Annotated[str, StringConstraints(max_length=200)]


class _Record(BaseModel):
    """Strict, frozen, no unknown fields (as every record of the factory format)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    id: PlaceId
    name: PlaceName = ""

    @property
    def title(self) -> str:
        """The name to show: ``name``, else the id."""
        return self.name or self.id


class Cell(_Record):
    """A work cell of a line: a few machines working together (e.g. a robot and the presses it loads)."""


class Line(_Record):
    """A production line of an area, with its work cells (optional)."""

    cells: list[Cell] = Field(default_factory=list, max_length=10_000)


class Area(_Record):
    """An area of the site (a hall, a department) with its lines."""

    lines: list[Line] = Field(default_factory=list, max_length=10_000)


class Hierarchy(BaseModel):
    """Where the factory stands in its enterprise, and its areas and lines (ISA-95)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    enterprise: PlaceName = ""
    site: PlaceName = ""
    areas: list[Area] = Field(default_factory=list, max_length=10_000)


# -- checks -------------------------------------------------------------------------------------------
def _listed(ids: Iterable[str]) -> str:
    names = [f'"{i}"' for i in ids]
    return ", ".join(names) if names else "none"


def check_hierarchy(f: Factory) -> list[Problem]:
    """Problems with the hierarchy block and the machines' places in it (empty for a consistent file).

    Area ids are unique in the file, line ids in their area, cell ids in their line. A machine's ``area``
    must be one of the areas, its ``line`` a line of that area (the area may be left out when only one area
    has a line of that id), its ``cell`` a cell of that line. Without a hierarchy block (or without areas in
    it) a machine's ``line`` is a free name and it names no area or cell.
    """
    h = f.hierarchy
    problems: list[Problem] = []
    if h is None or not h.areas:
        for i, m in enumerate(f.machines):
            for what in ("area", "cell"):
                if getattr(m, what):
                    where = "no hierarchy block" if h is None else "no areas in its hierarchy"
                    text = f'names {what} "{getattr(m, what)}" but the file has {where}'
                    problems.append(Problem(f"machines[{i}].{what}", text))
        return problems
    problems += duplicate_ids((a.id for a in h.areas), "hierarchy.areas", "area")
    for a_i, area in enumerate(h.areas):
        problems += duplicate_ids((ln.id for ln in area.lines), f"hierarchy.areas[{a_i}].lines", "line")
        for l_i, line in enumerate(area.lines):
            problems += duplicate_ids((c.id for c in line.cells), f"hierarchy.areas[{a_i}].lines[{l_i}].cells", "cell")
    if problems:
        return problems
    areas = {a.id: a for a in h.areas}
    areas_of_line: dict[str, list[str]] = {}
    for a in h.areas:
        for ln in a.lines:
            areas_of_line.setdefault(ln.id, []).append(a.id)
    for i, m in enumerate(f.machines):
        where = f"machines[{i}]"
        area_id = m.area
        if area_id and area_id not in areas:
            problems.append(Problem(f"{where}.area", f'unknown area "{area_id}" (the hierarchy has: {_listed(areas)})'))
            continue
        if m.line and not area_id:
            owners = areas_of_line.get(m.line, [])
            if len(owners) > 1:
                problems.append(
                    Problem(f"{where}.area", f'line "{m.line}" is in areas {_listed(owners)}: give the machine\'s area')
                )
                continue
            if not owners:
                text = f'unknown line "{m.line}" (the hierarchy has: {_listed(areas_of_line)})'
                problems.append(Problem(f"{where}.line", text))
                continue
            area_id = owners[0]
        if m.line:
            lines = {ln.id: ln for ln in areas[area_id].lines}
            if m.line not in lines:
                problems.append(
                    Problem(f"{where}.line", f'unknown line "{m.line}" in area "{area_id}" (it has: {_listed(lines)})')
                )
                continue
            cells = [c.id for c in lines[m.line].cells]
            if m.cell and m.cell not in cells:
                problems.append(
                    Problem(f"{where}.cell", f'unknown cell "{m.cell}" in line "{m.line}" (it has: {_listed(cells)})')
                )
        elif m.cell:
            problems.append(Problem(f"{where}.cell", f'a cell belongs to a line: give the machine\'s line (cell "{m.cell}")'))
    return problems


# -- the tree as index arrays ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Group:
    """A row of the tree above the machines: its level (``LEVELS``), what it shows, its parent group
    (-1: the top) and its depth; ``implicit``: made up for a file without a hierarchy (views may skip it)."""

    level: str
    name: str
    parent: int
    depth: int
    implicit: bool = False
    path: tuple[str, ...] = ()


@dataclass
class PlantTree:
    """The groups of a factory and, for each, its machines (indices into ``factory.machines``).

    ``pair_group``/``pair_machine`` list every (group, machine under it at any depth) pair, sorted by group
    and in file order inside one; ``starts[g]:starts[g + 1]`` are group ``g``'s pairs. ``exit_pair`` marks the
    pairs whose machine sends parts out of the group (the last machine of a routing, or one whose next
    machine lies outside the group): a group's throughput is what those machines put out. ``leaf_of`` is each
    machine's own group and ``children`` each group's groups, in file order.

    Examples
    --------
    >>> from app.model.io import load_factory
    >>> from app.paths import DEMO_FACTORY
    >>> t = PlantTree.of(load_factory(DEMO_FACTORY))
    >>> t.groups[0].level, len(t.members(0)) == len(t.leaf_of)
    ('site', True)
    """

    groups: list[Group]
    children: list[list[int]]
    leaf_of: np.ndarray
    pair_group: np.ndarray
    pair_machine: np.ndarray
    starts: np.ndarray
    exit_pair: np.ndarray
    direct: list[list[int]] = field(default_factory=list)

    @property
    def n_groups(self) -> int:
        return len(self.groups)

    def members(self, g: int) -> np.ndarray:
        """Indices of every machine under group ``g`` (at any depth), in file order."""
        return self.pair_machine[self.starts[g] : self.starts[g + 1]]

    def exits(self, g: int) -> np.ndarray:
        """Indices of the machines that send parts out of group ``g`` (see the class)."""
        sl = slice(self.starts[g], self.starts[g + 1])
        return self.pair_machine[sl][self.exit_pair[sl]]

    def top(self) -> list[int]:
        """The groups without a parent (the enterprise, or the site)."""
        return [g for g, grp in enumerate(self.groups) if grp.parent < 0]

    def group_of(self, path: tuple[str, ...]) -> int:
        """The group at ``path`` (names from the top, e.g. ``("Nord", "Machining", "L1")``); KeyError if none."""
        for g, grp in enumerate(self.groups):
            if grp.path == path:
                return g
        raise KeyError(path)

    @classmethod
    def of(cls, f: Factory) -> PlantTree:
        """The tree of a factory (its hierarchy block, or its machines' lines under one implicit area)."""
        builder = _Builder()
        h = f.hierarchy
        top = -1
        if h is not None and h.enterprise:
            top = builder.add("enterprise", h.enterprise, -1)
        site_name = (h.site if h is not None else "") or f.name
        site = builder.add("site", site_name, top)
        leaf = np.empty(len(f.machines), dtype=np.int64)
        if h is None or not h.areas:
            area = builder.add("area", (h.site if h is not None else "") or IMPLICIT_AREA, site, implicit=True)
            for i, m in enumerate(f.machines):
                leaf[i] = builder.child(area, "line", m.line or NO_LINE)
        else:
            area_group: dict[str, int] = {}
            line_group: dict[tuple[str, str], int] = {}
            cell_group: dict[tuple[str, str, str], int] = {}
            area_of_line: dict[str, str] = {}
            for a in h.areas:
                area_group[a.id] = builder.add("area", a.title, site)
                for ln in a.lines:
                    area_of_line.setdefault(ln.id, a.id)
                    line_group[a.id, ln.id] = builder.add("line", ln.title, area_group[a.id])
                    for c in ln.cells:
                        cell_group[a.id, ln.id, c.id] = builder.add("cell", c.title, line_group[a.id, ln.id])
            for i, m in enumerate(f.machines):
                area_id = m.area or (area_of_line.get(m.line, "") if m.line else "")
                if not area_id or area_id not in area_group:
                    leaf[i] = builder.child(site, "area", NO_AREA)
                elif m.line and (area_id, m.line) in line_group:
                    key = (area_id, m.line, m.cell)
                    leaf[i] = cell_group[key] if m.cell and key in cell_group else line_group[area_id, m.line]
                else:
                    leaf[i] = area_group[area_id]
        return builder.finish(leaf, _routings(f))


class _Builder:
    def __init__(self) -> None:
        self.groups: list[Group] = []
        self.children: list[list[int]] = []
        self._named: dict[tuple[int, str, str], int] = {}

    def add(self, level: str, name: str, parent: int, implicit: bool = False) -> int:
        depth = self.groups[parent].depth + 1 if parent >= 0 else 0
        path = (*self.groups[parent].path, name) if parent >= 0 else (name,)
        self.groups.append(Group(level, name, parent, depth, implicit, path))
        self.children.append([])
        if parent >= 0:
            self.children[parent].append(len(self.groups) - 1)
        return len(self.groups) - 1

    def child(self, parent: int, level: str, name: str) -> int:
        """The group ``name`` under ``parent``, made the first time it is asked for."""
        key = (parent, level, name)
        g = self._named.get(key)
        if g is None:
            g = self._named[key] = self.add(level, name, parent)
        return g

    def finish(self, leaf: np.ndarray, routings: list[np.ndarray]) -> PlantTree:
        n_groups, n = len(self.groups), len(leaf)
        parent = np.array([g.parent for g in self.groups], dtype=np.int64)
        depth_of = np.array([g.depth for g in self.groups], dtype=np.int64)
        max_depth = int(depth_of.max()) + 1 if n_groups else 0
        # anc[m, d]: machine m's group at depth d (-1: none there). Built a level at a time, from the leaves up.
        anc = np.full((n, max_depth), -1, dtype=np.int64)
        g_at = leaf.copy()
        while True:
            ok = g_at >= 0
            if not ok.any():
                break
            anc[np.nonzero(ok)[0], depth_of[g_at[ok]]] = g_at[ok]
            g_at = np.where(ok, parent[np.where(ok, g_at, 0)], -1)
        pm, pd = np.nonzero(anc >= 0)
        pg = anc[pm, pd]
        order = np.lexsort((pm, pg))
        pair_group, pair_machine, pair_depth = pg[order], pm[order], pd[order]
        starts = np.searchsorted(pair_group, np.arange(n_groups + 1))
        # A (group, machine) pair is an exit when a routing leaves the group at that machine for the last
        # time: no later step of the routing comes back into the group (a part leaving a store area five
        # times on its way is one part out of it, not five). A routing's last step leaves all its groups.
        leaves_at = np.zeros((n, max_depth), dtype=bool)
        for steps in routings:
            groups_at = anc[steps[::-1]]  # the steps backwards: the first occurrence is the last visit
            for d in range(max_depth):
                col = groups_at[:, d]
                _, first = np.unique(col, return_index=True)
                first = first[col[first] >= 0]
                leaves_at[steps[::-1][first], d] = True
        exit_pair = leaves_at[pair_machine, pair_depth]
        direct: list[list[int]] = [[] for _ in range(n_groups)]
        for i, g in enumerate(leaf.tolist()):
            direct[g].append(i)
        return PlantTree(self.groups, self.children, leaf, pair_group, pair_machine, starts, exit_pair, direct)


def _routings(f: Factory) -> list[np.ndarray]:
    """The machine indices of every routing's steps, in order (steps naming no machine left out)."""
    index = f.machine_index()
    out = [np.array([index[r] for r in flow.routing if r in index], dtype=np.int64) for flow in f.flows]
    return [steps for steps in out if len(steps)]


# -- moving machines to another line ------------------------------------------------------------------
@dataclass(frozen=True)
class Place:
    """A line (or a cell of it) machines can be moved to: its title path and what the machines then say."""

    titles: tuple[str, ...]
    area: str
    line: str
    cell: str = ""


def places(f: Factory) -> list[Place]:
    """Every line (and work cell) of the factory, in file order: its areas' lines, or — without areas — the
    line names its machines use. A machine names its area only where two areas have a line of that id.

    >>> from app.model.io import load_factory
    >>> from app.paths import DEMO_FACTORY
    >>> [p.titles for p in places(load_factory(DEMO_FACTORY))][:2]
    [('Fabrication', 'Machining'), ('Fabrication', 'Pressing')]
    """
    h = f.hierarchy
    if h is None or not h.areas:
        return [Place((name,), "", name) for name in dict.fromkeys(m.line for m in f.machines if m.line)]
    owners: dict[str, int] = {}
    for a in h.areas:
        for ln in a.lines:
            owners[ln.id] = owners.get(ln.id, 0) + 1
    out = []
    for a in h.areas:
        for ln in a.lines:
            area = a.id if owners[ln.id] > 1 else ""
            out.append(Place((a.title, ln.title), area, ln.id))
            out += [Place((a.title, ln.title, c.title), area, ln.id, c.id) for c in ln.cells]
    return out


def moved_to(f: Factory, ids: Iterable[str], place: Place) -> Factory:
    """A new version of ``f`` whose machines ``ids`` stand in ``place`` (nothing else changes)."""
    wanted = set(ids)
    update = {"area": place.area, "line": place.line, "cell": place.cell}
    machines = [m.model_copy(update=update) if m.id in wanted else m for m in f.machines]
    return f.model_copy(update={"machines": machines})
