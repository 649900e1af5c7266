"""A dragged machine takes its WIP with it: the floor heat map follows layout edits (issue 13, item 9)."""

from __future__ import annotations

import numpy as np
import pytest

from app.heat.layers import CELL_M, MaterialLayers
from tests.ui.test_layout_editing import _drag, _editing, _free_spot

pytestmark = pytest.mark.gui


def _peak(w) -> tuple[float, float]:
    """Floor coordinates (metres) of the WIP grid's densest cell."""
    parts = w.heat_maps.material.parts
    row, col = np.unravel_index(int(np.argmax(parts)), parts.shape)
    return ((col + 0.5) * CELL_M, (row + 0.5) * CELL_M)


def test_wip_moves_with_a_dragged_machine_and_back_on_undo(make_window, qtbot):
    w = _editing(make_window, qtbot)
    factory = w.document.factory
    amounts = np.zeros(len(factory.machines))
    amounts[w.view.machines.index["CNC-01"]] = 12.0  # all the WIP at one machine
    w.heat_maps.set_layers(MaterialLayers(wip=True))
    w.heat_maps.show_simulated("test", amounts)
    old = factory.machine("CNC-01").pose
    assert np.hypot(*np.subtract(_peak(w), (old.x_m, old.y_m))) < 1.5
    spreader = w.heat_maps.material.spreader
    _drag(w, qtbot, "CNC-01", _free_spot(w, "CNC-01"))
    new = w.document.factory.machine("CNC-01").pose
    assert np.hypot(new.x_m - old.x_m, new.y_m - old.y_m) > 3  # it moved
    qtbot.waitUntil(lambda: np.hypot(*np.subtract(_peak(w), (new.x_m, new.y_m))) < 1.5, timeout=5000)
    assert w.heat_maps.material.spreader is spreader  # moved in place: only CNC-01's kernel was recomputed (issue 14, item 8)
    w.actions_by_id["edit.undo"].trigger()
    qtbot.waitUntil(lambda: np.hypot(*np.subtract(_peak(w), (old.x_m, old.y_m))) < 1.5, timeout=5000)
