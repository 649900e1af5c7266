"""Plugins: an explicit, versioned API (``app.plugins.api``), manifests (``plugin.json``) and a manager that
loads a plugin's code only when something it provides is needed. Qt-free: the UI shows and asks.

A plugin is a Python module with a ``register(api)`` function and a manifest. Folder plugins live in a
sub-folder of ``plugins/`` (or of the user's plugin folder); installed ones declare an entry point in the
group ``floortwin.plugins`` and ship ``plugin.json`` in their package. See docs/plugins.md.
"""

from app.plugins.api import API_VERSION, DataSourceSpec, HeatLayerSpec, KpiSpec, PanelSpec, PluginApi, PluginEvents
from app.plugins.host import PluginHost, StoreView
from app.plugins.manager import (
    ENTRY_POINT_GROUP,
    Plugin,
    PluginManager,
    bundled_folder,
    plugin_folders,
    standard_plugins,
)
from app.plugins.manifest import Manifest, ManifestError, Provides, read_manifest

__all__ = [
    "API_VERSION",
    "ENTRY_POINT_GROUP",
    "DataSourceSpec",
    "HeatLayerSpec",
    "KpiSpec",
    "Manifest",
    "ManifestError",
    "PanelSpec",
    "Plugin",
    "PluginApi",
    "PluginEvents",
    "PluginHost",
    "PluginManager",
    "Provides",
    "StoreView",
    "bundled_folder",
    "plugin_folders",
    "read_manifest",
    "standard_plugins",
]
