"""What the comparison and calibration tables show: their rows in order, each cell's text, sort key and
emphasis, the summary above them and the machine filter. No widgets: the dialogs lay these out."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from app.compare.calibrate import ESTIMATE_MARGIN, Calibration, MachineEstimate, exponential_needed, needed, usable
from app.compare.diff import FITS, NOT_ENOUGH, OUTSIDE, Comparison, Row
from app.compare.report import verdict
from app.compare.trust import Trust
from app.sim.numbers import format_duration, format_number

#: The machine KPIs whose difference can colour the 3D view: (key, label).
DELTA_KPIS = (
    ("utilisation", "Δ utilisation (%)"),
    ("output_per_h", "Δ output (parts/h)"),
    ("state_starved", "Δ starved (%)"),
    ("state_blocked", "Δ blocked (%)"),
    ("state_down", "Δ down (%)"),
)
#: The columns of a comparison table after the machine's two.
KPI_COLUMNS = ("KPI", "Actual", "Baseline (95% CI)", "Scenario (95% CI)", "Δ scenario − baseline", "Verdict")
MACHINE_COLUMNS = ("Machine", "Changed")
#: The failures cell of a machine the factory never fails (no MTBF) and that did not fail: nothing to ask for.
NO_FAILURES = "no failures modelled"
CALIBRATION_COLUMNS = (
    "Machine", "From", "Cycle time (s)", "CV", "Cycles", "MTBF (95% interval)", "MTTR (95% interval)", "Failures"
)


@dataclass(frozen=True)
class Cell:
    """One table cell.

    ``sort`` is the number it sorts by (NaN: unknown, sorted last; None: by its text); a ``figure`` is
    right-aligned; ``bold`` marks a difference beyond chance, ``muted`` one that is not; ``tip`` explains.
    """

    text: str
    sort: float | None = None
    figure: bool = False
    bold: bool = False
    muted: bool = False
    tip: str = ""


def sort_key(value: float | None) -> float:
    """A cell's number as it sorts: unknowns (NaN, ±inf) after every figure."""
    return math.inf if value is None or not math.isfinite(value) else value


def columns(with_machine: bool) -> list[str]:
    """The headers of the line table (``with_machine`` False) or of the machine table."""
    return [*(MACHINE_COLUMNS if with_machine else ()), *KPI_COLUMNS]


def line_rows(c: Comparison) -> list[Row]:
    """The line's KPIs, in the comparison's order."""
    return [r for r in c.rows if r.machine is None]


def machine_rows(c: Comparison) -> list[Row]:
    """The machines' KPIs, changed machines first (largest utilisation difference first), then the others."""
    order = {m: k for k, m in enumerate(c.machines_by_change())}
    return sorted((r for r in c.rows if r.machine is not None), key=lambda r: order.get(r.machine or "", 0))


def _figure(text: str, value: float | None, bold: bool = False, tip: str = "") -> Cell:
    return Cell(text, math.nan if value is None else float(value), figure=True, bold=bold, tip=tip)


def row_cells(r: Row, changed: Collection[str] | None = None, trust: Trust | None = None) -> list[Cell]:
    """The cells of a row; with ``changed`` (the changed machines) the machine's two cells come first; with
    ``trust`` a machine's output and utilisation verdicts end with their trust score.

    >>> from app.compare.diff import Row
    >>> r = Row("utilisation", "Utilisation", "%", None, 71.25, None, None, None, None)
    >>> [cell.text for cell in row_cells(r)]
    ['Utilisation (%)', '71.25', '—', '—', '—', '']
    """
    out = []
    if changed is not None:
        mark = r.machine in changed
        out += [Cell(r.machine or ""), Cell("changed" if mark else "", 0.0 if mark else 1.0)]  # changed first
    predicted = f"prediction {format_number(r.predicted[0])} … {format_number(r.predicted[1])}" if r.predicted else ""
    if r.fit:
        predicted += f"; “fits” needs the prediction within ±{r.margin:.0%}"
    words = verdict(r)
    score = trust.machines.get(r.machine or "", {}).get(r.key) if trust is not None and r.machine else None
    if score is not None:
        words = "; ".join(w for w in (words, score.text()) if w)
    out += [
        Cell(f"{r.label} ({r.unit})"),
        _figure(format_number(r.actual), r.actual, tip=predicted),
        _figure(str(r.baseline) if r.baseline else "—", r.baseline.mean if r.baseline else None),
        _figure(str(r.scenario) if r.scenario else "—", r.scenario.mean if r.scenario else None),
        _figure(str(r.delta) if r.delta else "—", r.delta.mean if r.delta else None, bold=bool(r.significant)),
        # grey: nothing to claim (not significant and no fit either way, or not enough data)
        Cell(words, muted=(r.significant is False and r.fit not in (FITS, OUTSIDE)) or r.fit == NOT_ENOUGH, tip=predicted),
    ]
    return out


def summary_lines(c: Comparison, notes: Sequence[str] = (), trust: Trust | None = None) -> list[str]:
    """The lines above the tables (rich text): the bottlenecks, the run's notes, the trust in the baseline."""
    neck = ", ".join(f"{k}: <b>{v}</b>" for k, v in c.bottleneck.items() if v)
    lines = [f"Bottleneck — {neck}", *notes]
    if trust is not None:
        lines.append(trust.summary().replace(trust.line.text(), f"<b>{trust.line.text()}</b>", 1))
    return lines


def changed_count(c: Comparison) -> str:
    """``3 of 12 machines changed``."""
    return f"{len(c.changed_machines())} of {len(c.machines)} machines changed"


def row_matches(query: str, machine: str, kpi: str, changed: bool, changed_only: bool) -> bool:
    """Whether a machine row passes the filter: every word of ``query`` in its machine or KPI (any case),
    and changed when only changed machines are asked for.

    >>> row_matches("cnc util", "CNC-01", "Utilisation (%)", False, False)
    True
    >>> row_matches("", "CNC-01", "Utilisation (%)", False, True)
    False
    """
    text = f"{machine} {kpi}".lower()
    return (changed or not changed_only) and all(w in text for w in query.strip().lower().split())


def calibration_heading(cal: Calibration) -> str:
    """What the estimates rest on and how many are usable: ``Estimated from 60 min of recorded history (95%
    intervals). Enough data (interval within ±25%) for the cycle time of 2 of 40 machines, …``"""
    cycles = sum(1 for e in cal.machines if usable(e.cycle_s))
    failures = sum(1 for e in cal.machines if usable(e.mtbf_s) and usable(e.mttr_s))
    arrivals = sum(1 for r in cal.arrivals_per_h.values() if usable(r))
    return (
        f"Estimated from {recorded_text(cal.t1 - cal.t0, cal.time_scale)} (95% intervals). Enough data (interval "
        f"within ±{ESTIMATE_MARGIN:.0%}) for the cycle time of {cycles} of {len(cal.machines)} machines, the failures "
        f"of {failures}, {arrivals} of {len(cal.arrivals_per_h)} arrival rates; only those go into a calibrated baseline."
    )


def recorded_text(clock_s: float, time_scale: float = 1.0) -> str:
    """How much recorded history ``clock_s`` seconds of recording are, in the clock the estimates count: the
    plant's. At real time ``60 min of recorded history``; on a plant simulator run faster, its plant time first
    and the recording's clock time beside it.

    >>> recorded_text(3600.0), recorded_text(180.0, 120.0)
    ('60 min of recorded history', '6 h of plant time (3 min of recorded history at 120×)')
    """
    if time_scale == 1.0:
        return f"{clock_s / 60:.0f} min of recorded history"
    plant = format_duration(clock_s * time_scale)
    return f"{plant} of plant time ({clock_s / 60:.0f} min of recorded history at {time_scale:g}×)"


def calibration_usable(cal: Calibration) -> int:
    """How many estimates rest on enough data to calibrate with (0: nothing to make a baseline of)."""
    return sum(usable(e.cycle_s) + (usable(e.mtbf_s) and usable(e.mttr_s)) for e in cal.machines) + sum(
        usable(r) for r in cal.arrivals_per_h.values()
    )


def _cycle_text(e: MachineEstimate) -> str:
    c = e.cycle_s
    if c is None:
        return "—"
    if not math.isfinite(c.half_width):  # one recorded cycle (or slice) has no spread to make an interval of
        return f"{format_number(c.mean)} (no interval yet)"
    return str(c)


def _failures_text(e: MachineEstimate) -> str:
    """``1 failure — needs ≥ 87 failures for ±25%``: what the MTBF and MTTR rest on and what they need; a
    machine the model never fails (no MTBF in the factory) that did not fail: ``no failures modelled``."""
    if not e.failures_modelled and e.failures == 0:
        return NO_FAILURES
    text = f"{e.failures} failure{'' if e.failures == 1 else 's'}"
    if not usable(e.mtbf_s):
        return f"{text} — needs ≥ {exponential_needed()} failures for ±{ESTIMATE_MARGIN:.0%}"
    if not usable(e.mttr_s):
        return f"{text} — needs ≥ {exponential_needed(truncated=False)} repairs for ±{ESTIMATE_MARGIN:.0%}"
    return text


def calibration_rows(cal: Calibration) -> list[list[str]]:
    """The calibration table's texts, one row per machine in ``CALIBRATION_COLUMNS`` order (— unknown).
    Cycle times in seconds; MTBF and MTTR in a readable unit with their skewed χ² intervals."""
    return [
        [
            e.machine,
            e.method,
            _cycle_text(e),
            f"{e.cycle_cv:.3g}" if e.cycle_cv is not None else "—",
            f"{e.cycles} — not enough data, needs {needed(e.cycle_s, 'cycles')}" if not usable(e.cycle_s) else str(e.cycles),
            str(e.mtbf_s) if e.mtbf_s else "—",
            str(e.mttr_s) if e.mttr_s else "—",
            _failures_text(e),
        ]
        for e in cal.machines
    ]


def calibration_muted(cal: Calibration) -> list[set[int]]:
    """Per row of ``calibration_rows``, the columns drawn grey: exactly the estimates a calibrated baseline does
    not use (cycle time, CV and cycles together; MTBF, MTTR and failures together) — without enough data,
    or with none (no failure seen, none modelled)."""
    out = []
    for e in cal.machines:
        grey = set() if usable(e.cycle_s) else {2, 3, 4}
        if not (usable(e.mtbf_s) and usable(e.mttr_s)):
            grey |= {5, 6, 7}
        out.append(grey)
    return out


def arrivals_text(cal: Calibration) -> str:
    """``Arrivals: A: 12 ± 1/h, B: 3 ± 4/h (not enough data, not used) …`` (— when no part flow was
    estimated)."""
    rates = [f"{p}: {r}/h" + ("" if usable(r) else " (not enough data, not used)") for p, r in cal.arrivals_per_h.items()]
    return "Arrivals: " + (", ".join(rates) or "—")
