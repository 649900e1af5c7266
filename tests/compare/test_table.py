"""The comparison and calibration tables' contents without a display: order, texts, sort keys, emphasis, filter."""

from __future__ import annotations

import math

from app.compare.calibrate import Calibration, MachineEstimate, exponential_mean
from app.compare.diff import Comparison, Row
from app.compare.table import (
    actual_text,
    arrivals_text,
    calibration_heading,
    calibration_muted,
    calibration_rows,
    calibration_usable,
    changed_count,
    columns,
    line_rows,
    machine_marks,
    machine_rows,
    row_cells,
    row_matches,
    sort_key,
    summary_lines,
)
from app.compare.trust import Trust, TrustScore
from app.sim.kpis import Estimate


def _row(key, machine, actual, base, scen, predicted=None) -> Row:
    b, s = Estimate(base, 1.0, 5), (Estimate(scen, 1.0, 5) if scen is not None else None)
    delta = Estimate(scen - base, 1.5, 5) if scen is not None else None
    fits = None if not math.isfinite(actual) else bool(b.contains(actual))
    return Row(key, key.title(), "%", machine, actual, b, s, delta, fits, predicted)


def _comparison() -> Comparison:
    rows = [
        _row("throughput", None, 50.0, 50.0, 60.0),
        _row("utilisation", "CNC-01", 70.0, 70.0, 70.5),  # no change beyond chance
        _row("utilisation", "CNC-02", 60.0, 60.0, 64.0),  # +4 (changed)
        _row("utilisation", "CNC-03", math.nan, 50.0, 80.0, predicted=(45.0, 55.0)),  # +30 (changed most)
    ]
    return Comparison(rows, {"actual": "CNC-02", "baseline": "CNC-01", "scenario": ""}, ["CNC-01", "CNC-02", "CNC-03"])


def test_machine_rows_come_largest_change_first_then_the_rest_in_order():
    c = _comparison()
    assert [r.machine for r in machine_rows(c)] == ["CNC-03", "CNC-02", "CNC-01"]
    assert [r.key for r in line_rows(c)] == ["throughput"]
    assert changed_count(c) == "2 of 3 machines differ (scenario ≠ baseline: 2, plant ≠ model: 0)"


def test_cells_show_figures_right_aligned_with_unknowns_sorted_last_and_real_differences_bold():
    c = _comparison()
    changed = machine_marks(c)
    cells = row_cells(c.row("utilisation", "CNC-03"), changed)
    assert len(cells) == len(columns(True))
    assert [x.text for x in cells[:3]] == ["CNC-03", "scenario ≠ baseline", "Utilisation (%)"]
    assert cells[1].sort == 0.0 and row_cells(c.row("utilisation", "CNC-01"), changed)[1].sort == 1.0
    actual = cells[3]
    assert actual.figure and math.isnan(actual.sort) and actual.tip == "prediction 45 … 55"
    assert sort_key(actual.sort) == math.inf and sort_key(None) == math.inf and sort_key(3.0) == 3.0
    delta = cells[6]
    assert delta.bold and delta.sort == 30.0 and delta.text == str(Estimate(30.0, 1.5, 5))
    assert cells[7].text.startswith("significant") and not cells[7].muted
    quiet = row_cells(c.row("utilisation", "CNC-01"), changed)
    assert not quiet[6].bold and quiet[7].muted and quiet[7].text.startswith("not significant")
    line = row_cells(c.row("throughput"))
    assert len(line) == len(columns(False)) and line[0].text == "Throughput (%)"


def test_the_summary_names_bottlenecks_notes_and_trust():
    c = _comparison()
    assert summary_lines(c, ["one note"]) == ["Bottleneck — actual: <b>CNC-02</b>, baseline: <b>CNC-01</b>", "one note"]
    machines = {"CNC-01": {"utilisation": TrustScore(13, 14, 900.0)}, "CNC-02": {"utilisation": TrustScore(7, 14, 900.0)}}
    trust = Trust(900.0, TrustScore(13, 14, 900.0), machines)
    last = summary_lines(c, [], trust)[-1]
    assert last.startswith("Trust (15 min windows): line throughput <b>trust 93% over 14 windows</b>")
    assert "machine KPIs: 1 of 2 at ≥ 80% (lowest: CNC-02 utilisation 50%)" in last
    few = summary_lines(c, [], Trust(900.0, TrustScore(3, 3, 900.0)))[-1]
    assert "<b>not enough data — needs ≥ 5 windows of 15 min (has 3)</b>" in few and "%" not in few


def test_the_filter_matches_every_word_in_machine_or_kpi_and_honours_changed_only():
    assert row_matches("  CNC-02  UTIL ", "CNC-02", "Utilisation (%)", True, True)
    assert not row_matches("cnc-02 output", "CNC-02", "Utilisation (%)", True, False)
    assert not row_matches("cnc", "CNC-01", "Utilisation (%)", False, True)
    assert row_matches("", "CNC-01", "Utilisation (%)", False, False)


def test_calibration_texts_mark_unknowns_and_the_window_length():
    known = MachineEstimate(
        "CNC-01", Estimate(42.0, 0.5, 30), 0.12345, 30, exponential_mean(4 * 3600.0, 4, True), None, 4, "CycleTime signal"
    )
    unknown = MachineEstimate("CNC-02", None, None, 0, None, None, 0, "no data")
    cal = Calibration(1000.0, 1000.0 + 3600.0, 1.0, [known, unknown], {"A": Estimate(12.0, 1.0, 5)})
    assert calibration_heading(cal) == (
        "Estimated from 60 min of recorded history (95% intervals). Enough data (interval within ±25%) for the cycle "
        "time of 1 of 2 machines, the failures of 0, 1 of 1 arrival rates; only those go into a calibrated baseline."
    )
    assert calibration_usable(cal) == 2
    rows = calibration_rows(cal)
    assert rows[0][:2] == ["CNC-01", "CycleTime signal"] and rows[0][3] == "0.123" and rows[0][6] == "—"
    # an MTBF from 4 failures is far from ±25%: what it needs is the count the χ² rule gives (87)
    assert rows[0][4] == "30" and rows[0][7] == "4 failures — needs ≥ 87 failures for ±25%"
    assert rows[0][5] == "1.00 h (0.39 h – 3.7 h)"  # skewed, never "1 h ± 2 h"
    assert rows[1] == [
        "CNC-02", "no data", "—", "—", "0 — not enough data, needs ≥ 2 cycles for an interval", "—", "—",
        "0 failures — needs ≥ 87 failures for ±25%",
    ]
    assert calibration_usable(Calibration(0.0, 60.0, 1.0, [unknown], {})) == 0  # nothing to make a baseline of
    assert arrivals_text(cal) == f"Arrivals: A: {Estimate(12.0, 1.0, 5)}/h"
    assert arrivals_text(Calibration(0.0, 60.0, 1.0, [], {})) == "Arrivals: —"
    # Grey: every estimate not used — CNC-01's failures (an MTBF without an MTTR), all of CNC-02's columns (no
    # cycle, no failure: nothing used); an arrival rate without enough data says so (a new-user trial saw
    # MTBF/MTTR and arrivals look usable).
    assert calibration_muted(cal) == [{5, 6, 7}, {2, 3, 4, 5, 6, 7}]
    wide = Calibration(0.0, 60.0, 1.0, [], {"A": Estimate(14.0, 21.0, 3)})
    assert arrivals_text(wide) == f"Arrivals: A: {Estimate(14.0, 21.0, 3)}/h (not enough data, not used)"


def test_calibration_says_what_one_failure_is_and_what_it_needs_with_a_skewed_interval():
    # One failure in 3 h of uptime, one 10-min repair (a new-user trial saw "± n/a (1 replication)" and a
    # symmetric "3 h ± 5 h"): a positive, skewed interval, and the count the ±25% rule asks for.
    one = MachineEstimate(
        "CNC-03", Estimate(300.0, 6.0, 40), 0.1, 40,
        exponential_mean(3 * 3600.0, 1, True), exponential_mean(600.0, 1, False), 1, "CycleTime signal",
    )
    row = calibration_rows(Calibration(0.0, 4 * 3600.0, 1.0, [one], {}))[0]
    assert row[5] == "3.0 h (0.54 h – 120 h)" and row[6] == "10.0 min (2.7 min – 390 min)"
    assert row[7] == "1 failure — needs ≥ 87 failures for ±25%"
    assert "n/a" not in " ".join(row) and "replication" not in " ".join(row) and "±" not in row[5]
    assert calibration_muted(Calibration(0.0, 1.0, 1.0, [one], {})) == [{5, 6, 7}]


def test_a_machine_the_model_never_fails_asks_for_no_failures_and_greying_follows_use():
    """Issue 16 F11: WH-IN, buffers, QA… (no mtbf_s) read "0 failures — needs ≥ 87 failures"; 0-failure rows
    were white and 1-failure rows grey."""
    cycle = Estimate(42.0, 0.5, 30)
    never = MachineEstimate("WH-IN", cycle, 0.1, 30, None, None, 0, "CycleTime signal", failures_modelled=False)
    none_yet = MachineEstimate("CNC-01", cycle, 0.1, 30, None, None, 0, "CycleTime signal")
    one = MachineEstimate(
        "CNC-03", cycle, 0.1, 30, exponential_mean(3 * 3600.0, 1, True), exponential_mean(600.0, 1, False), 1, "CycleTime signal"
    )
    cal = Calibration(0.0, 3600.0, 1.0, [never, none_yet, one], {})
    rows = calibration_rows(cal)
    assert rows[0][5:] == ["—", "—", "no failures modelled"] and "needs" not in " ".join(rows[0])
    assert rows[1][7] == "0 failures — needs ≥ 87 failures for ±25%"  # modelled, none seen yet
    assert rows[2][7] == "1 failure — needs ≥ 87 failures for ±25%"
    # grey exactly what a calibrated baseline does not use: no failure estimate in any of the three
    assert calibration_muted(cal) == [{5, 6, 7}, {5, 6, 7}, {5, 6, 7}]


def test_the_calibration_heading_counts_plant_time_at_a_faster_plant():
    """Issue 16 F11: at 120× "Estimated from 3 min of recorded history" while the rows held ~6 plant hours."""
    cal = Calibration(0.0, 180.0, 120.0, [], {})
    assert calibration_heading(cal).startswith(
        "Estimated from 6 h of plant time (3 min of recorded history at 120×) (95% intervals)."
    )
    assert calibration_heading(Calibration(0.0, 3600.0, 1.0, [], {})).startswith("Estimated from 60 min of recorded history (")


def test_an_unchanged_scenario_marks_a_machine_whose_actual_is_outside_as_plant_not_model_never_changed():
    """Trial 7: comparing "As it is", WH-IN and CNC-08 were marked "changed" — their actuals were outside the
    prediction, which a reader took as "the scenario changed this machine"."""
    same = Estimate(50.0, 1.0, 5)
    none = Estimate(0.0, 1.4, 5)
    outside = Row("utilisation", "Utilisation", "%", "WH-IN", 80.0, same, same, none, False, (47.0, 53.0), "outside")
    fits = Row("utilisation", "Utilisation", "%", "CNC-01", 50.0, same, same, none, None, (47.0, 53.0), "")
    c = Comparison([outside, fits], {}, ["CNC-01", "WH-IN"])
    assert machine_marks(c) == {"WH-IN": "plant ≠ model"}
    cells = row_cells(outside, machine_marks(c))
    assert cells[1].text == "plant ≠ model" and "outside the baseline's 95% prediction" in cells[1].tip
    assert row_cells(fits, machine_marks(c))[1].text == ""
    assert columns(True)[1] == "Difference" and "changed" not in changed_count(c)
    assert changed_count(c) == "1 of 2 machines differ (scenario ≠ baseline: 0, plant ≠ model: 1)"


def test_actual_figures_are_rounded_to_what_they_support():
    """Trial 7: "8.184", "73.34%", "29.82", "193.6" in the Actual column beside "74 ± 21", "193 ± 14"."""
    # a rate from a count: its Poisson interval (244 parts: ± 31 parts, ±13%: 37.8 parts/h, not 37.84)
    line = Row("throughput_per_h", "Throughput", "parts/h", None, 37.8361, Estimate(35.8, 5.1, 20), None, None, None, count=244.0)
    assert actual_text(line) == "37.8" and row_cells(line)[1].text == "37.8"
    few = Row("output_per_h", "Output", "parts/h", "M", 2.2222, Estimate(2.0, 0.5, 20), None, None, None, count=9.0)
    assert actual_text(few) == "2.2"  # 9 ± 5.9 parts
    assert actual_text(Row("output_per_h", "Output", "parts/h", "M", 0.0, None, None, None, None, count=0.0)) == "0"
    # shares from the state series: whole per cent at most, coarser beside a coarser baseline
    assert actual_text(Row("utilisation", "Utilisation", "%", "M", 73.34, Estimate(69.0, 2.4, 20), None, None, None)) == "73"
    assert actual_text(Row("state_down", "Down", "%", "M", 4.945, Estimate(5.0, 24.0, 20), None, None, None)) == "5"
    assert actual_text(Row("state_down", "Down", "%", "M", 0.2, Estimate(1.0, 0.5, 20), None, None, None)) == "< 1"
    # other figures: to the baseline interval's decimal place, at most 3 significant digits
    assert actual_text(Row("lead_time_min", "Lead time", "min", None, 29.82, Estimate(74.0, 21.0, 20), None, None, None)) == "30"
    energy = Row("energy_kwh_per_h", "Energy", "kWh/h", None, 193.6, Estimate(193.0, 14.0, 20), None, None, None)
    assert actual_text(energy) == "194"
    assert actual_text(Row("wip", "WIP", "parts", None, 8.184, None, None, None, None)) == "8.18"
    assert actual_text(Row("wip", "WIP", "parts", None, math.nan, None, None, None, None)) == "—"


def test_the_difference_words_stand_on_the_kpi_row_that_differs_not_on_every_row_of_the_machine():
    """Trial 8: "WH-IN | plant ≠ model | Starved (%) | 78 | 79 ± 21" read as if the starved share differed."""
    base = Estimate(7.2, 0.9, 20)
    outside = Row("utilisation", "Utilisation", "%", "WH-IN", 22.0, base, None, None, False, (6.0, 8.4), "outside")
    wide = Estimate(79.0, 21.0, 20)
    starved = Row("state_starved", "Starved", "%", "WH-IN", 78.0, wide, None, None, True, (58.0, 100.0), "fits")
    c = Comparison([outside, starved], {}, ["WH-IN"])
    marks = machine_marks(c)
    assert row_cells(outside, marks)[1].text == "plant ≠ model"
    quiet = row_cells(starved, marks)[1]
    assert quiet.text == "" and quiet.sort == 0.0  # no words, but sorted with its machine's differing rows
