"""Routing branches (issue 18): a step after which a part's next step is drawn. Textbook checks (a Bernoulli
split of a Poisson stream, the traffic equations of a loop) and bad branches refused with the field named."""

from __future__ import annotations

import json

import pytest

from app.compare.kpis import sinks
from app.model.factory import BranchOption, PartFlow, RouteBranch
from app.model.io import loads_factory
from app.model.problems import FactoryFileError
from app.model.routing import step_visits
from app.sim.engine import simulate
from app.sim.kpis import estimate
from app.sim.model import SimInputError, compile_model, offered_load, visits
from tests.sim.helpers import INFINITE, exp, line_factory

LAM = 0.1  # parts/s


def _branched(stations: list[dict], branches: list[RouteBranch], **kw):
    f = line_factory(stations, exp(1 / LAM), **kw)
    flow = f.flows[0].model_copy(update={"branches": branches})
    return f.model_copy(update={"flows": [flow]})


def _split(p: float) -> list[RouteBranch]:
    return [
        RouteBranch(at=0, to=[BranchOption(p=p, to=1), BranchOption(p=round(1 - p, 12), to=2)]),
        RouteBranch(at=1, to=[BranchOption(p=1.0, to="exit")]),
    ]


def test_a_bernoulli_split_of_a_poisson_stream_gives_each_branch_lambda_p():
    # S0 passes a Poisson stream (λ = 0.1/s) on to S1 with p = 0.3, to S2 with 0.7: each branch is a Poisson
    # stream of λp (thinning), so S1 finishes 108 parts/h and S2 252, and each, an M/M/1 there, runs λp·E[S].
    stations = [{"cycle": exp(2.0), "input_buffer": INFINITE}, {"cycle": exp(20.0), "input_buffer": INFINITE}]
    stations.append({"cycle": exp(5.0), "input_buffer": INFINITE})
    f = _branched(stations, _split(0.3), horizon_s=2e5, warmup_s=1e4, replications=10)
    m = compile_model(f)
    results = [simulate(m, k) for k in range(m.replications)]
    for i, p, mean_s in ((1, 0.3, 20.0), (2, 0.7, 5.0)):
        out = estimate([r.completed_ops[i] / r.measured_s * 3600 for r in results])
        assert out.contains(LAM * p * 3600), (i, out)
        busy = estimate([r.state_s[i, 0] / r.measured_s for r in results])
        assert abs(busy.mean - LAM * p * mean_s) < 3 * busy.half_width / 1.96, (i, busy)
    line_out = estimate([r.total_throughput / r.measured_s * 3600 for r in results])  # every part leaves once
    assert line_out.contains(LAM * 3600), line_out
    assert offered_load(m) == pytest.approx({"S0": 0.2, "S1": 0.6, "S2": 0.35})
    assert sinks(f) == [1, 2]  # both branches leave the line


def test_a_loop_meets_the_traffic_equations():
    # After S1 a quarter of the parts go back to S0: each station is visited v = 1 / (1 − 0.25) = 4/3 times, so
    # S0 (an M/M/1 fed λv) runs λ·v·E[S] = 0.1 · 4/3 · 6 = 0.8 of the time; the line still puts out λ.
    branches = [RouteBranch(at=1, to=[BranchOption(p=0.25, to=0), BranchOption(p=0.75, to="exit")])]
    stations = [{"cycle": exp(6.0), "input_buffer": INFINITE}, {"cycle": exp(3.0), "input_buffer": INFINITE}]
    m = compile_model(_branched(stations, branches, horizon_s=3e5, warmup_s=2e4, replications=10))
    assert visits(m, m.routes[0], m.branches[0]) == pytest.approx([4 / 3, 4 / 3])
    results = [simulate(m, k) for k in range(m.replications)]
    busy = estimate([r.state_s[0, 0] / r.measured_s for r in results])
    assert busy.contains(0.8), busy
    ops = estimate([r.completed_ops[0] / r.measured_s for r in results])
    assert abs(ops.mean - LAM * 4 / 3) < 3 * ops.half_width / 1.96, ops
    out = estimate([r.total_throughput / r.measured_s for r in results])
    assert abs(out.mean - LAM) < 3 * out.half_width / 1.96, out


def test_a_blocked_part_keeps_the_branch_it_drew():
    """A part whose drawn station is full waits for it (blocking), it does not draw again until one has room:
    with S1 saturated behind a buffer of 1, the split stays p."""
    stations = [{"cycle": exp(2.0), "input_buffer": INFINITE}, {"cycle": exp(12.0), "input_buffer": 1}, {"cycle": exp(1.0)}]
    m = compile_model(_branched(stations, _split(0.5), horizon_s=1e5, warmup_s=5e3, replications=6))
    results = [simulate(m, k) for k in range(m.replications)]
    share = estimate([r.completed_ops[1] / (r.completed_ops[1] + r.completed_ops[2]) for r in results])
    assert share.contains(0.5), share
    assert min(r.state_s[0, 3] for r in results) > 0  # S0 was blocked by S1


def test_a_model_without_branches_draws_the_same_random_numbers():
    stations = [{"cycle": exp(2.0)}, {"cycle": exp(3.0)}]
    plain = compile_model(line_factory(stations, exp(10.0), horizon_s=2e4, warmup_s=0, replications=1))
    assert plain.branches == [{}]
    jump = [RouteBranch(at=0, to=[BranchOption(p=1.0, to=1)])]  # one way on: the line itself, nothing drawn
    same = compile_model(_branched(stations, jump, horizon_s=2e4, warmup_s=0, replications=1))
    assert simulate(plain).throughput == simulate(same).throughput


def test_step_visits_of_a_flow():
    back = RouteBranch(at=2, to=[BranchOption(p=0.5, to=1), BranchOption(p=0.5, to="exit")])
    flow = PartFlow(part="p", routing=["A", "B", "C"], branches=[back])
    assert step_visits(flow) == pytest.approx([1.0, 2.0, 2.0])


@pytest.mark.parametrize(
    ("branches", "message"),
    [
        (
            [{"at": 0, "to": [{"p": 0.5, "to": 1}, {"p": 0.4, "to": "exit"}]}],
            "flows[0].branches[0].to: the probabilities must add up to 1, they add up to 0.9 (0.5 + 0.4)",
        ),
        (
            [{"at": 1, "to": [{"p": 0.5, "to": 0}, {"p": 0.5, "to": 1}]}],
            "flows[0].branches[0]: a loop without exit: parts that reach steps 0 (A), 1 (B) never leave the line",
        ),
        ([{"at": 2, "to": [{"p": 1.0, "to": "exit"}]}], "flows[0].branches[0].at: no step 2: the routing has 2 steps (0–1)"),
        (
            [{"at": 0, "to": [{"p": 0.5, "to": 7}, {"p": 0.5, "to": "exit"}]}],
            'flows[0].branches[0].to[0].to: no step 7: the routing has 2 steps (0–1) (or "exit" to leave the line)',
        ),
        (
            [{"at": 0, "to": [{"p": 1.0, "to": 1}]}, {"at": 0, "to": [{"p": 1.0, "to": "exit"}]}],
            "flows[0].branches[1].at: step 0 already branches (in flows[0].branches[0])",
        ),
    ],
)
def test_bad_branches_are_refused_with_the_field_named(branches, message):
    stations = [{"cycle": exp(2.0)}, {"cycle": exp(3.0)}]
    f = line_factory(stations, exp(10.0), horizon_s=2e4, warmup_s=0)
    doc = json.loads(f.model_dump_json())
    doc["machines"][0]["id"], doc["machines"][1]["id"] = "A", "B"
    doc["flows"][0]["routing"] = ["A", "B"]
    doc["flows"][0]["branches"] = branches
    doc.update(format="floortwin-factory", version=doc.get("version", 1))
    with pytest.raises(FactoryFileError) as info:
        loads_factory(json.dumps(doc), "f.json")
    assert message in str(info.value)
    if "add up" not in message:  # the model's own check: a factory made in code is refused the same way
        flow = PartFlow.model_validate(doc["flows"][0])
        machines = [m.model_copy(update={"id": i}) for m, i in zip(f.machines, "AB", strict=True)]
        g = f.model_copy(update={"machines": machines, "flows": [flow]})
        with pytest.raises(SimInputError) as sim_info:
            compile_model(g)
        assert message in str(sim_info.value)


def test_a_machine_deleted_from_a_branched_routing_leaves_its_branches_renumbered():
    from app.model.checks import check_factory
    from app.model.edits import without

    stations = [{"cycle": exp(2.0)}, {"cycle": exp(3.0)}, {"cycle": exp(3.0)}, {"cycle": exp(1.0)}]
    branches = [
        RouteBranch(at=0, to=[BranchOption(p=0.5, to=1), BranchOption(p=0.5, to=2)]),
        RouteBranch(at=1, to=[BranchOption(p=1.0, to=3)]),
        RouteBranch(at=3, to=[BranchOption(p=0.2, to=1), BranchOption(p=0.8, to="exit")]),
    ]
    f = _branched(stations, branches, horizon_s=1e4, warmup_s=0)
    g = without(f, ["S1"])
    flow = g.flows[0]
    assert flow.routing == ["S0", "S2", "S3"]
    # the way to S1 now leads to S2 (what came after it); S1's own jump went with it; the loop back to S1 goes to S2
    assert [(b.at, [(o.p, o.to) for o in b.to]) for b in flow.branches] == [
        (0, [(0.5, 1), (0.5, 1)]),
        (2, [(0.2, 1), (0.8, "exit")]),
    ]
    assert check_factory(g) == [] and compile_model(g).branches[0][2] == [(0.2, 1), (0.8, -1)]
