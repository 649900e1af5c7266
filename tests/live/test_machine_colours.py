"""Machine colours for the state on view — by state with alarms, by a signal (heat), by a difference —
and their colour bars, without a GUI."""

from __future__ import annotations

import numpy as np

from app.heat.colour import lut
from app.live.machine_colours import (
    DELTA_CMAP,
    ColourBar,
    HeatLayer,
    delta_colouring,
    heat_colouring,
    state_colouring,
)
from app.state.alarms import AlarmLog, recorded_alarms
from app.state.colours import ALARM_DIM_RGB, ALARM_RGB, NO_DATA_RGB, STATE_RGB
from app.state.store import BindingInfo, StateStore, Update

MACHINES = ["CNC-01", "CNC-02", "PR-01"]


def _store() -> StateStore:
    store = StateStore(MACHINES, ["State", "Temperature", "Alarm", "AlarmText"])
    for m in MACHINES:
        for signal in ("State", "Temperature", "Alarm"):
            store.bind(m, signal, f"ns=2;s={m}.{signal}")
    return store


def _put(store: StateStore, machine: str, signal: str, value: object, t: float, status: int = 0) -> None:
    store.ingest([Update(store.bindings_of(machine, signal)[0], value, status, t, t)])


def test_states_show_their_colours_stale_ones_grey_and_an_unacknowledged_alarm_blinks():
    store = _store()
    _put(store, "CNC-01", "State", "running", 100.0)
    _put(store, "CNC-02", "State", "down", 100.0)
    _put(store, "PR-01", "State", "blocked", 80.0)  # 21 s old at 101 s: stale
    _put(store, "CNC-02", "Alarm", True, 100.0)
    alarms = AlarmLog()
    alarms.follow(store, store.flush(), 100.0)
    on = state_colouring(store, 101.0, 10.0, alarms.shown(store), True)
    off = state_colouring(store, 101.0, 10.0, alarms.shown(store), False)
    assert on[0].tolist() == STATE_RGB[0].tolist() and on[2].tolist() == NO_DATA_RGB.tolist()
    assert on[1].tolist() == ALARM_RGB.tolist() and off[1].tolist() == ALARM_DIM_RGB.tolist()
    alarms.acknowledge_all()  # acknowledged: the machine shows its state again...
    assert state_colouring(store, 101.0, 10.0, alarms.shown(store), True)[1].tolist() == STATE_RGB[4].tolist()
    # ...but a replay shows the alarm as it was then, steadily.
    assert state_colouring(store, 101.0, 10.0, recorded_alarms(store), True)[1].tolist() == ALARM_RGB.tolist()


def test_a_heat_map_colours_current_values_over_their_range_and_names_the_servers_unit():
    store = _store()
    _put(store, "CNC-01", "Temperature", 20.0, 100.0)
    _put(store, "CNC-02", "Temperature", 60.0, 100.0)
    _put(store, "PR-01", "Temperature", 99.0, 50.0)  # stale: not coloured, not in the range
    store.flush()
    rgb, bar = heat_colouring(store, HeatLayer("Temperature", "viridis"), 101.0, max_age_s=10.0)
    table = lut("viridis")
    assert bar == ColourBar("Temperature (°C)", 20.0, 60.0, "viridis")
    assert rgb[0].tolist() == table[0].tolist() and rgb[1].tolist() == table[-1].tolist()
    assert rgb[2].tolist() == NO_DATA_RGB.tolist()
    # A fixed range clips; the server's unit replaces floortwin's.
    store.set_info(store.bindings_of("CNC-01", "Temperature")[0], BindingInfo(unit="°F"))
    rgb, bar = heat_colouring(store, HeatLayer("Temperature", "viridis", (0.0, 40.0)), 101.0, max_age_s=10.0)
    assert bar == ColourBar("Temperature (°F)", 0.0, 40.0, "viridis") and rgb[1].tolist() == table[-1].tolist()


def test_a_plugins_layer_is_coloured_where_it_has_values_whatever_the_store_holds():
    store = _store()
    layer = (np.array([1.0, np.nan, 3.0]), "kWh")
    rgb, bar = heat_colouring(store, HeatLayer("Energy"), 101.0, 10.0, layer)
    assert bar.title == "Energy (kWh)" and bar.lo <= 1.0 and bar.hi >= 3.0
    assert rgb[1].tolist() == NO_DATA_RGB.tolist() and rgb[0].tolist() != rgb[2].tolist()


def test_a_difference_is_centred_on_zero_and_the_bar_is_redrawn_only_when_it_changes():
    rgb, bar = delta_colouring("Utilisation Δ (pp)", np.array([-4.0, 0.0, 2.0, np.nan]))
    table = lut(DELTA_CMAP)
    assert (bar.lo, bar.hi) == (-4.0, 4.0)
    assert rgb[0].tolist() == table[0].tolist() and rgb[1].tolist() == table[len(table) // 2].tolist()
    assert rgb[3].tolist() == NO_DATA_RGB.tolist()
    flat, flat_bar = delta_colouring("No change", np.zeros(3))
    assert (flat_bar.lo, flat_bar.hi) == (-1.0, 1.0) and len({tuple(c) for c in flat.tolist()}) == 1
    assert bar.same_as(ColourBar("Utilisation Δ (pp)", -4.0000000001, 4.0, DELTA_CMAP))
    assert not bar.same_as(None) and not bar.same_as(ColourBar("Utilisation Δ (pp)", -5.0, 5.0, DELTA_CMAP))
