"""Machine states from other vocabularies: OPC UA for Machinery, DI DeviceHealth, Booleans, per-binding
tables; a value no mapping knows is "unknown", never clipped into a neighbouring state."""

from __future__ import annotations

import numpy as np
import pytest

from app.history.recorder import sample_of
from app.state.colours import NO_DATA_RGB, STATE_RGB, UNKNOWN_RGB, state_colours
from app.state.machine_states import UNKNOWN, state_code, state_name
from app.state.store import BindingInfo, StateStore, Update


@pytest.mark.parametrize(
    ("value", "mapping", "state"),
    [
        ("running", None, "running"),
        (4, None, "down"),
        (True, None, "running"),  # was "setup": a Boolean read as the number 1
        (False, None, "starved"),
        ("Executing", None, "running"),
        ("NotExecuting", "machinery-item-state", "starved"),
        ("OutOfService", "machinery-item-state", "down"),
        (3, "machinery-item-state", "running"),
        ("Processing", "machinery-operation-mode", "running"),
        ("Maintenance", "machinery-operation-mode", "down"),
        ("None", "machinery-operation-mode", "unknown"),
        (1, "di-device-health", "down"),  # FAILURE, was "setup"
        ("FAILURE", None, "down"),
        ("MAINTENANCE_REQUIRED", "di-device-health", "setup"),
        (0, "di-device-health", "running"),
        (7, None, "unknown"),  # was clipped to "down"
        (-2, None, "unknown"),  # was clipped to "running"
        (2.5, None, "unknown"),
        ("Automatic", {"automatic": "running", "Manual": "setup"}, "running"),
        ("MANUAL", {"automatic": "running", "Manual": "setup"}, "setup"),
        (0, {"automatic": "running"}, "unknown"),
        (True, "boolean", "running"),
    ],
)
def test_values_map_to_states(value, mapping, state):
    assert state_name(state_code(value, mapping)) == state


def test_unknown_codes_get_their_own_colour_never_a_neighbouring_state():
    codes = np.array([0.0, 4.0, UNKNOWN, 7.0, -3.0, np.nan])
    n = len(codes)
    rgb = state_colours(codes, np.zeros(n, dtype=np.uint32), np.zeros(n), 10.0, np.zeros(n, dtype=bool), False)
    assert (rgb[0] == STATE_RGB[0]).all() and (rgb[1] == STATE_RGB[4]).all()
    for k in (2, 3, 4):
        assert (rgb[k] == UNKNOWN_RGB).all()
    assert (rgb[5] == NO_DATA_RGB).all()


def test_the_store_maps_per_binding_and_follows_a_recognised_data_type():
    s = StateStore(["M1", "M2", "M3"], ["State"])
    auto = s.bind("M1", "State", "nsu=urn:x;s=Health")
    table = s.bind("M2", "State", "nsu=urn:x;s=Mode", states={"1": "running", "2": "down"})
    temp = s.bind("M3", "Temperature", "nsu=urn:x;s=T")
    s.ingest([Update(auto, 1, received_ts=1.0), Update(table, 2, received_ts=1.0), Update(temp, 1.0, received_ts=1.0)])
    assert s.state("M1") == "setup" and s.state("M2") == "down"
    assert s.value("M3", "Temperature") == 1.0  # not a state: the number itself
    # The server says the variable is a DI DeviceHealthEnumeration: 1 is FAILURE.
    s.set_info(auto, BindingInfo(data_type="nsu=http://opcfoundation.org/UA/DI/;i=6244"))
    assert s.state("M1") == "down"
    # An explicit mapping is never overridden by the data type.
    s.set_info(table, BindingInfo(data_type="nsu=http://opcfoundation.org/UA/DI/;i=6244"))
    assert s.state("M2") == "down"


def test_a_recorded_boolean_or_localized_state_replays_as_it_was_shown():
    live = StateStore(["M1", "M2"], ["State"])
    live.bind("M1", "State", "n1")
    live.bind("M2", "State", "n2", states="machinery-item-state")
    on = sample_of("M1", "State", "n1", True, 0, 10.0, 10.0)
    executing = sample_of("M2", "State", "n2", "Executing", 0, 10.0, 10.0)
    assert (on.value, on.text) == (1.0, "true") and (executing.value, executing.text) == (None, "Executing")
    replay = live.empty_copy()
    replay.restore({("M1", "State"): (on.value, on.text, 0, 10.0, 10.0), ("M2", "State"): (None, "Executing", 0, 10.0, 10.0)})
    assert replay.state("M1") == "running" and replay.state("M2") == "running"


def test_values_outside_the_eu_range_are_flagged_and_cleared_when_back():
    s = StateStore(["M1"], ["Speed"])
    k = s.bind("M1", "Speed", "n")
    s.set_info(k, BindingInfo("rpm", 0.0, 1000.0))
    s.ingest([Update(k, 1012.7, received_ts=1.0)])
    assert s.out_of_range[0, 0] and s.unit("M1", "Speed") == "rpm"
    s.ingest([Update(k, 990.0, received_ts=2.0)])
    assert not s.out_of_range[0, 0]


def test_an_unbound_binding_stops_counting():
    s = StateStore(["M1"], ["State"])
    old = s.bind("M1", "State", "n1")
    s.ingest([Update(old, "running", received_ts=1.0)])
    new = s.bind("M1", "State", "n2")
    s.unbind(old)
    assert s.bindings_of("M1", "State") == [new]
    s.ingest([Update(old, "down", received_ts=2.0)])  # a late value of the old node
    assert s.state("M1") == "running"
    s.unbind(new)
    assert s.state("M1") is None  # nothing bound: no data
