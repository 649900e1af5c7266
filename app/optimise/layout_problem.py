"""What the layout optimiser is asked, checked before any search: who may move, where, and onto which slots.

Bad input is refused here with one clear message (`LayoutInputError`): a factory without part flows (no
transport to reduce), unknown or no movable machines, a group with a pinned member, a region off the floor
or too small for the machines that must fit in it, fewer slots than machines to place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from app.model.factory import Factory, Machine
from app.model.geometry import footprint_corners
from app.sim.numbers import format_number

__all__ = ["LayoutInputError", "LayoutRequest", "Unit", "prepare_units", "region_of"]


class LayoutInputError(ValueError):
    """The layout optimiser cannot start on this input (the message says why and what to do)."""


@dataclass(frozen=True)
class LayoutRequest:
    """What to optimise.

    Parameters
    ----------
    movable
        Ids of the machines that may move (the others are pinned). Empty with ``move_all``: every machine.
    groups
        Sets of movable machines that move together, as one rigid block (their relative poses kept).
    region
        (x0, y0, x1, y1) in metres: where moved machines may stand (default: the whole floor).
    slots
        Candidate positions (x, y) of the machines' centres; when given, machines move only onto free slots
        and the start is the slot assignment solved as a QAP.
    seconds, seed
        Search time limit and random seed (None: a fresh one).
    max_candidates
        At most this many feasible candidates are reported (spread along the Pareto front).
    follow_transports
        Transport effort with legs that have a transport path measured along it (`EffortModel`).
    """

    movable: tuple[str, ...] = ()
    move_all: bool = False
    groups: tuple[tuple[str, ...], ...] = ()
    region: tuple[float, float, float, float] | None = None
    slots: tuple[tuple[float, float], ...] = ()
    seconds: float = 20.0
    seed: int | None = None
    max_candidates: int = 12
    max_infeasible: int = 5
    #: Measure legs that have a transport path along it, as the simulation carries parts (default: the
    #: shortest way along aisles and transport paths, as the material-flow analysis shows it).
    follow_transports: bool = False


@dataclass
class Unit:
    """Machines that move as one: ``members`` at ``offsets`` from the first one's centre."""

    members: tuple[str, ...]
    offsets: np.ndarray  # (m, 2)
    yaws: tuple[float, ...]
    #: Half-extents (m, 2) of each member's axis-aligned footprint box.
    half: np.ndarray
    start: np.ndarray = field(default_factory=lambda: np.zeros(2))  # the first member's centre as it stands


def region_of(factory: Factory, region: tuple[float, float, float, float] | None) -> tuple[float, float, float, float]:
    """The region checked against the floor (default: the floor)."""
    w, d = factory.floor.width_m, factory.floor.depth_m
    if region is None:
        return (0.0, 0.0, w, d)
    x0, y0, x1, y1 = (float(v) for v in region)
    if not (x0 < x1 and y0 < y1):
        raise LayoutInputError(f"the region {x0:g},{y0:g},{x1:g},{y1:g} is empty: give x0,y0,x1,y1 with x0 < x1 and y0 < y1")
    if x0 < 0 or y0 < 0 or x1 > w or y1 > d:
        raise LayoutInputError(f"the region {x0:g},{y0:g},{x1:g},{y1:g} leaves the floor (0,0 to {w:g},{d:g} m)")
    return (x0, y0, x1, y1)


def half_extents(m: Machine) -> np.ndarray:
    c = footprint_corners(m)
    return (c.max(axis=0) - c.min(axis=0)) / 2


def prepare_units(factory: Factory, request: LayoutRequest) -> tuple[list[Unit], tuple[float, float, float, float]]:
    """The units that move and the region, or `LayoutInputError` saying what is wrong."""
    if not factory.flows:
        raise LayoutInputError(
            "nothing to optimise: the factory has no part flows, so no transport between machines to reduce "
            "(add part flows with routings first)"
        )
    machines = {m.id: m for m in factory.machines}
    ids = list(machines) if request.move_all else list(dict.fromkeys(request.movable))
    if not ids:
        raise LayoutInputError("no machine may move: name the machines that may move (--move IDS) or let all move (--move-all)")
    unknown = [i for i in ids if i not in machines]
    if unknown:
        raise LayoutInputError(f"unknown machine{'s' * (len(unknown) > 1)}: {', '.join(unknown)} (not in {factory.name})")
    region = region_of(factory, request.region)
    units: list[Unit] = []
    grouped: set[str] = set()
    for g in request.groups:
        missing = [i for i in g if i not in machines]
        if missing:
            raise LayoutInputError(f"the group {'+'.join(g)} names unknown machines: {', '.join(missing)}")
        pinned = [i for i in g if i not in ids]
        if pinned:
            raise LayoutInputError(f"the group {'+'.join(g)} includes pinned machines ({', '.join(pinned)}): let them move too")
        clash = grouped.intersection(g)
        if clash:
            raise LayoutInputError(f"machine {sorted(clash)[0]} is in two groups")
        grouped.update(g)
        units.append(_unit([machines[i] for i in g]))
    units += [_unit([machines[i]]) for i in ids if i not in grouped]
    _check_room(factory, units, region, {i for i in machines if i not in ids})
    if request.slots and len(request.slots) < len(units):
        raise LayoutInputError(
            f"{len(request.slots)} slots for {len(units)} machines (or groups) that may move: give at least {len(units)}"
        )
    return units, region


def _unit(members: list[Machine]) -> Unit:
    origin = np.array([members[0].pose.x_m, members[0].pose.y_m])
    offsets = np.array([[m.pose.x_m, m.pose.y_m] for m in members]) - origin
    return Unit(
        members=tuple(m.id for m in members),
        offsets=offsets,
        yaws=tuple(m.pose.yaw_deg for m in members),
        half=np.array([half_extents(m) for m in members]),
        start=origin,
    )


def _check_room(factory: Factory, units: list[Unit], region: tuple[float, float, float, float], pinned: set[str]) -> None:
    """Refuse a region that cannot hold the machines before searching: each unit must fit in it, and their
    footprints grown by half their clearance on every side must fit in the area pinned machines leave."""
    x0, y0, x1, y1 = region
    rw, rd = x1 - x0, y1 - y0
    machines = {m.id: m for m in factory.machines}
    need = 0.0
    for u in units:
        lo = (u.offsets - u.half).min(axis=0)
        hi = (u.offsets + u.half).max(axis=0)
        if hi[0] - lo[0] > rw or hi[1] - lo[1] > rd:
            name = "+".join(u.members)
            raise LayoutInputError(
                f"the region ({format_number(rw)} × {format_number(rd)} m) is too small for {name} "
                f"({format_number(hi[0] - lo[0])} × {format_number(hi[1] - lo[1])} m)"
            )
        for mid, h in zip(u.members, u.half, strict=True):
            c = machines[mid].clearance_m
            need += (2 * h[0] + c) * (2 * h[1] + c)
    taken = 0.0
    for mid in pinned:  # pinned footprints inside the region are not free floor
        m = machines[mid]
        h = half_extents(m)
        ox = max(0.0, min(x1, m.pose.x_m + h[0]) - max(x0, m.pose.x_m - h[0]))
        oy = max(0.0, min(y1, m.pose.y_m + h[1]) - max(y0, m.pose.y_m - h[1]))
        taken += ox * oy
    free = rw * rd - taken
    if need > free:
        raise LayoutInputError(
            f"the region is too small: the {sum(len(u.members) for u in units)} machines that may move need at least "
            f"{format_number(math.ceil(need))} m² (footprints with clearance), the region has "
            f"{format_number(math.floor(max(free, 0.0)))} m² free"
        )
