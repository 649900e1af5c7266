"""What a view of the scenario optimiser shows, worked out without Qt: the targets a decision variable may
name, its default bounds from today's value, the candidates as table rows, the Pareto points of two
objectives, the selection's claim in words, the progress line and the undo step's text.

Examples
--------
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> f = load_factory(DEMO_FACTORY)
>>> targets(f, "release_rate")[:2]
['housing', 'shaft']
>>> v = default_variable(f, "servers", "CNC-02")
>>> v.low, v.high
(1.0, 3.0)
>>> now_text(f, "input_buffer", "CNC-01")
'now 10 places'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.model.factory import Factory
from app.optimise.params import ParamsProgress
from app.optimise.params_problem import KIND_WORDS, LINE, OBJECTIVES, Budget, Variable, VariableKind, current_value
from app.optimise.params_result import ParamsCandidate, ParamsResult, SelectionRecord
from app.sim.numbers import format_number

__all__ = [
    "CandidateRow",
    "FrontPoint",
    "budget_of",
    "candidate_rows",
    "claim_text",
    "default_variable",
    "front_points",
    "machines_touched",
    "now_text",
    "progress_text",
    "selection_means",
    "summary_text",
    "targets",
    "undo_text",
]

#: Whole-number kinds whose bounds a view shows without decimals.
WHOLE = ("input_buffer", "servers", "wip_cap")
#: A WIP cap's default range when the line has none yet (parts in the line at once).
WIP_CAP_DEFAULT = 20


def targets(factory: Factory, kind: VariableKind) -> list[str]:
    """What a variable of ``kind`` may name in ``factory``: machine ids, parts of the flows, transport paths
    or the line."""
    if kind in ("input_buffer", "servers"):
        return [m.id for m in factory.machines]
    if kind == "release_rate":
        return [f.part for f in factory.flows]
    if kind == "transport_speed":
        return [t.id for t in factory.transports]
    return [LINE]


def _two_digits(x: float) -> float:
    return float(f"{x:.2g}") if x > 0 else x


def default_variable(factory: Factory, kind: VariableKind, target: str) -> Variable:
    """A variable of ``kind`` on ``target`` with bounds around today's value: buffers half to twice (at
    least + 2 places), servers 1 to two more, a release rate or a transport speed ±50%, a WIP cap half to
    twice (1 … 20 with no cap yet)."""
    now = current_value(factory, Variable(kind=kind, target=target, low=0.0, high=0.0))
    if kind == "input_buffer":
        n = int(now or 0)
        return Variable(kind, target, float(n // 2), float(max(2 * n, n + 2)))
    if kind == "servers":
        n = int(now or 1)
        return Variable(kind, target, 1.0, float(n + 2))
    if kind == "wip_cap":
        if now is None:
            return Variable(kind, LINE, 1.0, float(WIP_CAP_DEFAULT))
        return Variable(kind, LINE, float(max(1, int(now) // 2)), float(2 * int(now)))
    x = float(now or 1.0)
    high = _two_digits(1.5 * x)
    if kind == "transport_speed":
        high = min(high, 100.0)
    return Variable(kind, target, _two_digits(0.5 * x), high)


def now_text(factory: Factory, kind: VariableKind, target: str) -> str:
    """Today's value in words ("now 10 places", "no WIP cap now")."""
    try:
        now = current_value(factory, Variable(kind=kind, target=target, low=0.0, high=0.0))
    except (KeyError, StopIteration):
        return ""
    if now is None:
        return "no WIP cap now"
    unit = KIND_WORDS[kind][1]
    if now == 1 and kind in WHOLE:
        unit = unit[:-1]  # "1 server", "1 place"
    return f"now {format_number(now, unit)}"


def budget_of(buffer_places: int | None, server_cost: float | None, max_cost: float | None) -> Budget:
    """The budget a form gives: total buffer places, one price for any added server, a total cost (None: no
    limit / not given)."""
    prices = {} if server_cost is None else {"*": float(server_cost)}
    return Budget(buffer_places=buffer_places, server_cost=prices, max_cost=max_cost)


@dataclass(frozen=True)
class CandidateRow:
    """One row of the candidates table: the candidate's name, its values and KPIs as text, and its role."""

    id: int
    name: str
    values: list[str]
    kpis: list[str]
    role: str
    recommended: bool


def kpi_order(result: ParamsResult) -> list[str]:
    """The KPIs a table shows: the objectives first, then the others."""
    return list(result.objectives) + [k for k in OBJECTIVES if k not in result.objectives]


def _titled(words: str, unit: str) -> str:
    """A column title with its unit, unless the words end with it already ("CNC-03 servers", not
    "CNC-03 servers (servers)").

    >>> _titled("CNC-03 servers", "servers"), _titled("CNC-04 input buffer", "places")
    ('CNC-03 servers', 'CNC-04 input buffer (places)')
    """
    return words if not unit or words.endswith(unit) else f"{words} ({unit})"


def headers(result: ParamsResult) -> list[str]:
    """Column titles of the candidates table."""
    variables = [_titled(v.variable().words, v.variable().unit) for v in result.variables]
    kpis = [OBJECTIVES[k].words for k in kpi_order(result)]  # the cells carry their units
    return ["Candidate", *variables, *kpis, "Role"]


def _role(result: ParamsResult, c: ParamsCandidate) -> str:
    words = []
    if c.id == result.recommended:
        words.append("recommended")
    if c.current:
        words.append("today's settings")
    if not c.feasible:
        words.append("outside the budget (not simulated)")
    elif c.finalist:
        words.append("finalist")
    elif c.pareto and len(result.objectives) > 1:
        words.append("Pareto front")
    return ", ".join(words)


def _value_text(spec, value: float | None) -> str:
    if value is None:
        return "no cap"
    return format_number(value) if spec.kind not in WHOLE else f"{value:.0f}"


def candidate_rows(result: ParamsResult) -> list[CandidateRow]:
    """The candidates in the order a user reads them: the recommended one, the finalists, the Pareto front,
    then the rest by the first objective (best first); values and KPI texts as the result rounded them."""
    first = OBJECTIVES[result.objectives[0]] if result.objectives else None

    def rank(c: ParamsCandidate) -> tuple:
        k = c.kpis.get(first.key) if first else None
        mean = k.mean if k is not None and k.mean is not None else math.nan
        score = (-mean if first and first.maximise else mean) if math.isfinite(mean) else math.inf
        return (c.id != result.recommended, not c.finalist, not c.pareto, not c.feasible, score, c.id)

    order = kpi_order(result)
    rows = []
    for c in sorted(result.candidates, key=rank):
        rows.append(
            CandidateRow(
                id=c.id,
                name=candidate_name(result, c.id),
                values=[_value_text(v, c.values.get(v.key)) for v in result.variables],
                kpis=[c.kpis[k].text if k in c.kpis else "—" for k in order],
                role=_role(result, c),
                recommended=c.id == result.recommended,
            )
        )
    return rows


def candidate_name(result: ParamsResult, candidate_id: int) -> str:
    """"candidate 3", or "today's settings" for the factory's own."""
    c = result.candidate(candidate_id)
    return "today's settings" if c.current else f"candidate {candidate_id}"


@dataclass(frozen=True)
class FrontPoint:
    """A simulated candidate in the plane of the first two objectives (their means)."""

    id: int
    x: float
    y: float
    pareto: bool
    current: bool
    recommended: bool
    #: Half-widths of the 95% intervals (0 when there is none: one replication or an exact model).
    x_hw: float = 0.0
    y_hw: float = 0.0


def front_points(result: ParamsResult) -> list[FrontPoint]:
    """Every simulated candidate with both of the first two objectives' means (none with one objective)."""
    if len(result.objectives) < 2:
        return []
    kx, ky = result.objectives[:2]
    out = []
    for c in result.candidates:
        x, y = c.kpis.get(kx), c.kpis.get(ky)
        if not c.feasible or x is None or y is None or x.mean is None or y.mean is None:
            continue
        out.append(
            FrontPoint(
                c.id, x.mean, y.mean, c.pareto, c.current, c.id == result.recommended, x.half_width or 0.0, y.half_width or 0.0
            )
        )
    return out


def axis_title(key: str) -> str:
    spec = OBJECTIVES[key]
    better = "more is better" if spec.maximise else "less is better"
    return f"{spec.words[:1].upper()}{spec.words[1:]} ({spec.unit}, {better})"


def claim_text(result: ParamsResult) -> str:
    """What the run may claim, first and in words: the selection's verdict and what is recommended, or why
    nothing is (a cancelled search, no selection)."""
    if result.stopped_by == "cancelled":
        return (
            f"Search cancelled after {result.evaluations} candidates: nothing selected or recommended — the table "
            "shows what was simulated."
        )
    sel = result.selection
    if sel is None:
        return "No selection was made: " + ("; ".join(result.notes) if result.notes else "no candidate could be simulated.")
    lines = [sel.text[:1].upper() + sel.text[1:] + ".", selection_means(sel)]
    if result.recommended is not None:
        c = result.candidate(result.recommended)
        if c.current:
            lines.append("Recommended: keep today's settings (Apply would change nothing).")
        else:
            sets = ", ".join(f"{v.variable().words} = {_value_text(v, c.values.get(v.key))}" for v in result.variables)
            lines.append(f"Recommended: candidate {c.id} — {sets}.")
    else:
        lines.append("Nothing recommended: pick a candidate to apply or to simulate in What-if.")
    lines += [d.text[:1].upper() + d.text[1:] + "." for d in sel.dominated]
    said = {sel.text, *(d.text for d in sel.dominated)}  # the notes repeat these for the command line
    lines += [n[:1].upper() + n[1:] + "." for n in result.notes if n not in said]
    return "\n".join(lines)


def selection_means(sel: SelectionRecord, most: int = 4) -> str:
    """What the selection's claim rests on: each finalist's mean over the selection's own (fresh, paired)
    replications, best first, to the precision δ asks for — the candidates table shows the search's figures.

    >>> from app.optimise.params_result import FinalistRecord
    >>> rec = SelectionRecord(objective="throughput", unit="parts/h", maximise=True, delta=0.41, alpha=0.05, n0=10,
    ...     first_replication=3, finalists=[FinalistRecord(id=2, name="candidate 2", replications=12, mean=41.5371),
    ...     FinalistRecord(id=0, name="the current settings", replications=10, mean=41.0291, eliminated_at=10)],
    ...     best=2, proven=True, survivors=[2], text="")
    >>> selection_means(rec)
    'Selection means (fresh replications): candidate 2 41.54 parts/h (12 runs), the current settings 41.03 parts/h (10 runs).'
    """
    step = sel.delta / 10 if sel.delta > 0 else 0.0
    decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 2
    order = sorted(sel.finalists, key=lambda f: f.mean, reverse=sel.maximise)
    named = [f"{f.name} {f.mean:.{decimals}f} {sel.unit} ({f.replications} runs)" for f in order[:most]]
    more = f" and {len(order) - most} more" if len(order) > most else ""
    return f"Selection means (fresh replications): {', '.join(named)}{more}."


def summary_text(result: ParamsResult) -> str:
    """How the run went: candidates, replications, where, how long, why it stopped."""
    why = {
        "time": "the time limit",
        "evaluations": "the evaluation limit",
        "converged": "no new candidates found",
        "cancelled": "Cancel",
    }.get(result.stopped_by, result.stopped_by)
    where = f" on {result.where}" if result.where else ""
    return (
        f"{result.evaluations} candidates, {result.simulations} simulations of {format_number(result.horizon_s / 3600)} h"
        f"{where}, {format_number(result.seconds, 's', digits=2)}; the search stopped at {why}. "
        f"Each KPI: mean ± 95% interval over {result.replications} replications (common random numbers)."
    )


def progress_text(p: ParamsProgress) -> str:
    """The progress bar's words: the phase, candidates and replications so far, the best in words."""
    phase = "Searching" if p.phase == "search" else "Selecting the best"
    best = f" — {p.best}" if p.best else ""  # "best throughput 31.2 parts/h"
    return f"{phase}: {p.evaluations} candidates, {p.simulations} replications{best}"


def machines_touched(result: ParamsResult) -> list[str]:
    """Machines whose settings a candidate changes (buffers, servers); flows, paths and the line are not
    machines."""
    return [v.target for v in result.variables if v.kind in ("input_buffer", "servers")]


def undo_text(result: ParamsResult, candidate_id: int) -> str:
    """The undo step's name: "Optimised parameters (candidate 3: CNC-02 servers = 2)"."""
    c = result.candidate(candidate_id)
    sets = ", ".join(f"{v.variable().words} = {_value_text(v, c.values.get(v.key))}" for v in result.variables)
    return f"Optimised parameters (candidate {candidate_id}: {sets})"
