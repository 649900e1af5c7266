"""Validation by simulation: candidates simulated against the current layout with common random numbers,
each KPI a paired difference with its interval, said in words."""

from __future__ import annotations

import pytest

from app.model.factory import Distribution, Factory, Floor, Machine, PartFlow, SimulationSettings, TransportPath
from app.optimise.layout import optimise_layout
from app.optimise.layout_problem import LayoutRequest
from app.optimise.validate import kpi_verdict, validate_candidates
from tests.optimise import helpers
from tests.optimise.helpers import HULLS


def machine(mid: str, x: float, y: float) -> Machine:
    return helpers.machine(mid, x, y, sim={"cycle": {"kind": "exponential", "mean_s": 40.0}})


def line(random: bool = True) -> Factory:
    # A feeds B over a slow transport path without waypoints: its travel time is centre-to-centre metres / speed.
    return Factory(
        name="two",
        floor=Floor(width_m=60.0, depth_m=40.0),
        machines=[machine("A", 5.0, 5.0), machine("B", 55.0, 35.0)],
        transports=[TransportPath(id="T", from_machine="A", to_machine="B", speed_m_s=0.2)],
        flows=[
            PartFlow(
                part="p",
                routing=["A", "B"],
                interarrival=Distribution(kind="exponential" if random else "deterministic", mean_s=90.0),
            )
        ],
        assets={"box": {"path": "builtin:meshes/cnc.glb"}},
        simulation=SimulationSettings(horizon_s=2 * 86400.0, warmup_s=3600.0, replications=5, seed=4),
    )


def test_moving_the_far_machine_closer_shortens_the_simulated_lead_time_significantly():
    f = line()
    result = optimise_layout(f, LayoutRequest(movable=("B",), seconds=1.0, seed=1), HULLS)
    seen: list[float] = []
    checked = validate_candidates(f, result, count=2, workers=1, progress=seen.append)
    best = checked.candidate(checked.recommended)
    v = best.validation
    assert v is not None and v.replications == 5 and v.seed == 4
    lead = next(k for k in v.kpis if k.kpi == "lead_time")
    # 58 m less route saves about 290 s of travel per part
    assert lead.significant and lead.change_pct < -20
    assert lead.text.startswith("lead time −") and lead.text.endswith(", significant")
    throughput = next(k for k in v.kpis if k.kpi == "throughput")
    assert abs(throughput.change_pct) < 5  # the same parts arrive: the layout does not change the output rate
    assert seen and seen[-1] == pytest.approx(1.0)
    validated = [c for c in checked.candidates if c.validation is not None]
    assert 1 <= len(validated) <= 2 and all(c.feasible for c in validated)


def test_verdicts_say_when_there_is_not_enough_data_or_nothing_random():
    few = kpi_verdict("lead_time", "lead time", "s", [100.0], [90.0], exact=False)
    assert few.text == "lead time: not enough data — needs ≥ 2 replications (has 1)" and not few.significant
    exact = kpi_verdict("lead_time", "lead time", "s", [100.0], [90.0], exact=True)
    assert exact.text == "lead time −10% (exact: nothing random in the model)" and exact.significant
    same = kpi_verdict("wip", "WIP", "parts", [3.0, 4.0, 5.0], [3.1, 3.9, 5.0], exact=False)
    assert same.text.endswith("not significant") and not same.significant
