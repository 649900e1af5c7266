"""What the scenario optimiser's selection may claim, in words: the record of the Kim–Nelson stage, the note
when today's settings come within δ of the best, the default indifference zone, and — with several
objectives — which finalists are worse than another in every objective with stated confidence.

Examples
--------
>>> default_delta(37.9)
0.38
>>> from app.optimise.params_result import FinalistRecord, SelectionRecord
>>> rec = SelectionRecord(objective="throughput", unit="parts/h", maximise=True, delta=0.38, alpha=0.05, n0=10,
...     first_replication=10, finalists=[FinalistRecord(id=1, name="candidate 1", replications=10, mean=37.95714),
...     FinalistRecord(id=0, name=CURRENT, replications=10, mean=37.9)], best=1, proven=True, survivors=[1], text="")
>>> current_note(rec, 0)[0].split("(")[1]
"0.057 parts/h apart, δ = 0.38 parts/h): no change is shown to gain δ, so today's settings are recommended"
"""

from __future__ import annotations

import math

import numpy as np

from app.optimise.params_problem import ObjectiveSpec
from app.optimise.params_result import FinalistRecord, SelectionRecord
from app.optimise.selection import Selection, worse_everywhere
from app.sim.numbers import format_number

__all__ = ["CURRENT", "WORST", "current_note", "default_delta", "dominance_notes", "selection_record"]

#: How the selection names the factory's own settings.
CURRENT = "the current settings"
#: Objective value given to a candidate pymoo must not prefer (outside the budget, or nothing produced).
WORST = 1e15


def current_note(selection: SelectionRecord, current_id: int) -> list[str]:
    """A note when the current settings come within δ of the selected best: the change gains less than δ."""
    by_id = {f.id: f for f in selection.finalists}
    best, now = by_id.get(selection.best if selection.best is not None else -2), by_id.get(current_id)
    if best is None or now is None or abs(best.mean - now.mean) >= selection.delta:
        return []
    gap = format_number(abs(best.mean - now.mean), selection.unit, digits=2)  # below δ: δ's two digits say enough
    return [
        f"the current settings are within δ of {best.name} in the selection's replications ({gap} apart, "
        f"δ = {format_number(selection.delta, selection.unit)}): no change is shown to gain δ, so today's settings are "
        "recommended"
    ]


def default_delta(scale: float) -> float:
    """1% of the best search mean, to two significant digits (a scale of 0: 1e-6)."""
    if not math.isfinite(scale) or scale <= 0 or scale >= WORST:
        return 1e-6
    d = 0.01 * scale
    return float(f"{d:.2g}")


def selection_record(
    sel: Selection, finalists: list, ids: dict, names: list[str], objective: ObjectiveSpec, sign: float, first: int,
    deterministic: bool,
) -> SelectionRecord:
    """The KN stage as the result file keeps it, with its claim in words (``sign``: −1 when the objective is
    minimised, the procedure having maximised its negative)."""
    unit = objective.unit
    delta_text = format_number(sel.delta, unit)
    total = sum(sel.replications)
    conf = f"{100 * sel.confidence:g}%"
    if sel.proven and sel.best is not None:
        who = names[sel.best]
        has = "have" if who == CURRENT else "has"
        of = f"of the {len(finalists)} finalists"
        if len(finalists) == 1:
            text = f"{who} {'are' if who == CURRENT else 'is'} the only finalist: nothing to compare with"
        elif deterministic:
            text = f"{who} {has} the best {objective.words} {of} (exact: nothing random in the model)"
        else:
            text = (
                f"{who} {has} the best {objective.words} {of} with ≥ {conf} confidence, or within δ = {delta_text} "
                f"of the best (Kim–Nelson, {total} replications)"
            )
    else:
        tied = " and ".join(names[i] for i in sel.survivors) if len(sel.survivors) <= 3 else f"{len(sel.survivors)} finalists"
        text = (
            f"no significant difference in {objective.words} between {tied} at δ = {delta_text} "
            f"(needs ≥ {sel.needs_more} more replications each; the cap was {max(sel.replications)})"
        )
    return SelectionRecord(
        objective=objective.key,
        unit=unit,
        maximise=objective.maximise,
        delta=sel.delta,
        alpha=sel.alpha,
        n0=sel.n0,
        first_replication=first,
        finalists=[
            FinalistRecord(
                id=ids.get(s, -1),
                name=names[i],
                replications=sel.replications[i],
                mean=sign * sel.means[i],
                eliminated_at=sel.eliminated.get(i),
            )
            for i, s in enumerate(finalists)
        ],
        best=ids.get(finalists[sel.best], -1) if sel.best is not None else None,
        proven=sel.proven,
        survivors=[ids.get(finalists[i], -1) for i in sel.survivors],
        needs_more=sel.needs_more,
        exact=deterministic,
        text=text,
    )


def dominance_notes(
    names: list[str], values: np.ndarray, objectives: list[ObjectiveSpec], alpha: float
) -> list[tuple[int, int, str]]:
    """(loser, winner, sentence) for each finalist another beats in every objective with ≥ 1 − alpha
    confidence, from paired replications ``values`` (finalists, replications, objectives; same index = same
    random numbers)."""
    signs = np.array([1.0 if o.maximise else -1.0 for o in objectives])
    words = " and ".join(o.words for o in objectives) if len(objectives) <= 2 else ", ".join(o.words for o in objectives)
    out = []
    for loser, winner in worse_everywhere(values * signs, alpha):
        verb = "are" if names[loser] == CURRENT else "is"
        text = (
            f"{names[loser]} {verb} worse than {names[winner]} in {words} (≥ {100 * (1 - alpha):g}% confidence, "
            f"{values.shape[1]} paired replications)"
        )
        out.append((loser, winner, text))
    return out
