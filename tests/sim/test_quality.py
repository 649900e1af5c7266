"""Scrap and rework: textbook checks (Bernoulli thinning, the traffic equations of a rework loop), scrap in
the results and the report, and bad quality settings refused with the field named."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from app.model.factory import Rework
from app.model.io import loads_factory, save_factory
from app.model.problems import FactoryFileError
from app.sim.model import SimInputError, compile_model, visits
from app.sim.runner import run_replications
from tests.conftest import ROOT
from tests.sim.helpers import INFINITE, exp, line, line_factory, stored_and_loaded
from tests.sim.test_textbook import run


def test_mm1_with_bernoulli_scrap_puts_out_lambda_times_one_minus_p():
    # λ = 0.1/s, scrap p = 0.2 after service: good output λ(1 − p) = 288/h, scrap λp = 72/h (Bernoulli
    # thinning of the departure process); the queue is the plain M/M/1 (W = 40 s for every part).
    m = line(
        [{"cycle": exp(8.0), "input_buffer": INFINITE, "scrap": 0.2}], exp(10.0), horizon_s=3e5, warmup_s=2e4, replications=12
    )
    s = run(m)  # Little's law, scrapped parts included
    assert s.throughput_per_h["total"].contains(288.0), s.throughput_per_h["total"]
    assert s.scrap_per_h["total"].contains(72.0), s.scrap_per_h["total"]
    assert s.lead_time_s["total"].contains(40.0), s.lead_time_s["total"]


def test_rework_on_the_same_machine_meets_the_traffic_equation():
    # Rework p = 0.2 on the machine itself: it serves λ/(1 − p) = 0.125 visits/s, so its utilisation is
    # 0.125 × 6 s = 0.75, and all 360 orders/h leave good.
    m = line(
        [{"cycle": exp(6.0), "input_buffer": INFINITE, "rework": Rework(p=0.2, to="S0")}],
        exp(10.0),
        horizon_s=3e5,
        warmup_s=2e4,
        replications=12,
    )
    assert visits(m, m.routes[0]) == pytest.approx([1.25])
    s = run(m)
    assert s.utilisation["S0"].contains(0.75), s.utilisation["S0"]
    assert s.throughput_per_h["total"].contains(360.0), s.throughput_per_h["total"]


def test_rework_back_to_an_earlier_machine_meets_the_traffic_equations():
    # S0 → S1; S1 sends a quarter back to S0 and scraps 5%. Traffic equations: v0 = 1 + 0.25 v1, v1 = v0,
    # so v = 1/(1 − 0.25) = 4/3 visits per order at both stations; utilisations 0.1 × 4/3 × 5 s and
    # 0.1 × 4/3 × 4 s; good output λ v1 (1 − 0.25 − 0.05), scrap λ v1 × 0.05.
    m = line(
        [
            {"cycle": exp(5.0), "input_buffer": INFINITE},
            {"cycle": exp(4.0), "input_buffer": INFINITE, "scrap": 0.05, "rework": Rework(p=0.25, to="S0")},
        ],
        exp(10.0),
        horizon_s=3e5,
        warmup_s=2e4,
        replications=12,
    )
    assert visits(m, m.routes[0]) == pytest.approx([4 / 3, 4 / 3])
    s = run(m)
    assert s.utilisation["S0"].contains(0.1 * 4 / 3 * 5), s.utilisation["S0"]
    assert s.utilisation["S1"].contains(0.1 * 4 / 3 * 4), s.utilisation["S1"]
    assert s.throughput_per_h["total"].contains(360 * 4 / 3 * 0.7), s.throughput_per_h["total"]
    assert s.scrap_per_h["total"].contains(360 * 4 / 3 * 0.05), s.scrap_per_h["total"]


def test_scrap_is_stored_and_printed(tmp_path):
    f = line_factory(
        [{"cycle": exp(8.0), "input_buffer": INFINITE, "scrap": 0.1}], exp(10.0), horizon_s=2e4, warmup_s=0, replications=2
    )
    m = compile_model(f)
    results = run_replications(m, workers=1)
    back = stored_and_loaded(m, results, tmp_path / "r.sqlite", "scrap")
    assert [r.scrap for r in back] == [r.scrap for r in results] and results[0].scrap[0] > 0
    assert [r.scrap_time_sum_s[0] for r in back] == pytest.approx([r.scrap_time_sum_s[0] for r in results])
    path = tmp_path / "line.json"
    save_factory(f, path)
    p = subprocess.run(
        [sys.executable, "-m", "app.sim", "run", str(path), "--horizon", "6h", "--warmup", "0", "--workers", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert "scrap /h" in p.stdout and "Scrap: parts that left the line as scrap" in p.stdout


@pytest.mark.parametrize(
    ("sim", "message"),
    [
        ({"scrap": 1.0}, "machines[0].sim.scrap: must be < 1, got 1.0"),
        ({"rework": {"p": 0.2, "to": "GHOST"}}, 'machines[0].sim.rework.to: unknown machine "GHOST"'),
        ({"rework": {"p": 1.5, "to": "CNC-01"}}, "machines[0].sim.rework.p: must be < 1, got 1.5"),
        (
            {"scrap": 0.5, "rework": {"p": 0.5, "to": "CNC-01"}},
            "machines[0].sim: scrap 0.5 and rework.p 0.5 add up to 1: no part would ever go on",
        ),
    ],
)
def test_bad_quality_settings_are_refused_with_the_field_named(demo_text, sim, message):
    doc = json.loads(demo_text)
    doc["machines"][0].setdefault("sim", {}).update(sim)
    with pytest.raises(FactoryFileError) as info:
        loads_factory(json.dumps(doc), "demo.json")
    assert message in str(info.value)


def test_rework_to_a_machine_the_routing_has_not_visited_is_refused():
    f = line_factory([{"cycle": exp(5.0)}, {"cycle": exp(4.0)}], exp(10.0), horizon_s=1e4, warmup_s=0)
    bad = f.model_copy(
        update={
            "machines": [
                f.machines[0].model_copy(update={"sim": f.machines[0].sim.model_copy(update={"rework": Rework(p=0.1, to="S1")})}),
                f.machines[1],
            ]
        }
    )
    with pytest.raises(SimInputError) as info:
        compile_model(bad)
    assert str(info.value).startswith('machines[0].sim.rework.to: "S1" is not on flows[0].routing before S0')
