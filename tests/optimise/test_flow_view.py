"""What the Material flow dock shows, without Qt: rows, shares, the Δ against the saved layout, the empty case,
the ribbons (each stretch once, carrying every leg that uses it) and the service that keeps it all current."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from app.model.factory import Pose
from app.model.io import load_factory
from app.optimise.flow import EffortModel
from app.optimise.flow_service import FlowService
from app.optimise.flow_view import (
    EMPTY_TEXT,
    RIBBON_TABLE,
    delta_text,
    drag_text,
    effort_text,
    empty_text,
    matrix_text,
    ribbons,
    summarise,
)
from app.paths import DEMO_FACTORY
from tests.optimise.test_flow import AISLE, factory, flow


def test_rows_are_the_legs_largest_effort_first_with_shares_adding_up_to_the_whole():
    # the hand-computed factory of test_flow: 60 × 14, 60 × 16 and 30 × 24 part·m/h (2,520 in all)
    s = summarise(EffortModel(factory([AISLE])), saved_total=None)
    assert [(r.from_id, r.to_id) for r in s.rows] == [("M2", "M3"), ("M1", "M2"), ("M1", "M3")]
    assert s.total == pytest.approx(2520.0)
    assert sum(r.share for r in s.rows) == pytest.approx(1.0)
    assert s.rows[0].texts() == ("M2→M3", "960", "38.1", "60", "16")
    assert s.rows[2].tip.startswith("M1 → M3: 30 parts/h over 24 m (along the aisles) = 720 part·m/h, 28.6% of the total")
    assert not s.notes and not s.empty
    assert s.names == ("M1", "M2", "M3")


def test_rectilinear_legs_and_unknown_machines_are_said_under_the_figures():
    f = factory(flows=[flow("a", ["M1", "M2", "X9"], 60.0)])
    s = summarise(EffortModel(f), saved_total=None)
    assert s.rows[0].texts()[4] == "8*"  # |Δx| + |Δy| = 8 m, marked
    assert "X9" in s.notes[0] and "left out" in s.notes[0]
    assert s.notes[1] == "* 1 of 1 flows measured rectilinear (|Δx| + |Δy|): the floor has no aisles or transport paths."


def test_the_change_against_the_saved_layout_in_words():
    assert delta_text(7742.0, 8798.37) == "−12% vs saved (8798 part·m/h)"
    assert delta_text(9100.0, 8798.37) == "+3.4% vs saved (8798 part·m/h)"
    assert delta_text(8798.37, 8798.37) == "same as saved"
    assert delta_text(8798.37, None) == ""
    assert delta_text(840.0, 0.0) == "+840 part·m/h vs saved (which had no transport)"
    assert drag_text(["Press 1"], 8650.0) == "Moving Press 1: 8650 part·m/h"
    assert delta_text(8650.0, 8798.37) == "−1.7% vs saved (8798 part·m/h)"
    assert drag_text(["A", "B"], 8650.0) == "Moving 2 machines: 8650 part·m/h"
    assert effort_text(0.0) == "0 part·m/h"
    assert (matrix_text(0.0), matrix_text(60.0)) == ("", "60")


def test_a_factory_without_flows_has_nothing_to_analyse():
    no_flows = factory().model_copy(update={"flows": []})
    s = summarise(EffortModel(no_flows), saved_total=0.0)
    assert s.empty and s.total == 0
    assert empty_text(no_flows) == EMPTY_TEXT == "No part flows — nothing to analyse"
    strangers = factory(flows=[flow("a", ["X1", "X2"], 60.0)])  # flows, but between no machines of this factory
    assert summarise(EffortModel(strangers), None).empty
    assert empty_text(strangers).startswith(EMPTY_TEXT + ": no part flow's routing")


def _carried(r) -> float:
    """Σ over the stretches of metres × parts/h: the transport effort, counted stretch by stretch."""
    return float((np.hypot(*(r.b - r.a).T) * r.parts_per_h).sum())


def test_ribbons_carry_each_stretch_once_with_every_leg_on_it():
    model = EffortModel(factory([AISLE]))
    r = ribbons(model)
    by_piece = {(tuple(a), tuple(b)): f for a, b, f in zip(r.a.tolist(), r.b.tolist(), r.parts_per_h.tolist(), strict=True)}
    # along the aisle: x 2…10 carries M1→M2 (60) and M1→M3 (30); x 10…18 carries M2→M3 (60) and M1→M3 (30)
    assert by_piece[((2.0, 0.0), (10.0, 0.0))] == pytest.approx(90.0)
    assert by_piece[((10.0, 0.0), (18.0, 0.0))] == pytest.approx(90.0)
    # M2 steps onto the aisle for the parts it receives (60) and sends (60)
    assert by_piece[((10.0, 0.0), (10.0, 3.0))] == pytest.approx(120.0)
    assert len(by_piece) == 5 and r.peak == pytest.approx(120.0)
    assert _carried(r) == pytest.approx(model.total_effort)
    w = r.widths(2.0)
    assert w.max() == pytest.approx(2.0) and np.allclose(w / 2.0, r.parts_per_h / 120.0)
    rgb = r.colours()
    assert tuple(rgb[np.argmax(r.parts_per_h)]) == tuple(RIBBON_TABLE[-1])


@pytest.mark.parametrize("follow", [False, True])
def test_ribbons_of_the_demo_plant_carry_its_whole_transport_effort(follow):
    model = EffortModel(load_factory(DEMO_FACTORY), follow_transports=follow)
    r = ribbons(model)
    assert _carried(r) == pytest.approx(model.total_effort)
    if not follow:  # shortest ways share the aisles: fewer stretches than pieces of routes
        assert len(r.parts_per_h) < sum(len(route) for route in model.routes())


def test_the_service_analyses_the_latest_version_against_the_saved_one_and_previews_a_drag():
    service = FlowService()
    got, threads = [], []
    service.analysed.connect(lambda state: (got.append(state), threads.append(threading.current_thread().name)))
    saved = load_factory(DEMO_FACTORY)
    there = Pose(x_m=12.0, y_m=30.0)
    machines = [m.model_copy(update={"pose": there}) if m.id == "WH-IN" else m for m in saved.machines]
    moved = saved.model_copy(update={"machines": machines})
    try:
        service.update(saved, saved)
        service.update(moved, saved).result()
        state = got[-1]
        assert state.factory is moved and threads[-1].startswith("material-flow")
        assert state.summary.total == pytest.approx(EffortModel(moved).total_effort)
        assert state.summary.saved_total == pytest.approx(EffortModel(saved).total_effort)
        assert delta_text(state.summary.total, state.summary.saved_total).endswith("vs saved (8798 part·m/h)")
        # a drag: WH-IN shown back where it was saved, then two machines at once
        wh_in = next(m for m in saved.machines if m.id == "WH-IN").pose
        assert service.preview({"WH-IN": (wh_in.x_m, wh_in.y_m)}) == pytest.approx(EffortModel(saved).total_effort)
        two = {"WH-IN": (20.0, 20.0), "PR-01": (30.0, 10.0)}
        assert service.preview(two) == pytest.approx(EffortModel(moved).with_moves(two).total_effort)
    finally:
        service.close()


def test_a_version_superseded_before_its_turn_is_not_analysed():
    service = FlowService()
    got = []
    service.analysed.connect(got.append)
    gate = threading.Event()
    f = load_factory(DEMO_FACTORY)
    try:
        service._pool.submit(gate.wait)  # the worker is busy while three versions are handed over
        versions = [f.model_copy(update={"name": f"v{k}"}) for k in range(3)]
        futures = [service.update(v, f) for v in versions]
        gate.set()
        for fut in futures:
            fut.result()
        assert [s.factory.name for s in got] == ["v2"]
    finally:
        service.close()

