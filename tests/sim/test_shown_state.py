"""What a station of several servers shows (issue 16): the plant's one State tag reads running while any server
runs; the engine books the time of that shown state beside each server's time, with the same definition."""

from __future__ import annotations

import math

import numpy as np

from app.model.factory import Calendar, MaintenanceWindow, Shift
from app.model.signals import MACHINE_STATES
from app.sim.engine import Engine, shown_state, simulate
from app.sim.kpis import estimate
from app.sim.model import compile_model
from tests.sim.helpers import INFINITE, exp, line, line_factory, stored_and_loaded

RUNNING, STARVED = MACHINE_STATES.index("running"), MACHINE_STATES.index("starved")
STOPS = [MACHINE_STATES.index(s) for s in ("down", "off_shift", "maintenance")]


def erlang_p0(lam: float, mu: float, c: int) -> float:
    """Share of time an M/M/c station is empty (Gross & Harris, Fundamentals of Queueing Theory, eq. 2.33)."""
    a = lam / mu
    return 1 / (sum(a**k / math.factorial(k) for k in range(c)) + a**c / math.factorial(c) / (1 - a / c))


def test_an_mmc_station_shows_running_while_any_server_runs():
    # M/M/3, λ = μ = 0.1/s: each server runs ρ = 1/3 of the time, the station shows running 1 − π₀ = 1 − 4/11.
    station = {"cycle": exp(10.0), "servers": 3, "input_buffer": INFINITE}
    m = line([station], exp(10.0), horizon_s=2e5, warmup_s=1e4, replications=12)
    results = [simulate(m, k) for k in range(m.replications)]
    shown = estimate([r.shown_state_s[0, RUNNING] / r.measured_s for r in results])
    p0 = erlang_p0(0.1, 0.1, 3)
    assert p0 == 4 / 11
    # at 3σ: with three checks per run, one 95% miss in twenty is expected (across seeds 1–3 the 95% CI covers it)
    assert abs(shown.mean - (1 - p0)) < 3 * shown.half_width / 1.96, shown
    starved = estimate([r.shown_state_s[0, STARVED] / r.measured_s for r in results])
    assert abs(starved.mean - p0) < 3 * starved.half_width / 1.96, starved
    per_server = estimate([r.state_s[0, RUNNING] / r.measured_s for r in results])  # unchanged: each server's time
    assert abs(per_server.mean - 1 / 3) < 3 * per_server.half_width / 1.96, per_server


def test_shown_books_cover_the_run_and_stops_are_every_servers():
    """Every second of the measured time is in one shown state; a station of one server shows its server's
    state; a stop (failure, off shift, maintenance) stops all servers, so shown and per-server stop time agree."""
    f = line_factory(
        [
            {"cycle": exp(9.0), "servers": 2, "mtbf_s": 4000.0, "mttr_s": 300.0},
            {"cycle": exp(6.0), "mtbf_s": 3000.0, "mttr_s": 200.0},
            {"cycle": exp(20.0), "servers": 4, "setup_s": 5.0},
        ],
        exp(8.0),
        horizon_s=3 * 86400.0,
        warmup_s=3600.0,
        replications=2,
    )
    calendar = Calendar(
        shifts={"daily": [Shift(start="06:00", end="22:00")]},
        maintenance=[MaintenanceWindow(weekday="tuesday", start="08:00", end="10:00", machines=["S2"])],
    )
    f = f.model_copy(update={"simulation": f.simulation.model_copy(update={"calendar": calendar})})
    r = simulate(compile_model(f), 1)
    assert r.shown_state_s.shape == r.state_s.shape
    np.testing.assert_allclose(r.shown_state_s.sum(axis=1), r.measured_s, rtol=1e-9)
    np.testing.assert_allclose(r.shown_state_s[1], r.state_s[1])  # one server
    np.testing.assert_allclose(r.shown_state_s[:, STOPS], r.state_s[:, STOPS], rtol=1e-9, atol=1e-6)
    assert r.state_s[0, STOPS[0]] > 0 and r.state_s[2, STOPS[2]] > 0 and r.state_s[:, STOPS[1]].min() > 0
    # running while any server runs: at least each server's share, at most all of theirs together
    for i, c in ((0, 2), (2, 4)):
        assert r.state_s[i, RUNNING] < r.shown_state_s[i, RUNNING] <= c * r.state_s[i, RUNNING]


def test_the_plants_state_tag_and_the_engines_books_have_one_definition():
    """The plant publishes ``snapshot()["state"]``: sampled finely, the time it reads each state is what the
    engine booked as shown (to within the sampling step)."""
    m = line(
        [{"cycle": exp(30.0), "servers": 3, "input_buffer": 2}, {"cycle": exp(12.0), "mtbf_s": 2000.0, "mttr_s": 200.0}],
        exp(11.0),
        horizon_s=20000.0,
        warmup_s=0.0,
        replications=1,
    )
    eng = Engine(m)
    step = 0.25
    seen = np.zeros((2, len(MACHINE_STATES)))
    t = 0.0
    while t < m.horizon_s:
        codes = eng.snapshot()["state"]
        seen[np.arange(2), codes] += step
        t += step
        eng.run_until(t)
    r = eng.finish()
    assert r.shown_state_s[0, MACHINE_STATES.index("blocked")] > 100  # the three servers do get blocked
    np.testing.assert_allclose(seen / m.horizon_s, r.shown_state_s / r.measured_s, atol=0.01)


def test_shown_state_precedence():
    run, setup, idle, blocked, down = 0, 1, 2, 3, 4
    assert shown_state([idle, blocked, setup], 0) == setup
    assert shown_state([blocked, idle], 0) == blocked
    assert shown_state([idle, idle], 0) == idle
    assert shown_state([run, idle], down) == down


def test_shown_books_are_stored_and_a_file_without_them_has_none(tmp_path):
    import sqlite3

    m = line([{"cycle": exp(10.0), "servers": 2}], exp(8.0), horizon_s=5000.0, warmup_s=500.0, replications=2)
    results = [simulate(m, k) for k in range(2)]
    loaded = stored_and_loaded(m, results, tmp_path / "r.sqlite")
    for a, b in zip(results, loaded, strict=True):
        np.testing.assert_allclose(b.shown_state_s, a.shown_state_s)
    con = sqlite3.connect(tmp_path / "r.sqlite")  # as a file written before the shown books were kept
    con.execute("UPDATE machine_kpis SET shown_running_s = NULL")
    con.commit()
    con.close()
    from app.sim.results import load_run

    assert load_run(tmp_path / "r.sqlite")[1][0].shown_state_s.size == 0
