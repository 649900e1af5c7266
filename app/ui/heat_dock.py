"""The Heat Maps panel: material layers (WIP on the floor, flow on paths), machine heat, hot spots, export."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6 import QtCore, QtWidgets

from app.heat.colour import COLOUR_MAPS
from app.heat.layers import MaterialLayers
from app.heat.material import HotSpot
from app.live.machine_colours import HeatLayer
from app.model.signals import NUMERIC_SIGNALS, unit_of
from app.ui.widgets import number_field, scrolling


class HeatDock(QtWidgets.QDockWidget):
    """Machine heat: which signal, which colour map, automatic or fixed range.

    Signals
    -------
    changed(object)
        The ``HeatLayer`` to show, or None to colour machines by state.
    layers_changed(object)
        The ``MaterialLayers`` to show.
    hot_spot_activated(float, float)
        The user clicked a hot spot: fly there (floor x, y).
    export_requested(), image_requested()
        Export the WIP grid as CSV; save an image of the view with its legends.
    """

    changed = QtCore.Signal(object)
    layers_changed = QtCore.Signal(object)
    hot_spot_activated = QtCore.Signal(float, float)
    export_requested = QtCore.Signal()
    image_requested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__("Heat Maps", parent)
        self.setObjectName("dock_heat")
        body = QtWidgets.QWidget(self)
        outer = QtWidgets.QVBoxLayout(body)
        material = QtWidgets.QGroupBox("Material", body)
        mform = QtWidgets.QFormLayout(material)
        self.wip = QtWidgets.QCheckBox("&WIP density on the floor", material)
        self.wip.setToolTip("Parts waiting at machines, in buffers and on conveyors, spread over 0.25 m cells (walls block)")
        self.flow = QtWidgets.QCheckBox("Material f&low on paths", material)
        self.flow.setToolTip("Transport paths sized and coloured by parts per hour (output rate × routing share)")
        self.opacity = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal, material)
        self.opacity.setRange(10, 100)
        self.opacity.setValue(80)
        self.opacity.setToolTip("Opacity of the floor colours")
        mform.addRow(self.wip)
        mform.addRow(self.flow)
        mform.addRow("&Opacity", self.opacity)
        outer.addWidget(material)
        machines = QtWidgets.QGroupBox("Machines", body)
        form = QtWidgets.QFormLayout(machines)
        form.setRowWrapPolicy(QtWidgets.QFormLayout.RowWrapPolicy.WrapLongRows)  # a narrow dock: labels above fields
        outer.addWidget(machines)
        self.signal = QtWidgets.QComboBox(machines)
        self.signal.setToolTip("Colour every machine by this signal (grey: no data or stale)")
        form.addRow("Colour &machines by", self.signal)
        self.cmap = QtWidgets.QComboBox(machines)
        for name in COLOUR_MAPS:
            self.cmap.addItem(name)
        self.cmap.setToolTip("Perceptually uniform, colour-blind-safe colour maps")
        for combo in (self.signal, self.cmap):  # keep the dock narrow
            combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
        form.addRow("Colour m&ap", self.cmap)
        self.fixed = QtWidgets.QCheckBox("Fixed range", machines)
        self.fixed.setToolTip("Keep the colours' meaning steady instead of following the values shown")
        self.lo = number_field(0.0, -1e6, 1e6, "", 2)  # a million either way: wide enough, and a narrow field
        self.hi = number_field(100.0, -1e6, 1e6, "", 2)
        form.addRow("", self.fixed)
        for text, field in (("&From", self.lo), ("&To", self.hi)):
            label = QtWidgets.QLabel(text, machines)
            label.setBuddy(field)
            label.setMinimumWidth(label.sizeHint().width() + 4)  # the last glyph is not clipped ("Tc")
            form.addRow(label, field)
        self.hint = QtWidgets.QLabel("", machines)
        self.hint.setWordWrap(True)
        form.addRow(self.hint)
        outer.addWidget(QtWidgets.QLabel("Hot spots (click to fly there)", body))
        self.hot = _ShortTree(body)
        self.hot.setHeaderLabels(["Where", "Value"])
        self.hot.setRootIsDecorated(False)
        self.hot.header().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.hot.setUniformRowHeights(True)
        self.hot.setToolTip("The highest WIP peaks on the floor and the hottest machines")
        self.hot.itemActivated.connect(self._on_hot)
        self.hot.itemClicked.connect(self._on_hot)
        outer.addWidget(self.hot, 1)
        buttons = QtWidgets.QHBoxLayout()
        self.export = QtWidgets.QPushButton("Export &CSV…", body)
        self.export.setToolTip("Save the WIP grid on view (live or replayed) as CSV")
        self.image = QtWidgets.QPushButton("Save &Image…", body)
        self.image.setToolTip("Save the view with its legends as PNG")
        buttons.addWidget(self.export)
        buttons.addWidget(self.image)
        outer.addLayout(buttons)
        self.export.clicked.connect(self.export_requested)
        self.image.clicked.connect(self.image_requested)
        for w in (self.wip, self.flow):
            w.toggled.connect(self._emit_layers)
        self.opacity.valueChanged.connect(self._emit_layers)
        self.export.setEnabled(False)
        self.setWidget(scrolling(body, self))
        self.set_signals(())
        for w in (self.signal, self.cmap):
            w.currentIndexChanged.connect(self._emit)
        self.fixed.toggled.connect(self._emit)
        self.lo.valueChanged.connect(self._emit)
        self.hi.valueChanged.connect(self._emit)

    def set_signals(self, bound: tuple[str, ...] | list[str], plugin_layers: Mapping[str, str] | None = None) -> None:
        """Offer "State" and the numeric signals (those of the factory's bindings first), then the layers
        plugins compute (``plugin_layers``: name → unit, "" when not known yet)."""
        current = self.signal.currentText()
        self.signal.blockSignals(True)
        self.signal.clear()
        self.signal.addItem("State (no heat map)")
        for name in [*(s for s in NUMERIC_SIGNALS if s in bound), *(s for s in bound if s not in NUMERIC_SIGNALS)]:
            if name in ("State", "AlarmText", "Alarm"):
                continue
            unit = unit_of(name) or None
            self.signal.addItem(f"{name} ({unit})" if unit else name, name)
        for name, unit in (plugin_layers or {}).items():
            self.signal.addItem(f"{name} ({unit})" if unit else name, name)
        index = self.signal.findText(current)
        self.signal.setCurrentIndex(max(index, 0))
        self.signal.blockSignals(False)

    def layer(self) -> HeatLayer | None:
        name = self.signal.currentData()
        if not name:
            return None
        lo, hi = self.lo.value(), self.hi.value()
        fixed = (min(lo, hi), max(lo, hi)) if self.fixed.isChecked() else None
        return HeatLayer(name, self.cmap.currentText(), fixed)

    def signal_names(self) -> list[str]:
        """The numeric signals machines can be coloured by, as offered."""
        return [str(self.signal.itemData(k)) for k in range(self.signal.count()) if self.signal.itemData(k)]

    def choose(self, signal: str | None) -> None:
        """Select a signal by name (None: state)."""
        index = self.signal.findData(signal) if signal else 0
        if index >= 0:
            self.signal.setCurrentIndex(index)

    def material(self) -> MaterialLayers:
        return MaterialLayers(self.wip.isChecked(), self.flow.isChecked(), self.opacity.value() / 100)

    def _emit_layers(self, *_args) -> None:
        self.export.setEnabled(self.wip.isChecked())
        self.layers_changed.emit(self.material())

    def set_hot_spots(self, spots: list[HotSpot], signal: str | None) -> None:
        """Show the hot spots (keeping the selected row's place when the list is refreshed)."""
        current = self.hot.currentItem()
        keep = current.text(0) if current is not None else None
        self.hot.clear()
        for spot in spots:
            unit = "parts/m²" if spot.kind == "wip" else unit_of(signal or "")
            where = f"WIP {spot.label}" if spot.kind == "wip" else spot.label
            item = QtWidgets.QTreeWidgetItem([where, f"{spot.value:.3g} {unit}".strip()])
            item.setData(0, QtCore.Qt.ItemDataRole.UserRole, (spot.x_m, spot.y_m))
            item.setToolTip(0, f"({spot.x_m:.1f} m, {spot.y_m:.1f} m)")
            self.hot.addTopLevelItem(item)
            if where == keep:
                self.hot.setCurrentItem(item)
        self.hot.resizeColumnToContents(0)

    def show_notice(self, text: str) -> None:
        """A word about the machine heat map (a text signal), or the usual hint when ``text`` is empty."""
        if text:
            self.hint.setText(text)
        elif self.layer() is not None:
            self.hint.setText("Grey: no data, a bad reading or a stale value (never shown as zero).")

    def _on_hot(self, item: QtWidgets.QTreeWidgetItem, _column: int = 0) -> None:
        at = item.data(0, QtCore.Qt.ItemDataRole.UserRole)
        if at:
            self.hot_spot_activated.emit(float(at[0]), float(at[1]))

    def _emit(self, *_args) -> None:
        for w in (self.lo, self.hi):
            w.setEnabled(self.fixed.isChecked())
        layer = self.layer()
        self.hint.setText("" if layer is None else "Grey: no data, a bad reading or a stale value (never shown as zero).")
        self.changed.emit(layer)


class _ShortTree(QtWidgets.QTreeWidget):
    """A list that asks for a few rows and takes whatever room is left: the buttons under it stay on screen."""

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(12 * self.fontMetrics().averageCharWidth(), 6 * self.fontMetrics().height())

    def minimumSizeHint(self) -> QtCore.QSize:
        return self.sizeHint()
