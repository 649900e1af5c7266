"""The heat maps of the window: the Heat Maps dock bound to the material layers and the machine heat map.

The dock says what to show; the material layers (``HeatMaps`` over ``app.heat.layers.MaterialHeat``)
draw WIP and flow and announce hot spots and notices back to the dock; the live link colours machines by
the chosen signal. Without any live or replayed data a machine heat map is all grey, and the dock says why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import numpy as np
from PySide6 import QtCore, QtWidgets

from app.heat.colour import NO_DATA_RGB, heat_colours
from app.heat.material import HotSpot
from app.live.machine_colours import HeatLayer
from app.model.factory import Factory
from app.scene.view import FactoryView
from app.ui.heat_dock import HeatDock
from app.ui.heat_maps import HeatMaps
from app.ui.live_link import LiveLink

log = logging.getLogger(__name__)


class HeatController(QtCore.QObject):
    """Binds the Heat Maps dock to the layers on the view.

    Parameters
    ----------
    dock, view, live
        The Heat Maps dock, the 3D view and the live link (whose state on view the layers show).
    show_kinds
        Colours machines by kind with the kinds' legend (the view without live data).
    editing
        True while the layout is edited (the view then shows kinds and verdicts, not heat).
    plugin_layers
        The heat layers plugins compute: name → unit.
    say, show_error
        A status-bar message; an error dialog (title, text).
    """

    def __init__(
        self,
        dock: HeatDock,
        view: FactoryView,
        live: LiveLink,
        *,
        show_kinds: Callable[[], None],
        editing: Callable[[], bool],
        plugin_layers: Callable[[], Mapping[str, str]],
        say: Callable[[str], None],
        show_error: Callable[[str, str], None],
        parent: QtWidgets.QWidget,
    ):
        super().__init__(parent)
        self.dock, self.view, self.live = dock, view, live
        self._show_kinds, self._editing, self._plugin_layers = show_kinds, editing, plugin_layers
        self._say, self._show_error = say, show_error
        self._parent = parent
        self.factory: Factory | None = None
        self._wip_before_simulated: bool | None = None  # the WIP layer's state before a scenario's WIP was shown
        self.maps = HeatMaps(view, live, self)
        dock.changed.connect(self._on_heat_changed)
        dock.changed.connect(lambda _layer: self.maps.request_update())
        dock.layers_changed.connect(self.maps.set_layers)
        dock.hot_spot_activated.connect(view.fly_to_point)
        dock.export_requested.connect(self.export_csv)
        self.maps.material.notice_changed.connect(dock.show_notice)
        self.maps.material.hot_spots_changed.connect(self._on_hot_spots)
        live.offline_colours_wanted.connect(self._on_offline)

    # -- the layout -----------------------------------------------------------------------------------
    def open_factory(self, factory: Factory) -> None:
        """A layout was opened: offer its signals and draw its layers."""
        self.factory = factory
        self.offer_signals()
        self.maps.set_factory(factory)

    def set_factory(self, factory: Factory | None) -> None:
        """The layout changed (an edit, undo or redo): the layers follow it."""
        self.factory = factory
        self.maps.set_factory(factory)

    def offer_signals(self) -> None:
        """List the signals the layout binds and the plugins' heat layers (again: plugins came or went)."""
        if self.factory is not None:
            bound = sorted({s for m in self.factory.machines for s in m.tags})
            self.dock.set_signals(bound, self._plugin_layers())

    # -- by name (command line, docs) ---------------------------------------------------------------------
    def layer_names(self) -> list[str]:
        """What ``show`` knows: wip, flow and the numeric signals machines can be coloured by."""
        return ["wip", "flow", *self.dock.signal_names()]

    def show(self, layers: tuple[str, ...]) -> list[str]:
        """Switch heat maps on by name ("wip", "flow", or a machine signal); returns the names not known."""
        unknown = []
        signals = {name.lower(): name for name in self.dock.signal_names()}
        for name in layers:
            if name.lower() == "wip":
                self.dock.wip.setChecked(True)
            elif name.lower() == "flow":
                self.dock.flow.setChecked(True)
            elif name.lower() in signals:  # "temperature" as well as "Temperature"
                self.dock.choose(signals[name.lower()])
            else:
                unknown.append(name)
        if layers and len(unknown) < len(layers):
            self.dock.show()
            self.dock.raise_()
        return unknown

    # -- machine heat ---------------------------------------------------------------------------------------
    def _on_heat_changed(self, heat: HeatLayer | None) -> None:
        """Colour machines by a signal (or by state again). Without any live or replayed data every machine
        is grey — no data — and no scale is shown, rather than kind colours under a heat-map title."""
        self.live.set_colour_by(heat)
        if self.factory is None or self.live.store is not None or self.live.replay_store is not None:
            return
        if self._editing():
            return  # edit mode shows kinds and verdicts
        n = len(self.factory.machines)
        if heat is None:
            self._show_kinds()
            self.dock.show_notice("")
        else:
            self.view.set_colour_bar(None)
            self.view.set_machine_colours(heat_colours(np.full(n, np.nan), np.zeros(n, dtype=bool), 0.0, 1.0, heat.cmap))
            self.view.set_legend([("no data", NO_DATA_RGB)], heat.signal)  # grey, and the legend says why
            self.dock.show_notice(
                f"No live data: every machine is grey until a server is connected (Live ▸ Connect to Server) "
                f"or a recorded moment is replayed; then they are coloured by {heat.signal}."
            )

    def _on_offline(self) -> None:
        self._on_heat_changed(self.live.heat)  # a difference left the view and there are no values to draw

    def _on_hot_spots(self, spots: list[HotSpot]) -> None:
        heat = self.live.heat
        self.dock.set_hot_spots(spots, heat.signal if heat is not None else None)

    # -- a simulation's WIP, export -------------------------------------------------------------------------
    def show_simulated_wip(self, title: str | None, amounts: np.ndarray | None) -> None:
        """Show a simulation's WIP on the floor (the WIP layer switched on), or the plant's again with None
        (the WIP layer back as the user had it before)."""
        if amounts is not None:
            if self._wip_before_simulated is None:
                self._wip_before_simulated = self.dock.wip.isChecked()
            self.dock.wip.setChecked(True)
        self.maps.show_simulated(title, amounts)
        if amounts is None and self._wip_before_simulated is not None:
            self.dock.wip.setChecked(self._wip_before_simulated)
            self._wip_before_simulated = None

    def export_csv(self) -> None:
        """Save the WIP grid on view as CSV (Heat Maps ▸ Export CSV)."""
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self._parent, "Export WIP grid", "wip.csv", "CSV files (*.csv)")
        if not path:
            return
        self.export_csv_to(path)

    def export_csv_to(self, path: str) -> bool:
        """Save the WIP grid on view to ``path``; an error is shown (and logged) when it cannot be."""
        try:
            self.maps.material.export_csv(path)
        except (OSError, ValueError) as e:
            why = str(e)  # not the exception: a log record holding it would hold this window through its traceback
            log.error("cannot export the WIP grid to %s: %s", path, why)
            self._show_error("Cannot export the WIP grid", why)
            return False
        self._say(f"WIP grid saved to {path}")
        return True
