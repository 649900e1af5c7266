"""The trust score: how often the plant's measured KPIs fell inside the model's 95% prediction intervals.

The recorded history is cut into consecutive windows of ``window_s`` (15 min unless set), inside connected
stretches only (``app.compare.window``: a window never spans a link outage or a plant restart; the rest of
a stretch shorter than a window is left out). The model's prediction for *a window of that length* comes
from simulated windows of that length: each replication of the baseline is run past its warm-up and cut
into consecutive windows of ``window_s`` (``simulated_windows``), so the interval has the spread of
15-minute figures, not that of a whole run's mean. The 95% prediction interval is the 2.5–97.5 percentile
range of the simulated windows (they are many: ``replications × windows``; with fewer than ``QUANTILE_MIN``
the normal-theory interval of ``app.compare.diff.prediction_interval`` is used).

For each KPI — the line's throughput, and per machine its output and its utilisation — trust is the
share of recorded windows whose figure lies inside that interval, with the number of windows behind it:
"trust 93% over 14 windows". On a plant that behaves as its model, about 95% of windows fall inside (at
least 95% for counts, whose percentile interval holds a little more than 95% of a discrete distribution).

Rule for enough windows: ``MIN_WINDOWS`` = 5. With n windows all inside, the one-sided 95% lower bound of
the true share is 0.05^(1/n) (Clopper–Pearson); it first exceeds 50% at n = 5 — fewer windows cannot
show, even with every one inside, that the model is right more often than not. Below that the score is
"not enough data — needs ≥ 5 windows of 15 min".

Rule for a prediction narrow enough to test: a window's 95% prediction interval must lie within
±``MAX_SPREAD`` (50%) of the predicted mean. A wider one — in a slow plant a 15-minute window may hold
a few cycles of a machine, and its utilisation can be anything from 0 to 100% — would be passed by almost
any plant, so its "trust" would claim nothing: such a KPI says "prediction too wide to test in 15-min
windows (±76%) — needs windows of ≥ 35 min", the length scaled as the interval shrinks, 1/√(length).

Consecutive windows of one history are not fully independent (a queue carries over), so the binomial
interval given with the score (``interval``) is a little optimistic; it is what the number of windows
supports at best.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from app.compare.diff import duration_text, prediction_interval
from app.compare.kpis import Observation, as_shown, line_kpis, machine_kpis, observe_history, sinks
from app.model.factory import Factory
from app.sim.engine import Engine
from app.sim.model import compile_model

TRUST_WINDOW_S = 900.0
MIN_WINDOWS = 5
MAX_SPREAD = 0.5  # a prediction interval wider than ± this share of the mean cannot test a window
QUANTILE_MIN = 40  # simulated windows for the percentile interval
#: Replications × simulated windows per replication for the prediction (320 windows of 15 min).
REPLICATIONS, WINDOWS_PER_REPLICATION = 10, 32
MACHINE_TRUST_KPIS = (("output_per_h", "output"), ("utilisation", "utilisation"))


def _minutes(seconds: float) -> str:
    return duration_text(seconds / 60) if seconds >= 60 else f"{seconds:.0f} s"


@dataclass(frozen=True)
class TrustScore:
    """How many of ``windows`` recorded windows had the KPI inside the model's 95% prediction interval.

    >>> TrustScore(13, 14, 900.0).text()
    'trust 93% over 14 windows'
    >>> TrustScore(2, 2, 900.0).text()
    'not enough data — needs ≥ 5 windows of 15 min (has 2)'
    >>> TrustScore(14, 14, 900.0, spread=0.76).text()
    'prediction too wide to test in 15 min windows (±76%) — needs windows of ≥ 35 min'
    """

    inside: int
    windows: int
    window_s: float
    spread: float = 0.0  # the prediction interval's half-width ÷ the predicted mean

    @property
    def testable(self) -> bool:
        """Whether the prediction interval is narrow enough to test a window (``MAX_SPREAD``)."""
        return self.spread <= MAX_SPREAD

    @property
    def enough(self) -> bool:
        """Enough windows, and a prediction narrow enough to test them: the share means something."""
        return self.windows >= MIN_WINDOWS and self.testable

    @property
    def share(self) -> float:
        """Inside ÷ windows (NaN without enough windows: never a figure without data behind it)."""
        return self.inside / self.windows if self.enough else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        """The 95% Clopper–Pearson interval of the share ((NaN, NaN) without enough windows)."""
        if not self.enough:
            return math.nan, math.nan
        return binomial_interval(self.inside, self.windows)

    def text(self) -> str:
        if not self.testable:
            need = self.window_s * (self.spread / MAX_SPREAD) ** 2 if math.isfinite(self.spread) else math.inf
            needs = "a prediction away from 0"
            if math.isfinite(need):
                needs = f"needs windows of ≥ {duration_text(need / 60)}"
            spread = f"±{self.spread:.0%}" if math.isfinite(self.spread) else "around 0"
            return f"prediction too wide to test in {_minutes(self.window_s)} windows ({spread}) — {needs}"
        if not self.enough:
            return f"not enough data — needs ≥ {MIN_WINDOWS} windows of {_minutes(self.window_s)} (has {self.windows})"
        return f"trust {self.share:.0%} over {self.windows} windows"


def binomial_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper–Pearson) interval of a share k/n.

    >>> [round(x, 3) for x in binomial_interval(19, 20)]
    [0.751, 0.999]
    """
    from scipy import stats

    a = (1 - confidence) / 2
    lo = float(stats.beta.ppf(a, k, n - k + 1)) if k > 0 else 0.0
    hi = float(stats.beta.ppf(1 - a, k + 1, n - k)) if k < n else 1.0
    return lo, hi


@dataclass(frozen=True)
class Trust:
    """Trust in a model: the line's throughput and each machine's output and utilisation."""

    window_s: float
    line: TrustScore
    machines: dict[str, dict[str, TrustScore]] = field(default_factory=dict)  # machine → KPI key → score

    def machine_text(self, machine: str) -> str:
        """``output: trust 93% over 14 windows; utilisation: …`` ("" for a machine without windows)."""
        scores = self.machines.get(machine, {})
        return "; ".join(f"{label}: {scores[key].text()}" for key, label in MACHINE_TRUST_KPIS if key in scores)

    def lowest(self, count: int = 3) -> list[tuple[str, str, TrustScore]]:
        """The machine KPIs with the lowest trust (those with enough windows), lowest first."""
        found = [(m, k, s) for m, by in self.machines.items() for k, s in by.items() if s.enough]
        return sorted(found, key=lambda x: x[2].share)[:count]

    def summary(self) -> str:
        """``Trust (15 min windows): line throughput trust 93% over 14 windows; machine KPIs: 38 of 40 at ≥ 80%``."""
        head = f"Trust ({_minutes(self.window_s)} windows): line throughput {self.line.text()}"
        scores = [s for by in self.machines.values() for s in by.values()]
        rated = [s for s in scores if s.enough]
        wide = sum(1 for s in scores if not s.testable)
        if rated:
            ok = sum(1 for s in rated if s.share >= 0.8)
            head += f"; machine KPIs: {ok} of {len(rated)} at ≥ 80%"
            low = self.lowest(1)
            if low and low[0][2].share < 0.8:
                m, key, s = low[0]
                head += f" (lowest: {m} {dict(MACHINE_TRUST_KPIS)[key]} {s.share:.0%})"
        if wide:
            head += f"; {wide} machine KPI{'s' if wide > 1 else ''} too variable to test in {_minutes(self.window_s)} windows"
        return head


def prediction_band(values: Sequence[float]) -> tuple[float, float]:
    """Where one more simulated window falls with 95% probability: the 2.5–97.5 percentiles of many
    windows, else the normal-theory prediction interval."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if len(v) >= QUANTILE_MIN:
        lo, hi = np.percentile(v, [2.5, 97.5])
        return float(lo), float(hi)
    return prediction_interval(v)


# -- simulated windows ---------------------------------------------------------------------------------------
def simulated_windows(
    factory: Factory,
    window_s: float = TRUST_WINDOW_S,
    replications: int = REPLICATIONS,
    windows: int = WINDOWS_PER_REPLICATION,
    seed: int | None = None,
    warmup_s: float | None = None,
) -> list[Observation]:
    """Observations of simulated windows of ``window_s``: each replication runs past its warm-up and is cut
    into ``windows`` consecutive windows (the figures of a window are the differences of the books closed
    at its two ends)."""
    kw: dict = {"replications": replications}
    if seed is not None:
        kw["seed"] = seed
    warm = factory.simulation.warmup_s if warmup_s is None else warmup_s
    model = compile_model(factory, horizon_s=warm + windows * window_s, warmup_s=warm, **kw)
    stations = [s.id for s in model.stations]
    sink = sinks(factory)
    out = []
    for rep in range(model.replications):
        eng = Engine(model, rep)
        prev = None
        for k in range(windows + 1):
            eng.run_until(model.warmup_s + k * window_s)
            books = eng.finish()
            now = (
                books.measured_s,
                np.array(books.state_s, float),
                np.array(books.completed_ops, float),
                np.array(books.shown_state_s, float),
            )
            if prev is not None:
                ops = now[2] - prev[2]
                out.append(
                    Observation(
                        machines=stations,
                        seconds=now[0] - prev[0],
                        state_s=now[1] - prev[1],
                        ops=ops,
                        energy_kwh=np.full(len(stations), np.nan),
                        wip=math.nan,
                        exits=float(ops[sink].sum()),
                        source=f"replication {rep}, window {k}",
                        shown_state_s=now[3] - prev[3],
                    )
                )
            prev = now
    return out


# -- recorded windows ----------------------------------------------------------------------------------------
def window_edges(stretches: Sequence[tuple[float, float]], window_s: float) -> list[tuple[float, float]]:
    """Consecutive windows of ``window_s`` inside each stretch (none across a gap; a stretch's remainder
    shorter than a window is left out).

    >>> window_edges([(0, 35), (50, 70)], 10)
    [(0, 10), (10, 20), (20, 30), (50, 60), (60, 70)]
    """
    out = []
    for a, b in stretches:
        n = int((b - a) // window_s)
        out += [(a + k * window_s, a + (k + 1) * window_s) for k in range(n)]
    return out


def recorded_windows(
    history, factory: Factory, stretches: Sequence[tuple[float, float]], window_s: float = TRUST_WINDOW_S, time_scale: float = 1.0
) -> list[Observation]:
    """Observations of the recorded windows of ``window_s`` plant seconds inside the connected ``stretches``
    (history seconds; ``time_scale`` plant seconds per history second)."""
    return [observe_history(history, factory, a, b, time_scale) for a, b in window_edges(stretches, window_s / time_scale)]


# -- the score -----------------------------------------------------------------------------------------------
def _score(predicted: Sequence[float], actual: Sequence[float], window_s: float) -> TrustScore:
    lo, hi = prediction_band(predicted)
    a = np.asarray(actual, float)
    a = a[np.isfinite(a)]
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return TrustScore(0, 0, window_s)  # no prediction: nothing to score
    mean = float(np.nanmean(np.asarray(predicted, float)))
    half = (hi - lo) / 2
    spread = 0.0 if half == 0 else half / abs(mean) if mean != 0 else math.inf
    return TrustScore(int(((a >= lo) & (a <= hi)).sum()), len(a), window_s, spread)


def trust(predicted: Sequence[Observation], actual: Sequence[Observation], window_s: float = TRUST_WINDOW_S) -> Trust:
    """Trust from simulated windows (``predicted``) and recorded windows (``actual``) of one length."""
    thr_p = [line_kpis(o)["throughput_per_h"] for o in predicted]
    thr_a = [line_kpis(o)["throughput_per_h"] for o in actual]
    line = _score(thr_p, thr_a, window_s)
    machines: dict[str, dict[str, TrustScore]] = {}
    if predicted and actual:
        pm = [machine_kpis(as_shown(o, actual[0])) for o in predicted]  # a station of several servers: as shown
        am = [machine_kpis(o) for o in actual]
        index = {m: i for i, m in enumerate(predicted[0].machines)}
        for j, mid in enumerate(actual[0].machines):
            i = index.get(mid)
            if i is None:
                continue
            scores = {}
            for key, _label in MACHINE_TRUST_KPIS:
                values = [float(k[key][j]) for k in am]
                if any(math.isfinite(v) for v in values):
                    scores[key] = _score([float(k[key][i]) for k in pm], values, window_s)
            if scores:
                machines[mid] = scores
    return Trust(window_s, line, machines)
