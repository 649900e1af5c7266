"""Values to colours for machine heat: perceptually uniform, colour-blind-safe colour maps; no data is grey.

A machine whose value is missing, bad or stale is drawn in the "no data" grey of the state colours, never
in the colour of zero. The range is automatic (the finite values shown) unless fixed.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps

from app.state.colours import NO_DATA_RGB

COLOUR_MAPS = ("inferno", "viridis", "cividis")


def lut(name: str, n: int = 256) -> np.ndarray:
    """(n, 3) uint8 colours of a matplotlib colour map."""
    return (np.asarray(colormaps[name](np.linspace(0.0, 1.0, n)))[:, :3] * 255 + 0.5).astype(np.uint8)


def value_range(values: np.ndarray, known: np.ndarray, fixed: tuple[float, float] | None = None) -> tuple[float, float]:
    """The range to colour over: ``fixed``, else the known finite values' min and max (a flat range is
    widened so every value still maps to a colour)."""
    if fixed is not None:
        lo, hi = fixed
    else:
        v = values[known & np.isfinite(values)]
        lo, hi = (float(v.min()), float(v.max())) if len(v) else (0.0, 1.0)
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
