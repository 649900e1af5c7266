"""Label texts, units and alarm derivation from the state store, without a GUI."""

from __future__ import annotations

from app.model.signals import LIVE_SIGNALS as SIGNALS
from app.state.alarms import AlarmLog, recorded_alarms
from app.state.labels import label_texts, unit_of, units_of
from app.state.store import BindingInfo, StateStore, Update

MACHINES = ["CNC-01", "CNC-02", "PRS-01"]


def _store() -> StateStore:
    store = StateStore(MACHINES, SIGNALS)
    for m in MACHINES:
        for signal in ("Temperature", "Alarm", "AlarmText", "State"):
            store.bind(m, signal, f"ns=2;s={m}.{signal}")
    return store


def _binding(store: StateStore, machine: str, signal: str) -> int:
    return store.bindings_of(machine, signal)[0]


def test_labels_show_the_current_value_with_the_servers_unit_and_say_when_it_is_beyond_its_range():
    store = _store()
    t = _binding(store, "CNC-01", "Temperature")
    store.set_info(t, BindingInfo(unit="°F", low=0.0, high=100.0))  # the server's unit and EURange win
    store.ingest(
        [
            Update(t, 104.5, received_ts=100.0),
            Update(_binding(store, "CNC-02", "Temperature"), 41.26, received_ts=100.0),
            Update(_binding(store, "PRS-01", "Temperature"), 30.0, received_ts=80.0),  # too old at 100 s
        ]
    )
    store.flush()
    assert label_texts(store, MACHINES, 101.0, max_age_s=10.0) == [
        "CNC-01 · 104.5 °F (max 100)",
        "CNC-02 · 41.3 °C",
        "PRS-01",
    ]
    # A bad reading is not shown as a value, however recent.
    store.ingest([Update(_binding(store, "CNC-02", "Temperature"), 42.0, status=0x80000000, received_ts=101.0)])
    assert label_texts(store, MACHINES, 101.5, max_age_s=10.0)[1] == "CNC-02"


def test_units_of_a_machine_and_of_a_signal_across_machines():
    store = _store()
    assert units_of(store, "CNC-01") == {} and unit_of(store, "Temperature") == "°C"  # floortwin's own
    store.set_info(_binding(store, "CNC-01", "Temperature"), BindingInfo(unit="K"))
    store.set_info(_binding(store, "CNC-02", "Temperature"), BindingInfo(unit="K"))
    store.set_info(_binding(store, "PRS-01", "Temperature"), BindingInfo(unit="°F"))
    assert units_of(store, "CNC-01") == {"Temperature": "K"} and units_of(store, "nowhere") == {}
    assert unit_of(store, "Temperature") == "K"  # the most common unit the server gives
    assert unit_of(store, "PartCount") == "" and unit_of(store, "Vibration7") == "mm/s"  # the vocabulary's unit
    assert unit_of(store, "Anything") == ""


def test_alarms_are_raised_renamed_and_cleared_from_the_signals_of_changed_machines_only():
    store = _store()
    alarms = AlarmLog()
    changes = []
    alarms.changed.connect(lambda: changes.append(1))
    a1, x1 = _binding(store, "CNC-01", "Alarm"), _binding(store, "CNC-01", "AlarmText")
    store.ingest([Update(a1, True, received_ts=10.0), Update(x1, "Spindle overload", received_ts=10.0)])
    store.ingest([Update(_binding(store, "CNC-02", "Temperature"), 40.0, received_ts=10.0)])  # no Alarm value
    alarms.follow(store, store.flush(), 10.0)
    assert [(a.machine, a.text, a.raised) for a in alarms.active()] == [("CNC-01", "Spindle overload", 10.0)]
    assert alarms.shown(store).tolist() == [True, False, False]  # unacknowledged: shown (blinking)
    alarms.acknowledge_all()
    assert alarms.shown(store).tolist() == [False, False, False] and alarms.active_machines() == {"CNC-01"}
    store.ingest([Update(x1, "Coolant low", received_ts=12.0)])
    alarms.follow(store, store.flush(), 12.0)
    assert alarms.active()[0].text == "Coolant low"
    alarms.follow(store, [], 13.0)  # nothing changed: nothing happens
    store.ingest([Update(a1, False, received_ts=14.0)])
    alarms.follow(store, store.flush(), 14.0)
    assert alarms.active() == [] and alarms.all()[0].cleared == 14.0
    assert len(changes) == 4  # raised, acknowledged, renamed, cleared


def test_a_replayed_alarm_shows_whatever_was_acknowledged_live():
    store = _store()
    store.ingest([Update(_binding(store, "PRS-01", "Alarm"), True, received_ts=5.0)])
    assert recorded_alarms(store).tolist() == [False, False, True]
    assert recorded_alarms(StateStore(MACHINES, ["State"])).tolist() == [False, False, False]  # no Alarm signal
