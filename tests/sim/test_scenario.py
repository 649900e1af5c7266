"""Scenarios: changes applied to a factory, bad values refused naming the field, files, the command line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app.model.geometry import route_length_m
from app.model.io import load_factory
from app.paths import DEMO_FACTORY
from app.sim.model import compile_model
from app.sim.results import load_run
from app.sim.scenario import (
    AddMachine,
    Demand,
    MachineParam,
    MoveMachine,
    RemoveMachine,
    Scenario,
    ScenarioError,
    TransportSpeed,
    apply,
    changes_from_layouts,
    describe,
    load_scenario,
    save_scenario,
)
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def demo():
    return load_factory(DEMO_FACTORY)


def test_changes_are_applied(demo):
    new = demo.machine("CNC-01").model_copy(update={"id": "CNC-09", "name": "Machining centre 9"})
    s = Scenario(
        name="mix",
        factory=demo,
        changes=[
            MachineParam(machine="CNC-01", param="cycle_mean_s", value=200.0),
            MachineParam(machine="CNC-02", param="servers", value=2),
            MachineParam(machine="WH-IN", param="mtbf_s", value=7200.0),  # had no failures: MTTR gets a default
            MoveMachine(machine="QA-01", x_m=70.0, y_m=30.0, yaw_deg=90.0),
            Demand(part="housing", interarrival_mean_s=300.0),
            TransportSpeed(transport="T-001", speed_m_s=3.0),
            AddMachine(machine=new),
            RemoveMachine(machine="CNC-08"),
        ],
    )
    f = apply(s)
    assert f.machine("CNC-01").sim.cycle.mean_s == 200.0 and f.machine("CNC-02").sim.servers == 2
    assert f.machine("WH-IN").sim.mtbf_s == 7200.0 and f.machine("WH-IN").sim.mttr_s == 3600.0
    assert f.machine("QA-01").pose.yaw_deg == 90.0
    assert next(fl for fl in f.flows if fl.part == "housing").interarrival.mean_s == 300.0
    assert "CNC-09" in {m.id for m in f.machines} and "CNC-08" not in {m.id for m in f.machines}
    assert all("CNC-08" not in fl.routing for fl in f.flows)
    assert all("CNC-08" not in (t.from_machine, t.to_machine) for t in f.transports)
    assert demo.machine("CNC-01").sim.cycle.mean_s == 240.0  # the base is untouched
    compile_model(f)  # and it simulates
    assert [describe(c) for c in s.changes][:2] == ["CNC-01: cycle time (s) = 200", "CNC-02: parallel servers = 2"]


def test_a_move_changes_transport_distances(demo):
    centre = lambda f: {m.id: (m.pose.x_m, m.pose.y_m) for m in f.machines}  # noqa: E731
    t = next(t for t in demo.transports if t.to_machine == "QA-01")
    before = route_length_m(t, centre(demo))
    moved = apply(Scenario(name="m", factory=demo, changes=[MoveMachine(machine="QA-01", x_m=74.0, y_m=20.0)]))
    after = route_length_m(next(x for x in moved.transports if x.id == t.id), centre(moved))
    assert after != pytest.approx(before)
    a, b = compile_model(demo), compile_model(moved)
    key = (a.index[t.from_machine], a.index["QA-01"])
    assert b.transport_s[key] == pytest.approx(after / t.speed_m_s)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (MachineParam(machine="CNC-01", param="cycle_mean_s", value=-3), "changes[0].value", "must be > 0"),
        (MachineParam(machine="CNC-01", param="input_buffer", value=2.5), "changes[0].value", "whole number"),
        (MachineParam(machine="CNC-01", param="servers", value=0), "changes[0].value", "≥ 1"),
        (MachineParam(machine="GONE", param="setup_s", value=1), "changes[0].machine", "no machine"),
        (MoveMachine(machine="CNC-01", x_m=500.0, y_m=1.0), "changes[0].x_m", "off the"),
        (Demand(part="housing", interarrival_mean_s=0.0), "changes[0].interarrival_mean_s", "> 0"),
        (Demand(part="nothing", interarrival_mean_s=10.0), "changes[0].part", "no part flow"),
        (TransportSpeed(transport="T-001", speed_m_s=-1.0), "changes[0].speed_m_s", "> 0"),
    ],
)
def test_bad_values_are_refused_naming_the_field(demo, change, field, words):
    with pytest.raises(ScenarioError) as e:
        apply(Scenario(name="bad", factory=demo, changes=[change]))
    assert e.value.problems[0].path == field and words in e.value.problems[0].message


def test_removing_a_machine_twice_or_changing_it_afterwards_is_refused(demo):
    with pytest.raises(ScenarioError, match=r"changes\[1\].machine"):
        apply(
            Scenario(
                name="bad",
                factory=demo,
                changes=[RemoveMachine(machine="CNC-01"), MachineParam(machine="CNC-01", param="setup_s", value=5)],
            )
        )


def test_files_round_trip_and_bad_files_say_why(demo, tmp_path):
    s = Scenario(
        name="faster", factory=demo, changes=[MachineParam(machine="CNC-01", param="cycle_mean_s", value=200)], replications=3
    )
    save_scenario(s, tmp_path / "s.json")
    back = load_scenario(tmp_path / "s.json")
    assert back == s
    (tmp_path / "x.json").write_text('{"format": "floortwin-factory"}')
    with pytest.raises(ScenarioError, match="is this a floortwin scenario file"):
        load_scenario(tmp_path / "x.json")
    (tmp_path / "y.json").write_text('{"format": "floortwin-scenario", "name": "y", "factory": {"name": "f"}}')
    with pytest.raises(ScenarioError, match=r"y.json: factory.floor"):
        load_scenario(tmp_path / "y.json")


def test_layout_edits_become_changes(demo):
    edited = demo.model_copy(deep=True)
    i = next(k for k, m in enumerate(edited.machines) if m.id == "PR-01")
    edited.machines[i] = edited.machines[i].model_copy(update={"pose": edited.machines[i].pose.model_copy(update={"x_m": 18.0})})
    del edited.machines[next(k for k, m in enumerate(edited.machines) if m.id == "CNC-08")]
    changes = changes_from_layouts(demo, edited)
    assert [c.kind for c in changes] == ["move", "remove"]
    assert apply(Scenario(name="l", factory=demo, changes=changes)).machine("PR-01").pose.x_m == 18.0


def test_headless_run_of_a_scenario_file(demo, tmp_path):
    s = Scenario(
        name="faster",
        factory=demo,
        changes=[MachineParam(machine="CNC-01", param="cycle_mean_s", value=200)],
        horizon_s=2 * 86400.0,
        replications=2,
    )
    save_scenario(s, tmp_path / "s.json")
    out = tmp_path / "r.sqlite"
    proc = subprocess.run(
        [sys.executable, "-m", "app.sim", "run", str(tmp_path / "s.json"), "--out", str(out), "--workers", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    # The report says what was run: the scenario's name and each change (the trial's finding).
    assert proc.stdout.startswith('Scenario "faster"') and "CNC-01: cycle time (s) = 200" in proc.stdout.splitlines()[1]
    run, reps = load_run(out)
    assert run["status"] == "done" and len(reps) == 2 and run["horizon_s"] == 2 * 86400.0 and "faster" in run["name"]
    bad = Scenario(name="bad", factory=demo, changes=[MachineParam(machine="CNC-01", param="cycle_mean_s", value=-3)])
    save_scenario(bad, tmp_path / "bad.json")
    proc = subprocess.run(
        [sys.executable, "-m", "app.sim", "run", str(tmp_path / "bad.json")], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert proc.returncode == 2 and "bad.json: changes[0].value: cycle time (s) must be > 0" in proc.stderr


def test_fields_a_time_would_ignore_are_refused_naming_the_field():
    from pydantic import ValidationError

    from app.model.factory import Distribution
    from app.model.problems import problems_from_validation

    for kw, needle in (
        ({"kind": "deterministic", "mean_s": 30.0, "cv": 0.7}, "cv: 0.7 is ignored by a deterministic time"),
        ({"kind": "exponential", "mean_s": 30.0, "cv": 0.5}, "cv: 0.5 is ignored by an exponential time"),
        ({"kind": "exponential", "samples_s": [1.0, 2.0]}, "samples_s: an exponential time draws no samples"),
        ({"kind": "empirical", "mean_s": 30.0, "samples_s": [1.0, 2.0]}, "mean_s 30 is not the mean of samples_s (1.5)"),
    ):
        with pytest.raises(ValidationError) as e:
            Distribution(**kw)
        assert needle in str(problems_from_validation(e.value)[0]), kw
    # an empirical time's mean is its samples' mean, and it survives a save and a load
    d = Distribution(kind="empirical", samples_s=[1.0, 2.0])
    assert d.mean_s == 1.5 and Distribution.model_validate(d.model_dump()).mean_s == 1.5


def test_a_scenario_cv_or_mean_means_what_it_says(demo):
    from app.model.factory import Distribution

    cnc = demo.machine("CNC-01")
    det = cnc.model_copy(update={"sim": cnc.sim.model_copy(update={"cycle": Distribution(kind="deterministic", mean_s=100.0)})})
    samples = Distribution(kind="empirical", samples_s=[50.0, 150.0])
    emp = cnc.model_copy(update={"id": "CNC-99", "sim": cnc.sim.model_copy(update={"cycle": samples})})
    base = demo.model_copy(update={"machines": [det if m.id == "CNC-01" else m for m in demo.machines] + [emp]})
    f = apply(
        Scenario(
            name="vary",
            factory=base,
            changes=[
                MachineParam(machine="CNC-01", param="cycle_cv", value=0.7),
                MachineParam(machine="CNC-99", param="cycle_mean_s", value=50.0),
            ],
        )
    )
    cyc = f.machine("CNC-01").sim.cycle
    assert (cyc.kind, cyc.mean_s, cyc.cv) == ("lognormal", 100.0, 0.7)  # before: a deterministic time with cv 0.7, run at CV 0
    assert f.machine("CNC-99").sim.cycle.samples_s == [25.0, 75.0] and f.machine("CNC-99").sim.cycle.mean_s == 50.0
    with pytest.raises(ScenarioError, match=r"changes\[0\].param: an empirical cycle time"):
        apply(Scenario(name="x", factory=base, changes=[MachineParam(machine="CNC-99", param="cycle_cv", value=0.3)]))


def test_a_scenario_lists_every_problem_and_its_short_horizon_is_named_as_its_own(demo):
    s = Scenario(
        name="two wrongs",
        factory=demo,
        changes=[
            MachineParam(machine="NOPE", param="servers", value=2),
            Demand(part="housing", interarrival_mean_s=-1.0),
        ],
    )
    with pytest.raises(ScenarioError) as e:
        apply(s)
    assert "changes[0].machine" in str(e.value) and "changes[1].interarrival_mean_s" in str(e.value)
    assert "more" not in str(e.value)
    from app.sim.model import SimInputError

    with pytest.raises(SimInputError) as e2:
        compile_model(demo, horizon_s=3600.0)  # the scenario's horizon; the factory's 8 h warm-up
    text = str(e2.value)
    assert text.startswith("horizon_s: the warm-up (8 h) must be ≥ 0 and shorter than the horizon (1 h)")
    assert "give a shorter warm-up" in text and "simulation.warmup_s" not in text
