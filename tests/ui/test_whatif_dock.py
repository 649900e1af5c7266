"""The What-if dock is a view of the what-if service: built from the service and four callables (no main
window), it lists, runs, compares and reports — every report from a worker thread shown on the GUI thread."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6 import QtCore

from app.sim.scenario import MachineParam
from app.ui.comparison_dialog import ComparisonDialog
from app.ui.whatif_dock import WhatIfDock
from app.whatif import ScenarioStore, WhatIfService
from tests.whatif.conftest import line

pytestmark = pytest.mark.gui


class Calls:
    """What the dock asked of its surroundings, and on which thread."""

    def __init__(self):
        self.said: list[str] = []
        self.errors: list[tuple[str, str]] = []
        self.deltas: list[tuple] = []
        self.wips: list[tuple] = []
        self.threads: set[threading.Thread] = set()

    def _on(self, into, *args):
        self.threads.add(threading.current_thread())
        into.append(args[0] if len(args) == 1 else args)


@pytest.fixture
def view(qtbot, tmp_path):
    from app.model.document import FactoryDocument

    document = FactoryDocument(line())
    service = WhatIfService(lambda: document, lambda: None, ScenarioStore(tmp_path / "whatif"), cores=1)
    calls = Calls()
    dock = WhatIfDock(
        service,
        say=lambda text: calls._on(calls.said, text),
        show_error=lambda title, text: calls._on(calls.errors, title, text),
        show_delta=lambda title, values: calls._on(calls.deltas, title, values),
        show_wip=lambda title, values: calls._on(calls.wips, title, values),
    )
    qtbot.addWidget(dock)
    dock.window_min.setValue(0)
    yield dock, service, calls
    for dialog in list(dock.dialogs):
        dialog.close()
    dock.shutdown()
    service.shutdown()


def test_the_dock_lists_runs_and_compares_through_the_service(view, qtbot):
    dock, service, calls = view
    assert service.actuals_min == 0  # the dock's setting is the service's
    dock.new_button.menu().actions()[0].trigger()  # New ▸ From the current factory
    assert dock.list.topLevelItemCount() == 1 and dock.selected() is service.entries[0]
    entry = service.entries[0]
    quick = {"horizon_s": 4 * 3600.0, "warmup_s": 600.0, "replications": 2}
    faster = [MachineParam(machine="A", param="cycle_mean_s", value=20.0)]
    service.update_scenario(entry, entry.scenario.model_copy(update={"changes": faster, **quick}))
    assert dock.list.topLevelItem(0).text(1) == "1" and not dock.compare_button.isEnabled()

    dock.run_button.click()
    job = entry.job
    assert job is not None and not dock.run_button.isEnabled()
    qtbot.waitUntil(lambda: job.done, timeout=60000)
    assert job.status == "done", job.message
    # The job's thread reported; the row, the buttons and the status bar follow on the GUI thread.
    qtbot.waitUntil(lambda: dock.list.topLevelItem(0).text(2) == "done", timeout=5000)
    qtbot.waitUntil(lambda: "What-if “Scenario 1”: done" in calls.said, timeout=5000)
    assert dock.compare_button.isEnabled() and not dock.cancel_button.isEnabled()

    opened = []
    dock.comparison_opened.connect(opened.append)
    dock.compare_button.click()
    qtbot.waitUntil(lambda: bool(opened), timeout=30000)
    dialog = opened[0]
    assert isinstance(dialog, ComparisonDialog) and dialog in dock.dialogs
    dialog.show3d.setChecked(True)
    title, values = calls.deltas[-1]
    assert title == "Δ utilisation (%)" and values.shape == (2,) and np.isfinite(values).all()
    dialog.show_wip.setChecked(True)
    assert calls.wips[-1][0] == "simulated: Scenario 1" and calls.wips[-1][1].shape == (2,)
    dialog.close()
    assert calls.deltas[-1] == (None, None) and calls.wips[-1] == (None, None)  # back to what the view showed
    assert dialog not in dock.dialogs

    # A failure on the worker is shown on the GUI thread too.
    never = service.new_scenario("current", name="never run")
    assert dock.selected() is never  # a new scenario is the one to work on
    service.compare(never)
    qtbot.waitUntil(lambda: bool(calls.errors), timeout=20000)
    assert calls.errors[-1][0] == "Cannot compare"
    assert calls.threads == {threading.main_thread()}

    dock.select(entry)
    assert dock.delete_selected(confirm=False) and dock.list.topLevelItemCount() == 1
    assert not entry.path.exists() and not entry.results.exists()


def test_a_closed_dock_hears_nothing_more(view, qtbot):
    dock, service, calls = view
    dock.shutdown()
    service.message.emit("after the window closed")
    QtCore.QCoreApplication.processEvents()
    assert calls.said == []
