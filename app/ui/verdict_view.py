"""How verdicts are drawn on the floor in edit mode: the colours, their legend, and the colour array of a
placement, a layout check or a placement still being checked."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from app.physics.world import Verdict

OK_RGB = (0, 158, 115)  # bluish green: the machines being placed, clear of everything
CLEARANCE_RGB = (230, 159, 0)  # amber
COLLISION_RGB = (213, 30, 30)  # red
CLEAR_RGB = (205, 208, 212)  # machines without a problem while problems are shown
CHECKING_RGB = (86, 180, 233)  # sky blue: being placed, verdict not known yet (never green before it is)
VERDICT_LEGEND = (("collision", COLLISION_RGB), ("too close (clearance)", CLEARANCE_RGB), ("no problem", CLEAR_RGB))
PARTY_RGB = {"collision": (255, 120, 120), "clearance": (255, 205, 120)}
#: The legend of a placement in progress: what the moved machines and the rest show.
PLACEMENT_LEGEND = (
    ("placed, clear", OK_RGB),
    ("collision", COLLISION_RGB),
    ("too close (clearance)", CLEARANCE_RGB),
    ("met by a collision", PARTY_RGB["collision"]),
    ("met, too close", PARTY_RGB["clearance"]),
    ("not involved", CLEAR_RGB),
)
CHECKING_LEGEND = (("being checked…", CHECKING_RGB), ("not involved", CLEAR_RGB))
#: Every label edit mode may show: the legend margin keeps room for the widest, shown or not.
EDIT_LEGEND_LABELS = tuple(label for legend in (VERDICT_LEGEND, PLACEMENT_LEGEND, CHECKING_LEGEND) for label, _ in legend)


def _faded(n: int) -> np.ndarray:
    colours = np.empty((n, 3), dtype=np.uint8)
    colours[:] = CLEAR_RGB  # the rest fades, so verdict colours never mix with kind colours
    return colours


def placement_colours(n: int, index: Mapping[str, int], moving: Iterable[str], verdicts: Sequence[Verdict]) -> np.ndarray:
    """Colours of ``n`` machines while some (``moving``) are placed: green, amber or red for them, a light
    tint for the machines they meet, the rest faded."""
    colours = _faded(n)
    for mid in moving:
        colours[index[mid]] = OK_RGB
    for v in verdicts:
        colours[index[v.machine]] = COLLISION_RGB if v.status == "collision" else CLEARANCE_RGB
        for c in v.contacts:
            if c.other in index:
                colours[index[c.other]] = PARTY_RGB[c.kind]
    return colours


def checking_colours(n: int, index: Mapping[str, int], moving: Iterable[str]) -> np.ndarray:
    """Colours while a placement waits for its verdict: the machines being placed blue, the rest faded."""
    colours = _faded(n)
    for mid in moving:
        colours[index[mid]] = CHECKING_RGB
    return colours


def problem_colours(n: int, index: Mapping[str, int], verdicts: Sequence[Verdict]) -> np.ndarray:
    """Colours of a layout check: red in collision, amber too close, everything fine faded."""
    colours = _faded(n)
    for v in sorted(verdicts, key=lambda v: v.status == "collision"):  # red wins
        colours[index[v.machine]] = COLLISION_RGB if v.status == "collision" else CLEARANCE_RGB
    return colours


class VerdictPainter:
    """Draws verdicts on a window's 3D view (colours and legend) in edit mode; ``window`` gives the document,
    the view, the loaded meshes and the live link (whose colours return outside edit mode)."""

    def __init__(self, window):
        self.window = window

    def _machines(self) -> tuple[int, Mapping[str, int]]:
        w = self.window
        return len(w.document.factory.machines), w.view.machines.index

    def placement(self, verdicts: Sequence[Verdict], moving: Iterable[str]) -> None:
        """Machines being placed: green, amber or red, the parties they meet tinted, the rest faded, with the
        legend of those colours (its width was reserved on entering edit mode: the floor does not move)."""
        self.window.view.set_machine_colours(placement_colours(*self._machines(), moving, verdicts))
        self.window.view.set_legend(PLACEMENT_LEGEND, "Layout check")

    def checking(self, moving: Iterable[str]) -> None:
        """Machines being placed whose verdict is not known yet: blue, the rest faded (during a drag: the
        legend stays as it is, the status bar says "checking…")."""
        self.window.view.set_machine_colours(checking_colours(*self._machines(), moving))
        self.window.view.set_legend(CHECKING_LEGEND, "Layout check")

    def problems(self, verdicts: Sequence[Verdict]) -> None:
        """Every machine with a problem red or amber, with the verdict legend (the kinds when none)."""
        self.legend(bool(verdicts))
        self.window.view.set_machine_colours(problem_colours(*self._machines(), verdicts))

    def legend(self, problems: bool) -> None:
        """The legend of what edit mode draws: verdict colours while problems are shown, else the kinds."""
        w = self.window
        if problems:
            w.view.set_legend(VERDICT_LEGEND, "Layout check")
        else:
            w.view.set_legend(w.view.kind_legend(w.document.factory, w.asset_of), "Machine kind")

    def restore(self, editing: bool) -> None:
        """The colours outside a placement: live states when live and not editing, the kinds otherwise."""
        w = self.window
        if w.document is None:
            return
        if w.live.active and not editing:
            w.live.recolour()
        else:
            w.view.set_machine_colours(w.view.kind_colours(w.document.factory, w.asset_of))
            if editing:
                self.legend(False)
