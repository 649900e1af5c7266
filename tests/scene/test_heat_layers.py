"""Heat map layers in real frames: WIP colours draped on the floor, flow ribbons, colour bars; in place."""

from __future__ import annotations

import numpy as np
import pytest

from app.heat.colour import grid_rgba, grid_table, lut

pytestmark = pytest.mark.gui


def _screen(view, x: float, y: float, z: float = 0.0) -> tuple[int, int]:
    """Frame row and column of a world point."""
    ren = view.renderer
    ren.SetWorldPoint(x, y, z, 1.0)
    ren.WorldToDisplay()
    dx, dy, _ = ren.GetDisplayPoint()
    h = view.plotter.render_window.GetSize()[1]
    return h - 1 - round(dy), round(dx)


def _actors(view) -> int:
    return view.renderer.GetActors().GetNumberOfItems()


def test_floor_heat_is_draped_on_the_floor_and_updated_in_place(view):
    view.labels.set_visible(False)
    before = view.frame()
    floor = view.floor_heat
    floor.build(160, 100, 0.5)  # the demo's 80 m × 50 m floor
    floor.set_visible(True)
    n_actors = _actors(view)
    values = np.zeros((100, 160))
    values[10:30, 4:24] = 1.0  # a 10 m × 10 m patch at x 2–12 m, y 5–15 m (open floor, no machine)
    nd = np.zeros_like(values, dtype=bool)
    nd[48:64, 132:148] = True  # no data at x 66–74, y 24–32 (open floor)
    grid_rgba(floor.rgba, values, nd, 0.0, 1.0, grid_table("viridis", 1.0))
    floor.changed()
    frame = view.frame()
    r, c = _screen(view, 7.0, 10.0)
    top = lut("viridis")[-1].astype(int)
    assert np.abs(frame[r, c].astype(int) - top).max() <= 12  # opaque: the colour map's top colour
    r2, c2 = _screen(view, 7.0, 25.0)
    assert np.abs(frame[r2, c2].astype(int) - before[r2, c2].astype(int)).max() <= 3  # zero: the floor shows
    # No data: stripes of two greys, the dark one darker than anything on the bare floor.
    rr, cc = _screen(view, 70.0, 28.0)
    patch = frame[rr - 8 : rr + 8, cc - 8 : cc + 8].reshape(-1, 3).astype(int)
    bare = before[rr - 8 : rr + 8, cc - 8 : cc + 8].reshape(-1, 3).astype(int)
    assert np.all(np.abs(patch[:, 0] - patch[:, 2]) < 20)  # grey, not a colour of the map
    assert (patch[:, 0] < 125).mean() > 0.15 and (patch[:, 0] > 145).mean() > 0.15 and bare[:, 0].min() > 130

    # An update is a write into the same texture: no new actor.
    values[:] = 0
    grid_rgba(floor.rgba, values, None, 0.0, 1.0, grid_table("viridis", 1.0))
    floor.changed()
    after = view.frame()
    assert _actors(view) == n_actors
    assert np.abs(after[r, c].astype(int) - before[r, c].astype(int)).max() <= 3
    floor.set_visible(False)
    assert not floor.visible


def test_flow_ribbons_follow_their_widths_and_colours(view):
    view.labels.set_visible(False)
    flow = view.flow
    flow.build([[(2.0, 20.0), (14.0, 20.0)], [], [(2.0, 28.0), (14.0, 28.0), (14.0, 31.0)]])
    flow.set_visible(True)
    n_actors = _actors(view)
    flow.set_flows(np.array([2.0, 1.0, 0.0]), np.array([[255, 0, 0], [0, 0, 0], [0, 0, 255]], dtype=np.uint8))
    frame = view.frame()
    r, c = _screen(view, 8.0, 20.0, 0.05)
    assert tuple(frame[r, c]) == (255, 0, 0)
    r_edge, c_edge = _screen(view, 8.0, 20.8, 0.05)  # inside a 2 m ribbon
    assert tuple(frame[r_edge, c_edge]) == (255, 0, 0)
    r2, c2 = _screen(view, 8.0, 28.0, 0.05)
    assert tuple(frame[r2, c2]) != (0, 0, 255)  # width 0: not drawn
    flow.set_flows(np.array([0.5, 1.0, 1.0]), np.array([[255, 0, 0], [0, 0, 0], [0, 0, 255]], dtype=np.uint8))
    frame = view.frame()
    assert tuple(frame[r_edge, c_edge]) != (255, 0, 0)  # narrower now
    assert tuple(frame[r2, c2]) == (0, 0, 255)
    r3, c3 = _screen(view, 14.0, 30.0, 0.05)  # around the corner
    assert tuple(frame[r3, c3]) == (0, 0, 255)
    assert _actors(view) == n_actors


def test_colour_bars_have_their_own_places(view):
    view.set_colour_bar("WIP (parts/m²)", 0.0, 2.0, lut("viridis"), slot="floor")
    view.set_colour_bar("Flow (parts/h)", 0.0, 40.0, lut("cividis"), slot="flow")
    view.set_colour_bar("Temperature (°C)", 20.0, 60.0, lut("inferno"))
    assert view.colour_bar("floor") == "WIP (parts/m²)" and view.colour_bar("flow") == "Flow (parts/h)"
    assert view.colour_bar_title == "Temperature (°C)"
    with_bars = view.frame()
    view.set_colour_bar(None, slot="floor")
    without = view.frame()
    assert view.colour_bar("floor") is None and view.colour_bar("flow") is not None
    changed = np.any(with_bars != without, axis=2)
    h, w = changed.shape
    assert changed[int(h * 0.85) :, int(w * 0.40) : int(w * 0.70)].sum() > 500  # the floor bar sat bottom centre
    assert changed[:, : int(w * 0.40)].sum() == 0 and changed[:, int(w * 0.71) :].sum() == 0
