"""What Optimise ▸ Parameters… shows, worked out without Qt: targets and default bounds of a variable, the
candidates' rows, the Pareto points, the claim in words, the progress line and the undo step's name."""

from __future__ import annotations

import pytest

from app.model.io import load_factory
from app.optimise.params import ParamsProgress
from app.optimise.params_problem import KINDS, ParamsRequest, check_request
from app.optimise.params_result import (
    DominatedRecord,
    FinalistRecord,
    KpiEstimate,
    ParamsCandidate,
    ParamsResult,
    SelectionRecord,
    VariableSpec,
)
from app.optimise.params_view import (
    budget_of,
    candidate_rows,
    claim_text,
    default_variable,
    front_points,
    headers,
    machines_touched,
    now_text,
    progress_text,
    summary_text,
    targets,
    undo_text,
)
from app.paths import DEMO_FACTORY


@pytest.fixture(scope="module")
def demo():
    return load_factory(DEMO_FACTORY)


def _k(mean: float, text: str) -> KpiEstimate:
    return KpiEstimate(mean=mean, half_width=0.1, n=3, text=text)


def _cand(i: int, servers: float, tp: float, lt: float, **kw) -> ParamsCandidate:
    kpis = {"throughput": _k(tp, f"{tp} ± 0.1 parts/h"), "lead_time": _k(lt, f"{lt} ± 5 s")}
    return ParamsCandidate(id=i, values={"M2:servers": servers, "line:wip_cap": None}, kpis=kpis, **kw)


def _result(recommended: int | None = 2, proven: bool = True, objectives=("throughput",), stopped_by="converged"):
    sel = SelectionRecord(
        objective="throughput", unit="parts/h", maximise=True, delta=0.5, alpha=0.05, n0=5, first_replication=3,
        finalists=[FinalistRecord(id=i, name=f"candidate {i}", replications=10, mean=30.0 + i) for i in (1, 2)],
        best=recommended, proven=proven, survivors=[1, 2] if not proven else [2],
        text="candidate 2 has the best throughput of the 2 finalists with ≥ 95% confidence, or within δ = 0.5 parts/h",
        dominated=[DominatedRecord(id=1, by=2, text="candidate 1 is worse than candidate 2 in throughput and lead time")],
    )
    return ParamsResult(
        factory="line",
        variables=[VariableSpec(kind="servers", target="M2", low=1, high=3, step=1),
                   VariableSpec(kind="wip_cap", target="line", low=1, high=9, step=1)],
        objectives=list(objectives), replications=3, horizon_s=7200.0, warmup_s=0.0, seed=1, where="2 local worker processes",
        candidates=[
            _cand(0, 1.0, 20.0, 900.0, current=True, pareto=True),
            _cand(1, 2.0, 31.0, 700.0, finalist=True, pareto=True),
            _cand(2, 3.0, 32.0, 800.0, finalist=True, pareto=True),
            _cand(3, 3.0, 25.0, 950.0),
            ParamsCandidate(id=4, values={"M2:servers": 3.0, "line:wip_cap": 9.0}, feasible=False),
        ],
        selection=None if stopped_by == "cancelled" else sel,
        recommended=None if stopped_by == "cancelled" else recommended,
        stopped_by=stopped_by, evaluations=5, simulations=40, seconds=12.345,
    )


def test_every_kind_has_targets_and_defaults_the_service_accepts(demo):
    for kind in KINDS:
        names = targets(demo, kind)
        assert names, kind
        v = default_variable(demo, kind, names[0])
        assert v.low <= v.high
        check_request(demo, ParamsRequest(variables=(v,)))  # the defaults are a valid request as they are
        assert now_text(demo, kind, names[0])
    buffer = default_variable(demo, "input_buffer", "CNC-01")
    assert (buffer.low, buffer.high) == (5, 20)  # half to twice today's 10 places
    assert default_variable(demo, "servers", "CNC-02").high == 3
    assert now_text(demo, "wip_cap", "line") == "no WIP cap now"
    assert now_text(demo, "servers", "nope") == ""
    assert now_text(demo, "servers", "CNC-02") == "now 1 server"


def test_rows_put_the_recommended_first_and_say_each_role():
    r = _result()
    rows = candidate_rows(r)
    assert [x.id for x in rows] == [2, 1, 0, 3, 4]  # recommended, finalist, front, rest, outside the budget
    assert rows[0].recommended and rows[0].role == "recommended, finalist"
    assert rows[0].values == ["3", "no cap"]
    assert rows[0].kpis[:2] == ["32.0 ± 0.1 parts/h", "800.0 ± 5 s"] and rows[0].kpis[2] == "—"
    assert rows[2].name == "today's settings" and "today's settings" in rows[2].role
    assert rows[-1].role == "outside the budget (not simulated)"
    assert headers(r)[:3] == ["Candidate", "M2 servers", "line WIP cap (CONWIP) (parts)"]  # no "servers (servers)"
    assert len(headers(r)) == len(rows[0].values) + len(rows[0].kpis) + 2


def test_front_points_need_two_objectives():
    assert front_points(_result()) == []
    pts = front_points(_result(objectives=("throughput", "lead_time")))
    assert {p.id for p in pts} == {0, 1, 2, 3}  # the one outside the budget was not simulated
    p2 = next(p for p in pts if p.id == 2)
    assert (p2.x, p2.y, p2.recommended, p2.pareto, p2.x_hw) == (32.0, 800.0, True, True, 0.1)
    assert next(p for p in pts if p.id == 0).current


def test_the_claim_says_the_verdict_and_what_to_apply():
    text = claim_text(_result())
    assert text.startswith("Candidate 2 has the best throughput") and "≥ 95% confidence" in text
    assert "Recommended: candidate 2 — M2 servers = 3, line WIP cap (CONWIP) = no cap." in text
    assert "Candidate 1 is worse than candidate 2" in text
    # what the claim rests on: the selection's own means, best first (the table has the search's figures)
    assert text.splitlines()[1] == (
        "Selection means (fresh replications): candidate 2 32.00 parts/h (10 runs), candidate 1 31.00 parts/h (10 runs)."
    )
    assert "keep today's settings" in claim_text(_result(recommended=0))
    assert "Nothing recommended" in claim_text(_result(recommended=None, proven=False))
    cancelled = claim_text(_result(stopped_by="cancelled"))
    assert "cancelled after 5 candidates" in cancelled and "nothing selected" in cancelled


def test_summary_progress_undo_and_budget():
    r = _result()
    s = summary_text(r)
    assert "5 candidates, 40 simulations of 2 h on 2 local worker processes, 12 s" in s and "3 replications" in s
    assert progress_text(ParamsProgress("search", 0.3, 4, 12, "best throughput 31 parts/h")) == (
        "Searching: 4 candidates, 12 replications — best throughput 31 parts/h"
    )
    assert progress_text(ParamsProgress("selection", 0.9, 9, 70, "")).startswith("Selecting the best: 9 candidates")
    assert undo_text(r, 1) == "Optimised parameters (candidate 1: M2 servers = 2, line WIP cap (CONWIP) = no cap)"
    assert machines_touched(r) == ["M2"]
    b = budget_of(12, 5000.0, None)
    assert b.buffer_places == 12 and b.price("CNC-01") == 5000.0 and b.max_cost is None
    assert budget_of(None, None, None).empty
