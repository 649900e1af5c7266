"""The shifting-bottleneck analysis of recorded history: over a window's connected stretches, from the exact
state changes in a real SQLite history, never across an outage."""

from __future__ import annotations

import pytest

from app.compare.window import bottlenecks_over_stretches, recent_window
from app.history.recorder import History, Recorder, Sample
from app.model.factory import Factory, Floor, Footprint, Machine, PartFlow, Pose


def _factory() -> Factory:
    ms = [
        Machine(id=i, name=i, kind="cnc", asset="a", pose=Pose(x_m=5 + 5 * k, y_m=5), footprint=Footprint(width_m=2, depth_m=2))
        for k, i in enumerate(("A", "B"))
    ]
    return Factory(name="t", floor=Floor(width_m=20, depth_m=10), machines=ms, flows=[PartFlow(part="p", routing=["A", "B"])])


@pytest.fixture
def outage(tmp_path) -> History:
    """Two 10-minute stretches with a 10-minute outage between. First stretch: A runs throughout, B runs and
    starves by turns every 100 s. Second: B runs throughout; A starves, runs 2300–2500, starves again."""
    rows = [("A", 1000.0, "running")]
    rows += [("B", 1000.0 + 100 * k, "running" if k % 2 == 0 else "starved") for k in range(6)]
    rows += [("A", 2200.0, "starved"), ("A", 2300.0, "running"), ("A", 2400.0, "running"), ("A", 2500.0, "starved")]
    rows += [("B", 2200.0, "running")]
    rec = Recorder(tmp_path / "h.sqlite")
    rec.record([Sample(m, "State", f"ns=2;s={m}/State", t, t, None, text, 0) for m, t, text in rows])
    for t, state in ((1000.0, "connected"), (1600.0, "disconnected"), (2200.0, "connected")):
        rec.record_link(state, t)
    rec.record([Sample("B", "State", "ns=2;s=B/State", 2800.0, 2800.0, None, "running", 0)])  # the span's end
    assert rec.flush()
    rec.close()
    return History(tmp_path / "h.sqlite")


def test_each_connected_stretch_is_analysed_on_its_own_and_the_shares_summed(outage):
    w = recent_window(outage, 30)
    assert w is not None and w.stretches == ((1000.0, 1600.0), (2200.0, 2800.0))
    s = bottlenecks_over_stretches(outage, _factory(), w.stretches)
    assert s.source == "history" and s.analysed_s == 1200.0 and s.resolution_text() == "exact state changes"
    # A's run of the first stretch does not carry over the outage: B is the sole bottleneck of the second
    assert s.sole["A"].mean == pytest.approx(0.5) and s.sole["B"].mean == pytest.approx(0.5)
    assert s.shifting["A"].mean == 0 and s.shifting["B"].mean == 0
    second = s.timelines[1]
    assert [(x.start_s, x.end_s, x.machine) for x in second.spans] == [(0.0, 600.0, "B")]
    assert second.observations == 1.0  # A: starved → running → starved (the repeated "running" is no change); B: none
    assert s.needs == "not enough data — needs ≥ 24 state changes per machine (has 4)"


def test_a_plant_run_faster_than_the_clock_is_analysed_in_plant_time(outage):
    s = bottlenecks_over_stretches(outage, _factory(), ((1000.0, 1600.0),), time_scale=3.0)
    assert s.analysed_s == 1800.0 and s.sole["A"].mean == pytest.approx(1.0)


def test_the_actual_shares_in_the_table_are_whole_per_cent(outage):
    """Trial 7: the Bottlenecks tab read "actual sole 73.34%" beside "69 ± 24%": a measured share of time is
    rounded as the comparison's Actual column rounds one (docs/what-if.md), to whole per cent."""
    from dataclasses import replace

    from app.sim.bottleneck import share_rows

    s = bottlenecks_over_stretches(outage, _factory(), ((1000.0, 1600.0), (2200.0, 2230.0)))
    assert s.sole["A"].mean == pytest.approx(600 / 630) and s.sole["B"].mean == pytest.approx(30 / 630)
    _header, rows = share_rows({"actual": replace(s, needs="")})  # (as if it rested on enough state changes)
    assert rows == [["A", "95%", "0%"], ["B", "5%", "0%"]]
