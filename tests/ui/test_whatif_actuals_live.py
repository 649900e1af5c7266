"""The What-if dock's actuals line is current while the dock is in sight (issue 16 F4: it was read every 30 s
and a new-user trial saw "0.3 min of 60 recorded … needs ≥ 1 min" while 0.7 min were recorded). Real window,
real plant simulator, real history."""

from __future__ import annotations

import math
import re

import pytest

from app.compare.window import recent_window
from app.history.recorder import History
from tests.conftest import DEMO

pytestmark = pytest.mark.gui


def _shown_min(text: str) -> float:
    found = re.match(r"Actuals: ([\d.]+) min of", text)
    return float(found.group(1)) if found else -1.0


def test_the_actuals_line_follows_the_recording_while_the_dock_is_in_sight(qloop, make_window, qtbot):
    w = make_window()
    dock = w.whatif_dock
    dock.show()
    dock.raise_()
    w.console.start_embedded_plant(DEMO, ("--speed", "20", "--interval", "0.25"))
    qtbot.waitUntil(w.console.live_ready, timeout=20000)
    path = w.console.history_path()

    def recorded_min() -> float:  # what the history holds, read here as the service reads it
        window = recent_window(History(path), dock.service.actuals_min) if path.exists() else None
        return window.connected_s / 60.0 if window is not None else 0.0

    for wanted in (0.1, 0.2):  # the line catches up with each tenth of a minute, well within the old 30 s
        qtbot.waitUntil(lambda wanted=wanted: recorded_min() >= wanted, timeout=30000)
        floor = math.floor(recorded_min() * 10) / 10
        qtbot.waitUntil(lambda floor=floor: _shown_min(dock.actuals_label.text()) >= floor, timeout=6000)
    assert "plant time at 20×" in dock.actuals_label.text()

    w.trends_dock.raise_()  # another tab in front: the line is not read while out of sight
    qtbot.waitUntil(lambda: not dock.actuals_timer.isActive(), timeout=3000)
    before = recorded_min()
    qtbot.waitUntil(lambda: recorded_min() >= before + 0.1, timeout=30000)
    dock.raise_()  # raised: read at once, and kept current
    qtbot.waitUntil(dock.actuals_timer.isActive, timeout=3000)
    floor = math.floor(recorded_min() * 10) / 10
    qtbot.waitUntil(lambda: _shown_min(dock.actuals_label.text()) >= floor, timeout=3000)
    w.console.disconnect_live()
