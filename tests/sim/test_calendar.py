"""Shift calendars in the engine: textbook checks (exact where the model is deterministic, within the 95%
interval of the replications otherwise), and Little's law on every run."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from app.model.calendar import WEEKDAYS
from app.model.factory import Break, Calendar, MaintenanceWindow, PartFlow, Shift, SimulationSettings
from app.sim.engine import simulate
from app.sim.kpis import format_summary
from app.sim.model import compile_model
from app.sim.runner import run_replications
from tests.sim.helpers import INFINITE, SATURATED, det, exp, line_factory, stored_and_loaded
from tests.sim.test_textbook import run

DAY = 86_400.0
EARLY = Calendar(shifts={"daily": [Shift(start="06:00", end="14:00")]})


def with_calendar(factory, calendar: Calendar | None, **flow):
    sim = factory.simulation.model_copy(update={"calendar": calendar})
    flows = [f.model_copy(update=flow) for f in factory.flows]
    return compile_model(factory.model_copy(update={"simulation": sim, "flows": flows}))


def test_a_saturated_machine_on_one_8_hour_shift_a_day_makes_exactly_a_third():
    f = line_factory([{"cycle": det(10.0), "input_buffer": 0}], SATURATED, horizon_s=10 * DAY, warmup_s=DAY, replications=1)
    always, shifted = run(with_calendar(f, None)), run(with_calendar(f, EARLY))
    assert always.throughput_per_h["total"].mean == pytest.approx(360.0)
    assert shifted.throughput_per_h["total"].mean == pytest.approx(360.0 / 3, rel=1e-9)
    assert shifted.states["S0"]["off_shift"].mean == pytest.approx(2 / 3, rel=1e-9)
    assert shifted.states["S0"]["running"].mean == pytest.approx(1 / 3, rel=1e-9)


def test_random_cycles_on_one_shift_a_day_make_a_third_within_the_interval():
    f = line_factory(
        [{"cycle": exp(10.0), "input_buffer": 0}], SATURATED, horizon_s=30 * DAY, warmup_s=DAY, replications=10, seed=11
    )
    s = run(with_calendar(f, EARLY))
    assert s.throughput_per_h["total"].contains(120.0), s.throughput_per_h["total"]


def test_littles_law_and_mm1_on_shift():
    # Orders arriving only on shift see an M/M/1 that pauses as a whole between shifts: in working time it is
    # the plain M/M/1 (W = 40 s of working time), and Little's law holds in calendar time (checked by run()).
    f = line_factory(
        [{"cycle": exp(8.0), "input_buffer": INFINITE}], exp(10.0), horizon_s=40 * DAY, warmup_s=DAY, replications=10
    )
    s = run(with_calendar(f, EARLY))
    assert s.throughput_per_h["total"].contains(360.0 / 3), s.throughput_per_h["total"]
    assert s.utilisation["S0"].contains(0.8 / 3), s.utilisation["S0"]


def test_littles_law_with_orders_around_the_clock():
    # Orders arrive around the clock and wait for the shift (two shifts on weekdays, with breaks): the lead
    # time includes the nights and weekends, and Little's law still holds. The run ends on a Friday at 22:30,
    # when the evening shift has worked off the day (Little's law counts the parts still inside at the end).
    cal = Calendar(
        shifts={
            "weekdays": [
                Shift(start="06:00", end="14:00", breaks=[Break(start="09:00", end="09:30")]),
                Shift(start="14:00", end="22:00", breaks=[Break(start="18:00", end="18:30")]),
            ]
        }
    )
    f = line_factory(
        [{"cycle": exp(8.0), "input_buffer": INFINITE}, {"cycle": exp(5.0), "input_buffer": 3}],
        exp(40.0),
        horizon_s=32 * DAY + 22.5 * 3600,
        warmup_s=0,
        replications=8,
    )
    s = run(with_calendar(f, cal, arrivals="always"))
    # The line can make 450/h × 75 h a week, so all the 90/h that arrive are made (a few at the end are not).
    assert s.throughput_per_h["total"].high > 90.0 * 0.998 and s.throughput_per_h["total"].low < 90.0
    assert s.lead_time_s["total"].mean > 3600  # weekends and nights are in the lead time


def test_a_break_during_a_long_cycle_resumes_it():
    # One part arrives at 08:30; its 2-h cycle stops for the 09:00–09:30 break and ends at 11:00: 2.5 h of
    # lead time, by hand. The second order (17:00) enters the machine's buffer, waits for the next morning's
    # shift and ends at 08:00: 15 h.
    cal = Calendar(shifts={"daily": [Shift(start="06:00", end="14:00", breaks=[Break(start="09:00", end="09:30")])]})
    f = line_factory([{"cycle": det(7200.0)}], det(8.5 * 3600), horizon_s=DAY + 9 * 3600, warmup_s=0, replications=1)
    r = simulate(with_calendar(f, cal, arrivals="always"))
    assert r.throughput == [2]
    assert r.lead_time_sum_s[0] == 2.5 * 3600 + 15 * 3600
    assert r.order_lead_sum_s[0] == 2.5 * 3600 + 15 * 3600


def test_orders_on_shift_arrive_in_working_time():
    # Every 4 working hours on a 06:00–14:00 shift: 10:00; the next falls at the shift's end, which is no
    # working time, so at 06:00 the next day; then 10:00. Three orders in two days.
    f = line_factory([{"cycle": det(60.0)}], det(4 * 3600.0), horizon_s=2 * DAY, warmup_s=0, replications=1)
    m = with_calendar(f, EARLY)
    r = simulate(m)
    assert r.orders == [3.0]
    assert m.timetable is not None and m.timetable.after(0.0, 4 * 3600.0) == 10 * 3600
    assert m.timetable.after(10 * 3600, 4 * 3600.0) == DAY + 6 * 3600


def _two_machine_throughput(mu: float, b: int, f: float, r: float, operating: bool) -> float:
    """Throughput per hour of a saturated two-machine line with a buffer of b places between identical
    exponential machines (rate mu) with exponential failures (rate f) and repairs (rate r), blocking after
    service, pre-emptive resume: the continuous-time Markov chain on (n, up1, up2), n = parts past machine 1
    (0 … b + 2, b + 2 meaning machine 1 holds a blocked part), solved for its stationary distribution.
    Calendar-time failures strike a machine that is up whatever it does; operation-dependent ones only while
    it works (machine 1 not blocked, machine 2 not starved). Buzacott & Shanthikumar, Stochastic Models of
    Manufacturing Systems (1993), §3.4; Gershwin, Manufacturing Systems Engineering (1994), ch. 3."""
    top = b + 2
    states = list(itertools.product(range(top + 1), (0, 1), (0, 1)))
    at = {s: k for k, s in enumerate(states)}
    q = np.zeros((len(states), len(states)))
    for (n, u1, u2), k in at.items():

        def go(to: tuple[int, int, int], rate: float, k: int = k) -> None:
            q[k, at[to]] += rate
            q[k, k] -= rate

        if u1 and n < top:
            go((n + 1, u1, u2), mu)
        if u2 and n >= 1:
            go((n - 1, u1, u2), mu)
        if u1 and (n < top or not operating):
            go((n, 0, u2), f)
        if u2 and (n >= 1 or not operating):
            go((n, u1, 0), f)
        if not u1:
            go((n, 1, u2), r)
        if not u2:
            go((n, u1, 1), r)
    a = np.vstack([q.T, np.ones(len(states))])
    pi = np.linalg.lstsq(a, np.r_[np.zeros(len(states)), 1.0], rcond=None)[0]
    return 3600 * mu * sum(pi[k] for (n, _, u2), k in at.items() if u2 and n >= 1)


@pytest.mark.parametrize("clock", ["calendar", "operating"])
def test_two_machine_line_with_calendar_or_operating_time_failures_meets_its_markov_chain(clock):
    expected = _two_machine_throughput(0.1, 2, 1 / 200, 1 / 100, clock == "operating")
    other = _two_machine_throughput(0.1, 2, 1 / 200, 1 / 100, clock != "operating")
    assert abs(expected - other) > 15  # 144 vs 166 parts/h: the test tells the two clocks apart
    machine = {"cycle": exp(10.0), "mtbf_s": 200.0, "mttr_s": 100.0, "failure_clock": clock}
    f = line_factory(
        [{**machine, "input_buffer": 0}, {**machine, "input_buffer": 2}],
        SATURATED,
        horizon_s=4e5,
        warmup_s=1e4,
        replications=12,
        seed=5,
    )
    s = run(compile_model(f))
    assert s.throughput_per_h["total"].contains(expected), (s.throughput_per_h["total"], expected, other)


def test_planned_maintenance_is_its_own_state_and_holidays_have_no_shift():
    # Around the clock but for a weekly 4-h maintenance window of S0 (Saturdays) and a holiday: 2 weeks from
    # Monday 2026-11-30 (the holiday, 2026-12-08, is a Tuesday): S0 is in maintenance 8 h of 14 days.
    cal = Calendar(
        start_date="2026-11-30",
        shifts={"daily": [Shift(start="00:00", end="24:00")]},
        holidays=["2026-12-08"],
        maintenance=[MaintenanceWindow(machines=["S0"], weekday="saturday", start="06:00", end="10:00")],
    )
    f = line_factory([{"cycle": det(10.0), "input_buffer": 0}], SATURATED, horizon_s=14 * DAY, warmup_s=0, replications=1)
    m = with_calendar(f, cal)
    s = run(m)
    assert s.states["S0"]["maintenance"].mean == pytest.approx(8 / (14 * 24))
    assert s.states["S0"]["off_shift"].mean == pytest.approx(1 / 14)
    assert s.states["S0"]["down"].mean == 0
    hours = 14 * 24
    # to a part: the last one ends on the horizon
    assert s.throughput_per_h["total"].mean == pytest.approx(360 * (1 - 8 / hours - 1 / 14), abs=1.5 / hours)
    text = format_summary(s, m)
    assert "off_shift" in text and "maintenance" in text


def test_no_calendar_report_has_no_planned_stop_columns():
    m = compile_model(line_factory([{"cycle": det(10.0)}], det(20.0), horizon_s=DAY, warmup_s=0, replications=1))
    text = format_summary(run(m), m)
    assert "off_shift" not in text and "maintenance" not in text


def test_a_calendar_run_is_stored_and_read_back(tmp_path):
    f = line_factory([{"cycle": det(10.0), "input_buffer": 0}], SATURATED, horizon_s=3 * DAY, warmup_s=0, replications=1)
    m = with_calendar(f, EARLY)
    results = run_replications(m, workers=1)
    back = stored_and_loaded(m, results, tmp_path / "r.sqlite", "shifts")
    assert np.allclose(back[0].state_s, results[0].state_s)
    assert back[0].state_s[0, 5] == pytest.approx(2 * DAY)  # 16 h off shift a day


def test_arrival_choice_is_per_source():
    flows = [
        PartFlow(part="A", routing=["S0"], interarrival=det(3600.0)),
        PartFlow(part="B", routing=["S0"], interarrival=det(3600.0), arrivals="always"),
    ]
    f = line_factory([{"cycle": det(60.0)}], det(1.0), horizon_s=DAY, warmup_s=0, replications=1, flows=flows)
    f = f.model_copy(update={"simulation": SimulationSettings(horizon_s=DAY, warmup_s=0, replications=1, calendar=EARLY)})
    r = simulate(compile_model(f))
    assert r.orders == [7.0, 24.0]  # A: one per working hour (07:00 … 13:00; 14:00 is the next day's 06:00); B: hourly


def test_a_machine_with_no_working_time_is_named_in_the_warnings():
    from app.sim.model import overload_warnings

    # Maintenance on S0 around the clock, every day: it can make nothing.
    windows = [MaintenanceWindow(machines=["S0"], weekday=d, start="00:00", end="24:00") for d in WEEKDAYS]
    cal = Calendar(shifts={"daily": [Shift(start="00:00", end="24:00")]}, maintenance=windows)
    f = line_factory([{"cycle": det(10.0)}], det(60.0), horizon_s=2 * DAY, warmup_s=0, replications=1)
    m = with_calendar(f, cal)
    assert overload_warnings(m) == [
        "S0 has parts to make but no working time in the run (its calendar: shifts, maintenance): orders for it wait to the end"
    ]
    assert simulate(m).throughput == [0]


def test_a_calendar_with_only_maintenance_works_around_the_clock():
    cal = Calendar(maintenance=[MaintenanceWindow(machines=["S0"], weekday="monday", start="06:00", end="12:00")])
    f = line_factory([{"cycle": det(10.0), "input_buffer": 0}], SATURATED, horizon_s=DAY, warmup_s=0, replications=1)
    s = run(with_calendar(f, cal))
    assert s.states["S0"]["maintenance"].mean == pytest.approx(0.25)
    assert s.states["S0"]["off_shift"].mean == 0
    assert s.throughput_per_h["total"].mean == pytest.approx(360 * 0.75, abs=1 / 24)
