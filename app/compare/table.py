"""What the comparison and calibration tables show: their rows in order, each cell's text, sort key and
emphasis, the summary above them and the machine filter. No widgets: the dialogs lay these out."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.compare.calibrate import ESTIMATE_MARGIN, Calibration, MachineEstimate, exponential_needed, needed, usable
from app.compare.diff import FITS, NOT_ENOUGH, OUTSIDE, Comparison, Row
from app.compare.report import verdict
from app.compare.trust import Trust
from app.sim.numbers import UNKNOWN, format_duration, format_number, round_to_interval

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
MACHINE_COLUMNS = ("Machine", "Difference")
#: The Difference column's words: the scenario differs from the baseline beyond chance; the plant's actual lies
#: outside the model's (the baseline's) prediction. Never "changed": a comparison of the unchanged "As it is"
#: scenario marked machines whose actual was outside the prediction "changed" (trial 7).
SCENARIO_DIFFERS, PLANT_OUTSIDE = "scenario ≠ baseline", "plant ≠ model"
DIFFERENCE_TIP = (
    "scenario ≠ baseline: the scenario differs from the baseline beyond chance; "
    "plant ≠ model: the recorded actual lies outside the baseline's 95% prediction"
)
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


#: z of a two-sided 95% interval: the Poisson interval of a count of n parts is about n ± 1.96·√n.
_Z95 = 1.96
#: Significant digits an actual without an interval of its own keeps at most.
ACTUAL_DIGITS = 3


def actual_text(r: Row) -> str:
    """The actual figure rounded to what it supports — the one rule for the Actual column (docs/what-if.md):

    - a **rate from a count** (throughput, a machine's output: n parts over the window) to its own 95%
      Poisson interval, n ± 1.96·√n parts, rounded like every estimate (``format_estimate``'s rule: two
      significant digits of the half-width); 0 parts reads 0;
    - **any other figure** (a share of time read from the state series, WIP, lead time, energy) has no interval
      of its own: it is rounded to the decimal place of the baseline's interval beside it (the comparison
      cannot tell finer figures apart), at most 3 significant digits; a **share** to whole per cent at most
      (a window's share of time is one draw of a slow on–off process, not a thousand independent ones), a
      share above 0 that would round to 0 reads ``< 1``.

    >>> from app.compare.diff import Row
    >>> from app.sim.kpis import Estimate
    >>> actual_text(Row("throughput_per_h", "Throughput", "parts/h", None, 37.84, None, None, None, None, count=244.0))
    '37.8'
    >>> actual_text(Row("utilisation", "Utilisation", "%", "M", 73.34, Estimate(69.0, 24.0, 20), None, None, None))
    '73'
    >>> actual_text(Row("lead_time_min", "Lead time", "min", None, 29.82, Estimate(74.0, 21.0, 20), None, None, None))
    '30'
    >>> actual_text(Row("wip", "WIP", "parts", None, 8.184, Estimate(8.0, 0.41, 20), None, None, None))
    '8.18'
    """
    x = r.actual
    if not math.isfinite(x):
        return UNKNOWN
    if math.isfinite(r.count) and r.count >= 0:
        if r.count == 0 or x == 0:
            return "0"
        return round_to_interval(x, _Z95 * math.sqrt(r.count) * x / r.count)[0]
    if x == 0:
        return "0"
    top = ACTUAL_DIGITS - 1 - math.floor(math.log10(abs(x)))  # the decimals of 3 significant digits
    b = r.baseline
    if b is not None and math.isfinite(b.half_width) and b.half_width > 0 and math.isfinite(b.mean):
        top = min(top, _decimals(b.half_width))
    if r.unit == "%":
        top = min(top, 0)
        if 0 < abs(x) < 0.5:
            return "< 1"
    return _to_place(x, top)


def _to_place(x: float, decimals: int) -> str:
    """``x`` to ``decimals`` places (negative: to tens, hundreds…), never "-0".

    >>> _to_place(193.6, -1), _to_place(-0.004, 2), _to_place(8.184, 2)
    ('190', '0.00', '8.18')
    """
    text = f"{round(x, decimals):.{max(decimals, 0)}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _decimals(half_width: float) -> int:
    """The decimal place an interval of ``half_width`` is shown to (``round_to_interval``'s)."""
    _mean, shown = round_to_interval(0.0, half_width)
    return len(shown.partition(".")[2]) if "." in shown else -(len(shown) - len(shown.rstrip("0")))


def machine_marks(c: Comparison) -> dict[str, str]:
    """Per machine that differs, the words of its Difference cell: ``scenario ≠ baseline`` (a KPI of the
    scenario differs from the baseline beyond chance), ``plant ≠ model`` (an actual lies outside the baseline's
    prediction), or both; machines that do not differ are left out."""
    scenario = {r.machine for r in c.rows if r.machine is not None and r.changed and r.fits_actual is not False}
    plant = {r.machine for r in c.rows if r.machine is not None and r.fits_actual is False}
    out = {}
    for m in c.machines:
        words = [w for w, yes in ((SCENARIO_DIFFERS, m in scenario), (PLANT_OUTSIDE, m in plant)) if yes]
        if words:
            out[m] = "; ".join(words)
    return out


def row_mark(r: Row) -> str:
    """The Difference words of one KPI row — said on the row whose KPI differs, not repeated on the machine's
    other rows (``machine_marks`` gives the machine's words).

    >>> from app.compare.diff import Row
    >>> from app.sim.kpis import Estimate
    >>> row_mark(Row("utilisation", "Utilisation", "%", "M", 22.0, Estimate(7.2, 0.9, 20), None, None, False))
    'plant ≠ model'
    >>> row_mark(Row("state_starved", "Starved", "%", "M", 78.0, Estimate(79.0, 21.0, 20), None, None, True))
    ''
    """
    scenario, plant = r.changed and r.fits_actual is not False, r.fits_actual is False
    words = [w for w, yes in ((SCENARIO_DIFFERS, scenario), (PLANT_OUTSIDE, plant)) if yes]
    return "; ".join(words)


def row_cells(r: Row, changed: Mapping[str, str] | None = None, trust: Trust | None = None) -> list[Cell]:
    """The cells of a row; with ``changed`` (``machine_marks``: the differing machines' words) the machine's
    two cells come first; with ``trust`` a machine's output and utilisation verdicts end with their trust score.

    >>> from app.compare.diff import Row
    >>> r = Row("utilisation", "Utilisation", "%", None, 71.25, None, None, None, None)
    >>> [cell.text for cell in row_cells(r)]
    ['Utilisation (%)', '71', '—', '—', '—', '']
    """
    out = []
    if changed is not None:
        differs = bool(changed.get(r.machine or "", ""))  # sorting on the column keeps a differing machine's rows together
        mark = row_mark(r)
        out += [Cell(r.machine or ""), Cell(mark, 0.0 if differs else 1.0, tip=DIFFERENCE_TIP if mark else "")]
    predicted = f"prediction {format_number(r.predicted[0])} … {format_number(r.predicted[1])}" if r.predicted else ""
    if r.fit:
        predicted += f"; “fits” needs the prediction within ±{r.margin:.0%}"
    words = verdict(r)
    score = trust.machines.get(r.machine or "", {}).get(r.key) if trust is not None and r.machine else None
    if score is not None:
        words = "; ".join(w for w in (words, score.text()) if w)
    out += [
        Cell(f"{r.label} ({r.unit})"),
        _figure(actual_text(r), r.actual, tip=predicted),
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
    """How many machines differ, and in what: ``2 of 40 machines differ (scenario ≠ baseline: 0, plant ≠ model: 2)``."""
    marks = machine_marks(c).values()
    scenario, plant = (sum(w in m for m in marks) for w in (SCENARIO_DIFFERS, PLANT_OUTSIDE))
    return (
        f"{len(c.changed_machines())} of {len(c.machines)} machines differ "
        f"({SCENARIO_DIFFERS}: {scenario}, {PLANT_OUTSIDE}: {plant})"
    )


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
