"""floortwin's own panels as the built-in plugin ``floortwin`` (Spyder's way): they register through the
same ``PluginApi`` as any plugin's, so every dock panel comes from one registry, the plugin manager's. So
does the MQTT data source (``app.mqtt``): Live ▸ Connect to ``mqtt://`` or ``mqtts://`` uses it.

A built-in dock belongs here when the API offers all it needs (the factory, the selection, the loaded
meshes, the state on view and the API's events). The Properties panel does; the others need more than the
API offers — the trends a history and the replay time, the alarms the alarm log, the heat maps their
controller, the log must catch lines from the start, the what-if dock its service, the layout check and
undo history the editor — and are made by the main window. So is the Material flow dock (``FlowDock``, the
drag in progress, the saved layout and the 3D view's ribbons), which the window takes from here.
"""

from __future__ import annotations

from app.mqtt.source import SCHEMES, MqttSource
from app.plugins import PluginApi, PluginManager, Provides
from app.ui.flow_dock import FlowDock
from app.ui.properties_dock import PropertiesPanel

__all__ = ["NAME", "PROVIDES", "FlowDock", "add_builtin_panels", "register"]

NAME = "floortwin"
#: What the built-in plugin adds (its manifest, as a folder plugin's plugin.json says it).
PROVIDES = Provides(panels=("Properties",), data_sources=SCHEMES)


def register(api: PluginApi) -> None:
    """The built-in plugin's ``register(api)``."""
    api.add_panel("Properties", PropertiesPanel, area="right")
    for scheme in SCHEMES:  # MQTT brokers (Sparkplug B, JSON topics): Live ▸ Connect to mqtt://HOST:PORT
        api.add_data_source(scheme, "MQTT / Sparkplug B", MqttSource)


def add_builtin_panels(plugins: PluginManager) -> None:
    """Load the built-in plugin into ``plugins`` (it ships with floortwin: no question, always on)."""
    if not plugins.add_builtin(NAME, register, PROVIDES, "floortwin's own panels"):
        raise RuntimeError(f"floortwin's built-in panels did not load: {plugins.plugins[NAME].error}")
