"""What the Material flow dock shows, worked out without Qt: the rows of the per-flow list, the from-to matrix's
cells, the transport effort and its change against the saved layout in words, the chart's points and the
ribbons to draw in 3D (each stretch of floor once, as wide as the parts/h travelling along it).

Examples
--------
>>> effort_text(8798.37)
'8798 part·m/h'
>>> delta_text(7742.0, 8798.37)
'−12% vs saved (8798 part·m/h)'
>>> delta_text(8798.37, 8798.37)
'same as saved'
>>> matrix_text(0.0), matrix_text(10.909)
('', '10.91')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from app.heat.colour import lut
from app.model.factory import Factory
from app.optimise.flow import EffortModel, FlowAnalysis, Piece
from app.sim.numbers import format_number

__all__ = [
    "EFFORT_UNIT",
    "EMPTY_TEXT",
    "LEG_HEADERS",
    "LEG_HEADER_TIPS",
    "RIBBON_TABLE",
    "RIBBON_TITLE",
    "FlowSummary",
    "LegRow",
    "Ribbons",
    "delta_text",
    "drag_text",
    "effort_text",
    "empty_text",
    "matrix_text",
    "ribbons",
    "summarise",
    "widest_ribbon_m",
]

EFFORT_UNIT = "part·m/h"
#: What a factory without part flows (or whose flows join no two machines) shows instead of a table of zeros.
EMPTY_TEXT = "No part flows — nothing to analyse"
#: The per-flow list's columns: short (the dock is narrow), each a unit or a word, and what they mean.
LEG_HEADERS = ("Flow", EFFORT_UNIT, "%", "parts/h", "m")
LEG_HEADER_TIPS = (
    "From → to: where the parts come from and go (machine ids, as the 3D view labels them)",
    "Transport effort of the leg: parts/h × metres",
    "The leg's share of the total transport effort, in %",
    "Intensity: parts per hour on this leg, from the part flows' arrival rates and routings",
    "Distance in metres along the aisles and transport paths (* rectilinear: |Δx| + |Δy|, nothing joins them)",
)
#: Marks a distance measured rectilinear in the list (the notes say why).
RECTILINEAR = "*"
#: Significant digits of a share of the total (they add up to 100%: three tell the rows apart).
SHARE_DIGITS = 3
#: The ribbons' colours, few parts/h to many: yellow → orange → red (the heat map's flow ribbons are cividis,
#: blue → yellow, so the two never read as one). The palest quarter is left out: it vanishes on the light floor.
RIBBON_TABLE = np.ascontiguousarray(lut("YlOrRd")[64:])
RIBBON_TITLE = "Material flow routes (parts/h)"
#: A change smaller than this share of the saved total is rounding noise: "same as saved".
SAME = 1e-9


@dataclass(frozen=True)
class LegRow:
    """One flow of the list: from → to, its intensity, distance, effort and share of the total."""

    from_id: str
    to_id: str
    from_name: str
    to_name: str
    parts_per_h: float
    distance_m: float
    effort: float
    share: float  # of the total effort, 0…1
    routed: bool  # measured along the travel network (False: rectilinear)

    def texts(self) -> tuple[str, ...]:
        """The cells of the row, in ``LEG_HEADERS`` order (a rectilinear distance marked ``RECTILINEAR``)."""
        distance = format_number(self.distance_m) + ("" if self.routed else RECTILINEAR)
        return (
            f"{self.from_id}→{self.to_id}",
            format_number(self.effort),
            format_number(100.0 * self.share, digits=SHARE_DIGITS),
            format_number(self.parts_per_h),
            distance,
        )

    def sort_keys(self) -> tuple[object, ...]:
        return ((self.from_id, self.to_id), self.effort, self.share, self.parts_per_h, self.distance_m)

    @property
    def tip(self) -> str:
        """The leg in words, for the chart's hover and click, the list's tool tip:
        "Goods-in store (WH-IN) → Press 1 (PR-01): 60 parts/h over 14 m (along the aisles) = …"."""
        how = "along the aisles" if self.routed else "rectilinear: no aisle or transport path joins them"
        return (
            f"{_named(self.from_name, self.from_id)} → {_named(self.to_name, self.to_id)}: "
            f"{format_number(self.parts_per_h)} parts/h over "
            f"{format_number(self.distance_m)} m ({how}) = {effort_text(self.effort)}, "
            f"{format_number(100.0 * self.share, '%', SHARE_DIGITS)} of the total"
        )


def _named(name: str, mid: str) -> str:
    return mid if name == mid else f"{name} ({mid})"


@dataclass(frozen=True)
class FlowSummary:
    """The material flow of one factory version as the dock shows it."""

    factory: Factory
    analysis: FlowAnalysis
    #: Machine names in ``analysis.machine_ids`` order (the matrix's headers).
    names: tuple[str, ...]
    #: The flows, largest effort first.
    rows: tuple[LegRow, ...]
    #: The saved layout's total effort (None: not known).
    saved_total: float | None
    #: Said under the figures: routings naming unknown machines, legs measured rectilinear.
    notes: tuple[str, ...]

    @property
    def total(self) -> float:
        return self.analysis.total_effort

    @property
    def empty(self) -> bool:
        """No leg joins two machines: nothing to analyse."""
        return not self.rows


def summarise(model: EffortModel, saved_total: float | None) -> FlowSummary:
    """The dock's content for the factory ``model`` holds, against the saved layout's total effort."""
    a = model.analysis()
    names_by_id = {m.id: m.name for m in model.factory.machines}
    total = a.total_effort
    rows = tuple(
        sorted(
            (
                LegRow(
                    leg.from_id,
                    leg.to_id,
                    names_by_id.get(leg.from_id, leg.from_id),
                    names_by_id.get(leg.to_id, leg.to_id),
                    leg.parts_per_h,
                    leg.distance_m,
                    leg.effort,
                    leg.effort / total if total > 0 else 0.0,
                    leg.routed,
                )
                for leg in a.legs
            ),
            key=lambda r: (-r.effort, r.from_name, r.to_name),
        )
    )
    notes = []
    if a.unknown_machines:
        unknown = ", ".join(a.unknown_machines)
        notes.append(f"Routings name machines this factory does not have ({unknown}): their legs are left out.")
    straight = sum(not r.routed for r in rows)
    if rows and straight:
        why = "the floor has no aisles or transport paths" if not a.network else "no aisle or transport path joins them"
        notes.append(f"{RECTILINEAR} {straight} of {len(rows)} flows measured rectilinear (|Δx| + |Δy|): {why}.")
    names = tuple(names_by_id.get(i, i) for i in a.machine_ids)
    return FlowSummary(model.factory, a, names, rows, saved_total, tuple(notes))


def empty_text(factory: Factory) -> str:
    """Why there is nothing to analyse, in the dock's words."""
    if not factory.flows:
        return EMPTY_TEXT
    return f"{EMPTY_TEXT}: no part flow's routing goes from one machine of this factory to another"


def effort_text(total: float) -> str:
    """The transport effort with its unit."""
    return format_number(total, EFFORT_UNIT)


def delta_text(total: float, saved: float | None) -> str:
    """The change against the saved layout: "−12% vs saved (8798 part·m/h)", "same as saved", or "" when
    the saved layout's effort is not known."""
    if saved is None or not math.isfinite(saved):
        return ""
    if abs(total - saved) <= SAME * max(abs(saved), 1.0):
        return "same as saved"
    if saved <= 0:
        return f"{_signed(total - saved)} {EFFORT_UNIT} vs saved (which had no transport)"
    return f"{_signed(100.0 * (total - saved) / saved)}% vs saved ({effort_text(saved)})"


def drag_text(names: Sequence[str], total: float) -> str:
    """The total while machines are dragged: "Moving Press 1: 8650 part·m/h" (``delta_text`` says the change)."""
    who = names[0] if len(names) == 1 else f"{len(names)} machines"
    return f"Moving {who}: {effort_text(total)}"


def drag_spot_text(blocked: str | None, warning: str | None) -> str:
    """What the layout editor says of the spot a drag stands on, for beside the effort it would give:
    a collision refuses the drop (Shift overrides it), a clearance problem is allowed but shown."""
    if blocked:
        return f"Not here: {blocked} — dropped here it goes back (Shift places it anyway)"
    if warning:
        return f"Here: {warning}"
    return ""


def _signed(x: float) -> str:
    text = format_number(x, digits=2)
    return ("+" + text if x > 0 else text).replace("-", "−")


def matrix_text(parts_per_h: float) -> str:
    """A cell of the from-to matrix: blank for no flow."""
    return "" if parts_per_h == 0 else format_number(parts_per_h)


# -- ribbons ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ribbons:
    """Straight stretches of floor parts travel along, each once with the parts/h of every leg that uses it."""

    a: np.ndarray  # (P, 2) start points
    b: np.ndarray  # (P, 2) end points
    parts_per_h: np.ndarray  # (P,)

    @property
    def peak(self) -> float:
        """The busiest stretch's parts/h (0 without ribbons): the top of the legend and the widest ribbon."""
        return float(self.parts_per_h.max()) if len(self.parts_per_h) else 0.0

    def colours(self, table: np.ndarray = RIBBON_TABLE) -> np.ndarray:
        """(P, 3) uint8: each stretch's parts/h on ``table`` from 0 to the busiest (the legend's scale)."""
        peak = self.peak
        if peak <= 0:
            return np.zeros((len(self.parts_per_h), 3), dtype=np.uint8)
        k = np.clip(np.rint(self.parts_per_h / peak * (len(table) - 1)), 0, len(table) - 1).astype(np.int64)
        return np.asarray(table)[k]

    def widths(self, widest_m: float) -> np.ndarray:
        """Each stretch's width, proportional to its parts/h; the busiest is ``widest_m`` wide."""
        peak = self.peak
        return widest_m * self.parts_per_h / peak if peak > 0 else np.zeros(len(self.parts_per_h))


def widest_ribbon_m(factory: Factory) -> float:
    """How wide the busiest stretch is drawn: 3% of the floor's shorter side, 0.6–3 m (about an aisle)."""
    return float(min(max(0.03 * min(factory.floor.width_m, factory.floor.depth_m), 0.6), 3.0))


def ribbons(model: EffortModel, routes: Sequence[Sequence[Piece]] | None = None) -> Ribbons:
    """The legs' routes (``model.routes()``) merged into stretches: where several legs share an aisle, that
    stretch is drawn once, carrying the sum of their parts/h (a Sankey diagram laid on the floor)."""
    routes = model.routes() if routes is None else routes
    rates = [leg.parts_per_h for leg in model.analysis().legs]
    on_segment: dict[int, list[tuple[float, float, float]]] = {}
    lines: dict[tuple[tuple[float, float], tuple[float, float]], float] = {}
    for rate, route in zip(rates, routes, strict=True):
        for piece in route:
            if piece[0] == "seg":
                _, s, t0, t1 = piece
                if t0 != t1:
                    on_segment.setdefault(s, []).append((min(t0, t1), max(t0, t1), rate))
            else:
                p, q = _key(piece[1]), _key(piece[2])
                if p != q:
                    k = (p, q) if p <= q else (q, p)
                    lines[k] = lines.get(k, 0.0) + rate
    a, b, f = [], [], []
    for (p, q), rate in lines.items():
        a.append(p)
        b.append(q)
        f.append(rate)
    net = model.network
    for s, spans in on_segment.items():
        for (t0, t1), rate in _merge_spans(spans).items():
            u, v = net.coords[net.seg_u[s]], net.coords[net.seg_v[s]]
            a.append(tuple(u + t0 * (v - u)))
            b.append(tuple(u + t1 * (v - u)))
            f.append(rate)
    return Ribbons(np.array(a, dtype=float).reshape(-1, 2), np.array(b, dtype=float).reshape(-1, 2), np.array(f, dtype=float))


def _key(p: Sequence[float]) -> tuple[float, float]:
    return (round(float(p[0]), 6), round(float(p[1]), 6))


def _merge_spans(spans: list[tuple[float, float, float]]) -> Mapping[tuple[float, float], float]:
    """Spans (t0, t1, rate) along one segment as consecutive pieces between all their ends, each with the
    sum of the rates of the spans covering it (pieces no span covers left out)."""
    cuts = np.unique([t for t0, t1, _ in spans for t in (t0, t1)])
    load = np.zeros(len(cuts))
    for t0, t1, rate in spans:
        load[np.searchsorted(cuts, t0)] += rate
        load[np.searchsorted(cuts, t1)] -= rate
    running = np.cumsum(load)[:-1]
    return {(float(cuts[k]), float(cuts[k + 1])): float(running[k]) for k in range(len(cuts) - 1) if running[k] > 1e-12}
