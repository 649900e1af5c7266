"""The What-if dock: a view of the what-if service (``app.whatif``) — the scenarios of the open factory,
their runs with progress and cancel, comparisons against the recorded actuals, calibration from history
and the drift of the live plant from the model.

The dock only shows and forwards: it lists the service's entries, calls its methods, and opens the
dialogs for what the service reports. The service's reports from worker threads reach the GUI thread
through ``app.ui.gui_thread.connect_on_gui``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from psygnal import SignalInstance
from PySide6 import QtCore, QtWidgets

from app.compare.calibrate import Calibration, Drift
from app.sim.jobs import Job
from app.sim.scenario import describe
from app.ui.comparison_dialog import CalibrationDialog, ComparisonDialog
from app.ui.deploy_dialog import open_deploy_dialog
from app.ui.gui_thread import connect_on_gui
from app.ui.scenario_dialog import ScenarioDialog
from app.ui.widgets import ProgressStrip, scrolling
from app.whatif import Entry, WhatIfComparison, WhatIfService, align, drift_text, slug, status_text

#: Shows per-machine values in the factory's order on the floor (title, values), or stops with (None, None).
ShowValues = Callable[[str | None, np.ndarray | None], None]


class WhatIfDock(QtWidgets.QDockWidget):
    """Scenarios, runs and comparisons of the open factory.

    Parameters
    ----------
    service
        The what-if service the dock shows and drives.
    say
        Puts a sentence in the status bar.
    show_error
        Shows an error (title, text) without blocking.
    show_delta
        Colours the 3D view by a comparison's per-machine delta.
    show_wip
        Spreads a scenario's mean WIP per machine on the floor (None: not offered).
    show_share
        Colours the 3D view by a bottleneck share per machine, 0–1 (None: not offered).
    """

    comparison_opened = QtCore.Signal(object)

    def __init__(
        self,
        service: WhatIfService,
        *,
        say: Callable[[str], None],
        show_error: Callable[[str, str], None],
        show_delta: ShowValues,
        show_wip: ShowValues | None = None,
        show_share: ShowValues | None = None,
        parent: QtWidgets.QWidget | None = None,
    ):
        super().__init__("What-if", parent)
        self.setObjectName("dock_whatif")
        self.service = service
        self._say_fn, self._error_fn, self._show_delta_fn, self._show_wip_fn = say, show_error, show_delta, show_wip
        self._show_share_fn = show_share
        self.dialogs: list[QtWidgets.QDialog] = []
        self._listed: list[Entry] = []  # the entries in the list's rows, in order
        body = QtWidgets.QWidget(self)
        layout = QtWidgets.QVBoxLayout(body)
        # The recorded actuals, the baseline's trust and the drift check's finding on top: at 1366×768 they were
        # below the fold under the settings (trial 7); the scenario list shrinks first instead.
        self.actuals_label, self.trust_label, self.drift_label = (QtWidgets.QLabel("", body) for _ in range(3))
        for label in (self.actuals_label, self.trust_label, self.drift_label):
            label.setWordWrap(True)
            label.setVisible(False)  # until it has something to say (an empty line would still take its spacing)
            layout.addWidget(label)
        self.list = _ShrinkingList(body)
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
        self.new_button = QtWidgets.QToolButton(body)
        self.new_button.setText("&New")
        self.new_button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QtWidgets.QMenu(self.new_button)
        menu.addAction("From the current factory", lambda: self.service.new_scenario("current"))
        menu.addAction("From layout edits (against the saved file)", lambda: self.service.new_scenario("layout"))
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
        self.deploy_button = QtWidgets.QPushButton("Deplo&y to Plant…", body)
        grid = QtWidgets.QGridLayout()
        for k, (b, act) in enumerate(
            (
                (self.new_button, None),
                (self.edit_button, self.edit_selected),
                (self.run_button, self.run_selected),
                (self.cancel_button, self.cancel_selected),
                (self.compare_button, self.compare_selected),
                (self.delete_button, lambda: self.delete_selected()),
                (self.calibrate_button, lambda: self.service.calibrate()),
                (self.deploy_button, lambda: open_deploy_dialog(self, self.selected(), self.service.history_path(), self._keep)),
                (self.open_button, self.open_dialog),
                (self.save_button, self.save_as_dialog),
            )
        ):
            grid.addWidget(b, k // 2, k % 2)  # two columns: three cut "Delete" and "Compare…" at 1366×768
            b.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
            if act is not None:
                b.clicked.connect(act)
        layout.addLayout(grid)
        form = QtWidgets.QFormLayout()
        self.window_min = QtWidgets.QSpinBox(body)
        self.window_min.setRange(0, 100_000)
        self.window_min.setSuffix(" min")
        self.window_min.setToolTip(
            "Compare with this many minutes of recorded history, by the clock (a plant simulator run N× faster"
            " records N× as much plant time in them); 0: no actuals, the scenario's horizon is simulated"
        )
        self.window_min.setValue(round(service.actuals_min))
        self.window_min.valueChanged.connect(lambda minutes: setattr(self.service, "actuals_min", float(minutes)))
        form.addRow("Actuals: last", self.window_min)
        self.margin_pct = QtWidgets.QSpinBox(body)
        self.margin_pct.setRange(1, 50)
        self.margin_pct.setPrefix("± ")
        self.margin_pct.setSuffix(" %")
        self.margin_pct.setValue(round(service.fit_margin * 100))
        self.margin_pct.setToolTip(
            "An actual “fits” the baseline only when the 95% prediction lies within this share of it; a wider\n"
            "prediction is “not enough data”, with the minutes of history that would be enough"
        )
        self.margin_pct.valueChanged.connect(lambda pct: setattr(self.service, "fit_margin", pct / 100.0))
        form.addRow("Fits within", self.margin_pct)
        self.dask = QtWidgets.QLineEdit(body)
        self.dask.setPlaceholderText("local processes (or tcp://scheduler:8786)")
        self.dask.setToolTip(
            "A Dask distributed scheduler: runs go to that cluster when one machine is not enough.\n"
            "Only a cluster you trust: floortwin unpickles the results it sends back, and a hostile\n"
            "scheduler or worker could run code on this computer that way."
        )
        self.dask.textChanged.connect(lambda text: setattr(self.service, "dask_address", text.strip() or None))
        form.addRow("Run on", self.dask)
        layout.addLayout(form)
        self.window_min.valueChanged.connect(self._show_actuals)
        self.setWidget(scrolling(body, self))
        self._show_timer = QtCore.QTimer(self)  # job reports are shown at most five times a second
        self._show_timer.setSingleShot(True)
        self._show_timer.setInterval(200)
        self._show_timer.timeout.connect(self._show_jobs)
        self._drift_timer = QtCore.QTimer(self)  # once a comparison with actuals gave a prediction
        self._drift_timer.setInterval(60_000)
        self._drift_timer.timeout.connect(lambda: self.service.check_drift())
        # The history grows while live: its coverage is read again every 2 s while the dock is in sight (a
        # 30-s timer left the line ~24 s behind: 0.3 min of recording shown when 0.7 min were there).
        self.actuals_timer = QtCore.QTimer(self, interval=2_000, timeout=self._show_actuals)
        self.visibilityChanged.connect(self._on_visibility)
        self._connections: list[tuple[SignalInstance, Callable[..., Any]]] = [
            (service.entries_changed, self._refill),
            (service.job_changed, self._on_job_changed),
            (service.comparison_ready, self._on_comparison),
            (service.actuals_changed, self._on_actuals),
            (service.calibration_ready, self._on_calibration),
            (service.drift_checked, self._on_drift),
            (service.message, self._say),
            (service.error, self._error),
        ]
        for signal, slot in self._connections:
            connect_on_gui(signal, slot)
        self._refill()
        self._show_actuals()

    # -- the list --------------------------------------------------------------------------------------------
    def _refill(self) -> None:
        current, before = self.selected(), set(map(id, self._listed))
        self._listed = list(self.service.entries)
        self.list.clear()
        for e in self._listed:
            item = QtWidgets.QTreeWidgetItem([e.scenario.name, str(len(e.scenario.changes)), status_text(e)])
            item.setToolTip(1, "\n".join(describe(c) for c in e.scenario.changes) or "no changes (a baseline)")
            self.list.addTopLevelItem(item)
        added = [e for e in self._listed if id(e) not in before]
        if len(added) == 1 and before:  # a new scenario (made, opened, calibrated) is the one to work on
            self.select(added[0])
        elif current in self._listed:
            self.select(current)
        elif self._listed:
            self.select(self._listed[-1])
        self.list.resizeColumnToContents(0)
        self._refresh_buttons()

    def selected(self) -> Entry | None:
        item = self.list.currentItem()
        k = self.list.indexOfTopLevelItem(item) if item is not None else -1
        return self._listed[k] if 0 <= k < len(self._listed) else None

    def select(self, entry: Entry) -> None:
        item = self.list.topLevelItem(self._listed.index(entry)) if entry in self._listed else None
        if item is not None:
            self.list.setCurrentItem(item)

    def _refresh_buttons(self) -> None:
        e = self.selected()
        idle = e is not None and not e.running
        for b in (self.edit_button, self.delete_button, self.save_button, self.run_button):
            b.setEnabled(idle)
        self.cancel_button.setEnabled(e is not None and e.running)
        self.compare_button.setEnabled(idle and e is not None and e.has_results)
        for b in (self.new_button, self.calibrate_button):
            b.setEnabled(self.service.factory is not None)

    # -- forwarding the user's requests -------------------------------------------------------------------------
    def edit_selected(self) -> bool:
        e = self.selected()
        if e is None:
            return False
        dialog = ScenarioDialog(e.scenario, self)
        if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return False
        return self.service.update_scenario(e, dialog.result_scenario())

    def delete_selected(self, confirm: bool = True) -> bool:
        e = self.selected()
        if e is None or e.running:
            return False
        if confirm:
            question = f"Delete the scenario “{e.scenario.name}” and its results?"
            if QtWidgets.QMessageBox.question(self, "Delete scenario", question) != QtWidgets.QMessageBox.StandardButton.Yes:
                return False
        return self.service.delete(e)

    def open_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open scenario", "", "Scenario files (*.json)")
        if path:
            self.service.open_file(path)

    def save_as_dialog(self) -> None:
        e = self.selected()
        if e is None:
            return
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Save scenario", f"{slug(e.scenario.name)}.json", "Scenario files (*.json)"
        )
        if path:
            self.service.save_as(e, path)

    def run_selected(self) -> Job | None:
        e = self.selected()
        return self.service.run(e) if e is not None else None

    def cancel_selected(self) -> None:
        e = self.selected()
        if e is not None:
            self.service.cancel(e)

    def compare_selected(self) -> None:
        e = self.selected()
        if e is not None and e.has_results:
            self.service.compare(e)

    # -- what the service reports -------------------------------------------------------------------------------
    def _on_job_changed(self, job: Job) -> None:
        if job.done:  # an ending is shown at once, progress at most five times a second
            self._show_jobs()
        elif not self._show_timer.isActive():
            self._show_timer.start()

    def _show_jobs(self) -> None:
        for k, e in enumerate(self._listed):
            item = self.list.topLevelItem(k)
            if e.job is not None and item is not None and item.text(2) != status_text(e):
                item.setText(2, status_text(e))
        jobs = [e.job for e in self._listed if e.job is not None]
        running = [j for j in jobs if j.status == "running"]
        self.progress.setVisible(bool(running))
        self.progress_text.setVisible(bool(running))
        if running:
            total = sum(j.progress for j in running) / len(running)
            self.progress.set_fraction(total)
            queued = sum(1 for j in jobs if j.status == "queued")
            self.progress_text.setText(f"{len(running)} running ({total:.0%})" + (f", {queued} queued" if queued else ""))
        self._refresh_buttons()

    def _on_comparison(self, result: WhatIfComparison) -> None:
        if self.service.drift_model is not None:
            self._drift_timer.start()
        dialog = ComparisonDialog(
            result.title,
            result.comparison,
            result.changes,
            result.series,
            result.notes,
            self._show_delta,
            self,
            trust=result.trust,
            simulated_wip=result.simulated_wip,
            show_wip=self._show_wip if self._show_wip_fn is not None else None,
            actuals=result.actuals,
            bottlenecks=result.bottlenecks,
            show_share=self._show_share if self._show_share_fn is not None else None,
        )
        _say_in(self.trust_label, f"Baseline of “{result.title}” — {result.trust.summary()}" if result.trust else "")
        self._show_actuals()
        self._keep(dialog)
        self.comparison_opened.emit(dialog)

    def _on_calibration(self, cal: Calibration) -> None:
        dialog = CalibrationDialog(cal, self)
        dialog.accepted.connect(lambda: self.service.add_calibrated(cal))
        self._keep(dialog)

    def _show_actuals(self, *_args) -> None:
        if self._connections:  # read off the GUI thread, shown through ``actuals_changed``; none after shutdown
            self.service.refresh_actuals()

    def _on_actuals(self, text: str) -> None:
        _say_in(self.actuals_label, text)

    def _on_visibility(self, visible: bool) -> None:
        """Raised or shown: the line is read at once and kept current; hidden: not read."""
        if visible and self._connections:
            self._show_actuals()
            self.actuals_timer.start()
        else:
            self.actuals_timer.stop()

    def _on_drift(self, found: list[Drift]) -> None:
        _say_in(self.drift_label, self.service.drift_said or drift_text(found))

    def _keep(self, dialog: QtWidgets.QDialog) -> None:
        """Show a non-modal dialog and hold it until it is closed."""
        self.dialogs.append(dialog)
        dialog.finished.connect(lambda *_: self.dialogs.remove(dialog) if dialog in self.dialogs else None)
        dialog.show()

    def _show_delta(self, title: str | None, values: np.ndarray | None, machines: list[str] | None = None) -> None:
        """Colour the 3D view by a comparison's per-machine delta (None: back to what it showed)."""
        factory = self.service.factory
        if values is None or factory is None:
            self._show_delta_fn(None, None)
        else:
            self._show_delta_fn(title, align(values, machines or [], factory))

    def _show_share(self, title: str | None, values: np.ndarray | None, machines: list[str] | None = None) -> None:
        """Colour the 3D view by a bottleneck share per machine (None: back to what it showed)."""
        factory = self.service.factory
        if self._show_share_fn is not None:
            self._show_share_fn(title, None if values is None or factory is None else align(values, machines or [], factory))

    def _show_wip(self, title: str | None, values: np.ndarray | None, machines: list[str] | None = None) -> None:
        """Spread a scenario's mean WIP per machine on the floor (None: back to the plant's)."""
        factory = self.service.factory
        if self._show_wip_fn is not None and factory is not None:
            self._show_wip_fn(title, None if values is None else align(values, machines or [], factory))

    def _say(self, text: str) -> None:
        self._say_fn(text)

    def _error(self, title: str, text: str) -> None:
        self._error_fn(title, text)

    def shutdown(self) -> None:
        """Stop listening to the service (which the window shuts down) and stop the drift checks."""
        self._drift_timer.stop()
        self._show_timer.stop()
        self.actuals_timer.stop()
        for signal, slot in self._connections:
            signal.disconnect(slot)
        self._connections = []


class _ShrinkingList(QtWidgets.QTreeWidget):
    """Asks for three rows (the scroll area sizes the body by preferred heights) and grows into what is left."""

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(super().sizeHint().width(), self.header().sizeHint().height() + 3 * self.fontMetrics().height() + 12)


def _say_in(label: QtWidgets.QLabel, text: str) -> None:
    label.setText(text)
    label.setVisible(bool(text))  # a status line shows only when it has something to say
