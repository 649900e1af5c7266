"""Drift injection in the plant simulator: the --drift option, its messages, and the change in the running engine."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from asyncua import Client

from app.model.io import load_factory
from app.plant import server as plantsim
from app.plant.drift import check_drifts, parse_drift
from app.sim.engine import Engine
from app.sim.model import compile_model
from tests.conftest import DEMO
from tests.live.conftest import Faults, run, running_plant


@pytest.mark.parametrize(
    "spec, message",
    [
        ("CNC-03:speed=+20%@10m", 'unknown parameter "speed": expected cycle, mtbf, mttr or arrival'),
        ("CNC-03:cycle=20@10m", '"20" is not a relative change: expected a signed percentage such as +20% or -15%'),
        ("CNC-03:cycle=+20%@soon", '"soon" is not a simulated time'),
        ("CNC-03:cycle=-100%@10m", "a decrease must be less than 100%"),
        ("CNC-03:cycle=+20%@40m..10m", "the ramp must end after it starts (40m..10m)"),
        ("CNC-03 cycle +20%", "expected TARGET:PARAM=±P%@AT"),
    ],
)
def test_a_bad_drift_says_which_part_is_wrong(spec, message):
    with pytest.raises(ValueError) as e:
        parse_drift(spec)
    assert message in str(e.value) and str(e.value).startswith(spec)


def test_drift_times_units_and_ramps():
    assert parse_drift("CNC-03:cycle=+20%@10m").start_s == 600.0
    assert parse_drift("CNC-03:mttr=-15%@90").factor == pytest.approx(0.85)
    ramp = parse_drift("CNC-03:cycle=+20%@1.5h..2d")
    assert (ramp.start_s, ramp.end_s) == (5400.0, 172_800.0)
    steps = ramp.steps()
    assert steps[0][0] == 5400.0 and steps[-1] == (172_800.0, pytest.approx(1.2))
    factors = [f for _, f in steps]
    assert factors == sorted(factors) and len(steps) == 100  # a linear ramp in 100 steps


def test_drifts_the_factory_cannot_take_name_the_machine_or_part():
    factory = load_factory(DEMO)
    problems = check_drifts(
        [parse_drift("CNC-99:cycle=+20%@10m"), parse_drift("gears:arrival=+20%@10m"), parse_drift("QA-01:mtbf=-50%@1h")],
        factory,
    )
    assert problems[0] == 'CNC-99:cycle=+20%@10m: unknown machine "CNC-99"'
    assert 'unknown part flow "gears"' in problems[1] and "housing" in problems[1]
    assert "QA-01 has no failures" in problems[2]
    assert check_drifts([parse_drift("housing:arrival=+25%@1h")], factory) == []


def test_the_command_line_refuses_a_bad_drift_with_its_message(capsys):
    with pytest.raises(SystemExit) as e:
        plantsim.main(["--factory", str(DEMO), "--drift", "CNC-03:cycle=+20@10m"])
    assert e.value.code == 2
    assert '"+20" is not a relative change' in capsys.readouterr().err
    assert plantsim.main(["--factory", str(DEMO), "--drift", "CNC-99:cycle=+20%@10m"]) == 2
    assert 'python -m app.plant.server: error: --drift CNC-99:cycle=+20%@10m: unknown machine "CNC-99"' in capsys.readouterr().err


def _cycles(engine: Engine, station: int, until_s: float, step_s: float = 10.0) -> list[float]:
    """The distinct cycle times the station started up to ``until_s`` (as the plant publishes them)."""
    out: list[float] = []
    t = engine.time()
    while t < until_s:
        t += step_s
        engine.run_until(t)
        c = engine.snapshot()["last_cycle_s"][station]
        if not out or c != out[-1]:
            out.append(c)
    return out


def test_the_engine_changes_a_cycle_time_mid_run_reproducibly_and_with_the_same_random_numbers():
    model = compile_model(load_factory(DEMO), horizon_s=1e9, warmup_s=0.0, replications=1, seed=4)
    i = model.index["CNC-03"]
    plain, drifted, again = Engine(model), Engine(model), Engine(model)
    for eng in (drifted, again):
        eng.run_until(3600.0)
        eng.rescale("cycle", i, 1.2)
    a = np.array(_cycles(plain, i, 40 * 3600.0))
    b = np.array(_cycles(drifted, i, 40 * 3600.0))
    assert np.array_equal(b, np.array(_cycles(again, i, 40 * 3600.0)))  # seeded: the same drifted run
    mean = 270.0
    after = b[20:]  # well after the change
    assert after.mean() / mean == pytest.approx(1.2, abs=0.03)
    assert a[20:].mean() / mean == pytest.approx(1.0, abs=0.03)
    with pytest.raises(ValueError, match="unknown parameter"):
        plain.rescale("speed", i, 1.1)
    with pytest.raises(ValueError, match="QA-01 has no failures"):
        plain.rescale("mtbf", model.index["QA-01"], 1.1)


def test_a_slower_arrival_stream_lowers_the_output():
    model = compile_model(load_factory(DEMO), horizon_s=1e9, warmup_s=0.0, replications=1, seed=4)
    plain, slow = Engine(model), Engine(model)
    for k in range(len(model.routes)):
        slow.rescale("arrival", k, 2.0)
    plain.run_until(10 * 86400.0)
    slow.run_until(10 * 86400.0)
    ratio = sum(slow.snapshot()["out"]) / sum(plain.snapshot()["out"])
    assert ratio == pytest.approx(0.5, abs=0.06)


def test_the_served_cycle_time_of_a_drifted_machine_follows_the_drift(port):
    """A real server: CNC-03's published CycleTime is ~+50% once the drift began (simulated time)."""
    drift = parse_drift("CNC-03:cycle=+50%@10m")

    async def watch() -> tuple[list[float], list[float], dict]:
        got: dict[str, list[tuple[float, float]]] = {"CycleTime": []}
        plant_kw = {"speed": 1200.0, "interval_s": 0.05, "faults": Faults(drifts=[drift])}
        async with running_plant(port, **plant_kw) as plant, Client(plant.endpoint, timeout=5) as client:
            node = client.get_node("ns=2;s=Machines/CNC-03/CycleTime")

            class Handler:
                def datachange_notification(self, node, val, data):
                    got["CycleTime"].append((plant.serving_time(), float(val)))

            sub = await client.create_subscription(20, Handler())
            await sub.subscribe_data_change([node])
            while plant.serving_time() < 4 * 3600.0:
                await asyncio.sleep(0.2)
            factors = dict(plant.drift_factors)
        before = [v for t, v in got["CycleTime"] if t < drift.start_s]
        after = [v for t, v in got["CycleTime"] if t > drift.start_s + 600]
        return before, after, factors

    before, after, factors = run(watch(), timeout=90)
    assert factors == {("CNC-03", "cycle"): 1.5}
    assert len(after) >= 15
    assert np.mean(after) / 270.0 == pytest.approx(1.5, abs=0.1)
    assert all(v < 1.4 * 270.0 for v in before)
