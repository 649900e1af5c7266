"""The scenario dialog's form without a display: what each kind of change can target, the values it starts
from, the change the filled-in form makes, and which change a refusal names."""

from __future__ import annotations

import pytest

from app.model.io import load_factory
from app.paths import DEMO_FACTORY
from app.sim.change_form import (
    CHANGE_KINDS,
    FIELDS,
    ChangeValues,
    current_values,
    failing_change,
    make_change,
    targets,
)
from app.sim.scenario import Demand, MachineParam, MoveMachine, RemoveMachine, Scenario, ScenarioError, TransportSpeed, apply


@pytest.fixture(scope="module")
def demo():
    return load_factory(DEMO_FACTORY)


def test_every_kind_has_its_fields_and_targets(demo):
    assert {k for k, _label in CHANGE_KINDS} == set(FIELDS)
    machines = targets(demo, "move")
    assert machines[0] == ("WH-IN", "WH-IN — Goods-in store") and len(machines) == len(demo.machines)
    assert targets(demo, "remove") == targets(demo, "machine_param") == machines
    assert targets(demo, "demand")[0] == ("housing", "housing (one every 330 s)")
    assert targets(demo, "transport_speed")[0] == ("T-001", "T-001: WH-IN → CNC-01")
    with pytest.raises(ValueError, match="unknown kind"):
        targets(demo, "teleport")


def test_the_form_starts_at_what_the_factory_has_now(demo):
    assert current_values(demo, "machine_param", "WH-IN", "cycle_mean_s").value == 20.0
    assert current_values(demo, "machine_param", "WH-IN", "cycle_cv").value == 0.1
    assert current_values(demo, "machine_param", "WH-IN", "mtbf_s").value == (demo.machine("WH-IN").sim.mtbf_s or 0.0)
    move = current_values(demo, "move", "WH-IN")
    assert (move.x_m, move.y_m, move.yaw_deg) == (7.25, 41.0, 0.0)
    assert current_values(demo, "demand", "shaft").value == 380.0
    assert current_values(demo, "transport_speed", "T-002").value == 0.3
    assert current_values(demo, "remove", "WH-IN") == ChangeValues()


def test_the_filled_in_form_makes_its_change_and_only_uses_its_fields(demo):
    v = ChangeValues(param="mttr_s", value=120.0, x_m=3.0, y_m=4.0, yaw_deg=90.0)
    assert make_change("machine_param", "CNC-01", v) == MachineParam(machine="CNC-01", param="mttr_s", value=120.0)
    assert make_change("move", "CNC-01", v) == MoveMachine(machine="CNC-01", x_m=3.0, y_m=4.0, yaw_deg=90.0)
    assert make_change("remove", "CNC-01", v) == RemoveMachine(machine="CNC-01")
    assert make_change("demand", "shaft", v) == Demand(part="shaft", interarrival_mean_s=120.0)
    assert make_change("transport_speed", "T-001", v) == TransportSpeed(transport="T-001", speed_m_s=120.0)


def test_a_refusal_names_the_change_to_select(demo):
    good = make_change("demand", "shaft", ChangeValues(value=100.0))
    bad = make_change("transport_speed", "T-001", ChangeValues(value=-1.0))
    with pytest.raises(ScenarioError) as refused:
        apply(Scenario(name="s", factory=demo, changes=[good, good, bad]))
    assert failing_change(refused.value) == 2
    assert failing_change(ScenarioError([])) is None  # a problem with no path names no change
