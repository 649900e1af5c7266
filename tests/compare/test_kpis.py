"""KPIs: one definition for history and simulation, checked on hand-made histories and a real run."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from app.compare.calibrate import Drift, calibrate, calibration_changes, drift, needed, trust, usable
from app.compare.diff import compare, prediction_interval, welch
from app.compare.kpis import Observation, line_kpis, machine_kpis, observe_history, observe_model_results, sinks
from app.model.factory import Factory, Floor, Footprint, Machine, PartFlow, Pose
from app.model.io import load_factory
from app.paths import DEMO_FACTORY
from app.sim.engine import simulate
from app.sim.kpis import Estimate
from app.sim.model import compile_model
from app.sim.scenario import MachineParam, Scenario, apply
from tests.recorded import record


def _factory() -> Factory:
    ms = [
        Machine(id=i, name=i, kind="cnc", asset="a", pose=Pose(x_m=5 + 5 * k, y_m=5), footprint=Footprint(width_m=2, depth_m=2))
        for k, i in enumerate(("A", "B"))
    ]
    return Factory(name="t", floor=Floor(width_m=20, depth_m=10), machines=ms, flows=[PartFlow(part="p", routing=["A", "B"])])


@pytest.fixture
def history(tmp_path):
    # t in seconds from 1000. A: running 0–60, down 60–80, starved 80–100 (so 60% utilisation),
    # 6 parts done, 10 kW all along, Level 2 then 4. B (the sink): running throughout, 5 parts out.
    t0 = 1000.0
    rows = [
        ("A", "State", t0 - 5, "running"),
        ("A", "State", t0 + 60, "down"),
        ("A", "State", t0 + 80, "idle"),
        ("A", "PartCount", t0 - 5, 10),
        ("A", "PartCount", t0 + 30, 13),
        ("A", "PartCount", t0 + 90, 16),
        ("A", "Power", t0 - 5, 10.0),
        ("A", "Level", t0 - 5, 2),
        ("A", "Level", t0 + 50, 4),
        ("B", "State", t0 - 1, "running"),
        ("B", "PartCount", t0 - 1, 0),
        ("B", "PartCount", t0 + 100, 5),  # at the window's end: counts
        ("B", "Power", t0 - 1, 2.0),
        ("B", "Level", t0 - 1, 1),
    ]
    return record(tmp_path / "h.sqlite", rows)


def test_history_window_gives_the_hand_computed_kpis(history):
    f = _factory()
    o = observe_history(history, f, 1000.0, 1100.0)
    assert o.seconds == 100.0
    # running, setup, starved(idle), blocked, down, off shift, maintenance
    assert o.state_s[0].tolist() == [60.0, 0.0, 20.0, 0.0, 20.0, 0.0, 0.0]
    assert o.ops.tolist() == [6.0, 5.0]
    assert o.energy_kwh == pytest.approx([10 * 100 / 3600, 2 * 100 / 3600])
    assert o.wip == pytest.approx(3.0 + 1.0)  # A: 2 for 50 s, 4 for 50 s; B: 1
    assert o.exits == 5.0 and sinks(f) == [1]
    k = line_kpis(o)
    assert k["throughput_per_h"] == pytest.approx(180.0)
    assert k["lead_time_min"] == pytest.approx(4.0 / (5 / 100) / 60)  # Little: WIP / throughput
    assert k["energy_kwh_per_h"] == pytest.approx(12.0)
    m = machine_kpis(o)
    assert m["utilisation"][0] == pytest.approx(60.0) and m["state_down"][0] == pytest.approx(20.0)
    assert m["output_per_h"].tolist() == pytest.approx([216.0, 180.0])
    # a faster plant simulator's history in plant time
    fast = observe_history(history, f, 1000.0, 1100.0, time_scale=10.0)
    assert fast.seconds == 1000.0 and line_kpis(fast)["throughput_per_h"] == pytest.approx(18.0)
    with pytest.raises(ValueError, match="end after it starts"):
        observe_history(history, f, 1100.0, 1000.0)


def test_a_machine_without_data_is_unknown_not_zero(history):
    f = _factory().model_copy(deep=True)
    f.machines.append(
        Machine(id="C", name="C", kind="cnc", asset="a", pose=Pose(x_m=15, y_m=5), footprint=Footprint(width_m=2, depth_m=2))
    )
    o = observe_history(history, f, 1000.0, 1100.0)
    m = machine_kpis(o)
    assert math.isnan(m["utilisation"][2]) and math.isnan(o.ops[2])


def test_simulation_and_history_use_one_definition():
    f = load_factory(DEMO_FACTORY)
    model = compile_model(f, horizon_s=3 * 86400, replications=2)
    results = [simulate(model, k) for k in range(2)]
    obs = observe_model_results(results, model, f)
    for o, r in zip(obs, results, strict=True):
        assert o.exits == r.total_throughput  # parts leaving the last stations = the engine's own count
        assert line_kpis(o)["throughput_per_h"] == pytest.approx(r.total_throughput / r.measured_s * 3600)
        util = machine_kpis(o)["utilisation"]
        assert util == pytest.approx(r.state_s[:, 0] / r.state_s.sum(axis=1) * 100)


def test_welch_and_prediction_intervals():
    d = welch([10, 11, 9, 10], [20, 21, 19, 20])
    assert d.mean == pytest.approx(10.0) and 0 < d.half_width < 3
    same = welch([10, 11, 9, 10], [10, 9, 11, 10])
    assert same.low < 0 < same.high
    lo, hi = prediction_interval([10, 11, 9, 10])
    assert lo < 9 and hi > 11  # wider than the data: one more window, not the mean
    assert prediction_interval([5.0]) == (-math.inf, math.inf)


def test_comparison_of_a_faster_bottleneck_against_baseline_and_actuals():
    f = load_factory(DEMO_FACTORY)
    base_model = compile_model(f, horizon_s=4 * 86400, replications=4)
    base = observe_model_results([simulate(base_model, k) for k in range(4)], base_model, f)
    neck = compare(base).bottleneck["baseline"]
    faster = apply(Scenario(name="faster", factory=f, changes=[MachineParam(machine=neck, param="cycle_mean_s", value=1.0)]))
    scen_model = compile_model(faster, horizon_s=4 * 86400, replications=4)
    scen = observe_model_results([simulate(scen_model, k) for k in range(4)], scen_model, faster)
    c = compare(base, scen, actual=base[0])
    util = c.row("utilisation", neck)
    assert util.delta.mean < 0 and util.significant  # a 1 s cycle: the old bottleneck idles
    assert c.bottleneck["scenario"] != neck
    thr = c.row("throughput_per_h")
    assert thr.fits_actual  # one of the baseline's own windows fits its prediction
    assert c.machine_delta("utilisation")[c.machines.index(neck)] == pytest.approx(util.delta.mean)
    part_rows = [r for r in c.rows if r.key.startswith("throughput_per_h:")]
    assert {r.key.split(":")[1] for r in part_rows} == set(base_model.parts)


def test_calibration_on_a_hand_made_history(history):
    f = _factory()
    cal = calibrate(history, f, 1000.0, 1100.0)
    a = cal.machine("A")
    assert a.method == "running time ÷ operations" and a.cycle_s.mean == pytest.approx(60 / 6)
    assert a.failures == 1 and a.mttr_s.mean == pytest.approx(20.0) and a.mtbf_s.mean == pytest.approx(80.0)
    # 6 parts in 100 s, one failure: too little for the calibrated baseline, which says what it needs.
    assert not usable(a.cycle_s) and needed(a.cycle_s, "cycles").startswith("≥ ") and not usable(a.mtbf_s)
    assert calibration_changes(cal, f) == []
    enough = replace(a, cycle_s=Estimate(10.0, 1.0, 40))  # ±10% on 40 cycles
    better = replace(cal, machines=[enough, *cal.machines[1:]], arrivals_per_h={"p": Estimate(36.0, 3.0, 10)})
    changes = calibration_changes(better, f)
    assert MachineParam(machine="A", param="cycle_mean_s", value=10.0) in changes
    assert any(c.kind == "demand" for c in changes)


def test_trust_and_drift():
    base = [
        Observation(
            ["A"], 100.0, np.array([[60.0 + k, 0, 40.0 - k, 0, 0]]), np.array([6.0 + k % 2]), np.array([1.0]), 3.0, 5.0 + k % 2
        )
        for k in range(6)
    ]
    good = Observation(["A"], 100.0, np.array([[62.0, 0, 38.0, 0, 0]]), np.array([6.0]), np.array([1.0]), 3.0, 5.5)
    t = trust(base, good)
    assert t.line == pytest.approx(1.0, abs=0.1) and t.line_fits and t.machines_fit["A"]
    bad = Observation(["A"], 100.0, np.array([[5.0, 0, 95.0, 0, 0]]), np.array([0.5]), np.array([1.0]), 3.0, 0.5)
    assert not trust(base, bad).line_fits
    flagged = drift(base, bad)
    assert {d.kpi for d in flagged} == {"utilisation", "output_per_h"} and "A: utilisation " in str(flagged[0])
    assert drift(base, good) == []


def test_what_if_wip_and_lead_time_are_the_engines_exact_averages():
    from tests.sim.helpers import det, line_factory

    # deterministic 60 s arrivals into a deterministic 30 s machine: one part half of the time, 30 s lead time.
    # 5-minute samples always catch the machine empty (WIP 0, so lead time 0 by Little's law).
    f = line_factory([{"cycle": det(30.0)}], det(60.0), horizon_s=36000, warmup_s=3600, replications=3)
    model = compile_model(f)
    results = [simulate(model, k) for k in range(model.replications)]
    assert all(r.series_queue.max() == 0 for r in results)  # what the samples see
    c = compare(observe_model_results(results, model, f))
    assert c.row("wip").baseline.mean == pytest.approx(0.5)
    assert c.row("lead_time_min").baseline.mean == pytest.approx(0.5)
    assert c.row("order_lead_time_min").baseline.mean == pytest.approx(0.5)


def test_comparison_shows_demand_not_served_and_lead_time_from_the_order():
    from tests.sim.helpers import exp, line_factory

    f = line_factory([{"cycle": exp(60.0), "input_buffer": 5}], exp(50.0), horizon_s=2 * 86400, warmup_s=3600, replications=3)
    model = compile_model(f)
    base = observe_model_results([simulate(model, k) for k in range(3)], model, f)
    c = compare(base)
    assert 66 < c.row("demand_per_h").baseline.mean < 78  # 72 orders an hour arrive…
    assert c.row("throughput_per_h").baseline.mean < 62  # …60 can be made…
    assert c.row("not_served_per_h").baseline.mean > 5  # …and the rest wait: said, not lost
    assert c.row("order_lead_time_min").baseline.mean > 10 * c.row("lead_time_min").baseline.mean
    # history has no orders: those rows have no actual, and a window without them still compares
    assert math.isnan(line_kpis(Observation(["S0"], 100.0, np.zeros((1, 5)), np.zeros(1), np.zeros(1), 1.0, 2.0))["demand_per_h"])


def test_run_notes_warn_of_overload_and_of_a_model_without_randomness():
    from app.compare.diff import run_notes
    from tests.sim.helpers import det, exp, line_factory

    over = line_factory([{"cycle": exp(60.0)}], exp(50.0), horizon_s=86400, warmup_s=0)
    fixed = line_factory([{"cycle": det(30.0)}], det(60.0), horizon_s=86400, warmup_s=0)
    notes = run_notes({"baseline": fixed, "scenario": over})
    assert notes[0].startswith("Baseline: the model has no randomness")
    assert notes[1].startswith("Scenario: demand asks 120% of S0's capacity") and len(notes) == 2


def test_models_without_randomness_compare_exactly():
    from tests.sim.helpers import det, line_factory

    obs = []
    for cycle in (30.0, 20.0):
        f = line_factory([{"cycle": det(cycle)}], det(60.0), horizon_s=36000, warmup_s=3600, replications=10)
        model = compile_model(f)
        assert model.replications == 1 and model.requested_replications == 10
        obs.append(observe_model_results([simulate(model, 0)], model, f))
    c = compare(obs[0], obs[1])
    wip = c.row("wip")
    assert str(wip.baseline) == "0.5" and str(wip.scenario) == "0.3333" and wip.delta.half_width == 0
    assert wip.significant is True  # an exact difference, not "n/a (1 replication)"
    assert c.row("throughput_per_h").significant is False  # the same 60/h


def _observation(machines: list[str], utilisation: np.ndarray, output: np.ndarray) -> Observation:
    states = np.column_stack([utilisation, np.zeros_like(utilisation), 100.0 - utilisation, *[np.zeros_like(utilisation)] * 2])
    return Observation(machines, 3600.0, states, output, np.ones(len(machines)), 3.0, 5.0)


def test_a_plant_that_behaves_as_its_model_is_rarely_flagged_however_many_kpis_are_tested():
    """Trial 9: 80 KPIs each tested at 95% flag about 4 on a plant that matches its model (BUF-04 every time).
    Tested together (Bonferroni), a matching plant is flagged in at most about 5% of checks."""
    rng = np.random.default_rng(3)
    machines = [f"M{k}" for k in range(40)]
    mu_u, mu_o = rng.uniform(30, 80, 40), rng.uniform(20, 60, 40)

    def draw() -> Observation:
        return _observation(machines, mu_u + rng.normal(0, 3, 40), mu_o + rng.normal(0, 2, 40))

    flagged = sum(bool(drift([draw() for _ in range(20)], draw())) for _ in range(200))
    assert flagged <= 20  # ≤ 5% expected; 10% leaves room for chance over 200 checks
    # …and a real drift of one machine is still found
    moved = draw()
    moved.ops[7] = mu_o[7] * 1.6
    assert [(d.machine, d.kpi) for d in drift([draw() for _ in range(20)], moved)] == [("M7", "output_per_h")]


def test_a_kpi_too_variable_to_test_is_not_called_drift_and_figures_are_rounded_to_the_interval():
    # a rack busy 0.2–1.3% of the time: its prediction is ±76% of its mean — it cannot show drift
    rack = [_observation(["BUF-04"], np.array([u]), np.array([40.0])) for u in (0.2, 1.3, 0.5, 0.9, 1.1, 0.3)]
    assert drift(rack, _observation(["BUF-04"], np.array([1.66]), np.array([40.0]))) == []
    d = Drift("CNC-03", "utilisation", 99.96, 34.712, 96.83)
    assert str(d) == "CNC-03: utilisation 100% outside the predicted 35 … 97%"
    assert "output 61 parts/h outside" in str(Drift("M7", "output_per_h", 61.2, 30.0, 50.0))  # words, never the key
