"""Material heat maps on the view: WIP density on the floor and flow on transport paths, live or replayed.

Pulls the state on view from the live link (the live store, or the one replayed at time t: the same path
for both), computes the layers with ``app.heat`` and hands the scene arrays to show. Updates are
coalesced: at most one every ``MIN_INTERVAL_MS`` (longer when an update was slow), and the WIP grid is
recomputed only when the amounts it spreads changed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from PySide6 import QtCore

from app.heat.colour import grid_rgba, grid_table, heat_colours, lut, nice_ceiling
from app.heat.grid import WipSpreader
from app.heat.material import (
    HotSpot,
    flow_shares,
    grid_csv,
    holding_points,
    machine_hot_spots,
    path_flows,
    path_sources,
    wip_hot_spots,
    wip_spreader,
)
from app.model.atomic import atomic_write_text
from app.model.factory import Factory
from app.model.geometry import transport_route
from app.scene.view import FactoryView
from app.ui.live_link import LiveLink

log = logging.getLogger(__name__)

WIP_CMAP = "viridis"
FLOW_CMAP = "cividis_r"
CELL_M = 0.25
RADIUS_M = 3.0
HOT_SPOTS = 10
FLOW_WIDTH_M = (0.12, 1.5)  # ribbon width from no flow to the busiest path
UNKNOWN_FLOW_WIDTH_M = 0.12


@dataclass(frozen=True)
class MaterialLayers:
    """Which material layers are shown, and how opaque the floor colours are."""

    wip: bool = False
    flow: bool = False
    opacity: float = 0.8


class HeatMaps(QtCore.QObject):
    """Keeps the material layers of one view up to date.

    Signals
    -------
    hot_spots_changed(list)
        The current ``HotSpot`` list (WIP peaks, then the hottest machines when machines show a heat map).
    """

    hot_spots_changed = QtCore.Signal(list)
    #: Something the user should know about the machine heat map ("" when all is well).
    notice = QtCore.Signal(str)
    MIN_INTERVAL_MS = 100

    def __init__(self, view: FactoryView, link: LiveLink, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.view, self.link = view, link
        self.layers = MaterialLayers()
        self.factory: Factory | None = None
        self.spreader: WipSpreader | None = None
        self._shares: np.ndarray | None = None
        self._inputs: tuple | None = None  # the WIP amounts last spread (skip when unchanged)
        self.parts = np.zeros((0, 0))  # parts per cell of the last update
        self.no_data = np.zeros((0, 0), dtype=bool)
        self.flows = np.zeros(0)  # parts per hour per transport path (NaN: unknown)
        self.shown_at: float | None = None  # the time the layers show (None: live)
        self.simulated: tuple[str, np.ndarray] | None = None  # WIP from a simulation instead of the plant
        self.update_ms = 0.0
        self._bars: dict[str, tuple] = {}
        self._hot_at = 0.0
        self._hot_shown = False  # the hot-spot list last sent had entries
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.update_now)
        self._tick = QtCore.QTimer(self)
        self._tick.setInterval(1000)  # staleness, rates and hot spots move with time even without new values
        self._tick.timeout.connect(self.request_update)
        link.values_flushed.connect(self.request_update)
        link.replay_shown.connect(self.request_update)

    # -- configuration -------------------------------------------------------------------------------
    def set_factory(self, factory: Factory | None) -> None:
        """A new layout (opened or edited). Moved machines only move their own WIP kernels; anything else
        (machines added or removed, another floor) rebuilds the kernels at the next update."""
        old, self.factory = self.factory, factory
        if not self._only_moved(old, factory):
            self.spreader = None
        self._shares = None
        self._inputs = None
        self.request_update()

    def _only_moved(self, old: Factory | None, new: Factory | None) -> bool:
        """Update the WIP kernel in place when ``new`` differs from ``old`` in machine poses only."""
        if self.spreader is None or old is None or new is None or old.floor != new.floor:
            return False
        if [(m.id, m.footprint) for m in old.machines] != [(m.id, m.footprint) for m in new.machines]:
            return False
        t0 = time.perf_counter()
        points, _owners = holding_points(new)
        moved = self.spreader.move_points(points)
        if moved:
            log.debug("WIP kernel: %d holding points moved in %.1f ms", moved, (time.perf_counter() - t0) * 1000)
        return True

    def set_layers(self, layers: MaterialLayers) -> None:
        self.layers = layers
        self._inputs = None
        on = layers.wip or layers.flow
        if on:
            self._tick.start()
        else:
            self._tick.stop()
        self.view.floor_heat.set_visible(layers.wip)
        self.view.flow.set_visible(layers.flow)
        if not layers.wip:
            self._set_bar("floor", None)
        if not layers.flow:
            self._set_bar("flow", None)
        self.update_now()

    # -- updates --------------------------------------------------------------------------------------
    def request_update(self, *_args) -> None:
        if (self.layers.wip or self.layers.flow or self.link.heat is not None) and not self._timer.isActive():
            self._timer.start(int(max(self.MIN_INTERVAL_MS, 4 * self.update_ms)))

    def _ensure_kernels(self) -> bool:
        factory = self.factory
        if factory is None:
            return False
        if self.spreader is None and self.layers.wip:
            t0 = time.perf_counter()
            self.spreader = wip_spreader(factory, CELL_M, RADIUS_M)
            self.view.floor_heat.build(self.spreader.nx, self.spreader.ny, CELL_M)
            self.view.floor_heat.set_visible(True)
            log.info(
                "WIP grid %d × %d cells for %d machines in %.0f ms",
                self.spreader.nx,
                self.spreader.ny,
                len(factory.machines),
                (time.perf_counter() - t0) * 1000,
            )
        if self._shares is None and self.layers.flow:
            self._shares = flow_shares(factory)
            self._sources = path_sources(factory)
            centre = {m.id: (m.pose.x_m, m.pose.y_m) for m in factory.machines}
            self.view.flow.build([transport_route(t, centre) for t in factory.transports])
            self.view.flow.set_visible(True)
        return True

    def update_now(self) -> None:
        """Recompute and show the layers from the state on view."""
        self._timer.stop()
        if not self._ensure_kernels():
            return
        t0 = time.perf_counter()
        shown = self.link.shown()
        store, now = shown if shown is not None else (None, time.time())
        self.shown_at = self.link.replay_time
        changed = False
        if self.layers.wip and self.spreader is not None:
            changed |= self._update_wip(store, now)
        if self.layers.flow and self._shares is not None:
            self._update_flow()
            changed = True
        if changed:
            self.view.request_render()
        self.update_ms = (time.perf_counter() - t0) * 1000
        # Once a second; at once when the list on view is still empty and there is something new to list
        # (a screenshot taken as soon as the layers are drawn shows the list filled too).
        if time.monotonic() - self._hot_at >= 1.0 or (changed and not self._hot_shown):
            self._hot_at = time.monotonic()
            spots = self.hot_spots()
            self._hot_shown = bool(spots)
            self.hot_spots_changed.emit(spots)
            self.notice.emit(self.heat_notice(store))

    def show_simulated(self, title: str | None, amounts: np.ndarray | None) -> None:
        """Spread a simulation's mean WIP per machine (factory order; NaN unknown) on the floor instead of the
        plant's; None goes back to live (or replayed) values. Same drawing path, same legend, its own title."""
        self.simulated = None if amounts is None else (title or "simulated", np.asarray(amounts, dtype=float))
        self._inputs = None
        self.update_now()

    def _update_wip(self, store, now: float) -> bool:
        n = len(self.factory.machines)
        if self.simulated is not None and len(self.simulated[1]) == n:
            amounts = self.simulated[1].copy()
            known = np.isfinite(amounts)
        elif store is not None and "Level" in store.signal_index:
            amounts = store.column("Level").copy()
            known = store.fresh("Level", now, self.link.max_age_s) & np.isfinite(amounts)
        else:
            amounts, known = np.full(n, np.nan), np.zeros(n, dtype=bool)
        amounts[~known] = np.nan
        key = (amounts.tobytes(), self.layers.opacity)
        if key == self._inputs:
            return False
        self._inputs = key
        self.parts = self.spreader.grid(amounts)
        if known.all():
            if self.no_data.shape != self.parts.shape or self.no_data.any():
                self.no_data = np.zeros(self.parts.shape, dtype=bool)
        else:
            self.no_data = self.spreader.no_data(known)
        density = self.parts * (1.0 / (CELL_M * CELL_M))
        title = "WIP (parts/m²)" if self.simulated is None else f"WIP (parts/m²), {self.simulated[0]}"
        lo, hi = 0.0, nice_ceiling(float(density.max()))
        grid_rgba(self.view.floor_heat.rgba, density, self.no_data, lo, hi, grid_table(WIP_CMAP, self.layers.opacity))
        self.view.floor_heat.changed()
        # No machine's WIP known: hatched grey everywhere, and no scale from nowhere.
        scale = (round(lo, 6), round(hi, 6)) if known.any() else (None, None)
        self._set_bar("floor", (title, *scale, WIP_CMAP))
        return True

    def _update_flow(self) -> None:
        rates = self.link.output_rates()
        n = len(self.factory.machines)
        self.flows = path_flows(self._sources, self._shares, rates if rates is not None else np.full(n, np.nan))
        known = np.isfinite(self.flows)
        lo, hi = 0.0, nice_ceiling(float(np.nanmax(self.flows)) if known.any() else 0.0)
        t = np.clip(np.nan_to_num(self.flows) / hi, 0.0, 1.0)
        widths = np.where(known, FLOW_WIDTH_M[0] + t * (FLOW_WIDTH_M[1] - FLOW_WIDTH_M[0]), UNKNOWN_FLOW_WIDTH_M)
        self.view.flow.set_flows(widths, heat_colours(self.flows, known, lo, hi, FLOW_CMAP))
        counting = self.link.rates_counting()
        title = "Flow (parts/h)"
        if counting is not None and len(self._sources) and (counting[self._sources[~known & (self._sources >= 0)]]).any():
            title += " · grey: still counting"  # no rate before MIN_PARTS parts or RATE_WINDOW_S (docs/heat-maps.md)
        scale = (round(lo, 6), round(hi, 6)) if known.any() else (None, None)  # no rate yet: no dummy 0–1 scale
        self._set_bar("flow", (title, *scale, FLOW_CMAP))

    def _set_bar(self, slot: str, bar: tuple | None) -> None:
        if bar == self._bars.get(slot):
            return
        if bar is None:
            self._bars.pop(slot, None)
            self.view.set_colour_bar(None, slot=slot)
        else:
            self._bars[slot] = bar
            title, lo, hi, cmap = bar
            self.view.set_colour_bar(title, lo, hi, lut(cmap), slot=slot)

    def heat_notice(self, store) -> str:
        """Says so when machines are coloured by a signal that only ever had text values."""
        heat = self.link.heat
        if heat is None or store is None or heat.signal not in store.signal_index:
            return ""
        j = store.signal_index[heat.signal]
        has_text = any(t is not None for t in store.texts[:, j])
        if has_text and not np.isfinite(store.values[:, j]).any():
            return f"{heat.signal} is not a numeric signal (its values are text): machines stay grey."
        return ""

    def ready(self) -> bool:
        """True when every layer shown is drawn from the state on view (a screenshot waits for this). Flows
        count as drawn while still counting: grey, with the legend saying so, is their honest state."""
        if self.layers.wip and not (self.parts.size and np.nansum(self.parts) > 0):
            return False
        return not (self.layers.flow and (self.factory is None or len(self.flows) != len(self.factory.transports)))

    # -- hot spots and export ---------------------------------------------------------------------------
    def hot_spots(self, n: int = HOT_SPOTS) -> list[HotSpot]:
        """The highest WIP peaks (when the WIP layer is on) and the hottest machines (when machines show a
        heat map), live or at the replay time."""
        if self.factory is None:
            return []
        out: list[HotSpot] = []
        if self.layers.wip and self.parts.size:
            out += wip_hot_spots(np.where(self.no_data, 0.0, self.parts) / (CELL_M * CELL_M), CELL_M, n, self.factory)
        heat, shown = self.link.heat, self.link.shown()
        if heat is not None and shown is not None:
            store, now = shown
            values = store.column(heat.signal)
            out += machine_hot_spots(self.factory, values, store.fresh(heat.signal, now, self.link.max_age_s), n)
        return out

    def export_csv(self, path) -> None:
        """Write the WIP grid on view as CSV (atomically); raises ``OSError`` when it cannot be written."""
        if self.factory is None or not self.parts.size:
            raise ValueError("switch on the WIP layer first: there is no grid to export")
        atomic_write_text(path, grid_csv(self.parts, self.no_data, CELL_M, self.factory.name, self.shown_at))
