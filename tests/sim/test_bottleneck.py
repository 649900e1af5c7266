"""The shifting-bottleneck method (app.sim.bottleneck), rule by rule on timelines small enough to check by
hand, then on a simulated serial line whose slowest machine must be the sole bottleneck most of the time."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from app.model.signals import MACHINE_STATES
from app.sim.bottleneck import (
    MAX_HALF_WIDTH,
    MIN_OBSERVATIONS,
    about_text,
    active_periods,
    chart_machines,
    from_changes,
    from_series,
    runner_up,
    share_estimate,
    share_rows,
    share_text,
    shift_text,
    shifting_bottlenecks,
    static_note,
    strip,
    summarise,
    summarise_run,
)
from app.sim.engine import simulate
from app.sim.model import compile_model
from tests.sim.helpers import det, exp, line_factory

RUN, SETUP, STARVED, BLOCKED, DOWN = (MACHINE_STATES.index(s) for s in ("running", "setup", "starved", "blocked", "down"))


def _p(*pairs):
    return np.array(pairs, dtype=float).reshape(-1, 2)


def _spans(t):
    return [(s.start_s, s.end_s, s.machine, s.shifting, s.partner) for s in t.spans]


# -- rule 1: what is active, and what one period is ------------------------------------------------------------
def test_running_setup_and_down_are_active_starved_and_blocked_are_not():
    for code, active in ((RUN, True), (SETUP, True), (DOWN, True), (STARVED, False), (BLOCKED, False)):
        assert active_periods([0.0], [code], 0.0, 5.0).tolist() == ([[0.0, 5.0]] if active else [])


def test_running_then_down_then_setup_is_one_uninterrupted_period():
    assert active_periods([0, 2, 4, 6], [RUN, DOWN, SETUP, RUN], 0, 9).tolist() == [[0.0, 9.0]]


def test_starved_blocked_or_an_unknown_state_interrupts_a_period():
    codes = [RUN, STARVED, RUN, BLOCKED, RUN, -1, RUN]
    assert active_periods([0, 1, 2, 3, 4, 5, 6], codes, 0, 7).tolist() == [[0, 1], [2, 3], [4, 5], [6, 7]]


def test_periods_are_clipped_to_the_window():
    assert active_periods([-5, 3], [RUN, STARVED], 0, 10).tolist() == [[0.0, 3.0]]


# -- rule 2: at each instant the longest active period is the bottleneck ---------------------------------------
def test_the_longest_period_around_an_instant_wins_and_a_short_one_inside_it_never_does():
    t = shifting_bottlenecks(["A", "B"], [_p((0, 10)), _p((2, 4))], 0, 10)
    assert t.sole_s.tolist() == [10.0, 0.0] and t.shifting_s.tolist() == [0.0, 0.0]
    assert _spans(t) == [(0.0, 10.0, "A", False, "")]


def test_the_whole_periods_length_counts_not_the_time_elapsed_in_it():
    # at t = 1, A has been active 1 s and B 0.5 s, but B's period (0.5–9) is longer than A's (0–2)
    t = shifting_bottlenecks(["A", "B"], [_p((0, 2)), _p((0.5, 9))], 0, 10)
    assert _spans(t)[0][:3] == (0.0, 0.5, "A") and _spans(t)[1][2] == "B"


def test_equal_periods_go_to_the_one_begun_first_then_to_the_machine_listed_first():
    t = shifting_bottlenecks(["A", "B"], [_p((2, 8)), _p((0, 6))], 0, 10)
    assert _spans(t)[0][2] == "B"  # B began first; A takes over only when B's period ends
    assert _spans(t)[-1][:3] == (6.0, 8.0, "A")
    same = shifting_bottlenecks(["A", "B"], [_p((0, 5)), _p((0, 5))], 0, 5)
    assert same.sole_s.tolist() == [5.0, 0.0]


def test_no_machine_is_the_bottleneck_while_none_is_active():
    t = shifting_bottlenecks(["A", "B"], [_p((0, 3)), _p((5, 9))], 0, 10)
    assert t.sole_s.tolist() == [3.0, 4.0] and t.shifting_s.tolist() == [0.0, 0.0]  # 3 s with none: no shift across it
    assert sum(s.end_s - s.start_s for s in t.spans) == 7.0


# -- rule 3: the overlap of consecutive bottlenecks' periods is shifting, for both -----------------------------
def test_the_overlap_of_consecutive_bottlenecks_is_a_shifting_bottleneck_for_both():
    # A 0–6 (6 s), B 4–12 (8 s): B is the longer from 4 on; they overlap 4–6
    t = shifting_bottlenecks(["A", "B"], [_p((0, 6)), _p((4, 12))], 0, 12)
    assert t.sole_s.tolist() == [4.0, 6.0]
    assert t.shifting_s.tolist() == [2.0, 2.0]  # A is a shifting bottleneck 4–6 though B is the momentary one
    assert _spans(t) == [(0.0, 4.0, "A", False, ""), (4.0, 6.0, "B", True, "A"), (6.0, 12.0, "B", False, "")]


def test_a_machine_between_two_others_shifts_with_each_of_them():
    # A 0–5, B 3–11 (longest), C 9–14: A → B (overlap 3–5) → C (overlap 9–11)
    t = shifting_bottlenecks(["A", "B", "C"], [_p((0, 5)), _p((3, 11)), _p((9, 14))], 0, 14)
    assert t.shifting_s.tolist() == [2.0, 4.0, 2.0]
    assert t.sole_s.tolist() == [3.0, 4.0, 3.0]
    # the shifting shares count the shifting time twice (two machines share it); sole + shifting time / 2 = 14
    assert t.sole_s.sum() + t.shifting_s.sum() / 2 == 14.0


def test_a_machine_that_is_never_the_momentary_bottleneck_is_never_a_shifting_one():
    # C overlaps both A and B but is never the longest: only A and B shift
    t = shifting_bottlenecks(["A", "B", "C"], [_p((0, 6)), _p((4, 12)), _p((3, 7))], 0, 12)
    assert t.shifting_s[2] == 0.0 and t.sole_s[2] == 0.0
    assert t.shifting_s[:2].tolist() == [2.0, 2.0]


# -- inputs: exact changes and sampled series ---------------------------------------------------------------
def test_exact_changes_are_read_as_steps_and_say_they_are_exact():
    a = (np.array([0.0, 6.0]), np.array([RUN, STARVED]))
    b = (np.array([0.0, 4.0]), np.array([BLOCKED, DOWN]))
    t = from_changes(["A", "B"], [a, b], 0, 12)
    assert t.sole_s.tolist() == [4.0, 6.0] and t.resolution_s is None
    assert t.observations == 1.0  # one change inside the window per machine


def test_a_sampled_series_holds_each_sample_until_the_next_and_leaves_out_the_warm_up():
    series_t = np.arange(0.0, 100.0, 10.0)  # every 10 s
    a = [RUN] * 3 + [RUN] * 3 + [STARVED] * 4
    b = [STARVED] * 3 + [RUN] * 7
    t = from_series(["A", "B"], series_t, np.array([a, b]).T, 20.0, 100.0)
    assert t.resolution_s == 10.0 and t.observations == 8
    # from the warm-up's end (20): A active 20–60, B 30–100 (longer) — B from 30, shifting 30–60
    assert t.sole_s.tolist() == [10.0, 40.0] and t.shifting_s.tolist() == [30.0, 30.0]


def test_the_state_before_the_first_sample_after_the_warm_up_is_not_known():
    t = from_series(["A"], np.array([25.0, 35.0]), np.array([[RUN], [RUN]]), 20.0, 45.0)
    assert t.sole_s.tolist() == [20.0]  # 20–25 unknown: no bottleneck then


# -- shares over windows --------------------------------------------------------------------------------------
def _sampled(machine_a_running: int, n: int = 40):
    codes = np.array([[RUN if k < machine_a_running else STARVED, RUN if k >= machine_a_running else STARVED] for k in range(n)])
    return from_series(["A", "B"], np.arange(n, dtype=float), codes, 0.0, float(n))


def test_replications_give_a_mean_share_with_its_interval():
    s = summarise([_sampled(30), _sampled(20), _sampled(10)])
    assert s.enough and s.sole["A"].n == 3
    assert s.sole["A"].mean == pytest.approx(0.5) and s.sole["A"].contains(0.75) and s.sole["A"].half_width > 0
    assert s.leader()[0] in ("A", "B") and s.resolution_text() == "state sampled every 1 s"


def test_too_few_samples_say_not_enough_data_with_the_number_needed():
    s = summarise([_sampled(5, n=10), _sampled(5, n=10)])
    assert not s.enough and s.leader() == ("", math.nan)
    assert s.needs == f"not enough data — needs ≥ {MIN_OBSERVATIONS} state samples per replication (has 10)"


def test_history_stretches_are_summed_over_their_connected_time():
    one = from_changes(["A", "B"], [(np.array([0.0]), np.array([RUN])), (np.array([0.0]), np.array([STARVED]))], 0, 30)
    two = from_changes(["A", "B"], [(np.array([100.0]), np.array([STARVED])), (np.array([100.0]), np.array([RUN]))], 100, 110)
    s = summarise([one, two], "history")
    assert s.sole["A"].mean == pytest.approx(0.75) and s.sole["B"].mean == pytest.approx(0.25) and s.sole["A"].half_width == 0
    assert s.analysed_s == 40.0 and s.resolution_text() == "exact state changes"
    assert s.needs.startswith("not enough data — needs ≥ 24 state changes per machine")


# -- a simulated line ----------------------------------------------------------------------------------------
def test_the_clearly_slowest_machine_of_a_serial_line_is_the_sole_bottleneck_most_of_the_time():
    stations = [{"cycle": exp(20.0)}, {"cycle": exp(25.0)}, {"cycle": exp(45.0)}, {"cycle": exp(20.0)}]
    f = line_factory(stations, det(40.0), horizon_s=12 * 3600, warmup_s=3600, replications=3)
    m = compile_model(f, sample_s=60.0)
    results = [simulate(m, k) for k in range(m.replications)]
    s = summarise_run(results, [st.id for st in m.stations], m.warmup_s)
    assert s.enough and s.resolution_s == 60.0
    assert s.leader()[0] == "S2"
    assert s.sole["S2"].mean > 0.5 and s.sole["S2"].low > max(s.sole[m].high for m in ("S0", "S1", "S3"))


# -- texts and the strip a view shows ------------------------------------------------------------------------
def _run(a_share: float, n: int = 4, spread: int = 2):
    """Replications where A runs the first ``a_share`` of 40 samples (± ``spread`` samples) and B the rest."""
    return summarise([_sampled(int(40 * a_share) + d) for d in np.linspace(-spread, spread, n).astype(int)])


def test_the_sentence_says_what_the_scenario_does_to_the_bottleneck():
    base, scen = _run(0.8), _run(0.2)
    text = shift_text(base, scen)
    assert text.startswith(f"A sole {share_text(base.sole['A'])} → {share_text(scen.sole['A'])}")
    assert "; the bottleneck moves to B (sole + shifting " in text and "not told apart" not in text
    assert "A stays the bottleneck" in shift_text(base, _run(0.75))


def test_the_sentence_names_a_runner_up_the_intervals_cannot_tell_apart():
    close = _run(0.5, spread=6)
    assert runner_up(close) != "" and "not told apart from" in shift_text(_run(0.8), close)


def test_the_sentence_says_what_is_missing_when_a_side_has_too_little_data():
    thin = summarise([_sampled(5, n=10)])
    assert shift_text(_run(0.8), thin) == f"Bottlenecks: scenario — {thin.needs}"


def test_the_table_puts_the_largest_shares_first_and_the_chart_keeps_those_with_a_share():
    header, rows = share_rows({"baseline": _run(0.8), "scenario": _run(0.2)})
    assert header == ["Machine", "baseline sole", "baseline shifting", "scenario sole", "scenario shifting"]
    assert [r[0] for r in rows] == ["A", "B"] and rows[0][1] == share_text(_run(0.8).sole["A"])
    never = summarise([from_series(["A", "B", "C"], np.arange(30.0), np.array([[RUN, STARVED, STARVED]] * 30), 0, 30)])
    assert chart_machines({"baseline": never}) == ["A"]


def test_the_strip_is_in_hours_from_the_warm_up_or_laid_end_to_end_for_history():
    sim = summarise([from_series(["A"], np.arange(3600.0, 3600.0 * 5, 60.0), np.full((240, 1), RUN), 3600.0, 18000.0)])
    assert strip(sim) == [(0.0, 4.0, "A", False)]
    a = from_changes(["A"], [(np.array([0.0]), np.array([RUN]))], 0, 1800)
    b = from_changes(["A"], [(np.array([0.0]), np.array([RUN]))], 0, 3600)
    assert strip(summarise([a, b], "history")) == [(0.0, 0.5, "A", False), (0.5, 1.5, "A", False)]


def test_what_a_column_rests_on_and_how_it_differs_from_the_static_bottleneck():
    assert about_text("baseline", _run(0.5)) == "baseline: 4 replications of 40 s, state sampled every 1 s"
    assert static_note({"baseline": "CNC-01"}).startswith("The headline's bottleneck (baseline CNC-01) is the machine active")
    assert static_note({}) == ""


def test_a_model_without_randomness_has_exact_shares_from_its_one_replication():
    f = line_factory([{"cycle": det(20.0)}, {"cycle": det(30.0)}], det(25.0), horizon_s=4 * 3600, warmup_s=600, replications=1)
    m = compile_model(f, sample_s=60.0)
    s = summarise_run([simulate(m, 0)], [st.id for st in m.stations], m.warmup_s, exact=m.deterministic)
    assert m.deterministic and s.leader()[0] == "S1" and share_text(s.sole["S1"]) == "100%"
    assert share_text(summarise_run([simulate(m, 0)], ["S0", "S1"], m.warmup_s).sole["S1"]) == "100% ± n/a (1 replication)"


# -- the timeline and the shares are one account (random timelines) -------------------------------------------
_TIMELINES = st.lists(
    st.lists(st.integers(0, 40), unique=True, max_size=10).map(lambda xs: sorted(xs)[: len(xs) // 2 * 2]),
    min_size=1, max_size=5,
)


def _momentary_at(periods, x):
    """By hand: the machine whose period around ``x`` is the longest (then begun first, then listed first)."""
    around = [(-(b - a), a, i) for i, p in enumerate(periods) for a, b in p if a <= x < b]
    return min(around)[2] if around else -1


@settings(max_examples=300, deadline=None)
@given(_TIMELINES)
def test_sole_and_shifting_seconds_per_machine_are_what_the_timeline_gives_it(points):
    periods = [_p(*zip(xs[::2], xs[1::2], strict=True)) for xs in points]
    names = [f"M{i}" for i in range(len(periods))]
    t = shifting_bottlenecks(names, periods, 0, 40)
    spans = t.spans
    # the spans follow each other and cover exactly the time some machine is active
    assert all(a.end_s <= b.start_s + 1e-9 for a, b in itertools.pairwise(spans))
    active = sum(_momentary_at(periods, x + 0.5) >= 0 for x in range(40))
    assert sum(s.end_s - s.start_s for s in spans) == pytest.approx(active)
    for s in spans:
        for x in np.arange(s.start_s, s.end_s) + 0.5:  # every whole second of a span: its machine is the bottleneck
            assert names[_momentary_at(periods, x)] == s.machine
        if s.shifting:  # both machines are active while they shift, and they are two
            assert s.partner != s.machine and s.partner in names
            assert _momentary_at([periods[names.index(s.partner)]], s.start_s + 1e-6) == 0
    # each machine's seconds are its spans: sole its sole spans, shifting the shifting spans it is in (either side)
    for i, m in enumerate(names):
        assert t.sole_s[i] == pytest.approx(sum(s.end_s - s.start_s for s in spans if not s.shifting and s.machine == m))
        mine = sum(s.end_s - s.start_s for s in spans if s.shifting and m in (s.machine, s.partner))
        assert t.shifting_s[i] == pytest.approx(mine)
    shifting_time = sum(s.end_s - s.start_s for s in spans if s.shifting)
    assert t.shifting_s.sum() == pytest.approx(2 * shifting_time)
    assert t.sole_s.sum() + t.shifting_s.sum() / 2 == pytest.approx(active)


def test_a_shift_never_counts_time_a_third_machine_was_the_bottleneck():
    # W 0–12 (12 s), Y 4–15 (11 s), X 6–16 (10 s): W until 12, then Y until 15, then X. Y's and X's periods
    # overlap 6–15, but W was the bottleneck until 12: the Y → X shift is 12–15, not 9 s
    t = shifting_bottlenecks(["W", "X", "Y"], [_p((0, 12)), _p((6, 16)), _p((4, 15))], 0, 16)
    assert _spans(t) == [
        (0.0, 4.0, "W", False, ""), (4.0, 12.0, "W", True, "Y"), (12.0, 15.0, "Y", True, "X"), (15.0, 16.0, "X", False, "")
    ]
    assert t.shifting_s.tolist() == [8.0, 3.0, 11.0] and t.sole_s.tolist() == [4.0, 1.0, 0.0]


def test_a_short_episode_between_two_shifts_shifts_with_one_machine_at_a_time():
    # A 0–6 and C 1–7 tie at 6 s (A began first), B 4–9: A until 6, C 6–7, B 7–9. The shift A → C (their
    # overlap 1–6) and C → B (4–7) would meet inside A's and C's time: each moment shifts between two machines
    t = shifting_bottlenecks(["A", "B", "C"], [_p((0, 6)), _p((4, 9)), _p((1, 7))], 0, 9)
    assert [s[2] for s in _spans(t) if not s[3]] == ["A", "B"]
    assert all(s.partner and s.partner != s.machine for s in t.spans if s.shifting)
    assert t.sole_s.sum() + t.shifting_s.sum() / 2 == 9.0


# -- a share's interval stays within 0–100%, and one too wide is not shown -------------------------------------
def test_a_shares_interval_is_cut_at_0_and_100_percent_and_says_so():
    near_0 = share_estimate([0.0, 0.02, 0.1, 0.0])
    assert near_0.mean - near_0.half_width < 0 and near_0.low == 0.0 and near_0.high == near_0.mean + near_0.half_width
    assert re.fullmatch(r"3(\.0)?% \(0–1\d(\.\d)?%\)", share_text(near_0)), share_text(near_0)
    near_1 = share_estimate([1.0, 1.0, 0.9, 1.0])
    assert near_1.high == 1.0 and share_text(near_1).endswith("–100%)")
    inside = share_estimate([0.5, 0.55, 0.6, 0.52])
    assert share_text(inside) == inside.format("%", 100.0) and "±" in share_text(inside)  # not cut: as every figure


def test_a_share_known_only_to_more_than_25_points_says_how_many_replications_it_needs():
    wide = share_estimate([0.0, 0.5, 0.9])
    assert wide.half_width > MAX_HALF_WIDTH and not wide.enough
    n = wide.needed
    spread = float(np.std([0.0, 0.5, 0.9], ddof=1))
    assert stats.t.ppf(0.975, n - 1) * spread / math.sqrt(n) <= MAX_HALF_WIDTH  # N brings it within ± 25 points
    assert stats.t.ppf(0.975, n - 2) * spread / math.sqrt(n - 1) > MAX_HALF_WIDTH  # and N − 1 would not
    assert share_text(wide) == f"not enough data — needs ≥ {n} replications"
    assert share_estimate([0.4, 0.5, 0.45]).needed == 0


def test_the_table_and_the_sentence_give_no_share_the_replications_cannot_support():
    # A's share swings 0–100% between three replications: neither the cells nor the sentence may quote it
    wild = summarise([_sampled(0), _sampled(40), _sampled(20)])
    _header, rows = share_rows({"baseline": wild, "scenario": _run(0.8)})
    a = rows[[r[0] for r in rows].index("A")]
    assert a[1] == f"needs ≥ {wild.sole['A'].needed} replications" and wild.sole["A"].needed > 3
    text = shift_text(wild, _run(0.8))
    assert text.startswith("Bottlenecks: not enough data — needs ≥ ") and "(has 3;" in text
    assert not re.search(r"\d ± \d", text)  # no share quoted
