"""The engine started from a given state: no warm-up, the placed parts and breakdowns play out from time 0,
and without a start state every figure is what it was."""

from __future__ import annotations

import numpy as np
import pytest

from app.model.io import load_factory
from app.sim.engine import simulate
from app.sim.model import compile_model
from app.sim.start_state import StartState, StationStart
from tests.conftest import DEMO


@pytest.fixture(scope="module")
def model():
    return compile_model(load_factory(DEMO), horizon_s=3600.0, warmup_s=0.0, seed=5, sample_s=60.0)


def _with(model, station: str, start: StationStart) -> StartState:
    stations = [StationStart()] * len(model.stations)
    stations[model.index[station]] = start
    return StartState(tuple(stations))


def test_an_empty_start_gives_exactly_the_run_from_empty(model):
    a, b = simulate(model, 2), simulate(model, 2, start=StartState.empty(len(model.stations)))
    assert a.throughput == b.throughput and a.events == b.events
    assert np.array_equal(a.series_out, b.series_out) and np.allclose(a.state_s, b.state_s)


def test_parts_placed_at_the_last_station_leave_first(model):
    # From empty nothing crosses the line within a minute; ten parts waiting at WH-OUT (20 s each) leave now.
    empty = simulate(model, 0)
    placed = simulate(model, 0, start=_with(model, "WH-OUT", StationStart(((0, 5.0),), (1, 2, 3, 4, 0, 1, 2, 3, 4))))
    minute = 1  # the series' second sample, 60 s in
    assert empty.series_out[minute].sum() == 0
    assert placed.series_out[minute].sum() >= 2
    assert placed.series_out[-1].sum() >= 10
    assert placed.series_queue[0][model.index["WH-OUT"]] == 10  # counted as held at time 0


def test_a_machine_down_at_the_start_holds_its_parts_until_its_repair(model):
    start = _with(model, "WH-OUT", StationStart(((0, 5.0),), (1, 2), down_for_s=600.0))
    r = simulate(model, 0, start=start)
    t = r.series_t
    out = r.series_out.sum(axis=1)
    assert out[t < 600].max() == 0
    assert out[(t >= 720)].min() >= 3
    assert r.series_state[0][model.index["WH-OUT"]] == 4  # shown down from the start


def test_a_finished_part_whose_next_station_is_full_blocks_its_server(model):
    # QA-01's route (flow 0) goes on to WH-OUT: fill WH-OUT and down it, and QA-01's finished part waits.
    wh_out = model.stations[model.index["WH-OUT"]]
    full = StationStart(((0, 1.0),), (0,) * wh_out.buffer, down_for_s=1800.0)
    stations = list(_with(model, "WH-OUT", full).stations)
    stations[model.index["QA-01"]] = StationStart(((0, 0.0),))
    r = simulate(model, 0, start=StartState(tuple(stations)))
    qa = model.index["QA-01"]
    assert r.series_state[1][qa] == 3  # blocked a minute in
    assert r.state_s[qa][3] >= 1700  # and until WH-OUT is repaired


@pytest.mark.parametrize(
    ("start", "message"),
    [
        (StationStart(((0, 1.0), (1, 1.0))), "2 parts in service on 1 servers"),
        (StationStart((), (0,) * 300), "300 parts, room for 201"),
        (StationStart(((0, -1.0),)), "finite and ≥ 0"),
    ],
)
def test_an_impossible_start_is_refused_naming_the_station(model, start, message):
    with pytest.raises(ValueError, match=message) as e:
        simulate(model, 0, start=_with(model, "WH-OUT", start))
    assert "WH-OUT" in str(e.value)


def test_a_part_type_that_does_not_pass_the_station_is_refused(model):
    with pytest.raises(ValueError, match="CNC-01: part type 1 does not pass this station"):
        simulate(model, 0, start=_with(model, "CNC-01", StationStart((), (1,))))


def test_a_start_state_with_a_warm_up_is_refused():
    model = compile_model(load_factory(DEMO), horizon_s=3600.0, warmup_s=600.0)
    with pytest.raises(ValueError, match="no warm-up"):
        simulate(model, 0, start=StartState.empty(len(model.stations)))
