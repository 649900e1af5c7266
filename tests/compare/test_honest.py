"""Honest actuals: a window uses connected recorded data only and says how much it has; "fits" needs an
interval within the equivalence margin; too little data says what would be enough."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.compare.diff import FITS, NOT_ENOUGH, OUTSIDE, compare, duration_text, fit_outcome, prediction_interval
from app.compare.kpis import Observation, line_kpis, machine_kpis, observe_history
from app.compare.report import comparison_csv, comparison_html, fit_text, verdict
from app.compare.window import ActualsWindow, connected_stretches, exits_over_stretches, observe_stretches, recent_window
from app.history.recorder import History
from app.model.factory import Factory, Floor, Footprint, Machine, PartFlow, Pose
from tests.compare.helpers import recorded_history


def _factory() -> Factory:
    ms = [
        Machine(id=i, name=i, kind="cnc", asset="a", pose=Pose(x_m=5 + 5 * k, y_m=5), footprint=Footprint(width_m=2, depth_m=2))
        for k, i in enumerate(("A", "B"))
    ]
    return Factory(name="t", floor=Floor(width_m=20, depth_m=10), machines=ms, flows=[PartFlow(part="p", routing=["A", "B"])])


@pytest.fixture
def restarted(tmp_path) -> History:
    """Two 10-minute stretches, 360 parts/h each, with a 10-minute outage between in which the plant
    restarted (its counters began again at 0)."""
    rows = []
    for start, end in ((1000.0, 1600.0), (2200.0, 2800.0)):
        for m in ("A", "B"):
            rows.append((m, "State", start, "running"))
            rows += [(m, "PartCount", start + k * 10.0, float(k)) for k in range(int((end - start) / 10) + 1)]
    links = [(1000.0, "connected"), (1600.0, "disconnected"), (2200.0, "connected")]
    return recorded_history(tmp_path / "h.sqlite", rows, links)


def test_a_window_with_an_outage_uses_the_connected_stretches_and_says_how_much(restarted):
    f = _factory()
    w = recent_window(restarted, 30)
    assert w is not None and w.stretches == ((1000.0, 1600.0), (2200.0, 2800.0))
    assert w.text() == "20 min of 30, 1 gap" and w.connected_s == 1200.0
    stitched = observe_history(restarted, f, 1000.0, 2800.0)  # what a stitched window said
    assert line_kpis(stitched)["throughput_per_h"] != pytest.approx(360.0)
    honest = observe_stretches(restarted, f, w.stretches)
    assert honest.seconds == 1200.0  # connected time only: the gap is not counted as zero output
    assert line_kpis(honest)["throughput_per_h"] == pytest.approx(360.0)
    assert machine_kpis(honest)["output_per_h"].tolist() == pytest.approx([360.0, 360.0])
    assert machine_kpis(honest)["utilisation"].tolist() == pytest.approx([100.0, 100.0])
    x, y = exits_over_stretches(restarted, f, w.stretches)  # the chart: connected hours, counts added up
    assert x[-1] == pytest.approx(1200 / 3600) and y[-1] == pytest.approx(120.0) and (np.diff(y) >= 0).all()
    assert connected_stretches(restarted, 1500.0, 2300.0) == ((1500.0, 1600.0), (2200.0, 2300.0))
    assert ActualsWindow(3600.0, ()).text() == "0 min of 60, no gaps"
    assert recent_window(restarted, 15).text() == "10 min of 15, 1 gap"  # it begins in the outage
    assert recent_window(restarted, 50).text() == "20 min of 50, 1 gap"  # before 1000 nothing was recorded


def _obs(throughput_per_h: float, seconds: float = 3600.0, util: float = 50.0) -> Observation:
    exits = throughput_per_h * seconds / 3600
    state = np.array([[util / 100 * seconds, 0, (1 - util / 100) * seconds, 0, 0]] * 2)
    return Observation(["A", "B"], seconds, state, np.array([exits, exits]), np.array([1.0, 1.0]), 3.0, exits)


def test_fits_only_within_the_margin_outside_beyond_the_interval_else_what_is_needed():
    narrow = [_obs(x) for x in (100, 102, 98, 101, 99)]
    assert compare(narrow, actual=_obs(100.5)).row("throughput_per_h").fit == FITS
    row = compare(narrow, actual=_obs(100.5)).row("throughput_per_h")
    assert row.fits_actual is True and verdict(row) == "actual fits the baseline (within ±10%)"
    out = compare(narrow, actual=_obs(130)).row("throughput_per_h")
    assert out.fit == OUTSIDE and out.fits_actual is False and "outside" in verdict(out)

    wide = [_obs(x) for x in (90, 110, 100, 95, 105)]  # the actual is inside, but ± far more than 10%
    row = compare(wide, actual=_obs(100)).row("throughput_per_h")
    assert row.fit == NOT_ENOUGH and row.fits_actual is None
    lo, hi = prediction_interval([90, 110, 100, 95, 105])
    need_min = math.ceil(60 * ((hi - lo) / 2 / 10.0) ** 2)  # 60 min × (half-width ÷ margin)²
    assert row.needs == f"≥ {duration_text(need_min)}, ≈ {math.ceil(100 * need_min / 60)} parts" == "≥ 6 h, ≈ 579 parts"
    spread = (hi - lo) / 2 / 100
    assert fit_text(row) == f"not enough data — needs ≥ 6 h, ≈ 579 parts (prediction ±{spread:.0%} > ±10%)"
    # The margin is the user's: at ±30% the same interval (±24%) is narrow enough.
    assert compare(wide, actual=_obs(100), margin=0.3).row("throughput_per_h").fit == FITS

    # An actual of 0 against a positive prediction never fits: outside a narrow interval, else not enough data.
    assert compare(narrow, actual=_obs(0)).row("throughput_per_h").fit == OUTSIDE
    zero_inside = [_obs(x) for x in (0, 40, 5, 30, 10)]
    assert compare(zero_inside, actual=_obs(0)).row("throughput_per_h").fit == NOT_ENOUGH
    assert fit_outcome([0, 40, 5, 30, 10], 0.0, 3600)[0] == NOT_ENOUGH
    # One replication cannot give an interval: not enough data, and says so.
    assert fit_outcome([100.0], 100.0, 3600)[:2] == (NOT_ENOUGH, "≥ 2 replications")
    # Replications that all made nothing in a 2-minute window predict nothing: one part is not "outside" (and
    # the machine not "changed"; from a new-user trial). A prediction never goes below 0.
    none_made = [_obs(0.0) for _ in range(10)]
    row = compare(none_made, actual=_obs(29.04)).row("throughput_per_h")
    assert row.fit == NOT_ENOUGH and row.fits_actual is None and not row.changed
    assert fit_outcome([10, 30, 20, 15, 25], 0.0, 600)[2][0] == 0.0


def test_no_difference_is_shown_where_baseline_or_scenario_has_no_figure():
    nan = [_obs(math.nan) for _ in range(5)]
    row = compare(nan, nan, actual=_obs(15.0)).row("throughput_per_h")
    assert row.delta is None and row.significant is None


def test_exports_carry_the_margin_the_coverage_and_the_verdicts(restarted):
    narrow = [_obs(x) for x in (100, 102, 98, 101, 99)]
    c = compare(narrow, actual=_obs(100.5))
    w = recent_window(restarted, 30)
    text = comparison_csv(c, w)
    header = text.splitlines()[0].split(",")
    assert header[-5:] == ["prediction_low", "prediction_high", "fit", "fit_margin", "verdict"]
    thr = next(line for line in text.splitlines() if line.startswith("Throughput,"))
    assert ",fits,0.1,actual fits the baseline (within ±10%)" in thr
    assert text.splitlines()[-1].endswith('"20 min of 30, 1 gap"') and text.splitlines()[-1].startswith("Actuals recorded")
    html = comparison_html("t", c, [], notes=[f"Actuals: {w.text()}"])
    assert "20 min of 30, 1 gap" in html and "within ±10% of the prediction" in html


def test_a_fit_or_outside_claim_is_never_greyed_not_enough_data_is():
    from app.compare.table import row_cells

    narrow = [_obs(x) for x in (100, 102, 98, 101, 99)]
    c = compare(narrow, [_obs(x) for x in (100, 101, 99, 100, 100)], actual=_obs(100.5))
    thr = c.row("throughput_per_h")
    assert thr.significant is False and thr.fit == FITS
    verdict_cell = row_cells(thr)[-1]
    assert not verdict_cell.muted and verdict_cell.text == "not significant; actual fits the baseline (within ±10%)"
    assert "“fits” needs the prediction within ±10%" in verdict_cell.tip
    wide = compare([_obs(x) for x in (90, 110, 100, 95, 105)], actual=_obs(100)).row("throughput_per_h")
    assert row_cells(wide)[-1].muted
