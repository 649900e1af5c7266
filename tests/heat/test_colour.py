"""Machine heat colours: uniform maps, clipping, and "no data" grey instead of the colour of zero."""

from __future__ import annotations

import numpy as np

from app.heat.colour import heat_colours, lut, value_range
from app.state.colours import NO_DATA_RGB


def test_values_map_through_the_colour_map_and_unknowns_are_grey():
    values = np.array([20.0, 30.0, 40.0, np.nan, 0.0, 100.0])
    known = np.array([True, True, True, True, False, True])
    lo, hi = value_range(values, known, fixed=(20.0, 40.0))
    rgb = heat_colours(values, known, lo, hi, "inferno")
    table = lut("inferno")
    assert tuple(rgb[0]) == tuple(table[0]) and tuple(rgb[2]) == tuple(table[-1])
    assert tuple(rgb[1]) == tuple(table[128]) or tuple(rgb[1]) == tuple(table[127])
    assert tuple(rgb[3]) == tuple(NO_DATA_RGB)  # NaN
    assert tuple(rgb[4]) == tuple(NO_DATA_RGB)  # stale or bad: grey, not the colour of 0
    assert tuple(rgb[5]) == tuple(table[-1])  # above a fixed range: clipped
    # Brightness rises along inferno: a perceptually ordered map.
    lum = table @ np.array([0.2126, 0.7152, 0.0722])
    assert np.all(np.diff(lum) > -1.0)


def test_automatic_range_follows_the_known_values_and_survives_a_flat_one():
    values = np.array([5.0, 7.0, 1000.0])
    known = np.array([True, True, False])
    assert value_range(values, known) == (5.0, 7.0)
    lo, hi = value_range(np.array([3.0, 3.0]), np.array([True, True]))
    assert lo < 3.0 < hi
    assert value_range(np.array([np.nan]), np.array([True])) == (0.0, 1.0)


def test_automatic_range_has_a_minimum_span_per_unit_and_a_locked_range_is_kept():
    """A 2 °C spread does not stretch over the whole colour map: the coolest press is not drawn black like
    a dead machine (issue 13, item 16)."""
    import numpy as np

    from app.heat.colour import heat_colours, value_range

    temps = np.array([19.9, 21.0, 21.8])
    known = np.ones(3, dtype=bool)
    lo, hi = value_range(temps, known, unit="°C")
    assert abs((hi - lo) - 10.0) < 1e-9 and lo < 19.9 and hi > 21.8
    coolest = heat_colours(temps, known, lo, hi, "inferno")[0]
    assert coolest.sum() > 150  # well above black
    assert value_range(temps, known, fixed=(0.0, 100.0), unit="°C") == (0.0, 100.0)  # the user's lock wins
    assert value_range(np.array([0.0, 500.0]), np.ones(2, dtype=bool), unit="°C") == (0.0, 500.0)  # wide: as is
