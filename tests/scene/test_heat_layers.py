"""Heat map layers in real frames: WIP colours draped on the floor, flow ribbons, colour bars; in place."""

from __future__ import annotations

import itertools

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
    patch = frame[rr - 6 : rr + 6, cc - 6 : cc + 6].reshape(-1, 3).astype(int)
    bare = before[rr - 6 : rr + 6, cc - 6 : cc + 6].reshape(-1, 3).astype(int)
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


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_flow_ribbons_have_a_casing_that_contrasts_with_the_floor(view, theme):
    """A pale ribbon on the light floor (or a dark one on the dark floor) stays visible: it lies on a casing
    in the floor's contrasting colour (issue 13, item 16)."""
    from app.scene.heat import CASING_M, CASING_RGB
    from app.scene.legend import contrast_ratio

    view.set_theme(theme)
    view.labels.set_visible(False)
    floor_rgb = view.frame()[_screen(view, 8.0, 24.0)].astype(int)
    pale = np.array([[250, 250, 250]] if theme == "light" else [[20, 20, 30]], dtype=np.uint8)
    view.flow.build([[(2.0, 24.0), (14.0, 24.0)]])
    view.flow.set_visible(True)
    view.flow.set_flows(np.array([1.0]), pale)
    frame = view.frame()
    edge = frame[_screen(view, 8.0, 24.0 + 0.5 + CASING_M / 2, 0.04)].astype(int)
    assert np.abs(edge - CASING_RGB[theme]).max() <= 3  # the casing shows along the ribbon's side...
    assert contrast_ratio(CASING_RGB[theme], floor_rgb) >= 3.0  # ...against the floor (WCAG non-text contrast)
    assert tuple(frame[_screen(view, 8.0, 24.0, 0.05)]) == tuple(pale[0])  # the ribbon itself on top
    view.flow.set_flows(np.array([0.0]), pale)
    off = view.frame()[_screen(view, 8.0, 24.0)].astype(int)
    assert np.abs(off - floor_rgb).max() <= 3  # no flow: neither ribbon nor casing


def test_colour_bars_have_their_own_places(view, qtbot):
    """Every legend at once: stacked in the margin beside the 3D view, none overlapping, none over the floor."""
    from app.state.colours import LEGEND

    view.labels.set_visible(False)
    view.set_legend(None)
    qtbot.wait(20)
    bare = view.frame()  # no legend: the 3D frame has the whole view
    view.set_legend(LEGEND, "Machine state")
    view.set_colour_bar("WIP (parts/m²)", 0.0, 2.0, lut("viridis"), slot="floor")
    view.set_colour_bar("Flow (parts/h) — counting: grey until 10 parts or 5 min", 0.0, 40.0, lut("cividis"), slot="flow")
    assert view.colour_bar("floor") == "WIP (parts/m²)" and view.colour_bar("flow").startswith("Flow (parts/h)")
    assert view.legend_title == "Machine state" and view.legend.isVisible()
    rects = view.legend.block_rects()
    assert list(rects) == ["legend", "floor", "flow"]
    ordered = list(rects.values())
    assert all(a.bottom() < b.top() for a, b in itertools.pairwise(ordered))  # stacked, apart
    assert all(view.legend.rect().contains(r) for r in ordered)  # none clipped
    # The margin is beside the render window, not over it: the floor's frame only got narrower.
    surface = view.render_widget
    assert surface.geometry().right() < view.legend.geometry().left()
    qtbot.wait(20)
    assert view.frame().shape[1] < bare.shape[1] == view.width()
    view.set_colour_bar("Temperature (°C)", 20.0, 60.0, lut("inferno"))  # the machines' bar replaces the states
    assert view.colour_bar_title == "Temperature (°C)" and view.legend_title is None
    assert list(view.legend.block_rects()) == ["machines", "floor", "flow"]
    view.set_colour_bar(None, slot="floor")
    assert view.colour_bar("floor") is None and view.colour_bar("flow") is not None
    for slot in ("machines", "flow"):
        view.set_colour_bar(None, slot=slot)
    assert not view.has_legend and not view.legend.isVisible()  # nothing to explain: the view gets the room


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_legend_text_meets_wcag_contrast_and_follows_the_window(view, theme):
    from app.scene.legend import contrast_ratio
    from app.state.colours import LEGEND

    view.set_theme(theme)
    view.set_legend(LEGEND, "Machine state")
    colours = view.legend.colours()
    assert contrast_ratio(colours["text"], colours["background"]) >= 7.0  # WCAG AAA for body text
    view.resize(800, 600)
    small = view.legend.text_px
    view.resize(1900, 1050)
    large = view.legend.text_px
    assert 12 <= small < large <= 18  # never the 7 px of a fixed-size VTK legend, larger on a larger window
    # In the screenshot the legend's pixels are the theme's panel with dark-on-light (or light-on-dark) text.
    image = view.legend.grab().toImage()
    assert image.pixelColor(image.width() - 2, image.height() - 2).getRgb()[:3] == colours["background"]


def test_colour_bar_tick_labels_never_touch(view):
    """A narrow margin keeps every other tick rather than "0.00.1" (issue 13, item 15)."""
    view.set_colour_bar("WIP (parts/m²)", 0.0, 0.35, lut("viridis"), slot="floor")
    for width in (700, 1200, 1900):
        view.resize(width, 600)
        labels = view.legend.tick_labels("floor")
        assert len(labels) >= 2
        assert all(a[0] + a[1] < b[0] for a, b in itertools.pairwise(labels)), labels


def test_the_legend_margin_keeps_its_width_when_a_title_changes(view):
    """Live ("· grey: still counting") and replay ("Flow (parts/h)") titles: the 3D view does not jump."""
    view.set_colour_bar("Flow (parts/h)", 0.0, 40.0, lut("cividis"), slot="flow")
    short = view.legend.sizeHint().width()
    view.set_colour_bar("Flow (parts/h) · grey: still counting", 0.0, 40.0, lut("cividis"), slot="flow")
    assert view.legend.sizeHint().width() == short
