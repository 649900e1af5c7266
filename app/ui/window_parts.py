"""Parts of the main window made from its public members: the what-if service and dock, the OPC UA node
tools. Kept here so that ``main_window`` stays a readable list of what the window holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.ui.node_tools import NodeTools
from app.ui.whatif_dock import WhatIfDock
from app.whatif import WhatIfService

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


def make_whatif(w: MainWindow) -> tuple[WhatIfService, WhatIfDock]:
    """The what-if service of the open document (the live link's history and clock) and its dock."""
    service = WhatIfService(
        lambda: w.document,
        lambda: w.console.history_path(),
        extra_kpis=w.plugins.extra_kpis,
        kpi_labels=lambda: {k: (spec.label, spec.unit) for k, spec in w.plugins.kpis.items()},
        time_scale=lambda: w.console.link_time_scale,
    )
    dock = WhatIfDock(
        service,
        say=lambda text: w.statusBar().showMessage(text, 10000),
        show_error=lambda title, text: w.show_error(title, text, ""),
        show_delta=lambda title, values: w.live.show_delta(title, values),
        show_wip=lambda title, amounts: w.heat.show_simulated_wip(title, amounts),
        show_share=lambda title, shares: w.live.show_delta(title, shares, share=True),
        parent=w,
    )
    return service, dock


def make_node_tools(w: MainWindow) -> NodeTools:
    """The selected node's attributes, the Watch dock and Write Value… (the Watch dock joins the bottom docks)."""
    from PySide6 import QtCore

    tools = NodeTools(
        w.live,
        w.browse_dock,
        w.settings.store,
        w.alarms_dock,
        lambda text: w.statusBar().showMessage(text, 10000),
        lambda title, text: w.show_error(title, text, ""),
        w,
    )
    w.docks.bottom.append(tools.watch_dock)
    w.addDockWidget(QtCore.Qt.DockWidgetArea.BottomDockWidgetArea, tools.watch_dock)
    return tools
