"""Calibration from history, how far to trust the calibrated model, and drift of the live plant from it.

From a window of recorded history (``calibrate``):

- **cycle time** per machine: from its ``CycleTime`` signal when bound (each new value is one cycle:
  mean with a t interval, and the coefficient of variation); otherwise running time ÷ operations, with an
  interval from batch means over ten slices of the window (the CV then stays as it was).
- **MTBF / MTTR** from the ``State`` timeline: each stretch in "down" is one repair. MTTR is their mean
  (t interval); MTBF is the time up ÷ the number of failures, with the exact χ² interval of an
  exponential mean.
- **arrival rates**: the output of each flow's first station, shared among the flows that start there in
  the proportions the factory gives them.

``calibration_changes`` turns the estimates into scenario changes, so a calibrated baseline is a scenario
like any other — only estimates that rest on enough data: an estimate is **usable** when its 95% interval
lies within ±``ESTIMATE_MARGIN`` (25%) of it. For a mean of n samples that is n ≥ (t·CV ÷ 0.25)²: with
fewer, the estimate says how many it needs (n × (half-width ÷ allowed)²); an MTBF from n failures
(χ² interval, about ±1.96/√n) needs n ≥ 16 failures, an MTTR as many repairs as its t interval asks.
Estimates without enough data stay out of the calibrated baseline and show "not enough data — needs ≥ N".

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
from app.compare.kpis import STATE_COLUMN, Observation, line_kpis, machine_kpis
from app.model.factory import Factory
from app.sim.kpis import Estimate, estimate
from app.sim.scenario import Change, Demand, MachineParam

BATCHES = 10
ESTIMATE_MARGIN = 0.25  # an estimate is used when its 95% interval lies within ± this share of it


def usable(e: Estimate | None, margin: float = ESTIMATE_MARGIN) -> bool:
    """Whether an estimate rests on enough data: a finite positive mean whose 95% interval lies within
    ±``margin`` of it.

    >>> usable(Estimate(10.0, 2.0, 12)), usable(Estimate(10.0, 4.0, 3)), usable(None)
    (True, False, False)
    """
    return e is not None and math.isfinite(e.mean) and e.mean > 0 and e.half_width <= margin * e.mean


def needed(e: Estimate | None, unit: str, margin: float = ESTIMATE_MARGIN) -> str:
    """What an estimate without enough data needs: ``≥ 12 cycles`` ("" when it has enough).

    >>> needed(Estimate(10.0, 5.0, 3), "cycles")
    '≥ 12 cycles'
    >>> needed(None, "failures")
    '≥ 2 failures'
    """
    if usable(e, margin):
        return ""
    if e is None or e.n < 2 or not math.isfinite(e.half_width) or not e.mean > 0:
        return f"≥ {max(2, e.n + 1 if e is not None else 2)} {unit}"
    return f"≥ {max(e.n + 1, math.ceil(e.n * (e.half_width / (margin * e.mean)) ** 2))} {unit}"


@dataclass(frozen=True)
class MachineEstimate:
    machine: str
    cycle_s: Estimate | None  # mean processing time
    cycle_cv: float | None
    cycles: int  # cycles (or operations) the estimate rests on
    mtbf_s: Estimate | None
    mttr_s: Estimate | None
    failures: int
    method: str  # "CycleTime signal", "running time ÷ operations" or "no data"


@dataclass(frozen=True)
class Calibration:
    t0: float
    t1: float
    time_scale: float
    machines: list[MachineEstimate]
    arrivals_per_h: dict[str, Estimate]  # per part flow

    def machine(self, mid: str) -> MachineEstimate:
        return next(m for m in self.machines if m.machine == mid)


def _chi2_interval(total_up_s: float, failures: int) -> Estimate:
    """Mean time between failures of an exponential process, time-truncated: T/n with its 95% χ² interval."""
    from scipy import stats

    if failures == 0:
        return Estimate(math.inf, math.inf, 0)
    mean = total_up_s / failures
    lo = 2 * total_up_s / stats.chi2.ppf(0.975, 2 * failures + 2)
    hi = 2 * total_up_s / stats.chi2.ppf(0.025, 2 * failures)
    # Estimate is symmetric: keep the mean, report the wider side (the interval is skewed).
    return Estimate(mean, max(mean - lo, hi - mean), failures)


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
        mtbf = _chi2_interval(known_up, len(starts)) if starts else None
        mttr = estimate(repairs) if repairs else None
        estimates.append(MachineEstimate(m.id, cyc, cv, n, mtbf, mttr, len(starts), method))
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
        return f"{self.machine}: {self.kpi} {self.actual:.3g} outside the predicted {self.low:.3g} … {self.high:.3g}"


def drift(
    predicted: Sequence[Observation],
    actual: Observation,
    kpis: Sequence[str] = ("utilisation", "output_per_h"),
    tolerance: float = 0.05,
) -> list[Drift]:
    """Machines whose recent behaviour (``actual``, a window as long as the predicted ones) left the
    prediction interval of the model, widened by ``tolerance`` of its size (so a model whose replications
    all agree does not flag every rounding) — detect, compare, re-optimise."""
    pred = [machine_kpis(o) for o in predicted]
    act = machine_kpis(actual)
    index = {m: i for i, m in enumerate(predicted[0].machines)} if predicted else {}
    out = []
    for j, mid in enumerate(actual.machines):
        i = index.get(mid)
        if i is None:
            continue
        for key in kpis:
            value = float(act[key][j])
            if not math.isfinite(value):
                continue
            lo, hi = prediction_interval([p[key][i] for p in pred])
            slack = tolerance * max(abs(lo), abs(hi), 1.0) if math.isfinite(lo) and math.isfinite(hi) else 0.0
            lo, hi = lo - slack, hi + slack
            if not lo <= value <= hi:
                out.append(Drift(mid, key, value, lo, hi))
    return out
