"""Scenario vs baseline vs actuals: every KPI side by side with its deltas and their confidence.

- A simulated KPI is the mean over replications with its 95% confidence interval.
- *Scenario − baseline* is a difference of two independent means: Welch's interval. When it contains 0 the
  difference is **not significant** (the replications cannot tell the two apart).
- *Baseline vs actual* compares one recorded window with what the baseline predicts for such a window (its
  replications cover as much simulated time as the window's connected time), with the baseline's 95%
  *prediction* interval (mean ± t·s·√(1 + 1/n)); the confidence interval of the mean would be far too
  narrow for a single window. Three outcomes (``fit_outcome``):

  * **fits**: the actual lies inside the prediction interval *and* the interval lies within the
    equivalence margin (± ``margin`` of the prediction, 10% unless set), so "fits" means "within ±10%";
  * **outside**: the actual lies outside the prediction interval (a real difference, however wide it is);
  * **not enough data**: fewer than 2 replications, or the actual inside an interval wider than the
    margin (too wide to tell). A prediction interval's half-width shrinks as 1/√(window length) (counts
    of parts and of state changes add up like Poisson counts), so the window that would make it as
    narrow as the margin is  length × (half-width ÷ margin)²: the verdict says "needs ≥ M min" (and, for
    a rate, the parts the prediction expects in that time). An actual of 0 against a positive prediction
    never fits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.compare.kpis import LINE_KPIS, STATES, Observation, as_shown, bottleneck, line_kpis, machine_kpis, shown_machines
from app.model.factory import Factory
from app.sim.kpis import Estimate, estimate
from app.sim.model import SimInputError, compile_model, overload_warnings


def _t(n: int, confidence: float = 0.95) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.5 + confidence / 2, n))


def welch(baseline: npt.ArrayLike, other: npt.ArrayLike) -> Estimate:
    """mean(b) − mean(a) with the half-width of its 95% interval (Welch–Satterthwaite); inf with < 2 each."""
    a, b = np.asarray(baseline, float), np.asarray(other, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) == 0 or len(b) == 0:
        return Estimate(math.nan, math.inf, 0)
    diff = float(b.mean() - a.mean())
    if len(a) < 2 or len(b) < 2:
        return Estimate(diff, math.inf, min(len(a), len(b)))
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se2 = va + vb
    if se2 == 0:
        return Estimate(diff, 0.0, min(len(a), len(b)))
    df = se2**2 / ((va**2 / (len(a) - 1) if va else 0) + (vb**2 / (len(b) - 1) if vb else 0))
    return Estimate(diff, _t(max(df, 1.0)) * math.sqrt(se2), min(len(a), len(b)))


def prediction_interval(values: npt.ArrayLike, confidence: float = 0.95) -> tuple[float, float]:
    """Where one more observation falls with ``confidence`` probability (low, high); (-inf, inf) with < 2 values."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        return -math.inf, math.inf
    half = _t(len(v) - 1, confidence) * v.std(ddof=1) * math.sqrt(1 + 1 / len(v))
    return float(v.mean() - half), float(v.mean() + half)


#: The equivalence margin: "fits" claims the actual is within this share of the prediction.
FIT_MARGIN = 0.10
FITS, OUTSIDE, NOT_ENOUGH = "fits", "outside", "not enough data"
#: Beyond this much recorded time (minutes: 30 days) a "needs ≥ …" adds that it cannot be told in practice.
PRACTICAL_MIN = 30 * 1440


def fit_outcome(
    base_vals: Sequence[float], actual: float, window_s: float, margin: float = FIT_MARGIN, unit: str = "", exact: bool = False
) -> tuple[str, str, tuple[float, float] | None]:
    """(outcome, what would be enough, prediction interval) of one actual against the baseline's values for
    a window of ``window_s`` seconds (see the module's text).

    >>> fit_outcome([100, 102, 98, 101, 99], 100.5, 3600)[0]
    'fits'
    >>> fit_outcome([10, 30, 20, 15, 25], 0.0, 600, unit="parts/h")[:2]  # 10 min is far too short to tell
    ('not enough data', '≥ 25 h, ≈ 482 parts')
    >>> fit_outcome([0.5, 3, 1, 0.2, 2.5], 1.0, 300, unit="%")[1]  # a rack's blocked share, 5 min recorded
    '≥ 3 days'
    >>> fit_outcome([0.5, 3, 1, 0.2, 2.5], 1.0, 7200, unit="%")[1]  # the same spread over a 2-hour window
    '≥ 58 days: too variable to tell in practice'
    """
    v = np.asarray(base_vals, float)
    v = v[np.isfinite(v)]
    if exact and len(v) == 1:
        m = float(v[0])
        return (FITS if abs(actual - m) <= margin * abs(m) else OUTSIDE), "", (m, m)
    if len(v) < 2:
        return NOT_ENOUGH, "≥ 2 replications", None
    if v.std() == 0 and v[0] == 0:
        # Replications that all gave nothing (a window so short that no part was made in any of them) predict
        # nothing: a zero-width "interval" would call any actual "outside".
        return NOT_ENOUGH, "a window long enough for the replications to make parts", None
    lo, hi = prediction_interval(v)
    mean, half = float(v.mean()), (hi - lo) / 2
    if (v >= 0).all():
        lo = max(lo, 0.0)  # a count, rate, time or share is never negative (its spread stays ± half)
    if not lo <= actual <= hi:
        return OUTSIDE, "", (lo, hi)
    allowed = margin * abs(mean)
    if half <= allowed and not (actual == 0 and mean > 0):
        return FITS, "", (lo, hi)
    if allowed <= 0 or not math.isfinite(window_s) or window_s <= 0:
        return NOT_ENOUGH, "a prediction away from 0", (lo, hi)
    need_min = math.ceil(window_s * (half / allowed) ** 2 / 60)
    needs = f"≥ {duration_text(need_min)}"
    if unit == "parts/h" and mean > 0:
        needs += f", ≈ {math.ceil(mean * need_min / 60)} parts"
    if need_min > PRACTICAL_MIN:  # "≥ 989 days" is true, but what the reader needs is: this cannot be told
        needs += ": too variable to tell in practice"
    return NOT_ENOUGH, needs, (lo, hi)


def duration_text(minutes: float) -> str:
    """Minutes as a reader takes them in: ``45 min``, ``44 h``, ``135 days`` (rounded up).

    >>> duration_text(45), duration_text(2626), duration_text(194258)
    ('45 min', '44 h', '135 days')
    """
    if minutes < 120:
        return f"{math.ceil(minutes)} min"
    if minutes < 48 * 60:
        return f"{math.ceil(minutes / 60)} h"
    return f"{math.ceil(minutes / 1440)} days"


@dataclass(frozen=True)
class Row:
    """One KPI compared."""

    key: str
    label: str
    unit: str
    machine: str | None
    actual: float  # NaN: no actual
    baseline: Estimate | None
    scenario: Estimate | None
    delta: Estimate | None  # scenario − baseline
    fits_actual: bool | None  # "fits" (True), "outside" (False), else None (nothing to compare, or not enough data)
    predicted: tuple[float, float] | None = None
    fit: str = ""  # FITS, OUTSIDE, NOT_ENOUGH or "" (no actual)
    needs: str = ""  # with NOT_ENOUGH: what would be enough ("≥ 38 min, ≈ 25 parts")
    margin: float = FIT_MARGIN  # the equivalence margin, a share of the prediction
    count: float = math.nan  # the parts counted behind an actual rate (NaN: the actual is not a count's rate)

    @property
    def changed(self) -> bool:
        """Whether this row tells of a change: the scenario differs from the baseline beyond chance (or, with
        no interval, at all), or the actual lies outside the baseline's prediction."""
        if self.fits_actual is False:
            return True
        if self.significant is not None:
            return self.significant
        return self.delta is not None and math.isfinite(self.delta.mean) and abs(self.delta.mean) > 1e-9

    @property
    def significant(self) -> bool | None:
        """Whether scenario and baseline differ beyond chance (None: no scenario, or too few replications)."""
        if self.delta is None or not math.isfinite(self.delta.half_width) or not math.isfinite(self.delta.mean):
            return None
        return not (self.delta.low <= 0 <= self.delta.high)


@dataclass(frozen=True)
class Comparison:
    rows: list[Row]
    bottleneck: dict[str, str]  # "actual" / "baseline" / "scenario" → machine id
    machines: list[str]

    def row(self, key: str, machine: str | None = None) -> Row:
        return next(r for r in self.rows if r.key == key and r.machine == machine)

    def changed_machines(self) -> list[str]:
        """Machines with a changed row (the scenario differs beyond chance, or the actual lies outside the
        prediction), in their order."""
        changed = {r.machine for r in self.rows if r.machine is not None and r.changed}
        return [m for m in self.machines if m in changed]

    def machines_by_change(self) -> list[str]:
        """Machines with a changed row first (the largest utilisation difference first), then the others in
        their order."""

        def size(mid: str) -> float:
            rows = [r for r in self.rows if r.machine == mid and r.key == "utilisation"]
            d = rows[0].delta if rows else None
            return abs(d.mean) if d is not None and math.isfinite(d.mean) else 0.0

        changed = set(self.changed_machines())
        first = sorted((m for m in self.machines if m in changed), key=lambda m: -size(m))
        return first + [m for m in self.machines if m not in changed]

    def machine_delta(self, key: str) -> np.ndarray:
        """Per machine, scenario − baseline of a machine KPI (baseline − actual when no scenario); NaN unknown."""
        out = np.full(len(self.machines), np.nan)
        index = {m: i for i, m in enumerate(self.machines)}
        for r in self.rows:
            if r.key == key and r.machine in index:
                if r.delta is not None:
                    out[index[r.machine]] = r.delta.mean
                elif r.baseline is not None and math.isfinite(r.actual):
                    out[index[r.machine]] = r.baseline.mean - r.actual
        return out


def compare(
    baseline: Sequence[Observation],
    scenario: Sequence[Observation] | None = None,
    actual: Observation | None = None,
    extra: Callable[[Observation], dict[str, float]] | None = None,
    extra_labels: dict[str, tuple[str, str]] | None = None,
    margin: float = FIT_MARGIN,
) -> Comparison:
    """KPIs of the baseline replications, the scenario's (optional) and the actual window (optional).

    ``extra`` adds line KPIs (plugins'): key → value of one observation; ``extra_labels`` key → (label, unit);
    ``margin`` the equivalence margin of "fits" (a share of the prediction).
    """
    rows: list[Row] = []

    def kpis(o: Observation) -> dict[str, float]:
        out = line_kpis(o)
        if extra is not None:
            out.update(extra(o))
        return out

    base_line = [kpis(o) for o in baseline]
    scen_line = [kpis(o) for o in scenario] if scenario else None
    act_line = kpis(actual) if actual is not None else None

    # A model without randomness gives its exact figures in one replication: no interval, not "n/a".
    exact_base = bool(baseline) and all(o.exact for o in baseline)
    exact_scen = bool(scenario) and all(o.exact for o in scenario or [])
    window_s = float(np.mean([o.seconds for o in baseline])) if baseline else math.nan

    def exact(e: Estimate | None, yes: bool) -> Estimate | None:
        return Estimate(e.mean, 0.0, e.n) if yes and e is not None and e.n == 1 else e

    def row(key, label, unit, machine, base_vals, scen_vals, act_val, count=math.nan) -> Row:
        b = exact(estimate(base_vals) if len(base_vals) else None, exact_base)
        s = exact(estimate(scen_vals) if scen_vals is not None and len(scen_vals) else None, exact_scen)
        known = b is not None and s is not None and math.isfinite(b.mean) and math.isfinite(s.mean)
        d = welch(base_vals, scen_vals) if known else None  # no difference without both figures
        if d is not None and b is not None and s is not None and b.half_width == 0 and s.half_width == 0:
            d = Estimate(s.mean - b.mean, 0.0, min(b.n, s.n))  # two exact figures: an exact difference
        fits = predicted = None
        outcome = needs = ""
        if act_val is not None and math.isfinite(act_val) and len(base_vals):
            outcome, needs, predicted = fit_outcome(base_vals, act_val, window_s, margin, unit, exact_base)
            fits = True if outcome == FITS else False if outcome == OUTSIDE else None
        actual_value = math.nan if act_val is None else act_val
        return Row(key, label, unit, machine, actual_value, b, s, d, fits, predicted, outcome, needs, margin, count)

    labels = [*LINE_KPIS, *((k, lab, unit) for k, (lab, unit) in (extra_labels or {}).items())]
    for key, label, unit in labels:
        if base_line and key not in base_line[0]:
            continue  # a plugin KPI that failed
        known = [k.get(key, math.nan) for k in [*base_line, *(scen_line or []), *([act_line] if act_line else [])]]
        if not any(math.isfinite(v) for v in known):
            continue  # a KPI no source measured (demand in results stored before it was kept)
        rows.append(
            row(
                key,
                label,
                unit,
                None,
                [k.get(key, math.nan) for k in base_line],
                [k.get(key, math.nan) for k in scen_line] if scen_line else None,
                act_line.get(key) if act_line else None,
                actual.exits if actual is not None and key == "throughput_per_h" else math.nan,
            )
        )
    parts = sorted({p for o in [*baseline, *(scenario or [])] for p in o.exits_by_part})
    for p in parts:
        per_h = lambda obs, p=p: [o.exits_by_part.get(p, 0.0) / o.seconds * 3600 for o in obs]  # noqa: E731
        rows.append(
            row(
                f"throughput_per_h:{p}",
                f"Throughput of {p}",
                "parts/h",
                None,
                per_h(baseline),
                per_h(scenario) if scenario else None,
                None,
            )
        )

    machines = list(baseline[0].machines) if baseline else (list(actual.machines) if actual else [])
    # A machine the plant shows as one station (several servers) is compared, in every column, on the time
    # in each state the model's station showed: the one definition the recorded State has (as_shown).
    base_m = [machine_kpis(as_shown(o, actual)) for o in baseline]
    scen_m = [machine_kpis(as_shown(o, actual)) for o in scenario] if scenario else None
    shown = shown_machines(actual)
    scen_index = {m: i for i, m in enumerate(scenario[0].machines)} if scenario else {}
    act_m = machine_kpis(actual) if actual is not None else None
    act_index = {m: i for i, m in enumerate(actual.machines)} if actual is not None else {}
    keys = [("utilisation", "Utilisation", "%"), ("output_per_h", "Output", "parts/h")]
    keys += [(f"state_{s}", s.replace("_", " ").capitalize(), "%") for s in STATES if s != "running"]
    for i, mid in enumerate(machines):
        for key, label, unit in keys:
            sv = [k[key][scen_index[mid]] for k in scen_m] if scen_m is not None and mid in scen_index else None
            av = float(act_m[key][act_index[mid]]) if act_m is not None and mid in act_index else None
            bv = [k[key][i] for k in base_m]
            if key.startswith("state_") and not any(np.nan_to_num([*bv, *(sv or []), av or 0.0])):
                continue  # a state the machine is never in, anywhere: no row
            counted = actual is not None and key == "output_per_h" and mid in act_index
            count = float(actual.ops[act_index[mid]]) if actual is not None and counted else math.nan  # parts behind the rate
            if mid in shown and (key == "utilisation" or key.startswith("state_")):
                label = f"{label} (station as shown: running while any server runs)"
            rows.append(row(key, label, unit, mid, bv, sv, av, count))
    neck = {"baseline": bottleneck(baseline)}
    if scenario:
        neck["scenario"] = bottleneck(scenario)
    if actual is not None:
        neck["actual"] = bottleneck([actual])
    return Comparison(rows, neck, machines)


def run_notes(factories: dict[str, Factory]) -> list[str]:
    """Sentences a comparison should show about its runs: a demand beyond a station's capacity (the backlog
    grows), a model without randomness (one exact replication, no interval). ``factories``: label → factory."""
    notes = []
    for label, factory in factories.items():
        try:
            model = compile_model(factory, replications=2)
        except SimInputError:
            continue
        notes += [f"{label.capitalize()}: {w}." for w in overload_warnings(model)]
        if model.deterministic:
            notes.append(
                f"{label.capitalize()}: the model has no randomness (fixed times, no failures): its replications would be "
                "identical, so one was run and its figures are exact (no interval)."
            )
    return notes
