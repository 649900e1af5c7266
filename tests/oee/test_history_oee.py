"""OEE from a hand-made history (written through the real recorder into a real SQLite file): every loss
equals the hand-computed value; downtime without a reason code is "unassigned"; an operator's reason names
its whole down period."""

from __future__ import annotations

import math

import pytest

from app.compare.window import ActualsWindow
from app.oee.losses import UNASSIGNED, figures, pareto, waterfall
from app.oee.reasons import ReasonEntry, ReasonLog
from app.oee.recorded import history_losses
from app.oee.report import history_report
from tests.recorded import record
from tests.sim.helpers import det, line_factory

A, B = 1000.0, 4600.0  # the window: one hour
FACTORY = line_factory([{"cycle": det(10.0)}, {"cycle": det(20.0)}], det(30.0), horizon_s=3600, warmup_s=0)

# S0: off shift 600 s, running, down 600 s (plant's codes: tool change, then breakdown), running, starved
# 300 s, running; 180 parts of 10 s ideal cycle, 9 of them scrapped.
S0 = [
    ("S0", "State", A, "off_shift"), ("S0", "PartCount", A, 0), ("S0", "ScrapCount", A, 0), ("S0", "DownReason", A, ""),
    ("S0", "State", 1600.0, "running"),
    ("S0", "State", 3000.0, "down"), ("S0", "DownReason", 3000.0, "tool change"),
    ("S0", "DownReason", 3300.0, "breakdown"),
    ("S0", "State", 3600.0, "running"), ("S0", "DownReason", 3600.0, ""),
    ("S0", "State", 4000.0, "starved"),
    ("S0", "State", 4300.0, "running"),
    ("S0", "PartCount", B, 180), ("S0", "ScrapCount", B, 9),
]
# S1: no reason code bound, no scrap counter: running, down 600 s, running; 150 parts of 20 s.
S1 = [
    ("S1", "State", A, "running"), ("S1", "PartCount", A, 0),
    ("S1", "State", 2000.0, "down"),
    ("S1", "State", 2600.0, "running"),
    ("S1", "PartCount", B, 150),
]


@pytest.fixture
def history(tmp_path):
    path = tmp_path / "history.sqlite"
    record(path, S0 + S1)
    return path


def test_each_loss_equals_the_hand_computed_value(history):
    t = history_losses(history, FACTORY, [(A, B)])
    f = figures(t)
    # S0: planned 3600 − 600 = 3000 s; run 1400 + 400 + 300 = 2100 s; ideal 180 × 10 = 1800 s; good 171 × 10 s
    assert t.planned_stop_s[0] == pytest.approx(600.0)
    assert t.downtime_s["tool change"][0] == pytest.approx(300.0)
    assert t.downtime_s["breakdown"][0] == pytest.approx(300.0)
    assert t.downtime_s["starved"][0] == pytest.approx(300.0)
    assert t.run_s[0] == pytest.approx(2100.0)
    assert t.speed_loss_s[0] == pytest.approx(300.0)
    assert t.scrap_ideal_s[0] == pytest.approx(90.0)
    assert f.availability[0] == pytest.approx(2100 / 3000)
    assert f.performance[0] == pytest.approx(1800 / 2100)
    assert f.quality[0] == pytest.approx(171 / 180)
    assert f.oee[0] == pytest.approx(1710 / 3000)
    w = waterfall(t, 0)
    assert (w.planned_stop, w.downtime, w.speed, w.scrap, w.productive) == pytest.approx(
        (600 / 3600, 900 / 3600, 300 / 3600, 90 / 3600, 1710 / 3600)
    )
    assert w.oee == pytest.approx(1710 / 3000)
    # S1: planned 3600 s, run 3000 s, ideal 150 × 20 = 3000 s: no speed loss; no scrap counter: quality unknown
    assert f.availability[1] == pytest.approx(3000 / 3600)
    assert f.performance[1] == pytest.approx(1.0)
    assert math.isnan(f.quality[1]) and math.isnan(f.oee[1])


def test_downtime_without_a_reason_code_is_unassigned_never_made_up(history):
    t = history_losses(history, FACTORY, [(A, B)])
    assert t.downtime_s[UNASSIGNED][1] == pytest.approx(600.0)
    assert t.downtime_s[UNASSIGNED][0] == 0.0  # S0's down time has its plant's codes
    reasons_s1 = {r for r, v in t.downtime_s.items() if v[1] > 0}
    assert reasons_s1 == {UNASSIGNED}
    assert pareto(t, [1]) == [(UNASSIGNED, pytest.approx(600.0))]


def test_an_operators_reason_names_its_whole_down_period(history):
    log = ReasonLog(history)
    log.append(ReasonEntry("S1", 2300.0, "no operator", 5000.0))
    log.append(ReasonEntry("S0", 3100.0, "no material", 5001.0))  # overrides the plant's codes of that period
    log.close()
    t = history_losses(history, FACTORY, [(A, B)])
    assert t.downtime_s["no operator"][1] == pytest.approx(600.0)
    assert t.downtime_s["no material"][0] == pytest.approx(600.0)
    assert UNASSIGNED not in t.downtime_s and "breakdown" not in t.downtime_s and "tool change" not in t.downtime_s


def test_a_plant_run_faster_than_the_clock_gives_the_same_figures_in_its_own_time(history, tmp_path):
    fast = tmp_path / "fast.sqlite"  # the same plant at 120× real time: recorded 120 times closer together
    record(fast, [(m, sig, A + (t - A) / 120.0, v) for m, sig, t, v in S0 + S1])
    t1 = history_losses(history, FACTORY, [(A, B)])
    t2 = history_losses(fast, FACTORY, [(A, A + 30.0)], time_scale=120.0)
    assert t2.run_s == pytest.approx(t1.run_s)
    assert figures(t2).oee[0] == pytest.approx(figures(t1).oee[0])


def test_two_stretches_pool_and_a_group_rolls_up(history):
    t = history_losses(history, FACTORY, [(A, 2800.0), (2800.0, B)])
    assert t.run_s[0] == pytest.approx(2100.0)
    report = history_report(history, FACTORY, ActualsWindow(3600.0, ((A, B),)))
    assert report is not None
    site = 0  # the site holds both machines: sums of their seconds
    assert report.groups.run_s[site] == pytest.approx(5100.0)
    assert report.group_figures.availability[site] == pytest.approx(5100 / 6600)
    assert math.isnan(report.group_figures.quality[site])  # S1's scrap is unknown


def test_too_little_planned_time_is_no_claim(tmp_path):
    path = tmp_path / "h.sqlite"
    record(path, [("S0", "State", 0.0, "running"), ("S0", "PartCount", 0.0, 0), ("S0", "PartCount", 300.0, 30)])
    f = figures(history_losses(path, FACTORY, [(0.0, 300.0)]))
    assert not f.enough[0]


def test_without_a_scrap_count_the_dashboard_claims_only_the_bound_a_times_p(history):
    from app.oee import text

    report = history_report(history, FACTORY, ActualsWindow(3600.0, ((A, B),)))
    assert report is not None
    rows = {r.machine: r for r in text.machine_rows(report)}
    assert not rows["S0"].bound and rows["S0"].text == "57%"  # 1710 / 3000
    assert rows["S1"].bound and rows["S1"].value == pytest.approx(100 * 3000 / 3600) and rows["S1"].text == "≤83%"
    assert text.summary(report, 0).startswith("Site test line: OEE ≤ ")
    assert "quality unknown" in text.bar_tooltip(report, 1)
