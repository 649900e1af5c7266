"""The start of a forecast's replication: what the plant said is kept, the unknowns drawn soundly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.forecast.live_state import EngineObserver, LiveState, MachineNow
from app.forecast.start import equilibrium_residual, residual, start_state, unknowns
from app.model.factory import Distribution
from app.model.io import load_factory
from app.sim.engine import Engine
from app.sim.model import compile_model
from tests.conftest import DEMO

LOGNORMAL = Distribution(kind="lognormal", mean_s=100.0, cv=0.3)


@pytest.mark.parametrize("elapsed", [0.0, 60.0, 100.0, 160.0])
def test_the_work_left_is_the_cycle_time_beyond_what_has_elapsed(elapsed):
    rng = np.random.default_rng(1)
    x = rng.lognormal(math.log(100.0) - math.log1p(0.09) / 2, math.sqrt(math.log1p(0.09)), 400_000)
    expected = (x[x > elapsed] - elapsed).mean()  # E[X − e | X > e] by brute force
    drawn = np.array([residual(LOGNORMAL, elapsed, rng) for _ in range(20_000)])
    assert drawn.min() >= 0
    assert drawn.mean() == pytest.approx(expected, rel=0.03)


def test_the_work_left_at_a_random_moment_is_the_equilibrium_residual():
    # E[residual] = E[X²] / 2E[X] = mean (1 + cv²) / 2 = 54.5 s for mean 100 s, cv 0.3 (not 50: the inspection paradox)
    rng = np.random.default_rng(2)
    drawn = np.array([equilibrium_residual(LOGNORMAL, rng) for _ in range(40_000)])
    assert drawn.mean() == pytest.approx(54.5, rel=0.02)


def test_an_exponential_time_left_does_not_depend_on_the_time_spent():
    rng = np.random.default_rng(3)
    d = Distribution(kind="exponential", mean_s=50.0)
    assert np.mean([residual(d, 500.0, rng) for _ in range(20_000)]) == pytest.approx(50.0, rel=0.03)


@pytest.fixture(scope="module")
def plant():
    factory = load_factory(DEMO)
    model = compile_model(factory, horizon_s=86400.0, warmup_s=0.0, seed=21, sample_s=1e12)
    engine = Engine(model)
    engine.run_until(3 * 3600.0)
    engine.force_down(model.index["CNC-01"], 900.0)
    watch = EngineObserver(engine)
    watch.advance(600.0)
    return model, watch


def test_the_start_holds_the_parts_each_station_reported_of_types_that_pass_it(plant):
    model, watch = plant
    live = watch.state()
    start = start_state(live, model, np.random.default_rng(0))
    assert start.problems(model) == []
    for i, s in enumerate(model.stations):
        assert start.stations[i].parts == live.machines[s.id].level
        for k in [k for k, _ in start.stations[i].in_service] + list(start.stations[i].waiting):
            assert i in model.routes[k]


def test_a_machine_reported_down_starts_down(plant):
    model, watch = plant
    live = watch.state()
    assert live.machines["CNC-01"].state == 4
    starts = [start_state(live, model, np.random.default_rng(k)) for k in range(200)]
    repairs = [s.stations[model.index["CNC-01"]].down_for_s for s in starts]
    assert all(r is not None and r >= 0 for r in repairs)
    assert np.mean(repairs) == pytest.approx(model.stations[model.index["CNC-01"]].mttr_s, rel=0.2)  # memoryless


def test_what_the_plant_did_not_say_is_named():
    model = compile_model(load_factory(DEMO), horizon_s=3600.0, warmup_s=0.0)
    live = LiveState({"CNC-01": MachineNow(state=0, level=3)}, -1)
    said = unknowns(live, model)
    assert any(s.startswith("no level from WH-IN, CNC-02, CNC-03, CNC-04 and 35 more: taken as empty") for s in said)
    assert "the parts out so far are not known" in said
    start = start_state(live, model, np.random.default_rng(0))
    assert start.parts == 3 and start.stations[model.index["CNC-01"]].parts == 3
