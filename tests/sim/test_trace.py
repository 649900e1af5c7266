"""The simulation's state trace (the state Gantt's bars): it covers its window without a gap or an overlap,
its totals are the engine's own state shares, and tracing changes nothing of the run."""

from __future__ import annotations

import numpy as np
import pytest

from app.model.factory import Calendar, MaintenanceWindow
from app.model.io import load_factory
from app.model.signals import MACHINE_STATES
from app.paths import DEMO_FACTORY
from app.sim.engine import simulate
from app.sim.model import compile_model
from app.sim.trace import StateTrace, shown_code, traced_run
from tests.sim.helpers import SATURATED, exp, line_factory

DAY = 86_400.0


def _shifted_line():
    """Two stations, one of two servers, with failures, setups, a shift calendar and a maintenance window."""
    cal = Calendar(
        start_date="2026-11-30",
        shifts={"daily": [{"start": "06:00", "end": "22:00", "breaks": [{"start": "12:00", "end": "12:30"}]}]},
        maintenance=[MaintenanceWindow(machines=["S1"], weekday="tuesday", start="08:00", end="10:00")],
    )
    f = line_factory(
        [
            {"cycle": exp(20.0), "servers": 2, "mtbf_s": 3000.0, "mttr_s": 300.0, "input_buffer": 2},
            {"cycle": exp(9.0), "mtbf_s": 2000.0, "mttr_s": 200.0, "input_buffer": 1},
        ],
        SATURATED,
        horizon_s=3 * DAY,
        warmup_s=3600.0,
        replications=1,
    )
    return compile_model(f.model_copy(update={"simulation": f.simulation.model_copy(update={"calendar": cal})}))


def _per_server_line():
    """The shifted line, its first station's servers failing each on their own (calendar time) and a third
    station of three servers failing each on their own in operating time."""
    cal = Calendar(
        start_date="2026-11-30",
        shifts={"daily": [{"start": "06:00", "end": "22:00", "breaks": [{"start": "12:00", "end": "12:30"}]}]},
        maintenance=[MaintenanceWindow(machines=["S1", "S2"], weekday="tuesday", start="08:00", end="10:00")],
    )
    f = line_factory(
        [
            {"cycle": exp(20.0), "servers": 2, "mtbf_s": 3000.0, "mttr_s": 300.0, "input_buffer": 2, "failures": "per_server"},
            {"cycle": exp(9.0), "mtbf_s": 2000.0, "mttr_s": 200.0, "input_buffer": 1},
            {
                "cycle": exp(25.0),
                "servers": 3,
                "mtbf_s": 500.0,
                "mttr_s": 400.0,
                "input_buffer": 1,
                "failures": "per_server",
                "failure_clock": "operating",
            },
        ],
        SATURATED,
        horizon_s=3 * DAY,
        warmup_s=3600.0,
        replications=1,
    )
    return compile_model(f.model_copy(update={"simulation": f.simulation.model_copy(update={"calendar": cal})}))


def _covers(starts: np.ndarray, ends: np.ndarray, t0: float, t1: float) -> None:
    assert starts[0] == t0 and ends[-1] == t1
    assert (starts[1:] == ends[:-1]).all(), "a gap or an overlap between two intervals"
    assert (ends > starts).all()


def _demo():
    return compile_model(load_factory(DEMO_FACTORY), horizon_s=8 * 3600.0, warmup_s=3600.0)


@pytest.mark.parametrize("make", [_shifted_line, _per_server_line, _demo])
def test_the_trace_covers_the_window_and_sums_to_the_engines_state_shares(make):
    model = make()
    result = simulate(model)
    trace = traced_run(model, t0=model.warmup_s)
    assert trace.window == (model.warmup_s, model.horizon_s)
    for i, station in enumerate(model.stations):
        for s in range(station.servers):
            _covers(*trace.server_intervals(i, s)[:2], model.warmup_s, model.horizon_s)
        starts, ends, codes = trace.shown_intervals(i)
        _covers(starts, ends, model.warmup_s, model.horizon_s)
        assert (codes[1:] != codes[:-1]).all(), "two intervals of one state side by side"
    # per server, divided by the station's servers: exactly what the engine books (to rounding)
    np.testing.assert_allclose(trace.server_seconds(), result.state_s, rtol=0, atol=1e-6)
    for i in range(len(model.stations)):
        # as the station shows it (running while any server runs): the engine's books of shown time; for a
        # station of one server, its server's time
        starts, ends, codes = trace.shown_intervals(i)
        shown = np.bincount(codes, weights=ends - starts, minlength=len(MACHINE_STATES))
        np.testing.assert_allclose(shown, result.shown_state_s[i], atol=1e-6)
    assert any(s.servers > 1 for s in model.stations)  # the multi-server case is checked


def test_the_shifted_line_shows_every_kind_of_stop():
    model = _shifted_line()
    trace = traced_run(model, t0=0.0)
    seen = {MACHINE_STATES[c] for i in range(2) for c in trace.shown_intervals(i)[2]}
    assert {"running", "down", "off_shift", "maintenance", "blocked"} <= seen


def test_a_window_inside_the_run_starts_with_the_state_then():
    model = _shifted_line()
    whole = traced_run(model, t0=0.0)
    part = traced_run(model, t0=DAY, t1=DAY + 7200.0)
    assert part.window == (DAY, DAY + 7200.0)
    for i in range(2):
        s0, e0, c0 = whole.shown_intervals(i)
        s1, _e1, c1 = part.shown_intervals(i)
        k = np.searchsorted(e0, DAY, side="right")  # the whole run's interval holding DAY
        assert c1[0] == c0[k]
        inside = (s0 > DAY) & (s0 < DAY + 7200.0)
        np.testing.assert_array_equal(s1[1:], s0[inside])


def test_tracing_changes_nothing_of_the_run():
    model = _shifted_line()
    plain = simulate(model)
    traced = simulate(model, trace=StateTrace(model.warmup_s))
    assert traced.throughput == plain.throughput
    np.testing.assert_array_equal(traced.state_s, plain.state_s)
    assert traced.events == plain.events


def test_a_window_must_end_after_it_starts():
    with pytest.raises(ValueError, match="must end after it starts"):
        StateTrace(10.0, 10.0)


def test_a_station_shows_running_while_any_server_runs():
    running, setup, starved, blocked, down = (MACHINE_STATES.index(n) for n in ("running", "setup", "starved", "blocked", "down"))
    assert shown_code((starved, blocked, running)) == running
    assert shown_code((starved, setup)) == setup
    assert shown_code((starved, blocked)) == blocked
    assert shown_code((starved, starved)) == starved
    assert shown_code((down, down)) == down
