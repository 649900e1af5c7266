"""Validation by simulation: does a candidate layout change what the simulation measures?

Where the layout enters the simulation: a part moves from one station to the next along a **transport
path** in (route length ÷ the path's speed) seconds, the route running from the first machine's centre
through the path's waypoints to the second's (`app.sim.model.compile_model`). Moving machines changes those
lengths, hence the travel times, hence lead time (and WIP, by Little's law). Legs without a transport path
take no time in the simulation, so effort saved on them shows no simulated change, and a line limited by
its machines keeps its throughput whatever the layout.

Each finalist and the current layout are simulated with the same settings and the **same seed**: replication
r of both uses the same random numbers (common random numbers), so the difference of each pair is measured
with the noise both share taken out. The verdict per KPI is the mean paired difference with its 95%
interval (`app.sim.kpis.estimate` over the pairs; rounded by `app.sim.numbers.round_to_interval`), as a %
of the current layout's mean: **significant** when the interval excludes 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from app.model.factory import Factory
from app.optimise.layout_result import KpiVerdict, LayoutResult, Validation
from app.sim.engine import ReplicationResult
from app.sim.kpis import estimate
from app.sim.model import SimModel, compile_model
from app.sim.numbers import format_estimate, format_number, round_to_interval
from app.sim.runner import run_replications

__all__ = ["KPIS", "kpi_verdict", "validate_candidates"]

#: (key, words, unit, per-replication value)
KPIS: tuple[tuple[str, str, str, Callable[[ReplicationResult], float]], ...] = (
    ("lead_time", "lead time", "s", lambda r: sum(r.lead_time_sum_s) / r.total_throughput if r.total_throughput else math.nan),
    ("throughput", "throughput", "parts/h", lambda r: r.total_throughput / r.measured_s * 3600.0),
    ("wip", "WIP", "parts", lambda r: r.wip_area / r.measured_s),
)


def kpi_verdict(
    kpi: str, words: str, unit: str, baseline: Sequence[float], candidate: Sequence[float], exact: bool
) -> KpiVerdict:
    """The verdict on one KPI from paired replication values (same index = same random numbers).

    >>> v = kpi_verdict("lead_time", "lead time", "s", [100.0, 110, 90, 105], [88.0, 97, 80, 92], exact=False)
    >>> v.text, v.significant
    ('lead time −11.9% ± 2.2%, significant', True)
    """
    base = np.asarray(baseline, float)
    cand = np.asarray(candidate, float)
    ok = np.isfinite(base) & np.isfinite(cand)
    base, cand = base[ok], cand[ok]
    b, c = estimate(base), estimate(cand)
    b_text, c_text = format_estimate(b.mean, b.half_width, unit, b.n), format_estimate(c.mean, c.half_width, unit, c.n)
    if len(base) == 0 or b.mean == 0:
        return KpiVerdict(kpi=kpi, unit=unit, baseline=b_text, candidate=c_text, change_pct=None, half_width_pct=None,
                          significant=False, text=f"{words}: no value (nothing measured)")
    d = estimate(cand - base)
    pct = 100.0 * d.mean / b.mean
    if exact:
        text = f"{words} {_signed(format_number(pct, '%'))} (exact: nothing random in the model)"
        return KpiVerdict(kpi=kpi, unit=unit, baseline=b_text, candidate=c_text, change_pct=pct, half_width_pct=0.0,
                          significant=pct != 0, text=text)
    if len(base) < 2:
        return KpiVerdict(kpi=kpi, unit=unit, baseline=b_text, candidate=c_text, change_pct=pct, half_width_pct=None,
                          significant=False, text=f"{words}: not enough data — needs ≥ 2 replications (has {len(base)})")
    hw = 100.0 * d.half_width / abs(b.mean)
    significant = not d.contains(0.0)
    if hw == 0:
        shown = _signed(format_number(pct, "%"))
    else:
        m, h = round_to_interval(pct, hw)
        shown = f"{_signed(m)}% ± {h}%"
    text = f"{words} {shown}, {'significant' if significant else 'not significant'}"
    return KpiVerdict(kpi=kpi, unit=unit, baseline=b_text, candidate=c_text, change_pct=pct, half_width_pct=hw,
                      significant=significant, text=text)


def _signed(text: str) -> str:
    """'−12' for a decrease, '+3' for an increase, '0' unsigned (a typographic minus, as the app writes)."""
    if text.startswith("-"):
        return "−" + text[1:]
    digits = text.rstrip("%").strip()
    return text if not digits.replace(".", "").strip("0") else "+" + text


def validate_candidates(
    factory: Factory,
    result: LayoutResult,
    count: int = 3,
    replications: int | None = None,
    horizon_s: float | None = None,
    warmup_s: float | None = None,
    seed: int | None = None,
    workers: int | None = 1,
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    in_process: bool | None = None,
) -> LayoutResult:
    """``result`` with ``count`` feasible candidates (the recommended first, the others spread along the
    front) simulated against the current layout; settings default to the factory's simulation settings.
    ``workers``/``in_process`` as for `app.sim.runner.run_replications` (an application keeps them out of
    its own process). Raises ``SimInputError`` for a factory the simulation cannot run,
    ``app.sim.engine.Cancelled`` when cancelled."""
    feasible = sorted(
        (c for c in result.candidates if c.feasible), key=lambda c: (c.id != result.recommended, c.objectives.effort)
    )
    # the recommended one, then others spread along the front (fewer moves, less change) rather than its
    # nearest neighbours: if the first is refused by the simulation, a different kind of layout is at hand
    rest = feasible[1:]
    picks: list[int] = []
    if rest and count > 1:
        picks = [int(i) for i in np.unique(np.round(np.linspace(0, len(rest) - 1, count - 1)).astype(int))]
    chosen = feasible[:1] + [rest[i] for i in picks] if count > 0 else []
    if not chosen:
        return result

    def compile_at(f: Factory) -> SimModel:
        return compile_model(f, horizon_s=horizon_s, warmup_s=warmup_s, replications=replications, seed=seed)

    base_model = compile_at(factory)
    runs = len(chosen) + 1
    done = [0]

    def run(model: SimModel) -> list[ReplicationResult]:
        def part(f: float) -> None:
            if progress is not None:
                progress((done[0] + f) / runs)

        out = run_replications(model, workers=workers, progress=part, cancel=cancel, in_process=in_process)
        done[0] += 1
        return sorted(out, key=lambda r: r.replication)

    base = run(base_model)
    exact = base_model.deterministic
    validated = {}
    for c in chosen:
        model = compile_at(result.applied_to(factory, c.id))
        runs_c = run(model)
        kpis = [
            kpi_verdict(key, words, unit, [f(r) for r in base], [f(r) for r in runs_c], exact)
            for key, words, unit, f in KPIS
        ]
        notes = []
        if base_model.replications < 2 and not exact:
            notes.append(f"not enough data — needs ≥ 2 replications (has {base_model.replications})")
        validated[c.id] = Validation(
            replications=base_model.replications, horizon_s=base_model.horizon_s, seed=base_model.seed, kpis=kpis, notes=notes
        )
    candidates = [c.model_copy(update={"validation": validated.get(c.id, c.validation)}) for c in result.candidates]
    recommended, notes = _recommend(result, candidates, chosen)
    return result.model_copy(update={"candidates": candidates, "recommended": recommended, "notes": result.notes + notes})


def _recommend(result: LayoutResult, candidates: list, chosen: list) -> tuple[int | None, list[str]]:
    """The least-effort validated candidate whose simulated lead time is not significantly worse; when every
    one is, the least-effort one stays recommended and a note says what the simulation found and why."""
    by_id = {c.id: c for c in candidates}

    def lead(cid: int) -> KpiVerdict | None:
        v = by_id[cid].validation
        return next((k for k in v.kpis if k.kpi == "lead_time"), None) if v else None

    def worse(cid: int) -> bool:
        k = lead(cid)
        return bool(k and k.significant and (k.change_pct or 0) > 0)

    if result.recommended is None or not worse(result.recommended):
        return result.recommended, []
    for c in chosen:
        if not worse(c.id):
            why = f"candidate {result.recommended} makes lead time significantly worse in simulation"
            return c.id, [f"{why}: candidate {c.id}, next in transport effort, is recommended instead"]
    k = lead(result.recommended)
    return result.recommended, [
        f"every validated candidate makes simulated lead time significantly worse ({k.text if k else ''}): the "
        "simulation carries parts along the transport paths' waypoints, which stay where they are when machines "
        "move; weigh that against the transport effort saved before applying"
    ]
