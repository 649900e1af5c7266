"""The texts and points a view of a layout result shows (Qt-free)."""

from __future__ import annotations

from app.optimise.layout_result import Candidate, KpiVerdict, LayoutResult, MachinePose, Objectives, RuleBreak, Validation
from app.optimise.layout_view import candidate_text, front_points, progress_text, scenario_of, summary_text, verdict_text


def _candidate(i: int, effort: float, pareto: bool = True, feasible: bool = True, validation=None) -> Candidate:
    return Candidate(
        id=i,
        objectives=Objectives(effort=effort, moved=1, moved_m=3.0 + i, area_m2=50.0 + i),
        poses=[MachinePose(machine="A", x_m=1.0 + i, y_m=2.0)],
        feasible=feasible,
        pareto=pareto,
        problems=[] if feasible else [RuleBreak(machine="A", rule="collision", other="B", text="A collides with B")],
        validation=validation,
    )


def _result(*candidates: Candidate, recommended: int | None = None) -> LayoutResult:
    return LayoutResult(
        factory="t", movable=["A"], baseline=Objectives(effort=100.0, area_m2=50.0), candidates=list(candidates),
        recommended=recommended, stopped_by="time", evaluations=1234,
    )


def test_front_points_are_the_feasible_pareto_candidates_by_effort():
    r = _result(_candidate(0, 90.0), _candidate(1, 80.0), _candidate(2, 70.0, feasible=False), _candidate(3, 95.0, pareto=False),
                recommended=1)
    points = front_points(r)
    assert [p.id for p in points] == [1, 0]
    assert [p.recommended for p in points] == [True, False]
    assert points[0].moved_m == 4.0 and points[0].area_m2 == 51.0


def test_candidate_text_gives_the_change_against_now_and_the_verdict():
    kpi = KpiVerdict(kpi="lead_time", unit="s", baseline="100 ± 1 s", candidate="99 ± 1 s", change_pct=-0.8,
                     half_width_pct=0.1, significant=True, text="lead time −0.8% ± 0.1%, significant")
    validated = _candidate(0, 80.0, validation=Validation(replications=5, horizon_s=7200.0, seed=1, kpis=[kpi]))
    text = candidate_text(_result(validated, recommended=0), 0)
    assert "Candidate 0 (recommended)" in text
    assert "(−20.0%)" in text and "now 100 part·m/h" in text
    assert "5 paired replications × 2 h" in text and "lead time −0.8% ± 0.1%, significant" in text
    assert verdict_text(_candidate(1, 90.0)) == "not validated"
    broken = candidate_text(_result(_candidate(2, 70.0, feasible=False)), 2)
    assert "A collides with B" in broken


def test_summary_says_how_the_search_ended():
    text = summary_text(_result(_candidate(0, 80.0)))
    assert text.startswith("1 layout on the Pareto front — ") and text.endswith("evaluated, time limit reached")


def test_a_candidate_becomes_a_scenario_of_move_changes():
    from app.model.io import load_factory
    from app.paths import DEMO_FACTORY
    from app.sim.scenario import apply

    f = load_factory(DEMO_FACTORY)
    qa = f.machine("QA-01")
    c = Candidate(
        id=4, objectives=Objectives(effort=80.0, moved=1, moved_m=2.0, area_m2=50.0), feasible=True,
        poses=[MachinePose(machine="QA-01", x_m=qa.pose.x_m - 2.0, y_m=qa.pose.y_m), MachinePose(machine="GONE", x_m=1, y_m=1)],
    )
    s = scenario_of(_result(c), 4, f, "demo.json")
    assert s.name == "Optimised layout 4" and s.base_path == "demo.json"
    assert [(m.machine, m.x_m) for m in s.changes] == [("QA-01", qa.pose.x_m - 2.0)]
    assert apply(s).machine("QA-01").pose.x_m == qa.pose.x_m - 2.0


def test_progress_says_the_phase_in_words():
    text = progress_text("kicks", 8498.2, 6, 78979)
    assert text.startswith("Trying bigger changes: best ") and text.endswith(" part·m/h, 6 feasible layouts, 78,979 tried")
    assert progress_text("descent", 100.0, 1, 5).startswith("Improving: ")
