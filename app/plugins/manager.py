"""The plugin manager: finds plugins from their manifests, asks before a new one runs, imports a plugin's
code only when something it provides is needed, and takes back everything a failing plugin added.

Lifecycle of a plugin (``Plugin.state``)::

    found ──manifest broken / API mismatch / missing dependency──▶ failed
      ├──the user turned it off──▶ disabled
      ├──new, not yet allowed────▶ new ──allow()──▶ ready      (refuse(): disabled)
      └──allowed (or bundled)────▶ ready ──first needed──▶ loaded ──anything it gave raises──▶ failed

"Needed" is read from the manifest's ``provides``: a machine kind the palette lists or a file uses, a data
source being connected to, a heat layer being shown, a KPI when a comparison runs, a panel when shown.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from psygnal import Signal

from app.model.io import register_asset_root, unregister_asset_root
from app.model.kinds import MachineKind, add_kind_finder, register_kind, remove_kind_finder, unregister_kind
from app.plugins.api import API_VERSION, DataSourceSpec, HeatLayerSpec, KpiSpec, PanelSpec, PluginApi
from app.plugins.host import PluginHost, StoreView
from app.plugins.manifest import MANIFEST, Manifest, ManifestError, Provides, api_compatible, read_manifest

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "floortwin.plugins"
TABLES = ("data_sources", "heat_layers", "kpis", "panels")
_WHAT = {"data_sources": "data source", "heat_layers": "heat layer", "kpis": "KPI", "panels": "panel"}


@dataclass
class Plugin:
    """One plugin found: where, what its manifest says, and how it is doing."""

    name: str
    version: str = ""
    description: str = ""
    author: str = ""
    source: str = ""  # "folder: …" or "entry point: …"
    module_name: str = ""
    folder: Path | None = None
    requires: tuple[str, ...] = ()
    provides: Provides = field(default_factory=Provides)
    api: str = API_VERSION
    bundled: bool = False
    state: str = "found"  # new, ready, loaded, disabled, failed, skipped
    error: str = ""
    entry: Callable[[PluginApi], None] | None = None  # a built-in plugin's register (no module to import)

    @property
    def builtin(self) -> bool:
        """Part of floortwin itself (its own docks): it runs without the question and stays on."""
        return self.entry is not None

    @property
    def active(self) -> bool:
        """Its code is imported and what it provides is in use."""
        return self.state == "loaded"

    @property
    def enabled(self) -> bool:
        """Allowed to run: loaded, or ready to load when first needed."""
        return self.state in ("ready", "loaded")

    @property
    def contributes(self) -> list[str]:
        return self.provides.describe()

    @property
    def trust_key(self) -> str:
        """What the user's "allow" is remembered by: the name and where the code is (a different plugin
        of the same name elsewhere is asked about again)."""
        return f"{self.name} @ {self.source}"


class Registry:
    """What loaded plugins added, by plugin (thread-safe; the facade writes here during ``register``)."""

    def __init__(self, lock: threading.RLock):
        self._lock = lock
        self.tables: dict[str, dict[str, Any]] = {t: {} for t in TABLES}
        self.kinds: dict[str, str] = {}  # kind id → plugin
        self.roots: dict[str, str] = {}  # plugin → asset root prefix

    def add(self, plugin: Plugin, table: str, key: str, spec: Any) -> None:
        what = _WHAT[table]
        if plugin.state != "loading":
            raise RuntimeError(f"{plugin.name}: a {what} can only be added during register(api)")
        if key not in getattr(plugin.provides, table):
            raise ValueError(f"{what} {key!r} is not declared in the manifest's provides.{table}")
        with self._lock:
            other = self.tables[table].get(key)
            if other is not None and other.plugin != plugin.name:
                raise ValueError(f"{what} {key!r} is already provided by plugin {other.plugin}")
            if table == "data_sources" and key in ("opc.tcp", "opc.https"):
                raise ValueError(f"data source scheme {key!r} is OPC UA's")
            self.tables[table][key] = spec

    def add_machine_kind(
        self, plugin: Plugin, kind_id: str, label: str, colour: tuple[int, int, int], mesh: Path, description: str
    ) -> None:
        if plugin.state != "loading":
            raise RuntimeError(f"{plugin.name}: a machine kind can only be added during register(api)")
        if kind_id not in plugin.provides.machine_kinds:
            raise ValueError(f"machine kind {kind_id!r} is not declared in the manifest's provides.machine_kinds")
        with self._lock:
            if self.kinds.get(kind_id, plugin.name) != plugin.name:
                raise ValueError(f"machine kind {kind_id!r} is already provided by plugin {self.kinds[kind_id]}")
            root = f"plugin-{plugin.name}"
            register_asset_root(root, mesh.parent)
            self.roots[plugin.name] = root
            register_kind(MachineKind(kind_id, label, colour, kind_id, description, asset_path=f"{root}:{mesh.name}"))
            self.kinds[kind_id] = plugin.name

    def provided(self, plugin: Plugin) -> dict[str, set[str]]:
        with self._lock:
            out = {t: {k for k, v in self.tables[t].items() if v.plugin == plugin.name} for t in TABLES}
            out["machine_kinds"] = {k for k, p in self.kinds.items() if p == plugin.name}
        return out

    def forget(self, name: str) -> None:
        """Take back all a plugin added (its kinds leave the palette, its asset root goes)."""
        with self._lock:
            for table in self.tables.values():
                for key in [k for k, v in table.items() if v.plugin == name]:
                    del table[key]
            for kind_id in [k for k, p in self.kinds.items() if p == name]:
                unregister_kind(kind_id)
                del self.kinds[kind_id]
            root = self.roots.pop(name, None)
            if root is not None:
                unregister_asset_root(root)


class PluginManager:
    """Finds, asks about, lazily loads and guards plugins; owns what they contributed.

    The main window makes one and passes it to what needs it (there is no global instance).

    Signals (emitted on whichever thread the cause happened: a UI slot connects through ``app.ui.gui_thread``)
    -------
    loaded(Plugin)
        A plugin's code was imported and registered what it declares.
    failed(Plugin)
        A plugin failed (import, register, or anything it gave raised) and was taken out; once per failure.
    changed()
        What plugins contribute changed (a plugin loaded, failed or was allowed).

    Examples
    --------
    >>> m = PluginManager()
    >>> m.add(m.discover([], entry_points=False))
    >>> m.kpis
    {}
    >>> m.close()
    """

    loaded = Signal(object)
    failed = Signal(object)
    changed = Signal()

    def __init__(self, host: PluginHost | None = None) -> None:
        self.plugins: dict[str, Plugin] = {}
        self.host = host or PluginHost()
        self._lock = threading.RLock()
        self._registry = Registry(self._lock)
        self._apis: dict[str, PluginApi] = {}
        self._modules: dict[str, str] = {}  # plugin → its module's name in sys.modules
        for name in ("document_replaced", "document_changed", "selection_changed", "live_values"):
            getattr(self.host, name).connect(self._relay(name))
        add_kind_finder(self._find_kind)

    # -- discovery ----------------------------------------------------------------------------------------
    def discover(self, folders: Iterable[Path], entry_points: bool = True) -> list[Plugin]:
        """Every plugin in the folders and (optionally) the installed entry points, from their manifests
        alone (no plugin code runs)."""
        found: list[Plugin] = []
        for folder in folders:
            if not folder.is_dir():
                continue
            for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
                found.append(_from_folder(sub))
        if entry_points:
            for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
                found.append(_from_entry_point(ep))
        return found

    def add(
        self,
        found: Iterable[Plugin],
        trusted: Iterable[str] = (),
        disabled: Iterable[str] = (),
        trusted_folders: Iterable[Path] = (),
    ) -> None:
        """Take what was found: ``trusted`` (trust keys) and plugins in ``trusted_folders`` (the bundled
        ones) are ready to run, ``disabled`` (names) stay off, the others are new and wait for ``allow``."""
        trusted, disabled = set(trusted), set(disabled)
        safe = [f.resolve() for f in trusted_folders]
        for p in found:
            if p.name in self.plugins:
                p.state = "skipped"
                p.error = f"name clash: another plugin called {p.name!r} ({self.plugins[p.name].source}) came first"
                self.plugins[f"{p.name} ({p.source})"] = p
                log.error("plugin %s skipped: %s", p.name, p.error)
                continue
            self.plugins[p.name] = p
            if p.folder is not None and p.folder.resolve().parent in safe:
                p.bundled = True
            if p.state == "failed":  # a broken manifest
                log.error("plugin %s: %s", p.name, p.error)
            elif not api_compatible(p.api, API_VERSION):
                p.state = "failed"
                p.error = (
                    f"written for plugin API {p.api}; this floortwin has API {API_VERSION} "
                    f"(a plugin for API {API_VERSION.split('.')[0]}.x is needed)"
                )
                log.error("plugin %s refused: %s", p.name, p.error)
            elif missing := _missing(p.requires):
                p.state, p.error = "failed", f"missing dependency: {', '.join(missing)} (install it and restart)"
                log.error("plugin %s not loaded: %s", p.name, p.error)
            elif p.name in disabled:
                p.state = "disabled"
            elif p.bundled or p.trust_key in trusted:
                p.state = "ready"
            else:
                p.state = "new"
        self.changed.emit()

    def add_builtin(self, name: str, register: Callable[[PluginApi], None], provides: Provides, description: str = "") -> bool:
        """floortwin's own contributions (its docks) as a plugin: registered through the same ``PluginApi``
        as any plugin, loaded now without asking (it ships with the application) and never turned off.
        True when it loaded; a plugin found under the same name is skipped."""
        from app import __version__

        with self._lock:
            other = self.plugins.pop(name, None)
            if other is not None:
                other.state, other.error = "skipped", f"name clash: {name!r} is floortwin's built-in plugin"
                self.plugins[f"{name} ({other.source})"] = other
                log.error("plugin %s skipped: %s", name, other.error)
            p = Plugin(name, __version__, description, "floortwin", "built in", provides=provides, bundled=True, state="ready")
            p.entry = register
            self.plugins = {name: p, **self.plugins}  # listed first, and its panels come first
        return self.load(name)

    def new_plugins(self) -> list[Plugin]:
        """Plugins found for the first time: they run only once the user allows them."""
        return [p for p in self.plugins.values() if p.state == "new"]

    def allow(self, name: str) -> None:
        """The user allowed a new plugin: it is ready (its code loads when first needed)."""
        p = self.plugins[name]
        if p.state in ("new", "disabled"):
            p.state = "ready"
            log.info("plugin %s allowed (%s)", name, p.source)
            self.changed.emit()

    def refuse(self, name: str) -> None:
        """The user said no to a new plugin: it stays off."""
        p = self.plugins[name]
        if p.state == "new":
            p.state = "disabled"
            log.info("plugin %s not allowed: it stays off (Help ▸ Plugins turns it on)", name)

    # -- loading when needed -----------------------------------------------------------------------------
    def load(self, name: str) -> bool:
        """Import and register a ready plugin (once); True when it is loaded."""
        p = self.plugins.get(name)
        if p is None:
            return False
        with self._lock:
            if p.state != "ready":
                return p.state == "loaded"
            p.state = "loading"
            api = PluginApi(self._registry, p, self.host)
            try:
                module = self._import(p)
                register = getattr(module, "register", None)
                if not callable(register):
                    raise TypeError(f"module {p.module_name} has no register(api) function")
                register(api)
                self._check_declared(p)
            except Exception as e:  # a plugin's failure is the plugin's, never the application's
                error = f"{type(e).__name__}: {e}"
                tb = traceback.format_exc(limit=4)
                failed = True
            else:
                p.state, failed = "loaded", False
                self._apis[p.name] = api
        if failed:
            self._fail(p, error, tb, "failed to load")
            return False
        log.info("plugin %s %s loaded: %s", p.name, p.version, ", ".join(p.contributes) or "nothing")
        self.loaded.emit(p)
        self.changed.emit()
        return True

    def _check_declared(self, p: Plugin) -> None:
        got = self._registry.provided(p)
        missing = [
            f"{what} {key!r}"
            for table, what in (*_WHAT.items(), ("machine_kinds", "machine kind"))
            for key in getattr(p.provides, table)
            if key not in got[table]
        ]
        if missing:
            raise RuntimeError(f"the manifest declares {', '.join(missing)} but register(api) did not add it")

    def _providers(self, table: str, key: str | None = None) -> list[str]:
        """Enabled plugins whose manifest declares ``key`` in ``table`` (any, for None)."""
        return [
            p.name
            for p in list(self.plugins.values())
            if p.enabled and (getattr(p.provides, table) if key is None else key in getattr(p.provides, table))
        ]

    def _need(self, table: str, key: str | None = None) -> None:
        for name in self._providers(table, key):
            self.load(name)

    def _find_kind(self, kind_id: str | None) -> None:
        self._need("machine_kinds", kind_id)

    def _table(self, table: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._registry.tables[table])

    # -- what plugins provide ------------------------------------------------------------------------------
    def heat_layer_units(self) -> dict[str, str]:
        """Heat layers of enabled plugins, name → unit ("" until the plugin is loaded); nothing is imported."""
        loaded = self._table("heat_layers")
        return {
            name: (loaded[name].unit if name in loaded else "")
            for p in self.plugins.values()
            if p.enabled
            for name in p.provides.heat_layers
        }

    def heat_layer(self, name: str) -> HeatLayerSpec | None:
        """A plugin's heat layer (its plugin is loaded if needed); None when no enabled plugin has it."""
        self._need("heat_layers", name)
        return self._table("heat_layers").get(name)

    def heat_values(self, name: str, store: Any, time: float, factory: Any) -> tuple[np.ndarray, str] | None:
        """(one value per machine of ``store``, unit) of a plugin's layer, NaN where it has none (and all
        NaN if the plugin fails); None when ``name`` is not a plugin's layer."""
        if name not in self.heat_layer_units():
            return None
        spec = self.heat_layer(name)
        n = len(store.machines)
        if spec is None:
            return np.full(n, np.nan), ""
        values = self.guard(spec.plugin, spec.compute, StoreView(store, time), factory, default=None)
        out = np.full(n, np.nan) if values is None else np.asarray(values, dtype=float).reshape(-1)
        return (out if len(out) == n else np.full(n, np.nan)), spec.unit

    def data_source(self, scheme: str) -> DataSourceSpec | None:
        """The data source for endpoints ``scheme://…`` (its plugin is loaded if needed), or None."""
        self._need("data_sources", scheme)
        return self._table("data_sources").get(scheme)

    @property
    def kpis(self) -> dict[str, KpiSpec]:
        """The plugins' KPIs, key → spec (KPI plugins are loaded: a comparison needs them)."""
        self._need("kpis")
        return self._table("kpis")

    def extra_kpis(self, observation: Any) -> dict[str, float]:
        """The plugins' KPIs of one observation (a failing KPI disables its plugin and is left out). May
        run on a worker thread: a failure is reported through ``failed``."""
        out = {}
        for spec in self.kpis.values():
            value = self.guard(spec.plugin, spec.compute, observation, default=None)
            if value is not None:
                out[spec.key] = float(value)
        return out

    def panels(self) -> list[tuple[str, str]]:
        """(plugin, title) of every enabled plugin's panel, from the manifests (nothing is imported)."""
        return [(p.name, title) for p in list(self.plugins.values()) if p.enabled for title in p.provides.panels]

    def panel_area(self, plugin: str, title: str) -> str:
        """Where a panel's dock goes (``PANEL_AREAS``): as its plugin registered it, "bottom" until loaded."""
        spec: PanelSpec | None = self._table("panels").get(title)
        return spec.area if spec is not None and spec.plugin == plugin else "bottom"

    def make_panel(self, plugin: str, title: str) -> Any:
        """Build a panel's widget (its plugin is loaded first); None if the plugin fails."""
        if not self.load(plugin):
            return None
        spec: PanelSpec | None = self._table("panels").get(title)
        api = self._apis.get(plugin)
        if spec is None or api is None:
            return None
        return self.guard(plugin, spec.make, api, default=None)

    # -- failing -------------------------------------------------------------------------------------------
    def guard(self, plugin_name: str, fn: Callable[..., Any], *args: Any, default: Any = None, **kwargs: Any) -> Any:
        """Call a plugin's contribution; if it raises, the plugin is disabled (all it added goes) and
        ``default`` is returned — the application carries on."""
        p = self.plugins.get(plugin_name)
        if p is not None and not p.active:
            return default
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            if p is None:
                raise
            self._fail(p, f"{type(e).__name__}: {e}", traceback.format_exc(limit=4), "failed while running")
            return default

    def _fail(self, p: Plugin, error: str, tb: str, when: str) -> None:
        with self._lock:
            if p.state == "failed":
                return  # reported once
            p.state, p.error = "failed", error if when == "failed to load" else f"{when}: {error}"
            self._registry.forget(p.name)
            api = self._apis.pop(p.name, None)
            module = self._modules.pop(p.name, None)
        if api is not None:
            api.events.disconnect_all()
        if module is not None and p.folder is not None:
            sys.modules.pop(module, None)
        log.error("plugin %s %s and was disabled: %s\n%s", p.name, when, error, tb.rstrip())
        self.failed.emit(p)
        self.changed.emit()

    def _relay(self, event: str) -> Callable[..., None]:
        def relay(*args: Any) -> None:
            for name, api in list(self._apis.items()):
                self.guard(name, getattr(api.events, event).emit, *args)

        return relay

    def close(self) -> None:
        """Take back what every plugin added (the window that owned this manager closed)."""
        remove_kind_finder(self._find_kind)
        with self._lock:
            for name in list(self._apis):
                self._apis.pop(name).events.disconnect_all()
                self._registry.forget(name)
        self.host.set_document(None)  # nothing of the closed window is kept alive from here
        self.host.set_state_source(lambda: None)
        self.host.set_meshes({})

    # -- importing -----------------------------------------------------------------------------------------
    def _import(self, p: Plugin) -> Any:
        if p.entry is not None:
            return SimpleNamespace(register=p.entry)
        if p.folder is None or p.source.startswith("entry point"):
            return importlib.import_module(p.module_name)
        name = f"floortwin_plugins.{p.name.replace('-', '_').replace('.', '_')}.{p.module_name}"
        path = p.folder / f"{p.module_name}.py"
        if not path.is_file():
            path = p.folder / p.module_name / "__init__.py"
        if not path.is_file():
            raise FileNotFoundError(f"no {p.module_name}.py in {p.folder}")
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        self._modules[p.name] = name
        return module


def _missing(requires: Iterable[str]) -> list[str]:
    return [r for r in requires if importlib.util.find_spec(r.split(">")[0].split("=")[0].split("<")[0].strip()) is None]


def _apply(p: Plugin, m: Manifest) -> None:
    p.name, p.version, p.description, p.author = m.name, m.version, m.description, m.author
    p.requires, p.provides, p.api = m.requires, m.provides, m.api


def _from_folder(folder: Path) -> Plugin:
    p = Plugin(name=folder.name, source=f"folder: {folder}", folder=folder)
    try:
        m = read_manifest(folder / MANIFEST)
        if m.module is None:
            raise ManifestError(f"broken {MANIFEST}: module: a folder plugin names its Python module")
    except ManifestError as e:
        p.state, p.error = "failed", str(e)
        return p
    _apply(p, m)
    p.module_name = m.module
    return p


def _from_entry_point(ep: importlib.metadata.EntryPoint) -> Plugin:
    """An installed plugin: its manifest is ``plugin.json`` in the entry point's package (found without
    importing it)."""
    module = ep.value.split(":")[0].strip()
    p = Plugin(name=ep.name, source=f"entry point: {ep.value}", module_name=module)
    parts = module.split(".")
    spec = importlib.util.find_spec(parts[0])
    if spec is None or not spec.submodule_search_locations:
        p.state, p.error = "failed", f"entry point {ep.value}: package {parts[0]} not found (an installed plugin is a package)"
        return p
    folder = Path(next(iter(spec.submodule_search_locations)))
    for part in parts[1:]:
        if (folder / part).is_dir():
            folder = folder / part
    p.folder = folder
    try:
        m = read_manifest(folder / MANIFEST)
    except ManifestError as e:
        p.state, p.error = "failed", f"{e} (expected in {folder})"
        return p
    _apply(p, m)
    return p


def plugin_folders() -> list[Path]:
    """Where folder plugins are looked for: the bundled ``plugins/`` and the user's own plugin folder."""
    from app.paths import user_data_dir

    return [bundled_folder(), user_data_dir() / "plugins"]


def bundled_folder() -> Path:
    """The plugins that ship with floortwin (trusted: they are part of the installation)."""
    from app.paths import ROOT

    return ROOT / "plugins"


def standard_plugins(trusted: Iterable[str] = (), disabled: Iterable[str] = ()) -> PluginManager:
    """The application's plugins: the bundled and user folders and the installed entry points, with the
    user's choices applied (nothing is imported yet)."""
    m = PluginManager()
    m.add(m.discover(plugin_folders()), trusted=trusted, disabled=disabled, trusted_folders=[bundled_folder()])
    return m
