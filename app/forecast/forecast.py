"""The forecast of parts out from now to a horizon: replications started from the live state, a median and
a 95% band per time point, and the probability of reaching a target.

What the figures mean
---------------------
- **The band** at a time point is a 95% *prediction* interval for the parts out then: if the plant
  behaves as its model, the count it then reaches falls inside with probability 95%. From R replications
  with mean m and standard deviation s it is ``m ± t(0.975, R−1) · s · √(1 + 1/R)`` (the interval for one
  new observation, which allows for the replications' own sampling error; counts over hours are close to
  normal), never below what has already been made; shown rounded outwards to whole parts. It needs at
  least ``MIN_BAND_REPLICATIONS`` replications.
- **The median** is the replications' median.
- **The probability of reaching the target** is the share of replications that reach it by the horizon,
  with its exact (Clopper–Pearson) 95% interval; below ``MIN_PROBABILITY_REPLICATIONS`` replications it is
  not given.

Replications are independent: each draws its unknown start (``app.forecast.start``) and its future from
its own seeds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass, field, replace

import numpy as np

from app.forecast.live_state import LiveState
from app.forecast.start import start_state, unknowns
from app.model.factory import Factory
from app.sim.engine import Cancelled, simulate
from app.sim.model import SimModel, compile_model
from app.sim.numbers import format_duration
from app.sim.runner import worker_cancelled

#: Fewest replications behind a band: with fewer, t(0.975, R−1) makes it too wide to mean much.
MIN_BAND_REPLICATIONS = 10
#: Fewest replications behind a probability: with 20, its 95% interval is at most about ±23 points wide.
MIN_PROBABILITY_REPLICATIONS = 20
BAND_LEVEL = 0.95


@dataclass(frozen=True)
class ForecastRequest:
    """What to forecast: from ``live`` for ``horizon_s`` seconds, with ``replications``; ``made_so_far``:
    parts out since the period began (the shift), the count ``target`` is in (None: no target)."""

    live: LiveState
    horizon_s: float
    replications: int = 20
    target: int | None = None
    made_so_far: int = 0
    seed: int = 0
    sample_s: float = 300.0


@dataclass(frozen=True)
class Probability:
    """The share of replications that reached the target, with its 95% interval (all in 0..1)."""

    p: float
    low: float
    high: float
    reached: int
    n: int

    def text(self) -> str:
        return f"{self.p:.0%} (95% interval {self.low:.0%}–{self.high:.0%}, {self.reached} of {self.n} replications)"


@dataclass(frozen=True)
class Forecast:
    """Parts out from now: ``t_s`` seconds from now (0 … horizon), ``runs`` (replications × times) the
    parts out since the period began in each replication."""

    t_s: np.ndarray
    runs: np.ndarray
    made_so_far: int
    horizon_s: float
    target: int | None
    seed: int
    unknowns: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def replications(self) -> int:
        return int(self.runs.shape[0])

    @property
    def final(self) -> np.ndarray:
        """Parts out by the horizon, per replication."""
        return self.runs[:, -1]

    @property
    def median(self) -> np.ndarray:
        return np.median(self.runs, axis=0)

    def band(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(low, high) of the 95% band per time point, unrounded; None with too few replications."""
        return prediction_band(self.runs, floor=self.made_so_far)

    def band_at_horizon(self) -> tuple[int, int] | None:
        """The band at the horizon, rounded outwards to whole parts."""
        band = self.band()
        return None if band is None else (math.floor(band[0][-1]), math.ceil(band[1][-1]))

    def probability(self) -> Probability | None:
        """The probability of reaching the target by the horizon (None: no target, or too few replications)."""
        if self.target is None or self.replications < MIN_PROBABILITY_REPLICATIONS:
            return None
        return reach_probability(self.final, self.target)

    def summary(self, by: str | None = None) -> list[str]:
        """The forecast in sentences, each figure with what it rests on. ``by``: what the horizon is called
        ("by the shift's end"); without it "in 7.94 h" — true only at the moment the forecast was made."""
        r, h = self.replications, by or f"in {format_duration(self.horizon_s)}"
        band = self.band_at_horizon()
        median = round(float(self.median[-1]))
        if band is None:
            need = f"needs ≥ {MIN_BAND_REPLICATIONS}, has {r}"
            lines = [f"{h}: median {median} parts out; not enough replications for a band — {need}"]
        else:
            lines = [f"{h}: {median} parts out (95% band {band[0]}–{band[1]}, {r} replications)"]
        if self.made_so_far:
            lines[0] += f", {self.made_so_far} of them made so far"
        if self.target is not None:
            prob = self.probability()
            if prob is None:
                lines.append(
                    f"reaching {self.target}: not enough replications — needs ≥ {MIN_PROBABILITY_REPLICATIONS}, has {r}"
                )
            else:
                lines.append(f"reaching {self.target}: {prob.text()}")
        return lines + [f"assumed: {u}" for u in self.unknowns]


def prediction_band(runs: np.ndarray, floor: float = 0.0, level: float = BAND_LEVEL) -> tuple[np.ndarray, np.ndarray] | None:
    """Per column of ``runs`` (replications × times): the ``level`` prediction interval for one more
    observation under normality, ``m ± t · s · √(1 + 1/R)``, not below ``floor``. None below
    ``MIN_BAND_REPLICATIONS`` rows.

    >>> runs = np.array([[0, 10 + k % 5] for k in range(20)], dtype=float)
    >>> low, high = prediction_band(runs)
    >>> float(low[0]), 7 < float(low[1]) < 12 < float(high[1]) < 17
    (0.0, True)
    """
    n = runs.shape[0]
    if n < MIN_BAND_REPLICATIONS:
        return None
    from scipy import stats  # on first use: it costs time at start-up

    t = float(stats.t.ppf(0.5 + level / 2, n - 1))
    mean, sd = runs.mean(axis=0), runs.std(axis=0, ddof=1)
    half = t * sd * math.sqrt(1 + 1 / n)
    return np.maximum(mean - half, floor), np.maximum(mean + half, floor)


def reach_probability(final: np.ndarray, target: float) -> Probability:
    """The share of ``final`` at or above ``target`` with its exact (Clopper–Pearson) 95% interval.

    >>> p = reach_probability(np.arange(20), 10)
    >>> p.p, round(p.low, 2), round(p.high, 2)
    (0.5, 0.27, 0.73)
    """
    from scipy import stats

    n = len(final)
    k = int(np.sum(final >= target))
    low = 0.0 if k == 0 else float(stats.beta.ppf(0.025, k, n - k + 1))
    high = 1.0 if k == n else float(stats.beta.ppf(0.975, k + 1, n - k))
    return Probability(k / n, low, high, k, n)


def forecast_model(factory: Factory, horizon_s: float, seed: int, sample_s: float = 300.0) -> SimModel:
    """The factory compiled to run ``horizon_s`` from now: no warm-up, the series every ``sample_s``."""
    return compile_model(factory, horizon_s=horizon_s, warmup_s=0.0, replications=1, seed=seed, sample_s=sample_s)


def replicate(model: SimModel, live: LiveState, k: int, cancel: Callable[[], bool] | None = None) -> np.ndarray:
    """Replication ``k``: parts out from now at 0, sample_s, 2·sample_s … and at the horizon."""
    rng = np.random.default_rng([model.seed, k, 0x5747])  # the start's own stream, apart from the engine's
    cancel = worker_cancelled if cancel is None else cancel  # in a pool's worker: its pool's cancel flag
    result = simulate(model, k, cancel=cancel, start=start_state(live, model, rng))
    out = result.series_out.sum(axis=1)
    if len(result.series_t) and result.series_t[-1] >= model.horizon_s:
        out = out[:-1]
    out[0] = 0  # now: what has been made (an overdue part that leaves at once counts from the next point on)
    return np.append(out, result.total_throughput).astype(np.int64)


def time_grid(model: SimModel) -> np.ndarray:
    """The time points ``replicate`` reports: every ``sample_s`` from 0, and the horizon."""
    t = np.arange(0.0, model.horizon_s, model.sample_s)
    return np.append(t, model.horizon_s)


def run_forecast(
    factory: Factory | SimModel,
    request: ForecastRequest,
    executor: Executor | None = None,
    cancel: Callable[[], bool] | None = None,
    progress: Callable[[float], None] | None = None,
) -> Forecast:
    """Run the request's replications (on ``executor``'s workers, or here) and gather the forecast.

    ``cancel()`` returning True stops it with ``Cancelled`` (replications not yet started are dropped).
    """
    wall0 = time.perf_counter()
    if isinstance(factory, SimModel):
        model = replace(factory, horizon_s=float(request.horizon_s), warmup_s=0.0, seed=request.seed, sample_s=request.sample_s)
    else:
        model = forecast_model(factory, request.horizon_s, request.seed, request.sample_s)
    n = request.replications
    rows: list[np.ndarray | None] = [None] * n
    if executor is None:
        for k in range(n):
            rows[k] = replicate(model, request.live, k, cancel)
            if progress is not None:
                progress((k + 1) / n)
    else:
        futures: dict[Future, int] = {executor.submit(replicate, model, request.live, k): k for k in range(n)}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=0.05)
                for fut in done:
                    rows[futures[fut]] = fut.result()
                if progress is not None and done:
                    progress(sum(r is not None for r in rows) / n)
                if cancel is not None and cancel():
                    raise Cancelled()
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
    runs = np.vstack([r for r in rows if r is not None]) + request.made_so_far
    return Forecast(
        t_s=time_grid(model),
        runs=runs,
        made_so_far=request.made_so_far,
        horizon_s=model.horizon_s,
        target=request.target,
        seed=request.seed,
        unknowns=unknowns(request.live, model),
        wall_s=time.perf_counter() - wall0,
    )
