"""Values to colours for machine heat: perceptually uniform, colour-blind-safe colour maps; no data is grey.

A machine whose value is missing, bad or stale is drawn in the "no data" grey of the state colours, never
in the colour of zero. The range is automatic (the finite values shown) unless fixed.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from matplotlib import colormaps

from app.model.kinds import NO_DATA_RGB

COLOUR_MAPS = ("inferno", "viridis", "cividis")


@functools.lru_cache(maxsize=32)
def lut(name: str, n: int = 256) -> np.ndarray:
    """(n, 3) uint8 colours of a matplotlib colour map (read-only: shared between callers)."""
    table = (np.asarray(colormaps[name](np.linspace(0.0, 1.0, n)))[:, :3] * 255 + 0.5).astype(np.uint8)
    table.flags.writeable = False
    return table


def nice_ceiling(value: float) -> float:
    """``value`` rounded up to two significant digits (0.2371 → 0.24, 118 → 120): an automatic range's top
    that stays put while values wander below it, so the legend is not redrawn on every update."""
    if not np.isfinite(value) or value <= 0:
        return 1.0
    step = 10.0 ** (math.floor(math.log10(value)) - 1)
    return math.ceil(value / step - 1e-9) * step


#: The narrowest automatic range per unit: a spread smaller than this is a sensor's noise, not a story, and
#: must not stretch over the whole colour map (a press 2 °C cooler than the rest would look dead black).
MIN_SPAN = {
    "°C": 10.0,
    "K": 10.0,
    "%": 10.0,
    "kW": 1.0,
    "W": 1000.0,
    "kN": 100.0,
    "N": 100_000.0,
    "s": 5.0,
    "mm/s": 2.0,
    "rpm": 100.0,
    "bar": 1.0,
}


def value_range(
    values: np.ndarray, known: np.ndarray, fixed: tuple[float, float] | None = None, unit: str = ""
) -> tuple[float, float]:
    """The range to colour over: ``fixed`` (the user locked it), else the known finite values' min and max,
    widened about their middle to at least the unit's ``MIN_SPAN`` (and a flat range widened so every
    value still maps to a colour).

    >>> value_range(np.array([19.9, 21.8]), np.array([True, True]), unit="°C")
    (15.85, 25.85)
    """
    if fixed is not None:
        lo, hi = fixed
    else:
        v = values[known & np.isfinite(values)]
        lo, hi = (float(v.min()), float(v.max())) if len(v) else (0.0, 1.0)
        span = MIN_SPAN.get(unit, 0.0)
        if hi - lo < span:
            mid = (lo + hi) / 2
            lo, hi = round(mid - span / 2, 9), round(mid + span / 2, 9)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def heat_colours(values: np.ndarray, known: np.ndarray, lo: float, hi: float, cmap: str = "inferno") -> np.ndarray:
    """(N, 3) uint8: each known value's colour in [lo, hi] (clipped), "no data" grey for the rest."""
    values = np.asarray(values, dtype=float)
    table = lut(cmap)
    out = np.empty((len(values), 3), dtype=np.uint8)
    out[:] = NO_DATA_RGB
    ok = known & np.isfinite(values)
    t = np.clip((values[ok] - lo) / (hi - lo), 0.0, 1.0)
    out[ok] = table[np.round(t * (len(table) - 1)).astype(int)]
    return out


#: "No data" on the floor: grey diagonal stripes, so missing WIP never looks like an empty floor.
HATCH_RGB = ((110, 110, 115), (175, 175, 180))
_HATCH_CACHE: dict[tuple[int, int], np.ndarray] = {}


def _rgba32(rgb: tuple[int, int, int] | np.ndarray, alpha: int) -> np.uint32:
    return np.array([[*(int(c) for c in rgb), alpha]], dtype=np.uint8).view(np.uint32)[0, 0]


def _hatch(shape: tuple[int, int], alpha: int) -> np.ndarray:
    key = (shape[0] * 100003 + shape[1], alpha)
    pattern = _HATCH_CACHE.get(key)
    if pattern is None:
        jj, ii = np.indices(shape)
        dark = ((ii + jj) // 4) % 2 == 0  # stripes four cells wide: still stripes after smoothing
        pattern = np.where(dark, _rgba32(HATCH_RGB[0], alpha), _rgba32(HATCH_RGB[1], alpha)).astype(np.uint32)
        _HATCH_CACHE.clear()  # one grid at a time
        _HATCH_CACHE[key] = pattern
    return pattern


@functools.lru_cache(maxsize=16)
def grid_table(cmap: str, opacity: float, fade: float = 0.15) -> np.ndarray:
    """(256,) packed RGBA of a colour map for a floor grid: transparent at zero, fading in over the first
    ``fade`` of the range, then ``opacity``."""
    rgb = lut(cmap)
    alpha = np.clip(np.linspace(0.0, 1.0, len(rgb)) / fade, 0.0, 1.0) * opacity * 255
    alpha[0] = 0
    return np.c_[rgb, (alpha + 0.5).astype(np.uint8)].astype(np.uint8).view(np.uint32).reshape(-1)


def grid_rgba(out: np.ndarray, values: np.ndarray, no_data: np.ndarray | None, lo: float, hi: float, table: np.ndarray) -> None:
    """Colour a (ny, nx) grid into ``out`` ((ny, nx, 4) uint8, e.g. a texture's memory) with a packed
    ``grid_table``: values at or below ``lo`` are transparent, ``no_data`` cells hatched grey."""
    flat = out.reshape(-1, 4).view(np.uint32).reshape(values.shape)
    scale = (len(table) - 1) / (hi - lo) if hi > lo else 0.0
    idx = (values - lo) * scale
    np.clip(idx, 0, len(table) - 1, out=idx)
    np.take(table, idx.astype(np.intp), out=flat)
    if no_data is not None and no_data.any():
        alpha = int(table[-1:].view(np.uint8)[3])
        np.copyto(flat, _hatch(values.shape, max(alpha, 160)), where=no_data)
