"""The Heat Maps panel: colour machines by a live (or replayed) numeric signal instead of their state."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from app.heat.colour import COLOUR_MAPS
from app.ui.live_link import UNITS, HeatLayer
from app.ui.widgets import number_field

NUMERIC_SIGNALS = ("Temperature", "Power", "SpindleLoad", "PressForce", "AxisLoad", "Level", "PartCount")


class HeatDock(QtWidgets.QDockWidget):
    """Machine heat: which signal, which colour map, automatic or fixed range.

    Signals
    -------
    changed(object)
        The ``HeatLayer`` to show, or None to colour machines by state.
    """

    changed = QtCore.Signal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__("Heat Maps", parent)
        self.setObjectName("dock_heat")
        body = QtWidgets.QWidget(self)
        form = QtWidgets.QFormLayout(body)
        self.signal = QtWidgets.QComboBox(body)
        self.signal.setToolTip("Colour every machine by this signal (grey: no data or stale)")
        form.addRow("Colour &machines by", self.signal)
        self.cmap = QtWidgets.QComboBox(body)
        for name in COLOUR_MAPS:
            self.cmap.addItem(name)
        self.cmap.setToolTip("Perceptually uniform, colour-blind-safe colour maps")
        for combo in (self.signal, self.cmap):  # keep the dock narrow
            combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
        form.addRow("Colour m&ap", self.cmap)
        self.fixed = QtWidgets.QCheckBox("Fixed range", body)
        self.fixed.setToolTip("Keep the colours' meaning steady instead of following the values shown")
        self.lo = number_field(0.0, -1e9, 1e9, "", 2)
        self.hi = number_field(100.0, -1e9, 1e9, "", 2)
        form.addRow("", self.fixed)
        form.addRow("&From", self.lo)
        form.addRow("&To", self.hi)
        self.hint = QtWidgets.QLabel("", body)
        self.hint.setWordWrap(True)
        form.addRow(self.hint)
        self.setWidget(body)
        self.set_signals(())
        for w in (self.signal, self.cmap):
            w.currentIndexChanged.connect(self._emit)
        self.fixed.toggled.connect(self._emit)
        self.lo.valueChanged.connect(self._emit)
        self.hi.valueChanged.connect(self._emit)

    def set_signals(self, bound: tuple[str, ...] | list[str]) -> None:
        """Offer "State" and the numeric signals (those of the factory's bindings first)."""
        current = self.signal.currentText()
        self.signal.blockSignals(True)
        self.signal.clear()
        self.signal.addItem("State (no heat map)")
        for name in [*(s for s in NUMERIC_SIGNALS if s in bound), *(s for s in bound if s not in NUMERIC_SIGNALS)]:
            if name in ("State", "AlarmText", "Alarm"):
                continue
            unit = UNITS.get(name)
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

    def choose(self, signal: str | None) -> None:
        """Select a signal by name (None: state)."""
        index = self.signal.findData(signal) if signal else 0
        if index >= 0:
            self.signal.setCurrentIndex(index)

    def _emit(self, *_args) -> None:
        for w in (self.lo, self.hi):
            w.setEnabled(self.fixed.isChecked())
        layer = self.layer()
        self.hint.setText("" if layer is None else "Grey: no data, a bad reading or a stale value (never shown as zero).")
        self.changed.emit(layer)
