"""The What-if dock: scenarios of the open factory, background runs with progress and cancel, comparisons
against the recorded actuals, calibration from history and drift of the live plant from the model.

Scenario files and their results live in the user's data folder (``whatif/``), one scenario file, one
SQLite results file and one small note of the compared window each, so they are listed again, reopened
and exported after a restart. Simulations run in worker processes (``app.sim.jobs``); history is read on
worker threads; the GUI thread only shows what comes back.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from app.compare.calibrate import Calibration, calibrate, calibration_changes, drift, trust
from app.compare.diff import compare, run_notes
from app.compare.kpis import exits_over_time_history, exits_over_time_sim, observe_history, observe_replication, sinks
from app.history.recorder import History
from app.model.factory import Factory
from app.model.io import load_factory
from app.model.problems import FactoryFileError
from app.paths import user_data_dir
from app.sim.jobs import Job, JobQueue, eta_s
from app.sim.model import SimInputError, compile_model
from app.sim.results import load_finished_run
from app.sim.scenario import Scenario, ScenarioError, apply, changes_from_layouts, describe, load_scenario, save_scenario
from app.ui.comparison_dialog import CalibrationDialog, ComparisonDialog
from app.ui.scenario_dialog import ScenarioDialog
from app.ui.widgets import scrolling

log = logging.getLogger(__name__)

MIN_WINDOW_S = 60.0  # a recorded window shorter than this is not compared with (nor calibrated from)


def whatif_dir() -> Path:
    p = user_data_dir() / "whatif"
    p.mkdir(parents=True, exist_ok=True)
    return p


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:40] or "scenario"


@dataclass
class Entry:
    """A scenario in the list: its file, its results file, its job (while or after it runs here)."""

    scenario: Scenario
    path: Path
    job: Job | None = None

    @property
    def results(self) -> Path:
        return self.path.with_suffix(".sqlite")

    @property
    def note(self) -> Path:
        return self.path.with_suffix(".run.json")


class ProgressStrip(QtWidgets.QWidget):
    """A thin progress bar that repaints with the next frame. (QProgressBar repaints at once on every
    value, and in a window holding an OpenGL view each repaint composes the whole window: slow in
    software rendering.)"""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.fraction = 0.0
        self.setFixedHeight(8)

    def set_fraction(self, fraction: float) -> None:
        fraction = min(1.0, max(0.0, fraction))
        if abs(fraction - self.fraction) >= 0.002:
            self.fraction = fraction
            self.update()

    def paintEvent(self, _event) -> None:
        painter = QtGui.QPainter(self)
        pal = self.palette()
        painter.fillRect(self.rect(), pal.color(QtGui.QPalette.ColorRole.Mid))
        done = self.rect().adjusted(0, 0, -round(self.width() * (1 - self.fraction)), 0)
        painter.fillRect(done, pal.color(QtGui.QPalette.ColorRole.Highlight))
        painter.end()


class _Done(QtCore.QObject):
    finished = QtCore.Signal(object, object)  # result, exception


def run_off_gui(
    fn: Callable[[], object], on_done: Callable[[object, BaseException | None], None], parent: QtCore.QObject
) -> None:
    """Run ``fn`` on a worker thread and call ``on_done(result, error)`` back on the GUI thread."""
    bridge = _Done(parent)
    bridge.finished.connect(lambda result, error: (on_done(result, error), bridge.deleteLater()))

    def work() -> None:
        try:
            result, error = fn(), None
        except Exception as e:  # reported to on_done, on the GUI thread
            result, error = None, e
        bridge.finished.emit(result, error)

    QtCore.QThreadPool.globalInstance().start(work)


class WhatIfDock(QtWidgets.QDockWidget):
    """Scenarios, runs and comparisons of the open factory.

    Parameters
    ----------
    window
        The main window: its ``document``, ``history_path()``, ``live`` (to colour the view by a delta) and
        status bar.
    """

    job_changed = QtCore.Signal(object)
    comparison_opened = QtCore.Signal(object)

    def __init__(self, window, parent: QtWidgets.QWidget | None = None):
        super().__init__("What-if", parent)
        self.setObjectName("dock_whatif")
        self.window_ = window
        self.entries: list[Entry] = []
        self.queue: JobQueue | None = None
        self.dialogs: list[QtWidgets.QDialog] = []
        self.drift_model: tuple[list, float, Factory] | None = None  # predicted observations, window s, factory
        self.drifting: list = []
        self.min_window_s = MIN_WINDOW_S
        body = QtWidgets.QWidget(self)
        layout = QtWidgets.QVBoxLayout(body)
        self.list = QtWidgets.QTreeWidget(body)
        self.list.setHeaderLabels(["Scenario", "Changes", "Status"])
        self.list.setRootIsDecorated(False)
        self.list.setToolTip("Scenarios of this factory; double-click to compare a finished run")
        self.list.itemDoubleClicked.connect(lambda *_: self.compare_selected())
        self.list.currentItemChanged.connect(lambda *_: self._refresh_buttons())
        layout.addWidget(self.list, 1)
        self.progress = ProgressStrip(body)
        self.progress.setVisible(False)
        self.progress_text = QtWidgets.QLabel("", body)
        self.progress_text.setVisible(False)
        layout.addWidget(self.progress_text)
        layout.addWidget(self.progress)
        grid = QtWidgets.QGridLayout()
        self.new_button = QtWidgets.QToolButton(body)
        self.new_button.setText("&New")
        self.new_button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QtWidgets.QMenu(self.new_button)
        menu.addAction("From the current factory", lambda: self.new_scenario("current"))
        menu.addAction("From layout edits (against the saved file)", lambda: self.new_scenario("layout"))
        self.new_button.setMenu(menu)
        self.edit_button = QtWidgets.QPushButton("&Edit…", body)
        self.delete_button = QtWidgets.QPushButton("Delete", body)
        self.run_button = QtWidgets.QPushButton("&Run", body)
        self.run_button.setToolTip("Simulate the scenario and its baseline in the background")
        self.cancel_button = QtWidgets.QPushButton("&Cancel", body)
        self.compare_button = QtWidgets.QPushButton("Com&pare…", body)
        self.calibrate_button = QtWidgets.QPushButton("Ca&librate…", body)
        self.calibrate_button.setToolTip("Estimate cycle times, failures and arrivals from the recorded history")
        self.open_button = QtWidgets.QPushButton("&Open…", body)
        self.save_button = QtWidgets.QPushButton("Save &As…", body)
        buttons = [
            self.new_button,
            self.edit_button,
            self.delete_button,
            self.run_button,
            self.cancel_button,
            self.compare_button,
            self.calibrate_button,
            self.open_button,
            self.save_button,
        ]
        for k, b in enumerate(buttons):
            grid.addWidget(b, k // 3, k % 3)
            b.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
        layout.addLayout(grid)
        form = QtWidgets.QFormLayout()
        self.window_min = QtWidgets.QSpinBox(body)
        self.window_min.setRange(0, 100_000)
        self.window_min.setValue(60)
        self.window_min.setSuffix(" min")
        self.window_min.setToolTip("Compare with this much recorded history (0: no actuals; the scenario's horizon is simulated)")
        form.addRow("Actuals: last", self.window_min)
        self.dask = QtWidgets.QLineEdit(body)
        self.dask.setPlaceholderText("local processes (or tcp://scheduler:8786)")
        self.dask.setToolTip(
            "A Dask distributed scheduler: runs go to that cluster when one machine is not enough.\n"
            "Only a cluster you trust: floortwin unpickles the results it sends back, and a hostile\n"
            "scheduler or worker could run code on this computer that way."
        )
        form.addRow("Run on", self.dask)
        layout.addLayout(form)
        self.drift_label = QtWidgets.QLabel("", body)
        self.drift_label.setWordWrap(True)
        layout.addWidget(self.drift_label)
        self.setWidget(scrolling(body, self))
        self.edit_button.clicked.connect(self.edit_selected)
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        self.run_button.clicked.connect(self.run_selected)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.compare_button.clicked.connect(self.compare_selected)
        self.calibrate_button.clicked.connect(self.calibrate_from_history)
        self.open_button.clicked.connect(self.open_dialog)
        self.save_button.clicked.connect(self.save_as_dialog)
        self.job_changed.connect(self._on_job_changed)
        self._changed_jobs: set[int] = set()
        self._show_timer = QtCore.QTimer(self)  # job reports are shown at most five times a second
        self._show_timer.setSingleShot(True)
        self._show_timer.setInterval(200)
        self._show_timer.timeout.connect(self._show_jobs)
        self._drift_timer = QtCore.QTimer(self)
        self._drift_timer.setInterval(60_000)
        self._drift_timer.timeout.connect(self.check_drift)
        self._refresh_buttons()

    # -- the list --------------------------------------------------------------------------------------------
    @property
    def factory(self) -> Factory | None:
        doc = self.window_.document
        return doc.factory if doc is not None else None

    def load_for(self, factory: Factory | None) -> None:
        """List the saved scenarios of ``factory`` (by its name)."""
        self.entries = [e for e in self.entries if e.job is not None and not e.job.done]  # running ones stay
        if factory is not None:
            for path in sorted(whatif_dir().glob("*.json")):
                if path.name.endswith(".run.json") or any(e.path == path for e in self.entries):
                    continue
                try:
                    s = load_scenario(path)
                except ScenarioError as e:
                    log.warning("skipping what-if scenario %s: %s", path, e)
                    continue
                if s.factory.name == factory.name:
                    self.entries.append(Entry(s, path))
        self._refill()

    def _refill(self) -> None:
        current = self.selected()
        self.list.clear()
        for e in self.entries:
            item = QtWidgets.QTreeWidgetItem([e.scenario.name, str(len(e.scenario.changes)), self._status(e)])
            item.setToolTip(1, "\n".join(describe(c) for c in e.scenario.changes) or "no changes (a baseline)")
            self.list.addTopLevelItem(item)
            if e is current:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.entries:
            self.list.setCurrentItem(self.list.topLevelItem(len(self.entries) - 1))
        self.list.resizeColumnToContents(0)
        self._refresh_buttons()

    def _status(self, e: Entry) -> str:
        j = e.job
        if j is None:
            return "results stored" if e.results.exists() else "not run"
        if j.status == "running":
            left = eta_s(j)
            return f"running {j.progress:.0%}" + (f", {left:.0f} s left" if math.isfinite(left) else "")
        if j.status == "failed":
            return f"failed: {j.message}"
        return j.status

    def selected(self) -> Entry | None:
        item = self.list.currentItem()
        if item is None:
            return None
        k = self.list.indexOfTopLevelItem(item)
        return self.entries[k] if 0 <= k < len(self.entries) else None

    def select(self, entry: Entry) -> None:
        self.list.setCurrentItem(self.list.topLevelItem(self.entries.index(entry)))

    def _refresh_buttons(self) -> None:
        e = self.selected()
        running = e is not None and e.job is not None and not e.job.done
        for b in (self.edit_button, self.delete_button, self.save_button):
            b.setEnabled(e is not None and not running)
        self.run_button.setEnabled(e is not None and not running)
        self.cancel_button.setEnabled(running)
        self.compare_button.setEnabled(
            e is not None and not running and ((e.job is not None and e.job.status == "done") or e.results.exists())
        )
        self.new_button.setEnabled(self.factory is not None)
        self.calibrate_button.setEnabled(self.factory is not None)

    def _add(self, scenario: Scenario) -> Entry:
        path = whatif_dir() / f"{_slug(scenario.factory.name)}-{_slug(scenario.name)}-{int(time.time() * 1000) % 10**9}.json"
        save_scenario(scenario, path)
        entry = Entry(scenario, path)
        self.entries.append(entry)
        self._refill()
        self.select(entry)
        return entry

    # -- scenarios -----------------------------------------------------------------------------------------
    def new_scenario(self, source: str = "current", name: str | None = None) -> Entry | None:
        """A scenario of the open factory: unchanged ("current"), or with the layout edits made since the
        file was saved ("layout")."""
        doc = self.window_.document
        if doc is None:
            return None
        factory = doc.factory
        if source == "layout":
            if doc.path is None:
                self._say("Save the factory first: layout edits are compared with the saved file")
                return None
            try:
                base = load_factory(doc.path)
            except FactoryFileError as e:
                self._say(f"Cannot read the saved factory: {e}")
                return None
            changes = changes_from_layouts(base, factory)
            if not changes:
                self._say("No layout edits since the file was saved")
                return None
            scenario = Scenario(name=name or "Layout edits", factory=base, base_path=str(doc.path), changes=changes)
        else:
            scenario = Scenario(
                name=name or f"Scenario {len(self.entries) + 1}",
                factory=factory,
                base_path=str(doc.path) if doc.path else None,
            )
        return self._add(scenario)

    def edit_selected(self) -> bool:
        e = self.selected()
        if e is None:
            return False
        dialog = ScenarioDialog(e.scenario, self)
        if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return False
        self.update_scenario(e, dialog.result_scenario())
        return True

    def update_scenario(self, e: Entry, scenario: Scenario) -> None:
        e.scenario = scenario
        save_scenario(scenario, e.path)
        self._refill()

    def delete_selected(self, confirm: bool = True) -> None:
        e = self.selected()
        if e is None or (e.job is not None and not e.job.done):
            return
        if confirm:
            answer = QtWidgets.QMessageBox.question(
                self, "Delete scenario", f"Delete the scenario “{e.scenario.name}” and its results?"
            )
            if answer != QtWidgets.QMessageBox.StandardButton.Yes:
                return
        for p in (
            e.path,
            e.results,
            e.note,
            e.results.with_name(e.results.name + "-wal"),
            e.results.with_name(e.results.name + "-shm"),
        ):
            with contextlib.suppress(OSError):
                p.unlink()
        self.entries.remove(e)
        self._refill()

    def open_file(self, path: str | Path) -> Entry | None:
        try:
            s = load_scenario(path)
        except ScenarioError as e:
            self._error("Cannot open the scenario", str(e))
            return None
        return self._add(s)

    def open_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open scenario", "", "Scenario files (*.json)")
        if path:
            self.open_file(path)

    def save_as_dialog(self) -> None:
        e = self.selected()
        if e is None:
            return
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Save scenario", f"{_slug(e.scenario.name)}.json", "Scenario files (*.json)"
        )
        if path:
            try:
                save_scenario(e.scenario, path)
            except OSError as err:
                self._error("Cannot save the scenario", f"Could not write {path}: {err.strerror or err}")

    # -- running ----------------------------------------------------------------------------------------------
    def _queue(self) -> JobQueue:
        address = self.dask.text().strip() or None
        if self.queue is None or (self.queue.dask_address != address and not self.queue.running()):
            if self.queue is not None:
                self.queue.shutdown(0)
            self.queue = JobQueue(on_change=self.job_changed.emit, dask_address=address)
        return self.queue

    def actuals_window(self) -> tuple[float, float] | None:
        """The recorded window to compare with: the last N minutes of the history (None: none long enough)."""
        minutes = self.window_min.value()
        path = self.window_.history_path() if self.window_.document is not None else None
        if minutes <= 0 or path is None or not Path(path).exists():
            return None
        try:
            span = History(path).span()
        except Exception as e:  # a damaged history: no actuals, said in the log
            log.warning("cannot read the history %s: %s", path, e)
            return None
        if span is None:
            return None
        t1 = span[1]
        t0 = max(span[0], t1 - minutes * 60)
        return (t0, t1) if t1 - t0 >= self.min_window_s else None

    def run_selected(self) -> Job | None:
        e = self.selected()
        if e is None:
            return None
        return self.run(e)

    def run(self, e: Entry) -> Job | None:
        """Simulate the scenario and its baseline (the factory unchanged) in the background; with a recorded
        window they cover as much simulated time as the window (after the warm-up)."""
        s = e.scenario
        window = self.actuals_window()
        try:
            changed = apply(s)
            warmup = s.warmup_s if s.warmup_s is not None else s.factory.simulation.warmup_s
            horizon = warmup + (window[1] - window[0]) if window else s.horizon_s
            kw = {"horizon_s": horizon, "warmup_s": warmup, "replications": s.replications, "seed": s.seed}
            base = compile_model(s.factory, **kw)
            model = compile_model(changed, **kw)
        except (ScenarioError, SimInputError) as err:
            self._error("The scenario cannot run", str(err))
            return None
        with contextlib.suppress(OSError):
            e.note.write_text(json.dumps({"window": window, "time_scale": 1.0}))
        e.job = self._queue().submit(s.name, [("baseline", base), ("scenario", model)], e.results)
        self._refill()
        return e.job

    def cancel_selected(self) -> None:
        e = self.selected()
        if e is not None and e.job is not None and self.queue is not None:
            self.queue.cancel(e.job)

    def _on_job_changed(self, job: Job) -> None:
        if job.done:  # an ending is said at once
            self._show_jobs()
            msg = f"What-if “{job.name}”: {job.status}" + (f" — {job.message}" if job.message else "")
            self._say(msg)
            if job.status == "failed":
                log.error("%s", msg)
        elif not self._show_timer.isActive():
            self._show_timer.start()

    def _show_jobs(self) -> None:
        for k, e in enumerate(self.entries):
            item = self.list.topLevelItem(k)
            if e.job is not None and item is not None:
                text = self._status(e)
                if item.text(2) != text:
                    item.setText(2, text)
        running = [e.job for e in self.entries if e.job is not None and e.job.status == "running"]
        self.progress.setVisible(bool(running))
        self.progress_text.setVisible(bool(running))
        if running:
            total = sum(j.progress for j in running) / len(running)
            self.progress.set_fraction(total)
            queued = sum(1 for e in self.entries if e.job is not None and e.job.status == "queued")
            self.progress_text.setText(f"{len(running)} running ({total:.0%})" + (f", {queued} queued" if queued else ""))
        self._refresh_buttons()

    # -- comparing ----------------------------------------------------------------------------------------------
    def comparison_inputs(self, e: Entry):
        """(baseline results, scenario results, models' station ids/parts/warm-up) of the entry's last run."""
        if e.job is not None and e.job.status == "done":
            models = dict(e.job.models)
            return e.job.results["baseline"], e.job.results["scenario"], models["baseline"], models["scenario"]
        runs = {}
        for label in ("baseline", "scenario"):
            run, reps = load_finished_run(e.results, f"{e.scenario.name} — {label}")
            runs[label] = (run, reps)
        return runs["baseline"][1], runs["scenario"][1], runs["baseline"][0], runs["scenario"][0]

    def compare_selected(self) -> None:
        e = self.selected()
        if e is not None:
            self.compare_entry(e)

    def compare_entry(self, e: Entry) -> None:
        """Open the comparison of the entry's last run (history is read off the GUI thread)."""
        note = {}
        with contextlib.suppress(OSError, ValueError):
            note = json.loads(e.note.read_text())
        window = tuple(note["window"]) if note.get("window") else None
        history_path = self.window_.history_path()

        run_notes_: list[str] = []
        # The plugins' KPIs are loaded here, on the GUI thread; a KPI that raises on the worker disables its
        # plugin, and the window hears of it through the manager's ``failed`` signal (on the GUI thread).
        plugins = self.window_.plugins
        labels = {k: (spec.label, spec.unit) for k, spec in plugins.kpis.items()}

        def build():
            base_res, scen_res, base_m, scen_m = self.comparison_inputs(e)
            changed = apply(e.scenario)
            run_notes_.extend(run_notes({"baseline": e.scenario.factory, "scenario": changed}))
            base_obs = [_observe(r, base_m, e.scenario.factory) for r in base_res]
            scen_obs = [_observe(r, scen_m, changed) for r in scen_res]
            actual = series_actual = None
            if window is not None and Path(history_path).exists():
                history = History(history_path)
                actual = observe_history(history, e.scenario.factory, *window)
                series_actual = exits_over_time_history(history, e.scenario.factory, *window)
            c = compare(base_obs, scen_obs, actual, extra=plugins.extra_kpis, extra_labels=labels)
            warm = _warmup(base_m)
            series = {"baseline": exits_over_time_sim(base_res, warm), "scenario": exits_over_time_sim(scen_res, _warmup(scen_m))}
            if series_actual is not None:
                series = {"actual": series_actual, **series}
            t = trust(base_obs, actual) if actual is not None else None
            stations = [o.machines for o in scen_obs][:1]
            wip = None
            if stations and scen_obs:  # the engine's exact time-averages per machine (samples are for charts)
                wip = (stations[0], np.mean([o.wip_by_machine for o in scen_obs], axis=0))
            return c, series, t, actual, base_obs, warm, wip

        def done(result, error) -> None:
            if error is not None:
                self._error("Cannot compare", f"{type(error).__name__}: {error}")
                return
            c, series, t, actual, base_obs, warm, wip = result
            notes = []
            if window is not None:
                t0, t1 = window
                notes.append(
                    f"Actuals: {(t1 - t0) / 60:.0f} min of recorded history up to {time.strftime('%H:%M', time.localtime(t1))}; "
                    f"{len(base_obs)} replications each of the same length after an "
                    f"{warm / 3600:g} h warm-up."
                )
                if actual is not None:
                    self.drift_model = (base_obs, t1 - t0, e.scenario.factory)
                    self._drift_timer.start()
            else:
                notes.append("No recorded window: scenario against baseline only.")
            notes += run_notes_
            dialog = ComparisonDialog(
                e.scenario.name,
                c,
                [describe(ch) for ch in e.scenario.changes],
                series,
                notes,
                self._show_delta,
                self,
                trust=t,
                simulated_wip=wip,
                show_wip=self._show_wip,
            )
            self.dialogs.append(dialog)
            dialog.finished.connect(lambda *_: self.dialogs.remove(dialog) if dialog in self.dialogs else None)
            dialog.show()
            self.comparison_opened.emit(dialog)

        run_off_gui(build, done, self)

    def _show_delta(self, title: str | None, values: np.ndarray | None, machines: list[str] | None = None) -> None:
        """Colour the 3D view by a comparison's per-machine delta (None: back to what it showed)."""
        live, factory = self.window_.live, self.factory
        if values is None or factory is None:
            live.show_delta(None, None)
            return
        live.show_delta(title, _align(values, machines or [], factory))  # a scenario may add or remove machines

    def _show_wip(self, title: str | None, values: np.ndarray | None, machines: list[str] | None = None) -> None:
        """Spread a scenario's mean WIP per machine on the floor (None: back to the plant's)."""
        factory = self.factory
        show = getattr(self.window_, "show_simulated_wip", None)
        if show is None or factory is None:
            return
        show(title, None if values is None else _align(values, machines or [], factory))

    # -- calibration and drift ------------------------------------------------------------------------------
    def calibrate_from_history(self, on_ready: Callable[[Calibration], None] | None = None) -> None:
        """Estimate the plant's parameters from the actuals window and offer a calibrated baseline."""
        factory = self.factory
        window = self.actuals_window()
        if factory is None or window is None:
            self._error(
                "Nothing to calibrate from",
                f"Calibration needs at least {self.min_window_s / 60:.0f} min of recorded history of this factory.",
            )
            return
        path = self.window_.history_path()

        def done(cal, error) -> None:
            if error is not None:
                self._error("Calibration failed", f"{type(error).__name__}: {error}")
                return
            if on_ready is not None:
                on_ready(cal)
                return
            dialog = CalibrationDialog(cal, self)
            self.dialogs.append(dialog)
            dialog.accepted.connect(lambda: self.add_calibrated(cal))
            dialog.finished.connect(lambda *_: self.dialogs.remove(dialog) if dialog in self.dialogs else None)
            dialog.show()

        run_off_gui(lambda: calibrate(History(path), factory, *window), done, self)

    def add_calibrated(self, cal: Calibration) -> Entry | None:
        factory = self.factory
        if factory is None:
            return None
        changes = calibration_changes(cal, factory)
        stamp = time.strftime("%H:%M", time.localtime(cal.t1))
        # The calibrated factory is the baseline: its scenario changes nothing, so the run shows how well the
        # calibrated model reproduces the actuals (the trust), and further scenarios can start from it.
        calibrated = apply(Scenario(name="calibrated", factory=factory, changes=changes))
        return self._add(
            Scenario(
                name=f"Calibrated baseline ({stamp})", factory=calibrated, description="\n".join(describe(c) for c in changes)
            )
        )

    def check_drift(self) -> None:
        """Compare the latest recorded window with the model's prediction; say which machines drifted."""
        if self.drift_model is None or self.window_.document is None:
            return
        predicted, length, factory = self.drift_model
        path = self.window_.history_path()
        if not Path(path).exists():
            return

        def work():
            span = History(path).span()
            if span is None or span[1] - span[0] < length:
                return None
            return drift(predicted, observe_history(History(path), factory, span[1] - length, span[1]))

        def done(found, error) -> None:
            if error is not None or found is None:
                return
            self.drifting = found
            if found:
                text = "Drift from the model: " + "; ".join(str(d) for d in found[:4]) + (" …" if len(found) > 4 else "")
                log.warning("%s", text)
                self.drift_label.setText(text)
                self._say(text)
            else:
                self.drift_label.setText("The plant behaves as the model predicts.")

        run_off_gui(work, done, self)

    # -- messages -----------------------------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        with contextlib.suppress(AttributeError):
            self.window_.statusBar().showMessage(text, 10000)

    def _error(self, title: str, text: str) -> None:
        log.error("%s: %s", title, text)
        show = getattr(self.window_, "show_error", None)
        if show is not None:
            show(title, text, "")

    def shutdown(self) -> None:
        self._drift_timer.stop()
        if self.queue is not None:
            self.queue.shutdown()


def _warmup(model_or_run) -> float:
    return float(model_or_run["warmup_s"] if isinstance(model_or_run, dict) else model_or_run.warmup_s)


def _observe(r, model_or_run, factory: Factory):
    if isinstance(model_or_run, dict):  # a stored run
        stations, parts = json.loads(model_or_run["stations"]), json.loads(model_or_run["parts"])
    else:
        stations, parts = [s.id for s in model_or_run.stations], model_or_run.parts
    exact = bool(getattr(model_or_run, "deterministic", False))  # a model without randomness (stored runs: unknown)
    return observe_replication(r, stations, parts, _warmup(model_or_run), sinks(factory), exact)


def _align(values: np.ndarray, machines: list[str], factory: Factory) -> np.ndarray:
    """Per-machine values in ``machines`` order → the factory's order (NaN for machines not compared)."""
    index = {m: i for i, m in enumerate(machines)}
    return np.array([values[index[m.id]] if m.id in index else np.nan for m in factory.machines], dtype=float)
