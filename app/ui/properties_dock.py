"""Properties of the selected machine, grouped like a property editor."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6 import QtCore, QtWidgets

from app.assets import MeshAsset
from app.model.factory import Factory, Machine
from app.model.kinds import get_kind


def _dist_text(d) -> str:
    if d.kind == "deterministic":
        return f"{d.mean_s:g} s"
    if d.kind == "exponential":
        return f"exponential, mean {d.mean_s:g} s"
    if d.kind == "lognormal":
        return f"lognormal, mean {d.mean_s:g} s, CV {d.cv:g}"
    return f"empirical, {len(d.samples_s)} samples"


def _tag_text(m: Machine, signal: str, units: Mapping[str, str]) -> str:
    """A binding as the dock shows it: the node, the server's unit, a state mapping other than auto."""
    text = m.tags[signal]
    if units.get(signal):
        text += f"  [{units[signal]}]"
    mapping = m.states.get(signal)
    if mapping is not None and mapping != "auto":
        text += f"  (states: {mapping if isinstance(mapping, str) else 'table of ' + str(len(mapping))})"
    return text


def machine_properties(
    m: Machine, asset: MeshAsset | None, units: Mapping[str, str] | None = None
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The rows the dock shows for a machine: (section, [(property, value)]); ``units`` are the engineering
    units the server gives for its bound signals."""
    kind = get_kind(m.kind)
    asset_text = m.asset
    if asset is not None and asset.placeholder:
        asset_text += "  ⚠ placeholder: " + (asset.warning or "")
    elif asset is not None:
        asset_text += f"  ({asset.n_triangles:,} triangles)"
    sim = m.sim
    rows = [
        (
            "Identity",
            [
                ("Id", m.id),
                ("Name", m.name),
                ("Kind", kind.label if kind else m.kind),
                ("Line", m.line or "—"),
                ("Asset", asset_text),
            ],
        ),
        (
            "Placement",
            [
                ("Position", f"x {m.pose.x_m:.2f} m, y {m.pose.y_m:.2f} m"),
                ("Rotation", f"{m.pose.yaw_deg:.1f}°"),
                ("Footprint", f"{m.footprint.width_m:.2f} × {m.footprint.depth_m:.2f} m"),
                ("Clearance", f"{m.clearance_m:.2f} m"),
            ],
        ),
        (
            "Simulation",
            [
                ("Cycle time", _dist_text(sim.cycle)),
                ("Setup", f"{sim.setup_s:g} s"),
                (
                    "MTBF / MTTR",
                    f"{sim.mtbf_s / 3600:.1f} h / {sim.mttr_s / 60:.0f} min" if sim.mtbf_s and sim.mttr_s else "no failures",
                ),
                ("Servers", str(sim.servers)),
                ("Input buffer", str(sim.input_buffer)),
                ("Power busy / idle", f"{sim.power_busy_kw:g} / {sim.power_idle_kw:g} kW"),
            ],
        ),
        ("OPC UA tags", [(k, _tag_text(m, k, units or {})) for k in sorted(m.tags)] or [("—", "no bindings")]),
    ]
    return rows


class PropertiesDock(QtWidgets.QDockWidget):
    """Shows the properties of the current machine (read-only here; editing goes through commands)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__("Properties", parent)
        self.setObjectName("dock_properties")
        self.table = QtWidgets.QTreeWidget(self)
        self.table.setColumnCount(2)
        self.table.setHeaderLabels(["Property", "Value"])
        self.table.setRootIsDecorated(False)
        self.table.setAlternatingRowColors(True)
        self.table.setUniformRowHeights(True)
        self.setWidget(self.table)
        self.show_machine(None, None, None)

    def show_machine(
        self, factory: Factory | None, machine_id: str | None, asset: MeshAsset | None, units: Mapping[str, str] | None = None
    ) -> None:
        """Fill the dock for ``machine_id`` (None: show a hint); ``units``: the server's, per bound signal."""
        self.table.clear()
        if factory is None or machine_id is None:
            item = QtWidgets.QTreeWidgetItem(["No machine selected — click one in the 3D view or the tree", ""])
            item.setDisabled(True)
            self.table.addTopLevelItem(item)
            item.setFirstColumnSpanned(True)
            return
        m = factory.machine(machine_id)
        for section, rows in machine_properties(m, asset, units):
            head = QtWidgets.QTreeWidgetItem([section, ""])
            font = head.font(0)
            font.setBold(True)
            head.setFont(0, font)
            head.setFirstColumnSpanned(True)
            self.table.addTopLevelItem(head)
            for key, value in rows:
                item = QtWidgets.QTreeWidgetItem([key, value])
                item.setToolTip(1, value)
                item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsSelectable)
                self.table.addTopLevelItem(item)
        self.table.resizeColumnToContents(0)

    def value_of(self, key: str) -> str | None:
        """The shown value of a property (first match), for tests."""
        for i in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(i)
            if item.text(0) == key:
                return item.text(1)
        return None
