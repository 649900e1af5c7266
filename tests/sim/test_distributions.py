"""Uniform, triangular, gamma, Erlang and Weibull times: M/G/1 queues meet Pollaczek–Khinchine, every kind
names its own parameters and refuses the others', and a what-if's new mean scales them."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from pydantic import ValidationError

from app.model.factory import Distribution
from app.model.io import loads_factory
from app.model.problems import FactoryFileError
from app.sim.scenario import MachineParam, Scenario, apply
from app.sim.streams import draw
from tests.sim.helpers import INFINITE, exp, line
from tests.sim.test_textbook import run

WEIBULL_SCALE = 8.0 / math.gamma(1.5)  # shape 2, mean 8 s
# (distribution with mean 8 s, its second moment E[S²] by hand)
SERVICE = {
    "gamma cv 0.5": (Distribution(kind="gamma", mean_s=8.0, cv=0.5), (0.5 * 8) ** 2 + 64),
    "Erlang 4": (Distribution(kind="erlang", mean_s=8.0, phases=4), 64 / 4 + 64),
    "uniform 4–12": (Distribution(kind="uniform", min_s=4.0, max_s=12.0), (16 + 48 + 144) / 3),
    "triangular 2, 6, 16": (
        Distribution(kind="triangular", min_s=2.0, mode_s=6.0, max_s=16.0),
        (4 + 36 + 256 - 12 - 32 - 96) / 18 + 64,
    ),
    "Weibull shape 2": (Distribution(kind="weibull", shape=2.0, scale_s=WEIBULL_SCALE), WEIBULL_SCALE**2 * math.gamma(2.0)),
}


@pytest.mark.parametrize("name", list(SERVICE))
def test_mg1_meets_pollaczek_khinchine(name):
    # M/G/1 with λ = 0.1/s and E[S] = 8 s (ρ = 0.8): W = E[S] + λ E[S²] / (2 (1 − ρ)) (Pollaczek–Khinchine;
    # Gross & Harris, Fundamentals of Queueing Theory, §5.1.1, eq. 5.11). Little's law is checked by run().
    service, second_moment = SERVICE[name]
    assert service.mean_s == pytest.approx(8.0)
    expected = 8.0 + 0.1 * second_moment / (2 * (1 - 0.8))
    m = line([{"cycle": service, "input_buffer": INFINITE}], exp(10.0), horizon_s=3e5, warmup_s=2e4, replications=12, seed=3)
    s = run(m)
    assert s.lead_time_s["total"].contains(expected), (s.lead_time_s["total"], expected)


@pytest.mark.parametrize("name", list(SERVICE))
def test_draws_have_the_stated_mean_and_second_moment(name):
    service, second_moment = SERVICE[name]
    x = draw(service, np.random.default_rng(1), 400_000)
    assert x.mean() == pytest.approx(8.0, rel=5e-3)
    assert (x * x).mean() == pytest.approx(second_moment, rel=2e-2)
    assert x.min() >= 0


def test_a_changed_mean_scales_a_uniform_time_and_the_draws_follow():
    d = Distribution(kind="uniform", min_s=4.0, max_s=12.0).model_copy(update={"mean_s": 16.0})
    x = draw(d, np.random.default_rng(2), 100_000)
    assert x.mean() == pytest.approx(16.0, rel=1e-2) and x.min() >= 8.0 and x.max() <= 24.0


def test_a_what_if_cycle_time_scales_the_bounds(demo_text):
    doc = json.loads(demo_text)
    doc["machines"][0]["sim"]["cycle"] = {"kind": "triangular", "min_s": 60, "mode_s": 90, "max_s": 150}
    f = loads_factory(json.dumps(doc), "demo.json")
    mid = f.machines[0].id
    new = apply(Scenario(name="faster", factory=f, changes=[MachineParam(machine=mid, param="cycle_mean_s", value=50.0)]))
    c = new.machine(mid).sim.cycle
    assert (c.kind, c.min_s, c.mode_s, c.max_s, c.mean_s) == ("triangular", 30.0, 45.0, 75.0, 50.0)
    cv = apply(Scenario(name="cv", factory=f, changes=[MachineParam(machine=mid, param="cycle_cv", value=0.2)]))
    c = cv.machine(mid).sim.cycle
    assert (c.kind, c.mean_s, c.cv, c.min_s) == ("lognormal", 100.0, 0.2, None)


@pytest.mark.parametrize(
    ("cycle", "message"),
    [
        ({"kind": "uniform", "min_s": 10}, "machines[0].sim.cycle: a uniform time needs max_s (it takes min_s, max_s)"),
        ({"kind": "uniform", "min_s": 10, "max_s": 5}, "machines[0].sim.cycle: min_s 10 must be less than max_s 5"),
        (
            {"kind": "triangular", "min_s": 1, "mode_s": 5, "max_s": 3},
            "machines[0].sim.cycle: mode_s 5 must lie between min_s 1 and max_s 3",
        ),
        ({"kind": "gamma", "mean_s": 10}, "machines[0].sim.cycle: a gamma time needs cv > 0 (it takes mean_s, cv)"),
        ({"kind": "erlang", "mean_s": 10}, "machines[0].sim.cycle: an erlang time needs phases (it takes mean_s, phases)"),
        ({"kind": "weibull", "shape": 2}, "machines[0].sim.cycle: a weibull time needs scale_s (it takes shape, scale_s)"),
        (
            {"kind": "deterministic", "mean_s": 10, "min_s": 3},
            'machines[0].sim.cycle.min_s: 3 is ignored by a deterministic time (it takes mean_s): use kind "uniform" or '
            '"triangular" for it, or leave min_s out',
        ),
        (
            {"kind": "uniform", "min_s": 1, "max_s": 3, "mean_s": 5},
            "machines[0].sim.cycle: mean_s 5 is not the mean of this uniform time (2): it follows from min_s and max_s",
        ),
        ({"kind": "erlang", "mean_s": 10, "phases": 2, "cv": 0.5}, "machines[0].sim.cycle.cv: 0.5 is ignored by an erlang time"),
        ({"kind": "erlang", "mean_s": 10, "phases": 1.5}, "machines[0].sim.cycle.phases: expected a whole number"),
    ],
)
def test_bad_parameters_are_refused_with_the_field_named(demo_text, cycle, message):
    doc = json.loads(demo_text)
    doc["machines"][0]["sim"]["cycle"] = cycle
    with pytest.raises(FactoryFileError) as info:
        loads_factory(json.dumps(doc), "demo.json")
    assert message in str(info.value)


def test_the_old_kinds_keep_their_messages():
    with pytest.raises(ValidationError, match="is ignored by a deterministic time \\(its coefficient of variation is 0\\)"):
        Distribution(kind="deterministic", cv=0.7)
