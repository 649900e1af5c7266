"""Assembly stations (issue 18): a bill of materials joins n parts of each type into one unit. In a saturated
line the assembly makes as many units as its scarcest part allows; a bill naming an unknown part type is refused."""

from __future__ import annotations

import json

import pytest

from app.compare.kpis import sinks
from app.model.factory import Assembly, BomLine, PartFlow
from app.model.io import loads_factory
from app.model.problems import FactoryFileError
from app.sim.engine import simulate
from app.sim.kpis import estimate, summarise
from app.sim.model import SimInputError, compile_model, offered_load
from tests.sim.helpers import SATURATED, exp, line_factory, stored_and_loaded


def _frames_and_wheels(frame_s: float, wheel_s: float, wheels: int, **kw):
    """S0 makes frames, S1 wheels (both fed without end), S2 puts ``wheels`` wheels on a frame, S3 packs."""
    stations = [{"cycle": exp(frame_s)}, {"cycle": exp(wheel_s)}, {"cycle": exp(2.0)}, {"cycle": exp(1.0)}]
    f = line_factory(stations, SATURATED, **kw)
    machines = list(f.machines)
    bom = Assembly(bom=[BomLine(part="frame"), BomLine(part="wheel", n=wheels)])
    machines[2] = machines[2].model_copy(update={"sim": machines[2].sim.model_copy(update={"assembly": bom})})
    flows = [
        PartFlow(part="frame", routing=["S0", "S2", "S3"], interarrival=SATURATED),
        PartFlow(part="wheel", routing=["S1", "S2"], interarrival=SATURATED),
    ]
    return f.model_copy(update={"machines": machines, "flows": flows})


@pytest.mark.parametrize(
    ("frame_s", "wheel_s", "expected_per_h"),
    [(10.0, 3.0, 300.0), (15.0, 2.0, 240.0)],  # wheels scarce: 1200/h ÷ 4; frames scarce: 240/h (wheels 1800/h ÷ 4)
)
def test_a_saturated_assembly_makes_as_many_units_as_its_scarcest_feeder_allows(frame_s, wheel_s, expected_per_h):
    m = compile_model(_frames_and_wheels(frame_s, wheel_s, 4, horizon_s=6e4, warmup_s=5e3, replications=8))
    results = [simulate(m, k) for k in range(m.replications)]
    made = estimate([r.completed_ops[2] / r.measured_s * 3600 for r in results])
    assert made.contains(expected_per_h), made
    line = estimate([r.total_throughput / r.measured_s * 3600 for r in results])
    assert line.contains(expected_per_h), line
    for r in results:
        assert r.throughput[1] == 0 and r.used[0] == 0  # wheels are used up, not made; a frame goes on as the unit
        assert abs(r.used[1] - 4 * r.completed_ops[2]) <= 4 * 4  # four wheels per unit (kits under way at the ends)
    assert abs(summarise(m, results).little_gap.mean) < 0.01  # used-up parts leave with their time inside
    assert sinks(_frames_and_wheels(frame_s, wheel_s, 4, horizon_s=1e4, warmup_s=0)) == [3]  # wheels end at S2, used up


def test_offered_load_of_an_assembly_counts_kits():
    f = _frames_and_wheels(10.0, 3.0, 4, horizon_s=1e4, warmup_s=0, replications=1)
    flows = [fl.model_copy(update={"interarrival": exp(s)}) for fl, s in zip(f.flows, (20.0, 4.0), strict=True)]
    m = compile_model(f.model_copy(update={"flows": flows}))
    # kits: frames 1/20 s, wheels 1/4 s ÷ 4 = 1/16 s → 1/20 s; 2 s each: 10%
    assert offered_load(m)["S2"] == pytest.approx(0.1)


def test_used_up_parts_are_stored(tmp_path):
    m = compile_model(_frames_and_wheels(10.0, 3.0, 2, horizon_s=5e3, warmup_s=0, replications=1))
    r = simulate(m)
    loaded = stored_and_loaded(m, [r], tmp_path / "r.sqlite")[0]
    assert loaded.used == r.used and loaded.used[1] > 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["machines"][2]["sim"]["assembly"]["bom"].append({"part": "bolt", "n": 8}),
            'machines[2].sim.assembly.bom[2].part: unknown part type "bolt" (the flows define: frame, wheel)',
        ),
        (
            lambda d: d["flows"][1]["routing"].append("S3"),
            "flows[1].routing: wheel parts are used up at the assembly station S2: their routing ends there",
        ),
        (
            lambda d: d["flows"].append({"part": "crate", "routing": ["S2", "S3"]}),
            "flows[2].routing[0]: S2 assembles frame, wheel: part type crate is not in its bill of materials",
        ),
        (
            lambda d: d["machines"][2]["sim"].update(scrap=0.1),
            "machines[2].sim: an assembly station has no scrap or rework",
        ),
    ],
)
def test_bad_assemblies_are_refused_with_the_field_named(change, message):
    f = _frames_and_wheels(10.0, 3.0, 4, horizon_s=1e4, warmup_s=0)
    doc = json.loads(f.model_dump_json(exclude_defaults=True))
    doc.update(format="floortwin-factory", version=1)
    change(doc)
    with pytest.raises(FactoryFileError) as info:
        loads_factory(json.dumps(doc), "f.json")
    assert message in str(info.value)


def test_compile_refuses_an_unknown_bom_part_in_a_factory_made_in_code():
    f = _frames_and_wheels(10.0, 3.0, 4, horizon_s=1e4, warmup_s=0)
    machines = list(f.machines)
    bom = Assembly(bom=[BomLine(part="frame"), BomLine(part="gear")])
    machines[2] = machines[2].model_copy(update={"sim": machines[2].sim.model_copy(update={"assembly": bom})})
    with pytest.raises(SimInputError) as info:
        compile_model(f.model_copy(update={"machines": machines}))
    assert 'machines[2].sim.assembly.bom[1].part: unknown part type "gear"' in str(info.value)
