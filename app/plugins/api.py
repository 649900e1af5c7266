"""The plugin API, version ``API_VERSION``: the only thing a plugin receives.

A plugin's ``register(api)`` adds what its manifest declares (``provides``) through this object, and may
keep it to read the application's state and subscribe to its events later::

    def register(api):
        api.add_kpi("energy_per_part", "Energy per part", "kWh/part", energy_per_part)
        api.add_panel("Energy", make_panel)          # make_panel(api) -> QWidget, when first shown
        api.events.live_values.connect(on_values)   # on_values(StoreView), on the GUI thread

Everything a plugin hands over (a KPI, a heat layer's compute, a panel factory, an event callback) runs
guarded: if it raises, the plugin is disabled and all it added goes, the application carries on.

Compatibility: a minor version only adds to the API; a plugin written for 1.0 runs on 1.x. A new
major version may change it, and plugins written for another major version are refused with a message.
1.1 added ``add_panel(..., area=)`` and ``api.mesh(machine_id)`` (what floortwin's own panels need: they
register through this API too, as the built-in plugin ``floortwin``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psygnal import Signal

from app.plugins.host import PluginHost, StoreView

if TYPE_CHECKING:
    from app.model.factory import Factory
    from app.model.properties import AssetInfo
    from app.plugins.manager import Plugin, Registry

#: The plugin API this floortwin offers (``major.minor``). A manifest's ``api`` names the one it needs.
API_VERSION = "1.1"

#: Where a panel's dock goes (API 1.1): beside the 3D view on either side, or under it (tabbed with the Log).
PANEL_AREAS = ("left", "right", "bottom")


@dataclass(frozen=True)
class HeatLayerSpec:
    """A machine heat map computed by a plugin: ``compute(state: StoreView, factory) -> one value per
    machine`` in ``state.machines`` order (NaN: none)."""

    name: str
    unit: str
    compute: Callable[[StoreView, Any], Any]
    plugin: str


@dataclass(frozen=True)
class KpiSpec:
    """A line KPI computed by a plugin from one observation (``app.compare.kpis.Observation``); it may be
    called on a worker thread."""

    key: str
    label: str
    unit: str
    compute: Callable[[Any], float]
    plugin: str


@dataclass(frozen=True)
class DataSourceSpec:
    """A data source besides OPC UA, chosen by the endpoint's scheme (``csv:///path/file.csv``).

    ``make(settings, on_values, on_state, on_binding_error)`` returns an object with the live client's
    interface: ``set_bindings([(index, node_id)])``, ``start()`` (on the network loop), ``async stop()``,
    ``state``; and, if it can list what it serves for the Browse dock, ``async browse(node_id or None)``
    returning ``app.live.client.BrowseItem``s (variables' node ids are what a binding names)."""

    scheme: str
    label: str
    make: Callable[..., Any]
    plugin: str


@dataclass(frozen=True)
class PanelSpec:
    """A dock panel: ``make(api) -> QWidget``, called on the GUI thread when the panel is first shown;
    ``area``: where its dock goes (one of ``PANEL_AREAS``)."""

    title: str
    make: Callable[[PluginApi], Any]
    plugin: str
    area: str = "bottom"


class PluginEvents:
    """The application's events as one plugin hears them (psygnal signals, emitted on the GUI thread).

    A callback that raises disables its plugin. Callbacks are dropped when the plugin is disabled.

    Signals
    -------
    document_replaced(Factory | None), document_changed(Factory), selection_changed(tuple[str, ...]),
    live_values(StoreView)
    """

    document_replaced = Signal(object)
    document_changed = Signal(object)
    selection_changed = Signal(tuple)
    live_values = Signal(object)

    NAMES = ("document_replaced", "document_changed", "selection_changed", "live_values")

    def disconnect_all(self) -> None:
        for name in self.NAMES:
            getattr(self, name).disconnect()


class PluginApi:
    """What a plugin may do (``API_VERSION``). One per plugin; everything it adds is recorded as the
    plugin's, so that it can all be taken back."""

    version = API_VERSION

    def __init__(self, registry: Registry, plugin: Plugin, host: PluginHost):
        self._registry, self._plugin, self._host = registry, plugin, host
        self.events = PluginEvents()

    @property
    def name(self) -> str:
        return self._plugin.name

    @property
    def folder(self) -> Path | None:
        """The plugin's own folder (folder plugins), for its meshes and data."""
        return self._plugin.folder

    # -- adding ---------------------------------------------------------------------------------------
    def add_machine_kind(
        self, kind_id: str, label: str, colour: tuple[int, int, int], mesh: str | Path, description: str = ""
    ) -> None:
        """A machine kind with its mesh (a file in the plugin's folder): it appears in the palette and
        factory files may use it."""
        path = Path(mesh)
        if not path.is_absolute() and self._plugin.folder is not None:
            path = self._plugin.folder / path
        if not path.is_file():
            raise FileNotFoundError(f"mesh of kind {kind_id} not found: {path}")
        r, g, b = (int(c) for c in colour)
        self._registry.add_machine_kind(self._plugin, kind_id, label, (r, g, b), path, description)

    def add_data_source(self, scheme: str, label: str, make: Callable[..., Any]) -> None:
        """A data source for endpoints ``SCHEME://…`` (see ``DataSourceSpec``)."""
        self._registry.add(self._plugin, "data_sources", scheme, DataSourceSpec(scheme, label, make, self._plugin.name))

    def add_heat_layer(self, name: str, unit: str, compute: Callable[[StoreView, Any], Any]) -> None:
        """A machine heat-map layer computed from the state on view (see ``HeatLayerSpec``)."""
        self._registry.add(self._plugin, "heat_layers", name, HeatLayerSpec(name, unit, compute, self._plugin.name))

    def add_kpi(self, key: str, label: str, unit: str, compute: Callable[[Any], float]) -> None:
        """A line KPI of every what-if comparison (see ``KpiSpec``)."""
        self._registry.add(self._plugin, "kpis", key, KpiSpec(key, label, unit, compute, self._plugin.name))

    def add_panel(self, title: str, make: Callable[[PluginApi], Any], area: str = "bottom") -> None:
        """A dock panel; ``make(api)`` builds its widget when the panel is first shown. ``area`` (API 1.1):
        ``"left"``, ``"right"`` or ``"bottom"`` (tabbed with the Log)."""
        if area not in PANEL_AREAS:
            raise ValueError(f"panel {title!r}: area {area!r} is not one of {', '.join(PANEL_AREAS)}")
        self._registry.add(self._plugin, "panels", title, PanelSpec(title, make, self._plugin.name, area))

    # -- reading --------------------------------------------------------------------------------------
    @property
    def factory(self) -> Factory | None:
        """The open factory (an immutable version; None when nothing is open)."""
        return self._host.factory

    @property
    def selection(self) -> tuple[str, ...]:
        """Ids of the selected machines."""
        return self._host.selection

    def state(self) -> StoreView | None:
        """The state on view, read-only (live, or the replayed moment); None without live data."""
        return self._host.state()

    def mesh(self, machine_id: str) -> AssetInfo | None:
        """What the application knows of a machine's loaded mesh (API 1.1): ``placeholder`` (it could not
        be loaded and a box stands in), ``warning`` (why) and ``n_triangles``; None before it is loaded."""
        return self._host.mesh(machine_id)
