"""Plugins: found through Python entry points (group ``floortwin.plugins``) and in plugin folders.

A plugin is a Python module with a ``register(api)`` function. What it registers through ``PluginApi`` —
machine kinds and their meshes, data sources, machine heat-map layers, KPIs, dock panels — becomes part of
the application. A folder plugin is a sub-folder of ``plugins/`` (or of the user's plugin folder) holding
a ``plugin.json`` manifest::

    {"name": "csv-replay", "version": "1.0", "module": "csv_replay",
     "description": "...", "requires": ["numpy"], "api": 1}

An installed plugin declares an entry point ``[project.entry-points."floortwin.plugins"] name = "module"``.

Failure isolation: a plugin whose manifest is broken, whose requirements are missing, whose name clashes
with another, or whose ``register`` raises is reported and skipped; one whose contribution raises while
the application runs is disabled (``PluginManager.guard``) with the error shown. The application keeps
running either way. Plugins the user disabled are listed but not loaded.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import json
import logging
import sys
import traceback
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.model.io import register_asset_root
from app.model.kinds import MachineKind, register_kind

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "floortwin.plugins"
API_VERSION = 1


@dataclass
class Plugin:
    """One plugin found: where, what it says of itself, and how loading went."""

    name: str
    version: str = ""
    description: str = ""
    source: str = ""  # "folder: …" or "entry point: …"
    module_name: str = ""
    folder: Path | None = None
    requires: list[str] = field(default_factory=list)
    state: str = "found"  # loaded, disabled, failed, skipped
    error: str = ""
    contributes: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.state == "loaded"


@dataclass(frozen=True)
class HeatLayerSpec:
    """A machine heat map computed by a plugin: ``compute(store, factory) -> values per machine`` (NaN: none)."""

    name: str
    unit: str
    compute: Callable[[Any, Any], Any]
    plugin: str


@dataclass(frozen=True)
class KpiSpec:
    """A line KPI computed by a plugin from one observation (``app.compare.kpis.Observation``)."""

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
    ``state``."""

    scheme: str
    label: str
    make: Callable[..., Any]
    plugin: str


@dataclass(frozen=True)
class DockSpec:
    """A dock panel: ``make(window) -> QWidget`` is called once the main window exists."""

    title: str
    make: Callable[[Any], Any]
    plugin: str


class PluginApi:
    """What a plugin's ``register(api)`` may call. Everything it adds is remembered with the plugin's name."""

    version = API_VERSION

    def __init__(self, manager: PluginManager, plugin: Plugin):
        self._m, self._p = manager, plugin

    @property
    def folder(self) -> Path | None:
        """The plugin's own folder (folder plugins), for its meshes and data."""
        return self._p.folder

    def add_machine_kind(
        self, kind_id: str, label: str, colour: tuple[int, int, int], mesh: str | Path, description: str = ""
    ) -> None:
        """A machine kind with its mesh (a file in the plugin's folder): it appears in the palette."""
        mesh = Path(mesh)
        if not mesh.is_absolute() and self._p.folder is not None:
            mesh = self._p.folder / mesh
        if not mesh.is_file():
            raise FileNotFoundError(f"mesh of kind {kind_id} not found: {mesh}")
        root = f"plugin-{self._p.name}"
        register_asset_root(root, mesh.parent)
        asset_id = f"{kind_id}"
        register_kind(MachineKind(kind_id, label, tuple(colour), asset_id, description))
        self._m.assets[asset_id] = f"{root}:{mesh.name}"
        self._p.contributes.append(f"machine kind {kind_id}")

    def add_data_source(self, scheme: str, label: str, make: Callable[..., Any]) -> None:
        if scheme in self._m.data_sources or scheme in ("opc.tcp", "opc.https"):
            raise ValueError(f"data source scheme {scheme!r} is taken")
        self._m.data_sources[scheme] = DataSourceSpec(scheme, label, make, self._p.name)
        self._p.contributes.append(f"data source {scheme}:")

    def add_heat_layer(self, name: str, unit: str, compute: Callable[[Any, Any], Any]) -> None:
        self._m.heat_layers[name] = HeatLayerSpec(name, unit, compute, self._p.name)
        self._p.contributes.append(f"heat map {name}")

    def add_kpi(self, key: str, label: str, unit: str, compute: Callable[[Any], float]) -> None:
        self._m.kpis[key] = KpiSpec(key, label, unit, compute, self._p.name)
        self._p.contributes.append(f"KPI {label}")

    def add_dock(self, title: str, make: Callable[[Any], Any]) -> None:
        self._m.docks.append(DockSpec(title, make, self._p.name))
        self._p.contributes.append(f"panel {title}")


class PluginManager:
    """Finds, loads and guards plugins; holds what they contributed."""

    def __init__(self) -> None:
        self.plugins: dict[str, Plugin] = {}
        self.assets: dict[str, str] = {}  # asset id → "plugin-NAME:file" path
        self.data_sources: dict[str, DataSourceSpec] = {}
        self.heat_layers: dict[str, HeatLayerSpec] = {}
        self.kpis: dict[str, KpiSpec] = {}
        self.docks: list[DockSpec] = []
        self._on_failure: Callable[[], Callable[[Plugin], None] | None] = lambda: None

    def set_failure_handler(self, handler: Callable[[Plugin], None] | None) -> None:
        """Who hears of a plugin disabled while running (held weakly when it is a bound method: a closed
        window is not kept alive by the plugin manager)."""
        if handler is None:
            self._on_failure = lambda: None
        elif inspect.ismethod(handler):
            self._on_failure = weakref.WeakMethod(handler)
        else:
            self._on_failure = lambda: handler

    # -- discovery -----------------------------------------------------------------------------------------
    def discover(self, folders: Iterable[Path], entry_points: bool = True) -> list[Plugin]:
        """Every plugin in the folders and (optionally) the installed entry points, in that order."""
        found: list[Plugin] = []
        for folder in folders:
            if not folder.is_dir():
                continue
            for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
                found.append(_from_folder(sub))
        if entry_points:
            for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
                dist = getattr(ep, "dist", None)
                found.append(
                    Plugin(
                        name=ep.name,
                        version=getattr(dist, "version", "") or "",
                        source=f"entry point: {ep.value}",
                        module_name=ep.value.split(":")[0],
                    )
                )
        return found

    def load_all(self, found: Iterable[Plugin], disabled: Iterable[str] = ()) -> None:
        """Load what was found, skipping disabled ones and reporting every problem on its plugin."""
        disabled = set(disabled)
        for p in found:
            if p.name in self.plugins:
                p.state, p.error = (
                    "skipped",
                    f"name clash: another plugin called {p.name!r} ({self.plugins[p.name].source}) came first",
                )
                self.plugins[f"{p.name} ({p.source})"] = p
                log.error("plugin %s skipped: %s", p.name, p.error)
                continue
            self.plugins[p.name] = p
            if p.state == "failed":  # a broken manifest
                log.error("plugin %s: %s", p.name, p.error)
                continue
            if p.name in disabled:
                p.state = "disabled"
                continue
            self._load(p)

    def _load(self, p: Plugin) -> None:
        missing = [r for r in p.requires if importlib.util.find_spec(r.split(">")[0].split("=")[0].strip()) is None]
        if missing:
            p.state, p.error = "failed", f"missing dependency: {', '.join(missing)} (install it and restart)"
            log.error("plugin %s not loaded: %s", p.name, p.error)
            return
        try:
            module = _import(p)
            register = getattr(module, "register", None)
            if not callable(register):
                raise TypeError(f"module {p.module_name} has no register(api) function")
            api_needed = getattr(module, "API_VERSION", API_VERSION)
            if api_needed > API_VERSION:
                raise RuntimeError(f"needs plugin API {api_needed}; this floortwin has {API_VERSION}")
            if not p.version:
                p.version = str(getattr(module, "__version__", ""))
            register(PluginApi(self, p))
        except Exception as e:  # a plugin's failure is the plugin's, never the application's
            self._forget(p.name)
            p.state, p.error = "failed", f"{type(e).__name__}: {e}"
            log.error("plugin %s failed to load: %s\n%s", p.name, p.error, traceback.format_exc(limit=4))
            return
        p.state = "loaded"
        log.info("plugin %s %s loaded: %s", p.name, p.version, ", ".join(p.contributes) or "nothing")

    def _forget(self, name: str) -> None:
        """Remove what a plugin registered (after it failed)."""
        for table in (self.data_sources, self.heat_layers, self.kpis):
            for key in [k for k, v in table.items() if v.plugin == name]:
                del table[key]
        self.docks = [d for d in self.docks if d.plugin != name]

    # -- running -------------------------------------------------------------------------------------------
    def guard(self, plugin_name: str, fn: Callable[..., Any], *args, default: Any = None, **kwargs) -> Any:
        """Call a plugin's contribution; if it raises, disable the plugin (its contributions go) and return
        ``default`` — the application carries on."""
        p = self.plugins.get(plugin_name)
        if p is not None and not p.active:
            return default
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            if p is not None:
                p.state, p.error = "failed", f"failed while running: {type(e).__name__}: {e}"
                self._forget(plugin_name)
                log.error("plugin %s disabled: %s\n%s", plugin_name, p.error, traceback.format_exc(limit=4))
                handler = self._on_failure()
                if handler is not None:
                    handler(p)
            return default

    def extra_kpis(self, observation) -> dict[str, float]:
        """The plugins' KPIs of one observation (a failing KPI disables its plugin and is left out)."""
        out = {}
        for spec in list(self.kpis.values()):
            value = self.guard(spec.plugin, spec.compute, observation, default=None)
            if value is not None:
                out[spec.key] = float(value)
        return out


def _from_folder(folder: Path) -> Plugin:
    p = Plugin(name=folder.name, source=f"folder: {folder}", folder=folder)
    manifest = folder / "plugin.json"
    try:
        raw = json.loads(manifest.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("expected a JSON object")
        name, module = raw.get("name"), raw.get("module")
        if not isinstance(name, str) or not name.strip():
            raise ValueError('"name" is missing')
        if not isinstance(module, str) or not module.isidentifier():
            raise ValueError('"module" must name a Python module in the folder')
        requires = raw.get("requires", [])
        if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
            raise ValueError('"requires" must be a list of package names')
        p.name, p.module_name, p.requires = name.strip(), module, requires
        p.version = str(raw.get("version", ""))
        p.description = str(raw.get("description", ""))
        if int(raw.get("api", API_VERSION)) > API_VERSION:
            raise ValueError(f"needs plugin API {raw['api']}; this floortwin has {API_VERSION}")
    except FileNotFoundError:
        p.state, p.error = "failed", "no plugin.json manifest in the folder"
    except (ValueError, TypeError, OSError) as e:  # json.JSONDecodeError is a ValueError
        p.state, p.error = "failed", f"broken plugin.json: {e}"
    return p


def _import(p: Plugin):
    if p.folder is None:
        return importlib.import_module(p.module_name)
    name = f"floortwin_plugins.{p.name.replace('-', '_')}.{p.module_name}"
    path = p.folder / f"{p.module_name}.py"
    if not path.is_file():
        path = p.folder / p.module_name / "__init__.py"
    if not path.is_file():
        raise FileNotFoundError(f"no {p.module_name}.py in {p.folder}")
    spec = importlib.util.spec_from_file_location(name, path, submodule_search_locations=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


#: The application's plugins (the main window loads them at start).
manager = PluginManager()


def plugin_folders() -> list[Path]:
    """Where folder plugins are looked for: the bundled ``plugins/`` and the user's own plugin folder."""
    from app.paths import ROOT, user_data_dir

    return [ROOT / "plugins", user_data_dir() / "plugins"]
