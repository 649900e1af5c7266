"""Calibration from history, how far to trust the calibrated model, and drift of the live plant from it.

From a window of recorded history (``calibrate``):

- **cycle time** per machine: from its ``CycleTime`` signal when bound (each new value is one cycle:
  mean with a t interval, and the coefficient of variation); otherwise running time ÷ operations, with an
  interval from batch means over ten slices of the window (the CV then stays as it was).
- **MTBF / MTTR** from the ``State`` timeline: each stretch in "down" is one repair. MTTR is their mean
  with the exact χ² interval of an exponential mean (the model draws repairs exponentially); MTBF is
  the time up ÷ the number of failures, with the χ² interval of a time-truncated exponential mean.
- **arrival rates**: the output of each flow's first station, shared among the flows that start there in
  the proportions the factory gives them.

``calibration_changes`` turns the estimates into scenario changes, so a calibrated baseline is a scenario
like any other — only estimates that rest on enough data. One rule for every estimate: it is **usable**
when both ends of its 95% interval lie within ±``ESTIMATE_MARGIN`` (25%) of it. What an estimate without
enough data needs follows from the same rule (``needed``):

- a mean of n samples (cycle time; t interval ``t·s/√n``): the smallest N whose t interval, at the CV
  observed so far, is within ±25%: a little over (1.96·CV ÷ 0.25)², 64 for a CV of 1;
- an exponential mean (MTBF, MTTR; exact χ² interval, skewed: ``3.0 h (1.2 h – 14 h)``): the interval's
  ends relative to the mean depend on the count only, so the count is fixed — 87 failures for ±25%
  (``exponential_needed``; the upper end, ``2n ÷ χ²₀.₀₂₅(2n)``, is the one that decides).

Estimates without enough data stay out of the calibrated baseline and say "1 failure — needs ≥ 87
failures for ±25%".

``trust`` here is the older closeness score of one window (1 − |predicted − actual| ÷ actual, and whether
the actual lies in the prediction interval), kept for scripts; the trust score the app shows is
``app.compare.trust`` (the share of recorded windows inside the prediction). ``drift`` lists the machines whose recent
behaviour left the prediction interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.compare.diff import prediction_interval
from app.compare.kpis import STATE_COLUMN, Observation, as_shown, line_kpis, machine_kpis
from app.model.factory import Factory
from app.sim.kpis import Estimate, estimate
from app.sim.numbers import UNKNOWN, format_number, round_to_interval
from app.sim.scenario import Change, Demand, MachineParam

BATCHES = 10
ESTIMATE_MARGIN = 0.25  # an estimate is used when its 95% interval lies within ± this share of it


def usable(e: Estimate | TimeEstimate | None, margin: float = ESTIMATE_MARGIN) -> bool:
    """Whether an estimate rests on enough data: a finite positive mean whose 95% interval lies, both
    ends, within ±``margin`` of it.

    >>> usable(Estimate(10.0, 2.0, 12)), usable(Estimate(10.0, 4.0, 3)), usable(None)
    (True, False, False)
    """
    if e is None or not (math.isfinite(e.mean) and e.mean > 0):
        return False
    return e.low >= (1 - margin) * e.mean and e.high <= (1 + margin) * e.mean


def _chi2_ends(n: int, truncated: bool) -> tuple[float, float]:
    """The ends of the 95% interval of an exponential mean from n events, relative to the estimate:
    ``2n ÷ χ²₀.₉₇₅(2n [+ 2])`` and ``2n ÷ χ²₀.₀₂₅(2n)`` (+ 2: time-truncated, the window ends between events)."""
    from scipy import stats

    return 2 * n / stats.chi2.ppf(0.975, 2 * n + (2 if truncated else 0)), 2 * n / stats.chi2.ppf(0.025, 2 * n)


def exponential_needed(margin: float = ESTIMATE_MARGIN, truncated: bool = True) -> int:
    """The fewest events whose exact χ² interval of an exponential mean lies within ±``margin`` of it.

    >>> exponential_needed()
    87
    """
    n = 1
    while True:
        lo, hi = _chi2_ends(n, truncated)
        if lo >= 1 - margin and hi <= 1 + margin:
            return n
        n += 1


def _t_needed(e: Estimate, margin: float) -> int:
    """The fewest samples whose t interval, at the spread seen so far, lies within ±``margin`` of the mean."""
    from scipy import stats

    cv = e.half_width * math.sqrt(e.n) / (stats.t.ppf(0.975, e.n - 1) * e.mean)
    ns = np.arange(e.n + 1, max(e.n + 10, 2 * math.ceil((1.96 * cv / margin) ** 2) + 10))
    fits = stats.t.ppf(0.975, ns - 1) * cv / np.sqrt(ns) <= margin  # the t quantile falls with n: the first fits
    return int(ns[np.argmax(fits)])


def needed(e: Estimate | TimeEstimate | None, unit: str, margin: float = ESTIMATE_MARGIN) -> str:
    """What an estimate without enough data needs: ``≥ 12 cycles for ±25%`` ("" when it has enough).

    >>> needed(Estimate(10.0, 5.0, 3), "cycles")
    '≥ 5 cycles for ±25%'
    >>> needed(None, "failures")
    '≥ 2 failures for an interval'
    """
    if usable(e, margin):
        return ""
    if isinstance(e, TimeEstimate):
        return f"≥ {exponential_needed(margin, e.truncated)} {unit} for ±{margin:.0%}"
    if e is None or e.n < 2 or not math.isfinite(e.half_width) or not e.mean > 0:
        return f"≥ {max(2, e.n + 1 if e is not None else 2)} {unit} for an interval"
    return f"≥ {_t_needed(e, margin)} {unit} for ±{margin:.0%}"


def _duration_unit(seconds: float) -> tuple[float, str]:
    for size, unit in ((86400.0, "days"), (3600.0, "h"), (60.0, "min")):
        if seconds >= (2 * size if size == 86400.0 else size):
            return size, unit
    return 1.0, "s"


@dataclass(frozen=True)
class TimeEstimate:
    """A mean time of exponential durations (between failures, of repairs) from n of them, with its exact
    95% χ² interval — skewed, as positive times are: ``3.0 h (1.2 h – 14 h)``.

    The mean is rounded to two significant digits of its nearer end's distance (the rule of
    ``app.sim.numbers`` with that distance as the half-width), each end to two significant digits.

    >>> str(TimeEstimate(10800.0, 4320.0, 50400.0, 2))
    '3.0 h (1.2 h – 14 h)'
    """

    mean: float
    low: float
    high: float
    n: int
    truncated: bool = True  # between failures: the window ends between events

    @property
    def half_width(self) -> float:
        """The wider side (for code that wants one number; the text shows both ends)."""
        return max(self.mean - self.low, self.high - self.mean)

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def __str__(self) -> str:
        if not math.isfinite(self.mean):
            return UNKNOWN
        size, unit = _duration_unit(self.mean)
        near = min(self.mean - self.low, self.high - self.mean) / size
        mean = round_to_interval(self.mean / size, near)[0] if near > 0 else format_number(self.mean / size)
        low, high = (format_number(x / size, digits=2) for x in (self.low, self.high))
        return f"{mean} {unit} ({low} {unit} – {high} {unit})"


def exponential_mean(total_s: float, n: int, truncated: bool) -> TimeEstimate:
    """The mean ``total_s / n`` of n exponential durations with its 95% χ² interval."""
    mean = total_s / n
    lo, hi = _chi2_ends(n, truncated)
    return TimeEstimate(mean, lo * mean, hi * mean, n, truncated)


@dataclass(frozen=True)
class MachineEstimate:
    machine: str
    cycle_s: Estimate | None  # mean processing time
    cycle_cv: float | None
    cycles: int  # cycles (or operations) the estimate rests on
    mtbf_s: TimeEstimate | None  # exponential means with their χ² intervals
    mttr_s: TimeEstimate | None
    failures: int
    method: str  # "CycleTime signal", "running time ÷ operations" or "no data"
    failures_modelled: bool = True  # the factory gives the machine failures (mtbf_s): it can collect them


@dataclass(frozen=True)
class Calibration:
    t0: float
    t1: float
    time_scale: float
    machines: list[MachineEstimate]
    arrivals_per_h: dict[str, Estimate]  # per part flow

    def machine(self, mid: str) -> MachineEstimate:
        return next(m for m in self.machines if m.machine == mid)


def _state_pieces(history, start: dict, mid: str, t0: float, t1: float) -> tuple[np.ndarray, list[int | None]]:
    """Breakpoints and the state column held in each piece of [t0, t1] (``start``: the history at t0)."""
    first = start.get((mid, "State"))
    times, texts = history.text_series(mid, "State", t0, t1)
    keep = (times > t0) & (times <= t1)
    first_text = first[1] if first is not None and (first[2] >> 30) == 0 else None
    held = [first_text, *[t for t, k in zip(texts, keep, strict=True) if k]]
    codes = [STATE_COLUMN.get(x) if x is not None else None for x in held]
    return np.concatenate([[t0], times[keep], [t1]]), codes


def calibrate(history, factory: Factory, t0: float, t1: float, time_scale: float = 1.0) -> Calibration:
    """Estimates of every machine's cycle time and failure behaviour, and of arrival rates, from [t0, t1]."""
    if not t1 > t0:
        raise ValueError(f"the window must end after it starts ({t0} … {t1})")
    edges = np.linspace(t0, t1, BATCHES + 1)
    at_edges = [history.state_at(t) for t in edges]  # one query per edge for all machines
    estimates = []
    output_per_h: dict[str, np.ndarray] = {}
    for m in factory.machines:
        _times, values, status = history.series(m.id, "CycleTime", t0, t1)
        # the signal is a duration the plant measured itself: in plant seconds already
        samples = values[((status >> 30) == 0) & np.isfinite(values) & (values > 0)]
        bp, codes = _state_pieces(history, at_edges[0], m.id, t0, t1)
        dur = np.diff(bp) * time_scale
        # a repair cut by the window's edges is not a whole repair: only failures that start inside count
        starts = [k for k in range(1, len(codes)) if codes[k] == 4 and codes[k - 1] not in (4, None)]
        known_up = sum(d for d, c in zip(dur, codes, strict=True) if c is not None and c != 4)
        repairs = [dur[k] for k in starts if k < len(codes) - 1 or codes[-1] != 4]
        counts = np.array([_count(snapshot, m.id) for snapshot in at_edges])
        slice_s = np.diff(edges) * time_scale
        with np.errstate(invalid="ignore", divide="ignore"):
            output_per_h[m.id] = np.diff(counts) / slice_s * 3600
        if len(samples) >= 2:
            cyc = estimate(samples)
            cv = float(samples.std(ddof=1) / samples.mean())
            method, n = "CycleTime signal", len(samples)
        else:
            running = _slice_running(bp, codes, edges) * time_scale
            ops = np.diff(counts)
            total_ops = float(np.nansum(ops))
            if total_ops > 0:
                ok = np.isfinite(ops) & (ops > 0)
                spread = estimate(running[ok] / ops[ok]).half_width if ok.sum() >= 2 else math.inf
                cyc = Estimate(float(running.sum() / total_ops), spread, int(total_ops))
                cv, method, n = None, "running time ÷ operations", int(total_ops)
            else:
                cyc, cv, method, n = None, None, "no data", 0
        mtbf = exponential_mean(known_up, len(starts), truncated=True) if starts else None
        mttr = exponential_mean(float(sum(repairs)), len(repairs), truncated=False) if repairs else None
        fails = m.sim.mtbf_s is not None and m.sim.mttr_s is not None
        estimates.append(MachineEstimate(m.id, cyc, cv, n, mtbf, mttr, len(starts), method, fails))
    arrivals = _arrivals(factory, output_per_h)
    return Calibration(t0, t1, time_scale, estimates, arrivals)


def _count(snapshot: dict, mid: str) -> float:
    row = snapshot.get((mid, "PartCount"))
    return float(row[0]) if row is not None and row[0] is not None else math.nan


def _slice_running(bp: np.ndarray, codes: list[int | None], edges: np.ndarray) -> np.ndarray:
    """Running seconds of a state timeline within each slice between ``edges``."""
    out = np.zeros(len(edges) - 1)
    for a, b, c in zip(bp[:-1], bp[1:], codes, strict=True):
        if c != 0:
            continue
        lo = np.maximum(edges[:-1], a)
        hi = np.minimum(edges[1:], b)
        out += np.clip(hi - lo, 0, None)
    return out


def _arrivals(factory: Factory, output_per_h: dict[str, np.ndarray]) -> dict[str, Estimate]:
    planned: dict[str, float] = {}
    for f in factory.flows:
        planned[f.routing[0]] = planned.get(f.routing[0], 0.0) + 3600.0 / f.interarrival.mean_s
    out = {}
    for f in factory.flows:
        first = f.routing[0]
        rates = output_per_h.get(first)
        if rates is None or not np.isfinite(rates).any():
            continue
        share = (3600.0 / f.interarrival.mean_s) / planned[first]
        out[f.part] = estimate(rates[np.isfinite(rates)] * share)
    return out


def calibration_changes(cal: Calibration, factory: Factory) -> list[Change]:
    """Scenario changes that give the factory the calibrated parameters (estimates resting on data only)."""
    changes: list[Change] = []
    for e in cal.machines:
        if usable(e.cycle_s) and e.cycle_s is not None:
            changes.append(MachineParam(machine=e.machine, param="cycle_mean_s", value=round(e.cycle_s.mean, 6)))
            if e.cycle_cv is not None and math.isfinite(e.cycle_cv):
                changes.append(MachineParam(machine=e.machine, param="cycle_cv", value=round(min(e.cycle_cv, 10.0), 6)))
        if usable(e.mtbf_s) and usable(e.mttr_s) and e.mtbf_s is not None and e.mttr_s is not None:
            changes.append(MachineParam(machine=e.machine, param="mtbf_s", value=round(e.mtbf_s.mean, 3)))
            changes.append(MachineParam(machine=e.machine, param="mttr_s", value=round(e.mttr_s.mean, 3)))
    for part, rate in cal.arrivals_per_h.items():
        if usable(rate):
            changes.append(Demand(part=part, interarrival_mean_s=round(3600.0 / rate.mean, 6)))
    return changes


# -- trust and drift ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trust:
    line: float  # 0…1
    line_fits: bool
    machines: dict[str, float]  # machine → 0…1 (machines with data only)
    machines_fit: dict[str, bool]


def _score(predicted: float, actual: float) -> float:
    if not (math.isfinite(predicted) and math.isfinite(actual)):
        return math.nan
    if actual == 0:
        return 1.0 if predicted == 0 else 0.0
    return float(min(1.0, max(0.0, 1.0 - abs(predicted - actual) / abs(actual))))


def trust(predicted: Sequence[Observation], actual: Observation) -> Trust:
    """How well simulated observations of a window reproduce the recorded one: throughput for the line,
    output per hour for each machine."""
    thr = [line_kpis(o)["throughput_per_h"] for o in predicted]
    act = line_kpis(actual)["throughput_per_h"]
    lo, hi = prediction_interval(thr)
    out_pred = np.array([machine_kpis(o)["output_per_h"] for o in predicted])
    out_act = machine_kpis(actual)["output_per_h"]
    scores, fits = {}, {}
    for i, mid in enumerate(actual.machines):
        if not math.isfinite(out_act[i]):
            continue
        scores[mid] = _score(float(np.nanmean(out_pred[:, i])), float(out_act[i]))
        a, b = prediction_interval(out_pred[:, i])
        fits[mid] = a <= out_act[i] <= b
    return Trust(_score(float(np.mean(thr)), act), lo <= act <= hi, scores, fits)


@dataclass(frozen=True)
class Drift:
    machine: str
    kpi: str
    actual: float
    low: float
    high: float

    def __str__(self) -> str:
        """``CNC-03: utilisation 100% outside the predicted 35 … 97%`` — figures to the interval's precision."""
        word, unit = DRIFT_WORDS.get(self.kpi, (self.kpi, ""))
        half = (self.high - self.low) / 2
        if not math.isfinite(half) or half <= 0:
            value, band = format_number(self.actual), format_number(self.low)
        else:
            value, low, high = (round_to_interval(x, half)[0] for x in (self.actual, self.low, self.high))
            band = f"{low} … {high}"
        return f"{self.machine}: {word} {value}{unit} outside the predicted {band}{unit}"


#: The drift check's KPIs in words, with their unit as written after a figure.
DRIFT_WORDS = {"utilisation": ("utilisation", "%"), "output_per_h": ("output", " parts/h")}
#: A prediction wider than ± this share of its mean cannot show drift (the trust score's rule, app.compare.trust).
DRIFT_MAX_SPREAD = 0.5
#: The chance that a plant behaving as its model is flagged at all, over every KPI tested together.
DRIFT_FALSE_ALARM = 0.05


@dataclass(frozen=True)
class DriftCheck:
    """What a drift check found, and how many KPIs it could test (the rest too variable for the window)."""

    found: list[Drift]
    tested: int


def drift(
    predicted: Sequence[Observation],
    actual: Observation,
    kpis: Sequence[str] = ("utilisation", "output_per_h"),
    tolerance: float = 0.05,
) -> list[Drift]:
    """The machines ``drift_check`` finds (see there)."""
    return drift_check(predicted, actual, kpis, tolerance).found


def drift_check(
    predicted: Sequence[Observation],
    actual: Observation,
    kpis: Sequence[str] = ("utilisation", "output_per_h"),
    tolerance: float = 0.05,
) -> DriftCheck:
    """Machines whose recent behaviour (``actual``, a window as long as the predicted ones) left the
    prediction interval of the model, widened by ``tolerance`` of its size (so a model whose replications
    all agree does not flag every rounding) — detect, compare, re-optimise.

    Two rules keep it from crying wolf:

    - only KPIs the prediction can test are tested: one whose interval is wider than ±``DRIFT_MAX_SPREAD`` of
      its mean (a rack busy 1% of the time, a few cycles in the window) would flag or pass anything;
    - the intervals are widened for the number of KPIs tested together (Bonferroni): 80 KPIs each at 95%
      would flag about 4 on a plant that behaves exactly as its model; at 1 − 5%/80 each, the chance of any
      false flag is at most ``DRIFT_FALSE_ALARM``.
    """
    pred = [machine_kpis(as_shown(o, actual)) for o in predicted]  # a station of several servers: as it is shown
    act = machine_kpis(actual)
    index = {m: i for i, m in enumerate(predicted[0].machines)} if predicted else {}
    tests = []
    for j, mid in enumerate(actual.machines):
        i = index.get(mid)
        if i is None:
            continue
        for key in kpis:
            value = float(act[key][j])
            values = np.array([p[key][i] for p in pred], dtype=float)
            values = values[np.isfinite(values)]
            if not math.isfinite(value) or len(values) < 2:
                continue
            lo, hi = prediction_interval(values)
            mean = float(values.mean())
            if (hi - lo) / 2 > DRIFT_MAX_SPREAD * abs(mean):
                continue  # too wide to test
            tests.append((mid, key, value, values))
    confidence = 1 - DRIFT_FALSE_ALARM / max(len(tests), 1)
    out = []
    for mid, key, value, values in tests:
        lo, hi = prediction_interval(values, confidence)
        slack = tolerance * max(abs(lo), abs(hi), 1.0) if math.isfinite(lo) and math.isfinite(hi) else 0.0
        lo, hi = lo - slack, hi + slack
        if not lo <= value <= hi:
            out.append(Drift(mid, key, value, lo, hi))
    return DriftCheck(out, len(tests))
