"""Energy: a KPI, a machine heat map and a dock panel — an example of three plugin contributions.

- KPI **Energy per part** (kWh/part): the energy of the observation over the parts that left the plant;
  it appears in every what-if comparison, for actuals and simulations alike.
- Heat map **Power share** (%): each machine's share of the plant's present power draw (machines without
  a power reading are grey).
- Panel **Energy**: the plant's live power draw and the five biggest consumers, refreshed every second.
"""

from __future__ import annotations

import math

import numpy as np


def energy_per_part(observation) -> float:
    energy = float(np.nansum(observation.energy_kwh))
    return energy / observation.exits if observation.exits > 0 else math.nan


def power_share(state, factory) -> np.ndarray:
    """Percent of the plant's power each machine draws now (NaN where there is no power reading)."""
    power = state.column("Power")
    total = np.nansum(power)
    if not np.isfinite(power).any() or total <= 0:
        return np.full(len(power), np.nan)
    return power / total * 100.0


def make_panel(api):
    """The Energy panel: plant power and the biggest consumers, from the state on view (``api.state()``),
    refreshed as values arrive (``api.events.live_values``) and every second (a replay that stands still)."""
    from PySide6 import QtCore, QtWidgets

    panel = QtWidgets.QWidget()
    layout = QtWidgets.QVBoxLayout(panel)
    total = QtWidgets.QLabel("No live data", panel)
    font = total.font()
    font.setPointSizeF(font.pointSizeF() * 1.4)
    font.setBold(True)
    total.setFont(font)
    top = QtWidgets.QLabel("", panel)
    layout.addWidget(total)
    layout.addWidget(top)
    layout.addStretch(1)
    panel.total_label, panel.top_label = total, top

    def refresh(*_args) -> None:
        state = api.state()
        if state is None:
            total.setText("No live data")
            top.setText("")
            return
        power = state.column("Power")
        ok = np.isfinite(power)
        if not ok.any():
            total.setText("No power readings")
            top.setText("")
            return
        total.setText(f"Plant power: {np.nansum(power):,.1f} kW")
        order = np.argsort(-np.where(ok, power, -np.inf))[:5]
        top.setText("\n".join(f"{state.machines[i]}: {power[i]:,.1f} kW" for i in order if ok[i]))

    timer = QtCore.QTimer(panel)
    timer.setInterval(1000)
    timer.timeout.connect(refresh)
    timer.start()
    api.events.live_values.connect(refresh)
    panel.destroyed.connect(lambda *_: api.events.live_values.disconnect(refresh))
    panel.refresh = refresh
    refresh()
    return panel


def register(api) -> None:
    api.add_kpi("energy_per_part", "Energy per part", "kWh/part", energy_per_part)
    api.add_heat_layer("Power share", "%", power_share)
    api.add_panel("Energy", make_panel)
