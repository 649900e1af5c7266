"""Machine kinds: what a kind is called, how it looks by default and which asset it uses.

The registry is plain data so that plugins can add kinds (``register_kind``) without touching the
file format: a factory file names a kind by its id, and loading checks the id is registered.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class MachineKind:
    """One kind of machine.

    Parameters
    ----------
    id
        Identifier used in factory files (``"cnc"``).
    label
        Human name shown in the GUI.
    colour
        Default RGB colour (0–255) of the kind in the 3D view.
    default_asset
        Asset id the demo factory and the generators use for this kind.
    asset_path
        Where ``default_asset``'s mesh is when it is not a built-in one (a plugin's ``plugin-NAME:file``).
    """

    id: str
    label: str
    colour: tuple[int, int, int]
    default_asset: str
    description: str = ""
    asset_path: str = ""


_KINDS: dict[str, MachineKind] = {}
#: Who can make a missing kind known (the plugin manager loads the plugin that declares it): called with a
#: kind id, or with None for every kind it can provide. Held weakly when bound methods.
_FINDERS: list[Callable[[], Callable[[str | None], None] | None]] = []


def register_kind(kind: MachineKind) -> None:
    """Register a machine kind; re-registering the same id replaces it."""
    _KINDS[kind.id] = kind


def unregister_kind(kind_id: str) -> None:
    """Forget a kind (its plugin failed or was closed); unknown ids are ignored."""
    _KINDS.pop(kind_id, None)


def add_kind_finder(finder: Callable[[str | None], None]) -> None:
    """Ask ``finder(kind_id)`` for kinds not registered yet (``finder(None)``: for all it knows)."""
    _FINDERS.append(weakref.WeakMethod(finder) if inspect.ismethod(finder) else (lambda: finder))


def remove_kind_finder(finder: Callable[[str | None], None]) -> None:
    _FINDERS[:] = [ref for ref in _FINDERS if ref() not in (None, finder)]


def _find(kind_id: str | None) -> None:
    for ref in list(_FINDERS):
        finder = ref()
        if finder is not None:
            finder(kind_id)
        if kind_id is not None and kind_id in _KINDS:
            return


def get_kind(kind_id: str) -> MachineKind | None:
    """The registered kind with this id (a plugin declaring it is loaded first if needed), or None."""
    kind = _KINDS.get(kind_id)
    if kind is None and _FINDERS:
        _find(kind_id)
        kind = _KINDS.get(kind_id)
    return kind


#: Colour of machines whose mesh could not be loaded (placeholder boxes): magenta, the usual "missing" hue.
PLACEHOLDER_RGB = (230, 0, 230)
#: Colour of a machine whose kind is not registered.
UNKNOWN_KIND_RGB = (128, 128, 128)
#: Colour of "no data": a machine or a cell with no (or only stale) values, in every colouring — a neutral
#: grey, so a missing value never looks like a state or a level.
NO_DATA_RGB = (150, 150, 150)


def kind_rgb(kind_id: str, placeholder: bool = False) -> tuple[int, int, int]:
    """A machine's default colour: its kind's, magenta for a placeholder mesh, grey for an unknown kind.

    >>> kind_rgb("no-such-kind"), kind_rgb("cnc", placeholder=True)
    ((128, 128, 128), (230, 0, 230))
    """
    if placeholder:
        return PLACEHOLDER_RGB
    kind = get_kind(kind_id)
    return kind.colour if kind else UNKNOWN_KIND_RGB


def known_kinds() -> dict[str, MachineKind]:
    """A copy of the registry, id → kind (with every kind the plugins declare, which loads them)."""
    if _FINDERS:
        _find(None)
    return dict(_KINDS)


# Colours: a colour-blind-friendly qualitative palette (Okabe–Ito, plus greys) so that kinds stay
# distinguishable for everyone; live-state colours are chosen separately by the state layer.
for _k in (
    MachineKind("cnc", "CNC machining centre", (0, 114, 178), "cnc", "Milling/turning centre"),
    MachineKind("press", "Press", (213, 94, 0), "press", "Stamping or forming press"),
    MachineKind("robot_cell", "Robot cell", (230, 159, 0), "robot_cell", "Fenced industrial robot"),
    MachineKind("assembly", "Assembly station", (0, 158, 115), "assembly", "Manual or semi-automatic"),
    MachineKind("conveyor", "Conveyor", (110, 110, 120), "conveyor", "Belt or roller conveyor"),
    MachineKind("buffer", "Buffer / rack", (86, 180, 233), "rack", "Pallet rack or WIP buffer"),
    MachineKind("inspection", "Inspection station", (204, 121, 167), "inspection", "Measuring / QA"),
    MachineKind("warehouse", "Warehouse", (150, 130, 90), "warehouse", "Goods in / goods out store"),
):
    register_kind(_k)
