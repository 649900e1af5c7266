"""CONWIP: a cap on the parts in the line (``SimulationSettings.wip_cap``). Orders arriving at the cap wait at
their source; each part that leaves lets one in. Exact on a deterministic line, the closed-network formula on a
random one (with Little's law), and a cap that never binds changes nothing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.model.io import load_factory, save_factory
from app.sim.engine import simulate
from app.sim.kpis import summarise
from app.sim.model import compile_model
from app.sim.scenario import Scenario, ScenarioError, WipCap, apply, describe
from tests.sim.helpers import det, exp, line_factory


def with_cap(f, cap):
    return f.model_copy(update={"simulation": f.simulation.model_copy(update={"wip_cap": cap})})


def test_a_cap_of_one_runs_one_part_at_a_time_exactly():
    # 10 + 20 + 30 s of work, an order every 5 s: without a cap the line fills up; with one card, a part
    # enters only when the previous one has left
    f = line_factory(
        [{"cycle": det(10.0)}, {"cycle": det(20.0)}, {"cycle": det(30.0)}], det(5.0), horizon_s=36_000.0, warmup_s=3_600.0
    )
    r = simulate(compile_model(with_cap(f, 1)), 0)
    assert r.total_throughput / r.measured_s * 3600 == pytest.approx(60.0)
    assert r.wip_area / r.measured_s == pytest.approx(1.0)
    assert sum(r.lead_time_sum_s) / r.total_throughput == pytest.approx(60.0)
    uncapped = simulate(compile_model(f), 0)
    assert uncapped.wip_area / uncapped.measured_s > 10  # the buffers fill without the cap


def test_a_random_line_never_holds_more_than_the_cap_and_keeps_littles_law():
    stations = [{"cycle": exp(60.0), "input_buffer": 10} for _ in range(3)]
    f = line_factory(stations, exp(45.0), horizon_s=100_000.0, warmup_s=5_000.0, replications=5)
    capped = compile_model(with_cap(f, 4), sample_s=50.0)
    results = [simulate(capped, k) for k in range(5)]
    assert all(r.series_wip.max() <= 4 for r in results)
    s = summarise(capped, results)
    free = compile_model(f)
    s_free = summarise(free, [simulate(free, k) for k in range(5)])
    assert s.wip.mean <= 4 and s_free.wip.mean > 15
    assert abs(s.little_gap.mean) < 0.02  # WIP = throughput × lead time: the cap keeps the books straight
    # the parts wait outside instead of inside: lead time in the line drops far more than throughput does
    assert s.lead_time_s["total"].mean < 0.4 * s_free.lead_time_s["total"].mean
    # with the buffers never full, the line is a closed network of 3 equal exponential stations and 4 parts:
    # throughput N / (N + M − 1) × 60/h = 40 parts/h (mean value analysis), lead time N / throughput = 360 s
    th = s.throughput_per_h["total"]
    assert abs(th.mean - 40.0) < max(2 * th.half_width, 1.0)
    assert abs(s.lead_time_s["total"].mean - 360.0) < 15.0
    assert s.backlog_end["total"].mean > s_free.backlog_end["total"].mean  # and the orders wait at the source


def test_a_cap_that_never_binds_changes_nothing():
    stations = [{"cycle": exp(30.0), "input_buffer": 2} for _ in range(3)]
    f = line_factory(stations, exp(60.0), horizon_s=20_000.0, warmup_s=1_000.0)
    a = simulate(compile_model(f), 3)
    b = simulate(compile_model(with_cap(f, 1_000)), 3)
    assert (a.total_throughput, a.wip_area, a.lead_time_sum_s) == (b.total_throughput, b.wip_area, b.lead_time_sum_s)
    assert np.array_equal(a.state_s, b.state_s)


def test_the_cap_is_a_factory_setting_and_a_scenario_change(tmp_path):
    f = line_factory([{"cycle": det(10.0)}], det(5.0), horizon_s=3_600.0, warmup_s=0.0)
    path = tmp_path / "f.json"
    save_factory(with_cap(f, 7), path)
    assert load_factory(path).simulation.wip_cap == 7 and compile_model(load_factory(path)).wip_cap == 7
    assert compile_model(f).wip_cap is None
    changed = apply(Scenario(name="cap", factory=f, changes=[WipCap(parts=12)]))
    assert changed.simulation.wip_cap == 12 and f.simulation.wip_cap is None
    assert apply(Scenario(name="none", factory=changed, changes=[WipCap()])).simulation.wip_cap is None
    assert describe(WipCap(parts=12)) == "WIP cap (CONWIP): at most 12 parts in the line"
    with pytest.raises(ScenarioError, match=r"changes\[0\]\.parts: must be ≥ 1"):
        apply(Scenario(name="bad", factory=f, changes=[WipCap(parts=0)]))
    assert math.isclose(compile_model(changed).horizon_s, 3_600.0)
