"""Selection has its own look, its label always shows, and Fly to frames the machine (issue 13, item 10)."""

from __future__ import annotations

import numpy as np
import pytest

from app.scene.view import SELECTION_RGB
from app.state.colours import STATE_RGB, UNKNOWN_RGB

pytestmark = pytest.mark.gui


def _white(frame: np.ndarray) -> int:
    return int((frame[..., :3] >= 250).all(axis=2).sum())


def test_selection_is_a_white_outline_on_a_dark_halo_and_its_label_shows(make_window):
    w = make_window()
    selection = np.array(SELECTION_RGB) * 255
    for rgb in [*STATE_RGB, UNKNOWN_RGB]:  # never mistaken for a machine state (the old yellow was "idle")
        assert np.abs(selection - rgb).sum() > 150
    w.view.camera_preset("iso")
    w.view.render_now()
    hidden = [mid for mid in w.view.machines.ids if mid not in w.view.labels.shown]
    assert hidden, "every label fits: the test needs a crowded view"
    target = hidden[0]
    before = _white(w.view.frame())
    w.selection.select([target])
    w.view.render_now()
    assert target in w.view.labels.shown  # the selected machine's label wins over its neighbours'
    assert _white(w.view.frame()) > before + 30  # the white outline is drawn
    w.selection.clear()
    w.view.render_now()
    assert target not in w.view.labels.shown


def test_fly_to_frames_the_machine(make_window):
    w = make_window()
    w.view.camera_preset("fit")
    cam = w.view.renderer.GetActiveCamera()
    far = cam.GetDistance()
    w.view.fly_to("PR-01")
    assert cam.GetDistance() < far / 2  # it zooms in, not only re-centres
    m = w.view.machines.matrices[w.view.machines.index["PR-01"]]
    assert cam.GetFocalPoint()[:2] == pytest.approx((m[0, 3], m[1, 3]))
    # The machine fills a good part of the view: its box spans at least a fifth of the viewport height.
    box = w.view.machines.world_box("PR-01")
    ren = w.view.renderer
    ys = []
    for corner in box:
        ren.SetWorldPoint(*corner, 1.0)
        ren.WorldToDisplay()
        ys.append(ren.GetDisplayPoint()[1])
    assert (max(ys) - min(ys)) > ren.GetSize()[1] / 5


def test_fly_to_selection_command_centres_the_selected_machine(make_window):
    w = make_window()
    w.view.camera_preset("fit")
    cam = w.view.renderer.GetActiveCamera()
    w.actions_by_id["view.focus"].trigger()  # nothing selected: the command is off and does nothing
    far = cam.GetDistance()
    w.selection.select(["PR-01"])
    assert w.actions_by_id["view.focus"].isEnabled()
    w.actions_by_id["view.focus"].trigger()
    m = w.view.machines.matrices[w.view.machines.index["PR-01"]]
    assert cam.GetDistance() < far and cam.GetFocalPoint()[:2] == pytest.approx((m[0, 3], m[1, 3]))
