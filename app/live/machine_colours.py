"""What colour each machine shows for the state on view, and the colour bar beside it. Plain numpy, no Qt.

Three ways to colour machines: by their state (alarms blinking live, steady in a replay), by a numeric
signal (a heat map, over a fixed or automatic range), or by a difference (a what-if result, on a
diverging map centred on zero). Each gives one (N, 3) uint8 array the view writes in one go, and a heat
map or difference gives the ``ColourBar`` to draw beside it.

Examples
--------
>>> import numpy as np
>>> from app.state.store import StateStore, Update
>>> store = StateStore(["CNC-01", "CNC-02"], ["State", "Temperature"])
>>> k = store.bind("CNC-01", "Temperature", "ns=2;s=T1")
>>> store.ingest([Update(k, 40.0, received_ts=100.0)])
>>> rgb, bar = heat_colouring(store, HeatLayer("Temperature"), 101.0, max_age_s=10.0)
>>> bar.title, (bar.lo, bar.hi)
('Temperature (°C)', (35.0, 45.0))
>>> rgb[1].tolist()  # CNC-02 has no temperature: "no data" grey
[150, 150, 150]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from app.heat.colour import heat_colours, value_range
from app.state import labels
from app.state.colours import state_colours
from app.state.store import StateStore

#: Colour map of differences: diverging, centred on zero, colour-blind safe (blue less, red more).
DELTA_CMAP = "RdBu_r"
#: Colour map of shares of the time (a bottleneck share): sequential, pale at 0% to dark red at 100%.
SHARE_CMAP = "YlOrRd"


@dataclass(frozen=True)
class HeatLayer:
    """Machine heat: colour machines by ``signal`` with a colour map, over a fixed or automatic range."""

    signal: str
    cmap: str = "inferno"
    fixed_range: tuple[float, float] | None = None


class ColourBar(NamedTuple):
    """The colour bar beside the machines: what it shows, its range and its colour map."""

    title: str
    lo: float
    hi: float
    cmap: str

    def same_as(self, other: ColourBar | None) -> bool:
        """Whether drawing ``other`` again would look the same (ranges compared to 6 decimals)."""
        return other is not None and (self.title, self.cmap) == (other.title, other.cmap) and all(
            round(a, 6) == round(b, 6) for a, b in ((self.lo, other.lo), (self.hi, other.hi))
        )


def state_colouring(
    store: StateStore, t: float, max_age_s: float, alarmed: np.ndarray, blink_on: bool
) -> np.ndarray:
    """Each machine's state colour at time ``t``: grey where its state is missing, bad or older than
    ``max_age_s``; ``alarmed`` machines red (dark red on the blink's off beat)."""
    j = store.signal_index["State"]
    return state_colours(store.values[:, j], store.status[:, j], store.ages("State", t), max_age_s, alarmed, blink_on)


def heat_colouring(
    store: StateStore,
    heat: HeatLayer,
    t: float,
    max_age_s: float,
    layer: tuple[np.ndarray, str] | None = None,
) -> tuple[np.ndarray, ColourBar]:
    """Each machine's colour for ``heat.signal`` at time ``t``, and the bar to show. ``layer`` is a
    plugin's computed layer (values per machine, unit) instead of a bound signal; values that are
    missing, bad or older than ``max_age_s`` are "no data" grey. The unit is the server's where it gives one."""
    if layer is not None:
        values, unit = layer
        known = np.isfinite(values)
    else:
        values = store.column(heat.signal)
        known = store.fresh(heat.signal, t, max_age_s)
        unit = labels.unit_of(store, heat.signal)
    lo, hi = value_range(values, known, heat.fixed_range, unit)
    title = f"{heat.signal} ({unit})" if unit else heat.signal
    return heat_colours(values, known, lo, hi, heat.cmap), ColourBar(title, lo, hi, heat.cmap)


def delta_colouring(title: str, values: np.ndarray) -> tuple[np.ndarray, ColourBar]:
    """Each machine's colour for a difference (NaN: unknown, grey), on a range symmetric about zero that
    reaches the largest known difference.

    >>> rgb, bar = delta_colouring("Throughput Δ", np.array([-2.0, 1.0, np.nan]))
    >>> (bar.lo, bar.hi), rgb[2].tolist()
    ((-2.0, 2.0), [150, 150, 150])
    """
    values = np.asarray(values, dtype=float)
    known = np.isfinite(values)
    reach = float(np.abs(values[known]).max()) if known.any() else 1.0
    reach = reach if reach > 0 else 1.0
    return heat_colours(values, known, -reach, reach, DELTA_CMAP), ColourBar(title, -reach, reach, DELTA_CMAP)


def share_colouring(title: str, shares: np.ndarray) -> tuple[np.ndarray, ColourBar]:
    """Each machine's colour for a share of the time (0–1; NaN: not known, grey) on a fixed 0–100% scale,
    and its bar in percent.

    >>> rgb, bar = share_colouring("Bottleneck share", np.array([0.0, 1.0, np.nan]))
    >>> bar, rgb[2].tolist()
    (ColourBar(title='Bottleneck share (%)', lo=0.0, hi=100.0, cmap='YlOrRd'), [150, 150, 150])
    """
    values = 100.0 * np.asarray(shares, dtype=float)
    return heat_colours(values, np.isfinite(values), 0.0, 100.0, SHARE_CMAP), ColourBar(f"{title} (%)", 0.0, 100.0, SHARE_CMAP)
