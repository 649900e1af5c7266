"""The material heat maps of a layout as a service: WIP on the floor, flow on transport paths, hot spots.

Qt-free. ``MaterialHeat`` holds a factory snapshot and the kernels made from it (the WIP spreader, the
flow shares per transport path), and turns the state on view — the live store now, or the one replayed at
a past time, or a simulation's WIP — into what a view draws: a ``HeatFrame`` with the floor grid's colours,
the ribbons' widths and colours and the colour bars. It announces the hot spots and a word about the
machine heat map with psygnal signals (about once a second, and at once when there is something new to
list), on the thread that calls ``update``.

The state is read duck-typed (``ShownStore``: what ``app.state.store.StateStore`` offers): this package
sits below ``app.state`` and does not import it.

Examples
--------
>>> from app.model.factory import Factory, Floor, Footprint, Machine, Pose
>>> f = Factory(name="t", floor=Floor(width_m=10, depth_m=6), machines=[Machine(
...     id="M1", name="M1", kind="cnc", asset="a", pose=Pose(x_m=5, y_m=3), footprint=Footprint(width_m=1, depth_m=1))])
>>> heat = MaterialHeat()
>>> heat.set_factory(f)
>>> heat.set_layers(MaterialLayers(wip=True))
>>> heat.show_simulated("demo", np.array([4.0]))  # parts at M1, from a simulation
>>> frame = heat.update(StateOnView(None, 0.0))
>>> round(float(heat.parts.sum()), 6), frame.bars["floor"].title
(4.0, 'WIP (parts/m²), demo')
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import numpy as np
from psygnal import Signal

from app.heat.colour import grid_rgba, grid_table, heat_colours, nice_ceiling
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

log = logging.getLogger(__name__)

WIP_CMAP = "viridis"
FLOW_CMAP = "cividis_r"
#: The WIP grid's cells (m) and how far a machine's WIP spreads over them (m).
CELL_M = 0.25
RADIUS_M = 3.0
HOT_SPOTS = 10
FLOW_WIDTH_M = (0.12, 1.5)  # ribbon width from no flow to the busiest path
UNKNOWN_FLOW_WIDTH_M = 0.12
#: Hot spots and the notice are announced this often (s) while updates come in.
ANNOUNCE_S = 1.0


class ShownStore(Protocol):
    """What the heat maps read of a state store (``app.state.store.StateStore`` is one)."""

    @property
    def signal_index(self) -> Mapping[str, int]: ...

    @property
    def values(self) -> np.ndarray: ...

    @property
    def texts(self) -> np.ndarray: ...

    def column(self, signal: str) -> np.ndarray: ...

    def fresh(self, signal: str, now: float, max_age_s: float) -> np.ndarray: ...


@dataclass(frozen=True)
class MaterialLayers:
    """Which material layers are shown, and how opaque the floor colours are."""

    wip: bool = False
    flow: bool = False
    opacity: float = 0.8


@dataclass(frozen=True)
class StateOnView:
    """The state the heat maps are drawn from.

    Parameters
    ----------
    store
        The live store, or the one replayed at ``at`` (None: no data yet).
    now
        The time the store's values are judged at (UNIX s): now when live, the replay time otherwise.
    max_age_s
        Values older than this are no data.
    rates, counting
        Output rates per machine (parts/h, NaN unknown; None: nothing to compare yet) and the machines whose
        rate still waits for enough parts (None: none, or a replay).
    at
        The replay time shown (None: live).
    machine_signal
        The signal machines are coloured by (None: by state): its hottest machines are hot spots.
    """

    store: ShownStore | None
    now: float
    max_age_s: float = 10.0
    rates: np.ndarray | None = None
    counting: np.ndarray | None = None
    at: float | None = None
    machine_signal: str | None = None


class LayerBar(NamedTuple):
    """A material layer's colour bar: its title, range (None, None: no scale, nothing known) and colour map."""

    title: str
    lo: float | None
    hi: float | None
    cmap: str


@dataclass(frozen=True)
class WipColours:
    """The WIP layer's new colours: the density grid (parts/m²), its "no data" cells, range and colour table."""

    density: np.ndarray
    no_data: np.ndarray
    lo: float
    hi: float
    table: np.ndarray

    def paint(self, rgba: np.ndarray) -> None:
        """Colour the grid into ``rgba`` ((ny, nx, 4) uint8, e.g. a floor texture's memory): transparent where
        there is no WIP, hatched grey where there is no data."""
        grid_rgba(rgba, self.density, self.no_data, self.lo, self.hi, self.table)


@dataclass(frozen=True)
class FlowRibbons:
    """The flow layer's ribbons: one width (m) and colour (uint8 RGB) per transport path."""

    widths_m: np.ndarray
    rgb: np.ndarray


@dataclass(frozen=True)
class HeatFrame:
    """What an update asks a view to draw; None where nothing changed.

    ``grid`` (nx, ny, cell_m) and ``routes`` (one polyline per transport path) are set when the kernels
    were made anew: the view builds its floor grid or ribbons first. ``bars`` holds the colour bar of each
    layer computed, by slot ("floor", "flow").
    """

    grid: tuple[int, int, float] | None = None
    routes: list[list[tuple[float, float]]] | None = None
    wip: WipColours | None = None
    flow: FlowRibbons | None = None
    bars: dict[str, LayerBar] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """True when something on view is to be drawn anew."""
        return self.wip is not None or self.flow is not None


def _bar(title: str, lo: float, hi: float, cmap: str, scaled: bool) -> LayerBar:
    """A colour bar; without a scale (None, None) when nothing it shows is known."""
    return LayerBar(title, round(lo, 6), round(hi, 6), cmap) if scaled else LayerBar(title, None, None, cmap)


def machine_heat_notice(store: ShownStore | None, signal: str | None) -> str:
    """Says so when machines are coloured by a signal that only ever had text values ("" otherwise)."""
    if signal is None or store is None or signal not in store.signal_index:
        return ""
    j = store.signal_index[signal]
    has_text = any(t is not None for t in store.texts[:, j])
    if has_text and not np.isfinite(store.values[:, j]).any():
        return f"{signal} is not a numeric signal (its values are text): machines stay grey."
    return ""


class MaterialHeat:
    """The material heat maps of one layout.

    Signals
    -------
    hot_spots_changed(list)
        The current ``HotSpot`` list (WIP peaks, then the hottest machines when machines show a heat map).
    notice_changed(str)
        Something the user should know about the machine heat map ("" when all is well).

    Parameters
    ----------
    cell_m, radius_m
        The WIP grid's cell size and how far a machine's WIP spreads (m).
    clock
        Monotonic seconds, for how often hot spots are announced.
    """

    hot_spots_changed = Signal(list)
    notice_changed = Signal(str)

    def __init__(self, cell_m: float = CELL_M, radius_m: float = RADIUS_M, clock: Callable[[], float] = time.monotonic):
        self.cell_m, self.radius_m = cell_m, radius_m
        self._clock = clock
        self.layers = MaterialLayers()
        self.factory: Factory | None = None
        self.spreader: WipSpreader | None = None
        self.sources = np.zeros(0, dtype=np.int64)  # each transport path's source machine (-1: none)
        self._shares: np.ndarray | None = None
        self._inputs: tuple | None = None  # the WIP amounts last spread (skip when unchanged)
        self.parts = np.zeros((0, 0))  # parts per cell of the last update
        self.no_data = np.zeros((0, 0), dtype=bool)
        self.flows = np.zeros(0)  # parts per hour per transport path (NaN: unknown)
        self.state: StateOnView | None = None  # the state of the last update
        self.simulated: tuple[str, np.ndarray] | None = None  # WIP from a simulation instead of the plant
        self._announced_at = -np.inf
        self._listed = False  # the hot-spot list last announced had entries

    @property
    def shown_at(self) -> float | None:
        """The replay time the layers show (None: live)."""
        return None if self.state is None else self.state.at

    # -- configuration -------------------------------------------------------------------------------
    def set_factory(self, factory: Factory | None) -> None:
        """A new layout version (opened or edited). Moved machines only move their own WIP kernels; anything
        else (machines added or removed, another floor) makes the kernels anew at the next update."""
        old, self.factory = self.factory, factory
        if not self._only_moved(old, factory):
            self.spreader = None
        self._shares = None
        self._inputs = None

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
        """Which layers to compute from the next update on."""
        self.layers = layers
        self._inputs = None

    def show_simulated(self, title: str | None, amounts: np.ndarray | None) -> None:
        """Spread a simulation's mean WIP per machine (factory order; NaN unknown) on the floor instead of the
        plant's; None goes back to live (or replayed) values. Same drawing path and legend, its own title."""
        self.simulated = None if amounts is None else (title or "simulated", np.asarray(amounts, dtype=float))
        self._inputs = None

    # -- updates --------------------------------------------------------------------------------------
    def update(self, state: StateOnView) -> HeatFrame:
        """Compute the layers shown from ``state`` and return what to draw; announces hot spots when due."""
        self.state = state
        factory = self.factory
        if factory is None:
            return HeatFrame()
        grid, routes = self._ensure_kernels(factory)
        wip = flow = None
        bars: dict[str, LayerBar] = {}
        if self.layers.wip and self.spreader is not None:
            wip = self._update_wip(factory, self.spreader, state, bars)
        if self.layers.flow and self._shares is not None:
            flow = self._update_flow(factory, self._shares, state, bars)
        frame = HeatFrame(grid, routes, wip, flow, bars)
        # Once a second; at once when the list on view is still empty and there is something new to list
        # (a screenshot taken as soon as the layers are drawn shows the list filled too).
        if self._clock() - self._announced_at >= ANNOUNCE_S or (frame.changed and not self._listed):
            self.announce()
        return frame

    def _ensure_kernels(self, factory: Factory) -> tuple[tuple[int, int, float] | None, list[list[tuple[float, float]]] | None]:
        grid = routes = None
        if self.spreader is None and self.layers.wip:
            t0 = time.perf_counter()
            self.spreader = wip_spreader(factory, self.cell_m, self.radius_m)
            grid = (self.spreader.nx, self.spreader.ny, self.cell_m)
            log.info(
                "WIP grid %d × %d cells for %d machines in %.0f ms",
                self.spreader.nx,
                self.spreader.ny,
                len(factory.machines),
                (time.perf_counter() - t0) * 1000,
            )
        if self._shares is None and self.layers.flow:
            self._shares = flow_shares(factory)
            self.sources = path_sources(factory)
            centre = {m.id: (m.pose.x_m, m.pose.y_m) for m in factory.machines}
            routes = [transport_route(t, centre) for t in factory.transports]
        return grid, routes

    def _update_wip(self, factory: Factory, spreader: WipSpreader, state: StateOnView, bars: dict) -> WipColours | None:
        n = len(factory.machines)
        store = state.store
        if self.simulated is not None and len(self.simulated[1]) == n:
            amounts = self.simulated[1].copy()
            known = np.isfinite(amounts)
        elif store is not None and "Level" in store.signal_index:
            amounts = store.column("Level").copy()
            known = store.fresh("Level", state.now, state.max_age_s) & np.isfinite(amounts)
        else:
            amounts, known = np.full(n, np.nan), np.zeros(n, dtype=bool)
        amounts[~known] = np.nan
        key = (amounts.tobytes(), self.layers.opacity)
        if key == self._inputs:
            return None
        self._inputs = key
        self.parts = spreader.grid(amounts)
        if known.all():
            if self.no_data.shape != self.parts.shape or self.no_data.any():
                self.no_data = np.zeros(self.parts.shape, dtype=bool)
        else:
            self.no_data = spreader.no_data(known)
        density = self.parts * (1.0 / (self.cell_m * self.cell_m))
        title = "WIP (parts/m²)" if self.simulated is None else f"WIP (parts/m²), {self.simulated[0]}"
        lo, hi = 0.0, nice_ceiling(float(density.max()))
        # No machine's WIP known: hatched grey everywhere, and no scale from nowhere.
        bars["floor"] = _bar(title, lo, hi, WIP_CMAP, bool(known.any()))
        return WipColours(density, self.no_data, lo, hi, grid_table(WIP_CMAP, self.layers.opacity))

    def _update_flow(self, factory: Factory, shares: np.ndarray, state: StateOnView, bars: dict) -> FlowRibbons:
        n = len(factory.machines)
        rates = state.rates if state.rates is not None else np.full(n, np.nan)
        self.flows = path_flows(self.sources, shares, rates)
        known = np.isfinite(self.flows)
        lo, hi = 0.0, nice_ceiling(float(np.nanmax(self.flows)) if known.any() else 0.0)
        t = np.clip(np.nan_to_num(self.flows) / hi, 0.0, 1.0)
        widths = np.where(known, FLOW_WIDTH_M[0] + t * (FLOW_WIDTH_M[1] - FLOW_WIDTH_M[0]), UNKNOWN_FLOW_WIDTH_M)
        title = "Flow (parts/h)"
        counting, sources = state.counting, self.sources
        if counting is not None and len(sources) and counting[sources[~known & (sources >= 0)]].any():
            title += " · grey: still counting"  # no rate before MIN_PARTS parts or RATE_WINDOW_S (docs/heat-maps.md)
        # No rate yet: no dummy 0–1 scale.
        bars["flow"] = _bar(title, lo, hi, FLOW_CMAP, bool(known.any()))
        return FlowRibbons(widths, heat_colours(self.flows, known, lo, hi, FLOW_CMAP))

    def ready(self) -> bool:
        """True when every layer on is computed from the state on view (a screenshot waits for this). Flows
        count as computed while still counting: grey, with the legend saying so, is their honest state."""
        if self.layers.wip and not (self.parts.size and np.nansum(self.parts) > 0):
            return False
        return not (self.layers.flow and (self.factory is None or len(self.flows) != len(self.factory.transports)))

    # -- hot spots, notice and export ---------------------------------------------------------------------
    def announce(self) -> None:
        """Announce the hot spots and the notice of the state last updated from, now."""
        self._announced_at = self._clock()
        spots = self.hot_spots()
        self._listed = bool(spots)
        self.hot_spots_changed.emit(spots)
        self.notice_changed.emit(self.notice())

    def hot_spots(self, n: int = HOT_SPOTS) -> list[HotSpot]:
        """The highest WIP peaks (when the WIP layer is on) and the hottest machines (when machines show a
        heat map), of the state last updated from."""
        if self.factory is None:
            return []
        out: list[HotSpot] = []
        if self.layers.wip and self.parts.size:
            density = np.where(self.no_data, 0.0, self.parts) / (self.cell_m * self.cell_m)
            out += wip_hot_spots(density, self.cell_m, n, self.factory)
        state = self.state
        if state is not None and state.store is not None and state.machine_signal is not None:
            signal, store = state.machine_signal, state.store
            values = store.column(signal)
            out += machine_hot_spots(self.factory, values, store.fresh(signal, state.now, state.max_age_s), n)
        return out

    def notice(self) -> str:
        """A word about the machine heat map of the state last updated from ("" when all is well)."""
        state = self.state
        return "" if state is None else machine_heat_notice(state.store, state.machine_signal)

    def export_csv(self, path: str | os.PathLike[str]) -> None:
        """Write the WIP grid last computed as CSV (atomically).

        Raises
        ------
        ValueError
            There is no grid (the WIP layer was never on).
        OSError
            The file cannot be written.
        """
        if self.factory is None or not self.parts.size:
            raise ValueError("switch on the WIP layer first: there is no grid to export")
        atomic_write_text(path, grid_csv(self.parts, self.no_data, self.cell_m, self.factory.name, self.shown_at))
