"""The comparison of a what-if run: its baseline and scenario replications against each other and, when
the run was made for a recorded window, against the actuals of that window. Pure functions of their
inputs; the service runs them on a worker thread.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.compare.diff import FIT_MARGIN, Comparison, compare, run_notes
from app.compare.kpis import (
    Observation,
    exits_over_time_sim,
    observe_replication,
    sinks,
)
from app.compare.trust import MIN_WINDOWS, TRUST_WINDOW_S, Trust, TrustScore, recorded_windows, simulated_windows, window_edges
from app.compare.window import (
    ActualsWindow,
    bottlenecks_over_stretches,
    connected_stretches,
    exits_over_stretches,
    holes,
    minutes_had,
    observe_stretches,
)
from app.history.recorder import History
from app.model.factory import Factory
from app.sim.bottleneck import BottleneckShares, summarise_run
from app.sim.jobs import Job
from app.sim.numbers import format_duration
from app.sim.results import load_finished_run
from app.sim.scenario import Scenario, apply, describe

#: A run's model: a compiled ``SimModel`` (this session's job) or a stored run's row (a dict).
RunModel = Any


@dataclass(frozen=True)
class RunInputs:
    """What a comparison reads of a finished run: (baseline, scenario) replications and their models."""

    baseline: list
    scenario: list
    baseline_model: RunModel
    scenario_model: RunModel


@dataclass(frozen=True)
class Honesty:
    """How a comparison judges the actuals: the equivalence margin of "fits", the trust score's window and
    how far back it looks, and how much history the run asked for (None: not noted, the window's span)."""

    margin: float = FIT_MARGIN
    trust_window_s: float = TRUST_WINDOW_S
    trust_span_s: float = 8 * 3600.0
    requested_s: float | None = None
    time_scale: float = 1.0  # plant seconds per recorded second (a plant simulator run N× the clock: N)


@dataclass
class WhatIfComparison:
    """A what-if comparison, ready to show: the KPI table, the parts-out series, the notes to print above
    it, the trust in the baseline (with actuals), and the scenario's mean WIP per machine."""

    scenario: Scenario
    comparison: Comparison
    series: dict[str, tuple[np.ndarray, np.ndarray]]
    notes: list[str]
    window: tuple[float, float] | None
    actual: Observation | None
    baseline_observations: list[Observation]
    warmup_s: float
    trust: Trust | None = None
    actuals: ActualsWindow | None = None  # the connected stretches compared with, and how much they are
    simulated_wip: tuple[list[str], np.ndarray] | None = None
    changes: list[str] = field(default_factory=list)
    # Shifting-bottleneck shares (app.sim.bottleneck): "baseline", "scenario" and, with a recorded window, "actual"
    bottlenecks: dict[str, BottleneckShares] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.scenario.name


def run_inputs(scenario: Scenario, job: Job | None, results_path: Path) -> RunInputs:
    """The replications of the last run: the job's when it finished in this session, else the stored ones
    (``LookupError`` when the results file holds no finished run)."""
    if job is not None and job.status == "done":
        models = dict(job.models)
        return RunInputs(job.results["baseline"], job.results["scenario"], models["baseline"], models["scenario"])
    runs = {label: load_finished_run(results_path, f"{scenario.name} — {label}") for label in ("baseline", "scenario")}
    return RunInputs(runs["baseline"][1], runs["scenario"][1], runs["baseline"][0], runs["scenario"][0])


def warmup_s(model: RunModel) -> float:
    """The warm-up of a compiled model or a stored run."""
    return float(model["warmup_s"] if isinstance(model, dict) else model.warmup_s)


def stations_of(model: RunModel) -> list[str]:
    """The station ids of a compiled model or a stored run."""
    return json.loads(model["stations"]) if isinstance(model, dict) else [s.id for s in model.stations]


def observe(result, model: RunModel, factory: Factory) -> Observation:
    """One replication of ``model`` (compiled from ``factory``) as an observation."""
    stations = stations_of(model)
    parts = json.loads(model["parts"]) if isinstance(model, dict) else model.parts  # a stored run, or a compiled model
    exact = bool(getattr(model, "deterministic", False))  # a model without randomness (stored runs: unknown)
    return observe_replication(result, stations, parts, warmup_s(model), sinks(factory), exact)


def build_comparison(
    scenario: Scenario,
    inputs: RunInputs,
    history_path: Path | None = None,
    window: tuple[float, float] | None = None,
    extra: Callable[[Observation], dict[str, float]] | None = None,
    extra_labels: dict[str, tuple[str, str]] | None = None,
    honesty: Honesty | None = None,
    no_window: str | None = None,
) -> WhatIfComparison:
    """Compare a finished run's scenario with its baseline, and with the connected stretches of the recorded
    ``window`` of the history at ``history_path`` when there is one (``extra``/``extra_labels``: further line
    KPIs, the plugins'; ``honesty``: the margin of "fits" and the trust score's windows; ``no_window``: why
    the run has no window, ``no_window_note``)."""
    honesty = honesty or Honesty()
    changed = apply(scenario)
    notes_runs = run_notes({"baseline": scenario.factory, "scenario": changed})
    base_obs = [observe(r, inputs.baseline_model, scenario.factory) for r in inputs.baseline]
    scen_obs = [observe(r, inputs.scenario_model, changed) for r in inputs.scenario]
    actual = series_actual = actuals = trusted = None
    necks = {
        label: summarise_run(results, stations_of(model), warmup_s(model), bool(getattr(model, "deterministic", False)))
        for label, results, model in (
            ("baseline", inputs.baseline, inputs.baseline_model),
            ("scenario", inputs.scenario, inputs.scenario_model),
        )
    }
    if window is not None and history_path is not None and Path(history_path).exists():
        history = History(history_path)
        requested = honesty.requested_s or window[1] - window[0]
        span = history.span()
        lo = max(window[1] - requested, span[0]) if span else window[0]
        stretches = connected_stretches(history, lo, window[1])  # those of the window the run was made for
        actuals = ActualsWindow(requested, stretches, holes(stretches, lo, window[1]))
        if stretches:
            actual = observe_stretches(history, scenario.factory, stretches, honesty.time_scale)
            series_actual = exits_over_stretches(history, scenario.factory, stretches, honesty.time_scale)
            necks = {"actual": bottlenecks_over_stretches(history, scenario.factory, stretches, honesty.time_scale), **necks}
        trusted = trust_of(history, scenario, honesty)
    c = compare(base_obs, scen_obs, actual, extra=extra, extra_labels=extra_labels, margin=honesty.margin)
    warm = warmup_s(inputs.baseline_model)
    series = {
        "baseline": exits_over_time_sim(inputs.baseline, warm),
        "scenario": exits_over_time_sim(inputs.scenario, warmup_s(inputs.scenario_model)),
    }
    if series_actual is not None:
        series = {"actual": series_actual, **series}
    wip = None
    per_machine = [o.wip_by_machine for o in scen_obs if o.wip_by_machine is not None]
    if scen_obs and len(per_machine) == len(scen_obs):  # the engine's exact time-averages (samples are for charts)
        wip = (list(scen_obs[0].machines), np.mean(per_machine, axis=0))
    return WhatIfComparison(
        scenario=scenario,
        comparison=c,
        series=series,
        notes=window_notes(actuals, len(base_obs), warm, honesty.margin, honesty.time_scale, no_window) + notes_runs,
        window=window,
        actual=actual,
        baseline_observations=base_obs,
        warmup_s=warm,
        trust=trusted,
        actuals=actuals,
        simulated_wip=wip,
        changes=[describe(ch) for ch in scenario.changes],
        bottlenecks=necks,
    )


def trust_of(history: History, scenario: Scenario, honesty: Honesty) -> Trust:
    """The baseline's trust score over the connected history of the last ``honesty.trust_span_s``: recorded
    windows against simulated windows of the same length (``app.compare.trust``). Without enough recorded
    windows nothing is simulated: the score says what it needs."""
    w, scale = honesty.trust_window_s, honesty.time_scale
    span = history.span()
    stretches = connected_stretches(history, span[1] - honesty.trust_span_s / scale, span[1], w / scale) if span else ()
    if len(window_edges(stretches, w / scale)) < MIN_WINDOWS:
        return Trust(w, TrustScore(0, len(window_edges(stretches, w / scale)), w))
    from app.compare.trust import trust

    actual = recorded_windows(history, scenario.factory, stretches, w, scale)
    return trust(simulated_windows(scenario.factory, w, seed=scenario.seed), actual, w)


def window_text(actuals: ActualsWindow, time_scale: float = 1.0) -> str:
    """How much a window of actuals holds, saying which clock counts: the window is minutes of recording (the
    clock's); on a plant simulator run ``time_scale``× faster they hold that much more plant time, which the
    comparison simulates and its rates are per.

    >>> w = ActualsWindow(3600.0, ((0.0, 120.0),))
    >>> window_text(w), window_text(w, 120.0)
    ('2 min of 60, no gaps', '2 min of 60 recorded (4 h of plant time at 120×), no gaps')
    """
    text = actuals.text()
    if time_scale == 1.0:
        return text
    minutes, gaps = text.split(", ", 1)  # "42 min of 60", "2 gaps"
    return f"{minutes} recorded ({format_duration(actuals.connected_s * time_scale)} of plant time at {time_scale:g}×), {gaps}"


def no_window_note(
    asked_s: float | None,
    recorded_s: float | None,
    now: ActualsWindow | None,
    min_window_s: float,
    time_scale: float = 1.0,
) -> str:
    """Why a run has no recorded window to compare with, said so that it agrees with the What-if dock now:
    a run is simulated for as long as the window it was made for, so a window recorded since cannot be
    compared with it — the run must be made again (``asked_s``: the window asked for then, 0 for none;
    ``recorded_s``: the connected seconds the history held then, None without a history; ``now``: the
    actuals window a run made now would take). Both None: an older run that did not note them.

    >>> now = ActualsWindow(3600.0, ((0.0, 90.0),))
    >>> for part in no_window_note(3600.0, 18.0, now, 60.0, 120.0).split(" — "):
    ...     print(part)
    No actuals: this run was made when only 0.3 min had been recorded (needs ≥ 1 min connected)
    run it again to compare with what has been recorded since: 1.5 min of 60 recorded (3 h of plant time at 120×), no gaps.
    >>> print(no_window_note(0.0, None, None, 60.0))
    No actuals: this run was made with none asked for (Actuals: last 0 min) — scenario against baseline only.
    """
    need = f"needs ≥ {min_window_s / 60:.0f} min connected"
    if asked_s is None and recorded_s is None:
        return "No recorded window: scenario against baseline only."
    if asked_s is not None and asked_s <= 0:
        return "No actuals: this run was made with none asked for (Actuals: last 0 min) — scenario against baseline only."
    if recorded_s is None:
        then = "No actuals: this run was made before any history of this factory was recorded"
    else:
        then = f"No actuals: this run was made when only {minutes_had(recorded_s)} min had been recorded ({need})"
    if now is None or not now.stretches:
        return f"{then} — scenario against baseline only."
    if now.connected_s >= min_window_s:
        return f"{then} — run it again to compare with what has been recorded since: {window_text(now, time_scale)}."
    return f"{then}; {window_text(now, time_scale)} now, still not enough — scenario against baseline only."


def window_notes(
    actuals: ActualsWindow | None,
    replications: int,
    warm_s: float,
    margin: float = FIT_MARGIN,
    time_scale: float = 1.0,
    no_window: str | None = None,
) -> list[str]:
    """What the comparison was made against, in a sentence (``no_window``: why there is no window)."""
    if actuals is None:
        return [no_window or "No recorded window: scenario against baseline only."]
    if not actuals.stretches:
        return [f"Actuals: {window_text(actuals, time_scale)} — no connected stretch of recorded history to compare with."]
    t1 = actuals.span[1]
    return [
        f"Actuals: {window_text(actuals, time_scale)} of connected history up to {time.strftime('%H:%M', time.localtime(t1))} "
        "— the window this run was simulated for, not what has been recorded since "
        "(KPIs summed over the connected stretches, rates over connected time); "
        f"{replications} replications each as long after an {warm_s / 3600:g} h warm-up. "
        f"“Fits” means within the 95% prediction and within ±{margin:.0%} of it."
    ]


def align(values: np.ndarray, machines: Sequence[str], factory: Factory) -> np.ndarray:
    """Per-machine values in ``machines`` order → the factory's order (NaN for machines not compared: a
    scenario may add or remove machines)."""
    index = {m: i for i, m in enumerate(machines)}
    return np.array([values[index[m.id]] if m.id in index else np.nan for m in factory.machines], dtype=float)
