"""Failures per server (issue 18): each of a station's c parallel servers fails and is repaired on its own, the
station keeps working with the others, and shows down only while all of them are down."""

from __future__ import annotations

import pytest

from app.model.factory import MachineSim
from app.model.signals import MACHINE_STATES
from app.sim.engine import simulate
from app.sim.kpis import estimate
from app.sim.model import compile_model
from tests.sim.helpers import INFINITE, SATURATED, det, exp, line, line_factory
from tests.sim.test_textbook import run

DOWN = MACHINE_STATES.index("down")
MTBF, MTTR = 1000.0, 100.0
A = MTBF / (MTBF + MTTR)  # availability of one server


def _within(est, value: float, sigmas: float = 3.0) -> bool:
    """``value`` inside ``sigmas`` standard errors of the estimate (several checks per run: 3σ, as test_textbook)."""
    return abs(est.mean - value) <= sigmas * est.half_width / 1.96


def _two_servers(failures: str, clock: str = "calendar", interarrival=SATURATED, **kw):
    station = {
        "cycle": det(10.0),
        "servers": 2,
        "input_buffer": 0,
        "mtbf_s": MTBF,
        "mttr_s": MTTR,
        "failures": failures,
        "failure_clock": clock,
    }
    return line([station], interarrival, horizon_s=4e5, warmup_s=1e4, replications=12, **kw)


def test_the_default_is_one_failure_for_the_whole_station():
    assert MachineSim().failures == "station"
    assert compile_model(line_factory([{}], exp(10.0), horizon_s=10.0, warmup_s=0.0)).stations[0].failures == "station"


def test_two_servers_failing_each_on_their_own_make_c_times_a_times_mu():
    # Two parallel servers, each with exponential calendar-time failures (MTBF 1000 s, MTTR 100 s, pre-emptive
    # resume) at a saturated input: each is an alternating renewal process up a share A = MTBF/(MTBF+MTTR)
    # (Hopp & Spearman, Factory Physics §8.4, eq. 8.10), independent of the other, so the station makes
    # c × A × μ = 2 × 10/11 × 360/h and shows down only while both are: (1 − A)² of the time.
    m = _two_servers("per_server")
    s = run(m)  # Little's law checked
    assert s.throughput_per_h["total"].contains(2 * A * 360.0), s.throughput_per_h["total"]
    assert _within(s.states["S0"]["down"], 1 - A), s.states["S0"]["down"]  # per server: 1/11 of its time
    results = [simulate(m, k) for k in range(m.replications)]
    shown_down = estimate([r.shown_state_s[0, DOWN] / r.measured_s for r in results])
    assert _within(shown_down, (1 - A) ** 2), shown_down
    # The same figures for the station as one (one failure clock stopping both): the same mean output, but it
    # shows down 1/11 of the time, eleven times as often as the station whose servers fail on their own.
    station = _two_servers("station")
    shown_station = estimate([r.shown_state_s[0, DOWN] / r.measured_s for r in (simulate(station, k) for k in range(12))])
    assert _within(shown_station, 1 - A), shown_station
    assert shown_station.mean > 5 * shown_down.mean


def test_one_server_down_leaves_the_others_working():
    # With the same failure data, a station whose one failure stops all servers never runs while down; per
    # server, the other server runs on: the station shows running while any server runs.
    m = _two_servers("per_server")
    r = simulate(m, 0)
    running_shown = r.shown_state_s[0, MACHINE_STATES.index("running")] / r.measured_s
    # running shown whenever at least one server is up: 1 − (1 − A)²
    assert running_shown == pytest.approx(1 - (1 - A) ** 2, abs=0.01)


@pytest.mark.parametrize("failures", ["station", "per_server"])
def test_a_starved_machine_with_operating_time_failures_never_fails(failures):
    # Orders every 10⁵ s for a 10 s cycle: the servers run 1/10⁴ of the time. Counting busy time, a failure
    # comes after MTBF = 1000 s of work, i.e. hardly ever in the run; counting calendar time, every 1100 s.
    busy = _two_servers(failures, "operating", interarrival=det(1e5))
    for k in range(3):
        assert simulate(busy, k).state_s[0, DOWN] == 0.0
    calendar = _two_servers(failures, "calendar", interarrival=det(1e5))
    down = estimate([simulate(calendar, k).state_s[0, DOWN] / (4e5 - 1e4) for k in range(3)])
    assert down.mean == pytest.approx(1 - A, rel=0.25)


def test_saturated_servers_with_operating_time_failures_are_up_a_share_a():
    # Saturated, a server runs whenever it is up: its busy-time clock runs all its up time, so it is up the
    # share A again (and the station makes c × A × μ).
    s = run(_two_servers("per_server", "operating"))
    assert s.throughput_per_h["total"].contains(2 * A * 360.0), s.throughput_per_h["total"]
    assert _within(s.states["S0"]["down"], 1 - A), s.states["S0"]["down"]


def test_a_line_with_per_server_failures_keeps_every_part_and_littles_law():
    # M/M/3 fed at λ = 0.2/s, each server down 1/11 of its time: parts wait, none is lost; what leaves is what
    # came in (the offered load 0.2 × 10 / (3 × 10/11) = 0.73 fits), behind it a one-server station.
    m = line(
        [
            {"cycle": exp(10.0), "servers": 3, "input_buffer": 5, "mtbf_s": MTBF, "mttr_s": MTTR, "failures": "per_server"},
            {"cycle": exp(3.0), "input_buffer": INFINITE},
        ],
        exp(5.0),
        horizon_s=2e5,
        warmup_s=1e4,
        replications=8,
    )
    s = run(m)  # Little's law checked
    assert s.throughput_per_h["total"].contains(720.0), s.throughput_per_h["total"]
