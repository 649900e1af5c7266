"""The drift table in the alarms dock shows enough rows to read (a new-user trial saw ~1.5 at 1920×1080)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def _rows_on_view(table) -> float:
    return table.viewport().height() / table.verticalHeader().defaultSectionSize()


@pytest.mark.parametrize(("size", "rows"), [((1920, 1080), 5), ((1366, 768), 2)])
def test_the_drift_table_shows_five_rows_on_a_tall_window_and_two_on_a_short_one(make_window, qtbot, size, rows):
    w = make_window(size=size)
    dock = w.alarms_dock
    dock.show()
    dock.raise_()
    table = w.console.watchdog.table
    qtbot.waitUntil(table.isVisible)
    qtbot.waitUntil(lambda: _rows_on_view(table) >= rows, timeout=3000)
    assert (w.width(), w.height()) == size  # the window did not grow to make room
    # the 3D view keeps most of the window (the default layout's promise, tests/ui/test_default_layout.py)
    assert w.view.width() * w.view.height() / (w.width() * w.height()) > 0.4
    # and the table is sized to what the window offers, not to the largest screen: a short window keeps room
    if size[1] < 900:
        assert _rows_on_view(table) < 5
