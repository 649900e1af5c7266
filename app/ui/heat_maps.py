"""Material heat maps on the view: the Qt side of ``app.heat.layers.MaterialHeat``.

Takes the state on view from the live link (the live store, or the one replayed at time t: the same path
for both), has the service compute the layers and writes what it returns into the scene. Updates are
coalesced: at most one every ``MIN_INTERVAL_MS`` (longer when an update was slow); a one-second tick keeps
staleness, rates and hot spots moving with time even when no new values arrive.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6 import QtCore

from app.heat.colour import lut
from app.heat.layers import HeatFrame, LayerBar, MaterialHeat, MaterialLayers, StateOnView
from app.model.factory import Factory
from app.scene.view import FactoryView
from app.ui.live_link import LiveLink

__all__ = ["HeatMaps"]


class HeatMaps(QtCore.QObject):
    """Keeps the material layers of one view up to date.

    ``material`` is the service that computes them: subscribe to its ``hot_spots_changed`` and
    ``notice_changed`` (announced on the GUI thread, from ``update_now``).
    """

    MIN_INTERVAL_MS = 100

    def __init__(self, view: FactoryView, link: LiveLink, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.view, self.link = view, link
        self.material = MaterialHeat()
        self.update_ms = 0.0
        self._bars: dict[str, LayerBar] = {}  # the colour bars on view, by slot
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.update_now)
        self._tick = QtCore.QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self.request_update)
        link.values_flushed.connect(self.request_update)
        link.replay_shown.connect(self.request_update)

    def set_factory(self, factory: Factory | None) -> None:
        """A new layout version (opened or edited): drawn at the next update."""
        self.material.set_factory(factory)
        self.request_update()

    def set_layers(self, layers: MaterialLayers) -> None:
        self.material.set_layers(layers)
        if layers.wip or layers.flow:
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

    def show_simulated(self, title: str | None, amounts: np.ndarray | None) -> None:
        """Spread a simulation's WIP per machine on the floor instead of the plant's (None: the plant's again)."""
        self.material.show_simulated(title, amounts)
        self.update_now()

    def ready(self) -> bool:
        """True when every layer shown is drawn from the state on view (a screenshot waits for this)."""
        return self.material.ready()

    # -- updates --------------------------------------------------------------------------------------
    def request_update(self, *_args: object) -> None:
        layers = self.material.layers
        if (layers.wip or layers.flow or self.link.heat is not None) and not self._timer.isActive():
            self._timer.start(int(max(self.MIN_INTERVAL_MS, 4 * self.update_ms)))

    def update_now(self) -> None:
        """Recompute and show the layers from the state on view."""
        self._timer.stop()
        t0 = time.perf_counter()
        self._draw(self.material.update(self.state_on_view()))
        self.update_ms = (time.perf_counter() - t0) * 1000

    def state_on_view(self) -> StateOnView:
        """The live link's state on view, as the service reads it."""
        link = self.link
        shown = link.shown()
        store, now = shown if shown is not None else (None, time.time())
        signal = link.heat.signal if link.heat is not None else None
        return StateOnView(store, now, link.max_age_s, link.output_rates(), link.rates_counting(), link.replay_time, signal)

    def _draw(self, frame: HeatFrame) -> None:
        floor, flow = self.view.floor_heat, self.view.flow
        if frame.grid is not None:
            floor.build(*frame.grid)
            floor.set_visible(True)
        if frame.routes is not None:
            flow.build(frame.routes)
            flow.set_visible(True)
        if frame.wip is not None:
            frame.wip.paint(floor.rgba)
            floor.changed()
        if frame.flow is not None:
            flow.set_flows(frame.flow.widths_m, frame.flow.rgb)
        for slot, bar in frame.bars.items():
            self._set_bar(slot, bar)
        if frame.changed:
            self.view.request_render()

    def _set_bar(self, slot: str, bar: LayerBar | None) -> None:
        if bar == self._bars.get(slot):
            return  # the legend is rebuilt only when its title, range or map changes
        if bar is None:
            self._bars.pop(slot, None)
            self.view.set_colour_bar(None, slot=slot)
        else:
            self._bars[slot] = bar
            self.view.set_colour_bar(bar.title, bar.lo, bar.hi, lut(bar.cmap), slot=slot)
