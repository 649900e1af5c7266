"""The what-if service: the scenarios of the open factory, their runs in the background, comparisons with
the recorded actuals, calibration from history and the drift of the live plant from the model.

No Qt here. The service announces what happened through psygnal signals; those marked *worker* are
emitted on a worker thread (a job's thread or the service's own), so a GUI slot connected to them must
hop to the GUI thread itself (psygnal's ``connect(thread="main")``: ``app.ui.gui_thread``). Long work is request → compute →
report: the request (``compare``, ``calibrate``, ``check_drift``) freezes its inputs on the calling thread,
the computation runs on the service's worker thread, and the result comes back as a signal and as the
returned ``Future`` (what tests and scripts wait on).

Examples
--------
>>> from app.model.document import FactoryDocument
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> import tempfile, pathlib
>>> doc = FactoryDocument(load_factory(DEMO_FACTORY))
>>> service = WhatIfService(lambda: doc, lambda: None, ScenarioStore(pathlib.Path(tempfile.mkdtemp())))
>>> entry = service.new_scenario("current", name="As it is")
>>> entry.scenario.factory is doc.factory, status_text(entry)
(True, 'not run')
>>> service.shutdown()
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from psygnal import Signal

from app.compare.calibrate import Calibration, Drift, calibrate, calibration_changes, drift_check
from app.compare.diff import FIT_MARGIN, duration_text
from app.compare.kpis import Observation, observe_history
from app.compare.trust import TRUST_WINDOW_S
from app.compare.window import ActualsWindow, recent_window
from app.history.recorder import History
from app.model.document import FactoryDocument
from app.model.factory import Factory
from app.model.io import load_factory
from app.model.problems import FactoryFileError
from app.sim.jobs import Job, JobQueue, eta_s
from app.sim.model import SimInputError, compile_model
from app.sim.numbers import count_of
from app.sim.scenario import Scenario, ScenarioError, apply, changes_from_layouts, describe, load_scenario, save_scenario
from app.whatif.comparison import Honesty, WhatIfComparison, build_comparison, no_window_note, run_inputs, window_text
from app.whatif.store import Entry, ScenarioStore

log = logging.getLogger(__name__)

MIN_WINDOW_S = 60.0  # a recorded window shorter than this is not compared with (nor calibrated from)

T = TypeVar("T")


@dataclass(frozen=True)
class DriftModel:
    """What the plant should do, by the last comparison with actuals: the baseline's observations over a
    window of ``window_s`` seconds of the ``factory`` (a snapshot)."""

    predicted: list[Observation]
    window_s: float
    factory: Factory
    time_scale: float = 1.0  # plant seconds per recorded second
    #: The open document's factory when the comparison was made: once its simulation parameters change (a
    #: recalibration, a deployment, an edit) the prediction no longer describes the model (``DRIFT_STALE``).
    document_factory: Factory | None = None


def status_text(entry: Entry) -> str:
    """The entry's state in a few words: not run, results stored, running 40 %, 12 s left, failed: why…"""
    j = entry.job
    if j is None:
        return "results stored" if entry.results.exists() else "not run"
    if j.status == "running":
        left = eta_s(j)
        return f"running {j.progress:.0%}" + (f", {left:.0f} s left" if math.isfinite(left) else "")
    if j.status == "failed":
        return f"failed: {j.message}"
    return j.status


#: What the drift check says once the model changed after the run it compares with.
DRIFT_STALE = (
    "The model has changed since the run compared with the plant (a recalibration, a deployment or an edit): "
    "run and compare again to check utilisation and output for drift."
)


def drift_text(found: Sequence[Drift], tested: int | None = None, window_s: float | None = None) -> str:
    """The drift check's finding in a sentence (the first four machines). Nothing found is not "the plant
    behaves as the model": it says what was tested over what window, and where cycle times are watched.

    >>> print(drift_text([], 52, 3600.0).replace("; ", ";\\n"))
    Utilisation and output over the last 60 min are within the model's prediction (52 KPIs tested together);
    cycle times, failures and arrivals: the drift watchdog (Alarms dock).
    """
    if not found:
        over = f" over the last {duration_text(window_s / 60)}" if window_s else ""
        count = f" ({count_of(tested, 'KPI')} tested together)" if tested is not None else ""
        if tested == 0:
            return f"No utilisation or output{over} can be tested: the model's prediction is too wide for this window."
        return (
            f"Utilisation and output{over} are within the model's prediction{count}; "
            "cycle times, failures and arrivals: the drift watchdog (Alarms dock)."
        )
    return "Drift from the model: " + "; ".join(str(d) for d in found[:4]) + (" …" if len(found) > 4 else "")


def model_moved(before: Factory, now: Factory) -> bool:
    """Whether the simulation parameters of ``now`` differ from ``before`` (a machine's, a part flow's)."""
    return [(m.id, m.sim) for m in before.machines] != [(m.id, m.sim) for m in now.machines] or [
        (f.part, f.interarrival, f.routing) for f in before.flows
    ] != [(f.part, f.interarrival, f.routing) for f in now.flows]


def drift_message(found: Sequence[Drift]) -> str:
    """The status bar's short form: the machines, and where the figures are (a line that fits beside the badge)."""
    machines = list(dict.fromkeys(d.machine for d in found))
    more = f" and {len(machines) - 3} more" if len(machines) > 3 else ""
    return f"Drift from the model: {', '.join(machines[:3])}{more} — figures in the What-if dock"


class WhatIfService:
    """Scenarios, runs and comparisons of the open factory.

    Parameters
    ----------
    document
        Returns the open document (None: none open); scenarios take its ``factory`` snapshot.
    history_path
        Returns where the open factory's history is recorded (None: nowhere).
    store
        Where scenario files are kept (default: the user's ``whatif/`` folder).
    extra_kpis, kpi_labels
        Further line KPIs for comparisons (the plugins'): one observation → key → value (called on the
        worker thread), and key → (label, unit) (called on the thread that asks for the comparison).
    cores, memory_limit_mb
        The job queue's worker processes in all, and each one's memory limit (default: the queue's).

    Signals
    -------
    entries_changed()
        The list of scenarios (or one of them) changed; emitted on the calling thread.
    job_changed(Job)
        A job's status or progress changed (*worker*: the job's thread, or the caller's for submit/cancel).
    comparison_ready(WhatIfComparison)
        A comparison asked for by ``compare`` (*worker*).
    actuals_changed(str)
        What the next run would compare with (``actuals_text``), read by ``refresh_actuals`` (*worker*).
    calibration_ready(Calibration)
        Estimates asked for by ``calibrate`` (*worker*).
    drift_checked(list)
        The machines (``Drift``) that left the prediction, after ``check_drift`` (*worker*).
    message(str)
        A sentence for the status bar (any thread).
    error(str, str)
        Something the user asked for failed: title, text (any thread).
    """

    entries_changed = Signal()
    job_changed = Signal(object)
    comparison_ready = Signal(object)
    actuals_changed = Signal(str)
    calibration_ready = Signal(object)
    drift_checked = Signal(list)
    message = Signal(str)
    error = Signal(str, str)

    def __init__(
        self,
        document: Callable[[], FactoryDocument | None],
        history_path: Callable[[], Path | None],
        store: ScenarioStore | None = None,
        *,
        extra_kpis: Callable[[Observation], dict[str, float]] | None = None,
        kpi_labels: Callable[[], dict[str, tuple[str, str]]] | None = None,
        cores: int | None = None,
        memory_limit_mb: int | None = None,
        time_scale: Callable[[], float] | None = None,
    ):
        self._document = document
        self._history_path = history_path
        self._time_scale = time_scale
        self.store = store or ScenarioStore()
        self._extra_kpis = extra_kpis
        self._kpi_labels = kpi_labels
        self._cores, self._memory_limit_mb = cores, memory_limit_mb
        self.entries: list[Entry] = []
        self.actuals_min = 60.0  # compare with this much recorded history (0: none; the horizon is simulated)
        self.min_window_s = MIN_WINDOW_S
        self.fit_margin = FIT_MARGIN  # "fits" claims the actual is within this share of the prediction
        self.trust_window_min = TRUST_WINDOW_S / 60  # the trust score's windows
        self.trust_hours = 8.0  # the trust score uses the connected history of this many last hours
        self.dask_address: str | None = None  # a Dask scheduler for runs (None: local processes)
        self.queue: JobQueue | None = None
        self.drift_model: DriftModel | None = None
        self.drift_said = ""  # the last drift check's sentence (``drift_text``, or ``DRIFT_STALE``)
        self.drifting: list[Drift] = []
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whatif")
        # The actuals line has its own reader: a comparison under way on the worker must not hold it back.
        self._actuals_reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whatif-actuals")
        self._actuals_read: Future[str] | None = None

    # -- the list --------------------------------------------------------------------------------------------
    @property
    def factory(self) -> Factory | None:
        """The open document's factory (a snapshot: later edits make new versions)."""
        doc = self._document()
        return doc.factory if doc is not None else None

    def history_path(self) -> Path | None:
        path = self._history_path() if self._document() is not None else None
        return Path(path) if path is not None else None

    def load_for(self, factory: Factory | None) -> None:
        """List the stored scenarios of ``factory`` (by its name); scenarios still running stay listed."""
        self.entries = [e for e in self.entries if e.running]
        if factory is not None:
            self.entries += self.store.scenarios_of(factory.name, skip={e.path for e in self.entries})
        self.entries_changed.emit()

    def add(self, scenario: Scenario) -> Entry | None:
        """Store a new scenario and list it (None, said through ``error``, when it cannot be written)."""
        try:
            entry = self.store.add(scenario)
        except OSError as err:
            self._error("Cannot store the scenario", f"Could not write to {self.store.folder}: {err.strerror or err}")
            return None
        self.entries.append(entry)
        self.entries_changed.emit()
        return entry

    def new_scenario(self, source: str = "current", name: str | None = None) -> Entry | None:
        """A scenario of the open factory: unchanged ("current"), or with the layout edits made since the
        file was saved ("layout"). None (and a ``message`` saying why) when there is none to make."""
        doc = self._document()
        if doc is None:
            return None
        factory, path = doc.factory, doc.path
        if source == "layout":
            if path is None:
                self.message.emit("Save the factory first: layout edits are compared with the saved file")
                return None
            try:
                base = load_factory(path)
            except FactoryFileError as e:
                self.message.emit(f"Cannot read the saved factory: {e}")
                return None
            changes = changes_from_layouts(base, factory)
            if not changes:
                self.message.emit("No layout edits since the file was saved")
                return None
            scenario = Scenario(name=name or "Layout edits", factory=base, base_path=str(path), changes=changes)
        else:
            scenario = Scenario(
                name=name or f"Scenario {len(self.entries) + 1}", factory=factory, base_path=str(path) if path else None
            )
        return self.add(scenario)

    def update_scenario(self, entry: Entry, scenario: Scenario) -> bool:
        """Give the entry a changed scenario (saved at once); False, said through ``error``, when it cannot
        be written (the entry keeps the scenario it had)."""
        try:
            self.store.update(entry, scenario)
        except OSError as err:
            self._error("Cannot save the scenario", f"Could not write {entry.path}: {err.strerror or err}")
            return False
        self.entries_changed.emit()
        return True

    def delete(self, entry: Entry) -> bool:
        """Remove a scenario and its results (not while it runs)."""
        if entry.running or entry not in self.entries:
            return False
        self.store.delete(entry)
        self.entries.remove(entry)
        self.entries_changed.emit()
        return True

    def open_file(self, path: str | Path) -> Entry | None:
        """List a scenario file from elsewhere (a copy is stored with the others)."""
        try:
            s = load_scenario(path)
        except ScenarioError as e:
            self._error("Cannot open the scenario", str(e))
            return None
        return self.add(s)

    def save_as(self, entry: Entry, path: str | Path) -> bool:
        """Export the entry's scenario to ``path``."""
        try:
            save_scenario(entry.scenario, path)
        except OSError as err:
            self._error("Cannot save the scenario", f"Could not write {path}: {err.strerror or err}")
            return False
        return True

    # -- running ----------------------------------------------------------------------------------------------
    def _queue(self) -> JobQueue:
        address = self.dask_address or None
        if self.queue is None or (self.queue.dask_address != address and not self.queue.running()):
            if self.queue is not None:
                self.queue.shutdown(0)
            self.queue = JobQueue(
                on_change=self._on_job_changed, cores=self._cores, dask_address=address, memory_limit_mb=self._memory_limit_mb
            )
        return self.queue

    def time_scale(self) -> float:
        """Plant seconds per recorded second of the live link's plant (a plant simulator's ``--speed``; 1 for a
        real plant): recorded windows are scaled by it to the plant's time, as simulations run in it."""
        scale = self._time_scale() if self._time_scale is not None else 1.0
        return scale if scale > 0 else 1.0

    def actuals(self) -> ActualsWindow | None:
        """The last ``actuals_min`` minutes of the history as its connected stretches, and how much that is
        ("42 min of 60, 2 gaps"); None: no history (or none asked for)."""
        path = self.history_path()
        if self.actuals_min <= 0 or path is None or not path.exists():
            return None
        try:
            return recent_window(History(path), self.actuals_min)
        except Exception as e:  # a damaged history: no actuals, said in the log
            # str(e), not e: a kept log record (a test's log capture) would hold its traceback, the frames and the service
            log.warning("cannot read the history %s: %s", path, str(e))
            return None

    def actuals_window(self) -> tuple[float, float] | None:
        """The recorded window to compare with: from the first to the last connected stretch of the last
        ``actuals_min`` minutes (None: no history, or less than ``min_window_s`` of connected time in it).
        Only the connected stretches inside it are compared with (``app.compare.window``)."""
        w = self.actuals()
        return w.span if w is not None and w.stretches and w.connected_s >= self.min_window_s else None

    def actuals_text(self) -> str:
        """What the next run would compare with: ``Actuals: 42 min of 60, 2 gaps`` or why there are none. The
        window is minutes of recording; on a plant run faster than the clock the text adds the plant time they
        hold (``2 min of 60 recorded (4 h of plant time at 120×), no gaps``)."""
        if self.actuals_min <= 0:
            return "No actuals: scenario against baseline only"
        w = self.actuals()
        if w is None:
            return "No recorded history of this factory yet"
        text = window_text(w, self.time_scale())
        if w.connected_s < self.min_window_s:
            return f"Actuals: {text} — not enough data, needs ≥ {self.min_window_s / 60:.0f} min connected"
        return f"Actuals: {text}"

    def refresh_actuals(self) -> Future[str]:
        """Read ``actuals_text`` off the calling thread (it queries the history) and announce it as
        ``actuals_changed``; a read still under way is not asked twice (its future is returned)."""
        read = self._actuals_read
        if read is not None and not read.done():
            return read

        def work() -> str:
            text = self.actuals_text()
            self.actuals_changed.emit(text)
            return text

        self._actuals_read = self._actuals_reader.submit(work)
        return self._actuals_read

    def run(self, entry: Entry) -> Job | None:
        """Simulate the scenario and its baseline (the factory unchanged) in the background; with a recorded
        window they cover as much simulated time as the window (after the warm-up). None, said through
        ``error``, when the scenario cannot run."""
        s = entry.scenario
        held = self.actuals()  # what the history holds now (None: none, or no actuals asked for)
        enough = held is not None and bool(held.stretches) and held.connected_s >= self.min_window_s
        window, actuals = (held.span, held) if enough and held is not None else (None, None)
        try:
            changed = apply(s)
            warmup = s.warmup_s if s.warmup_s is not None else s.factory.simulation.warmup_s
            # connected time only, in the plant's seconds
            horizon = warmup + actuals.connected_s * self.time_scale() if actuals is not None else s.horizon_s
            kw: dict[str, Any] = {"horizon_s": horizon, "warmup_s": warmup, "replications": s.replications, "seed": s.seed}
            base = compile_model(s.factory, **kw)
            model = compile_model(changed, **kw)
        except (ScenarioError, SimInputError) as err:
            self._error("The scenario cannot run", str(err))
            return None
        entry.write_window(
            window,
            actuals.requested_s if actuals is not None else None,
            self.time_scale(),
            asked_s=max(self.actuals_min, 0.0) * 60.0,
            recorded_s=held.connected_s if held is not None else None,
        )
        entry.job = self._queue().submit(s.name, [("baseline", base), ("scenario", model)], entry.results)
        self.entries_changed.emit()
        return entry.job

    def cancel(self, entry: Entry) -> None:
        if entry.job is not None and self.queue is not None:
            self.queue.cancel(entry.job)

    def _on_job_changed(self, job: Job) -> None:  # the job's thread
        self.job_changed.emit(job)
        if job.done:
            msg = f"What-if “{job.name}”: {job.status}" + (f" — {job.message}" if job.message else "")
            if job.status == "failed":
                log.error("%s", msg)
            self.message.emit(msg)

    # -- comparing ----------------------------------------------------------------------------------------------
    def compare(self, entry: Entry) -> Future[WhatIfComparison]:
        """Compare the entry's last run with its baseline (and the actuals of its window), on the worker;
        the result comes as ``comparison_ready``, a failure as ``error``."""
        scenario, job, results, window = entry.scenario, entry.job, entry.results, entry.window()
        history_path = self.history_path()
        labels = self._kpi_labels() if self._kpi_labels is not None else None  # loads KPI plugins: here, not there
        honesty = Honesty(
            self.fit_margin, self.trust_window_min * 60.0, self.trust_hours * 3600.0, entry.requested_s(), entry.time_scale()
        )

        asked_s, recorded_s, min_window_s = entry.noted("asked_s"), entry.noted("recorded_s"), self.min_window_s
        document = self._document()
        document_factory = document.factory if document is not None else None

        def work() -> WhatIfComparison:
            why = None
            if window is None:  # said against what a run made now would compare with: the dock's line
                why = no_window_note(asked_s, recorded_s, self.actuals(), min_window_s, self.time_scale())
            inputs = run_inputs(scenario, job, results)
            result = build_comparison(scenario, inputs, history_path, window, self._extra_kpis, labels, honesty, why)
            if result.actual is not None and result.window is not None:
                t0, t1 = result.window
                self.drift_model = DriftModel(
                    result.baseline_observations, t1 - t0, scenario.factory, honesty.time_scale, document_factory
                )
            return result

        return self._submit(work, self.comparison_ready.emit, "Cannot compare")

    # -- calibration and drift ------------------------------------------------------------------------------
    def calibrate(self) -> Future[Calibration] | None:
        """Estimate the plant's parameters from the longest connected stretch of the actuals window, on the
        worker (``calibration_ready``).
        None without a long enough recorded window: an expected state, not an error, said through ``message``
        with what is needed ("not enough data — needs ≥ 1 min of recorded history")."""
        factory, path, actuals = self.factory, self.history_path(), self.actuals()
        # The longest connected stretch: counters and state timelines are never read across a gap.
        window = max(actuals.stretches, key=lambda ab: ab[1] - ab[0]) if actuals is not None and actuals.stretches else None
        if window is not None and window[1] - window[0] < self.min_window_s:
            window = None
        if factory is None or window is None or path is None:
            self.message.emit(
                f"Not enough data to calibrate — needs ≥ {self.min_window_s / 60:.0f} min of recorded history of this "
                "factory (connect to the plant and let it record)"
            )
            return None
        scale = self.time_scale()
        return self._submit(
            lambda: calibrate(History(path), factory, *window, scale), self.calibration_ready.emit, "Calibration failed"
        )

    def add_calibrated(self, cal: Calibration) -> Entry | None:
        """A new scenario whose factory is the open one with the calibrated parameters."""
        factory = self.factory
        if factory is None:
            return None
        changes = calibration_changes(cal, factory)
        # The calibrated factory is the baseline: its scenario changes nothing, so the run shows how well the
        # calibrated model reproduces the actuals (the trust), and further scenarios can start from it.
        calibrated = apply(Scenario(name="calibrated", factory=factory, changes=changes))
        stamp = _clock(cal.t1)
        description = "\n".join(describe(c) for c in changes)
        return self.add(Scenario(name=f"Calibrated baseline ({stamp})", factory=calibrated, description=description))

    def check_drift(self) -> Future[list[Drift] | None] | None:
        """Compare the latest recorded window with the model's prediction, on the worker; the machines that
        drifted come as ``drift_checked`` (and a ``message`` when there are any). None when there is no
        prediction yet (no comparison with actuals) or no history; the future's None: not enough history."""
        model, path = self.drift_model, self.history_path()
        if model is None or path is None or not path.exists():
            return None

        document = self._document()
        now = document.factory if document is not None else None

        def work() -> list[Drift] | None:
            if now is not None and model.document_factory is not None and model_moved(model.document_factory, now):
                self.drift_said = DRIFT_STALE
                return []
            span = History(path).span()
            if span is None or span[1] - span[0] < model.window_s:
                return None
            recorded = observe_history(History(path), model.factory, span[1] - model.window_s, span[1], model.time_scale)
            check = drift_check(model.predicted, recorded)
            self.drift_said = drift_text(check.found, check.tested, model.window_s * model.time_scale)
            return check.found

        def report(found: list[Drift] | None) -> None:
            if found is None:
                return
            self.drifting = found
            if found:
                log.warning("%s", drift_text(found))
                self.message.emit(drift_message(found))
            self.drift_checked.emit(found)

        return self._submit(work, report, None)

    # -- the worker ---------------------------------------------------------------------------------------------
    def _submit(self, fn: Callable[[], T], report: Callable[[T], Any], failure: str | None) -> Future[T]:
        """Run ``fn`` on the worker; ``report`` its result there; a failure goes to ``error`` (titled
        ``failure``; None: only the log) and to the future."""

        def work() -> T:
            try:
                result = fn()
            except Exception as e:  # the user asked for this: say why it failed, and keep it in the future
                if failure is None:
                    log.warning("what-if: %s: %s", type(e).__name__, e)
                else:
                    self._error(failure, f"{type(e).__name__}: {e}")
                raise
            report(result)
            return result

        return self._worker.submit(work)

    def _error(self, title: str, text: str) -> None:
        log.error("%s: %s", title, text)
        self.error.emit(title, text)

    def shutdown(self) -> None:
        """Cancel the runs and wait for them (and the comparison or check under way) to end."""
        if self.queue is not None:
            self.queue.shutdown()
        self._worker.shutdown(wait=True, cancel_futures=True)
        self._actuals_reader.shutdown(wait=True, cancel_futures=True)


def _clock(t: float) -> str:
    return time.strftime("%H:%M", time.localtime(t))
