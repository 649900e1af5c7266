"""Unticking "Scenario's WIP on the floor" puts the WIP layer back as the user had it (issue 13, item 11)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("had_wip_on", [False, True])
def test_the_wip_layer_comes_back_as_it_was(make_window, had_wip_on):
    w = make_window()
    w.heat_dock.wip.setChecked(had_wip_on)
    amounts = np.ones(len(w.document.factory.machines))
    w.heat.show_simulated_wip("Faster presses", amounts)
    assert w.heat_dock.wip.isChecked()  # the scenario's WIP is drawn by the WIP layer
    w.heat.show_simulated_wip("Faster presses, again", amounts * 2)  # another scenario: still remembered
    w.heat.show_simulated_wip(None, None)
    assert w.heat_dock.wip.isChecked() == had_wip_on
