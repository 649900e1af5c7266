"""Material heat maps: holding points, WIP per machine, no data, hot spots, flow shares, rates, CSV, colours."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from app.heat.colour import HATCH_RGB, grid_rgba, grid_table, lut
from app.heat.material import (
    MIN_PARTS,
    ThroughputMeter,
    counter_rates,
    flow_shares,
    grid_csv,
    holding_points,
    machine_hot_spots,
    path_flows,
    path_sources,
    wip_hot_spots,
    wip_spreader,
)
from app.model.factory import Distribution, Factory, Floor, Footprint, Machine, PartFlow, Pose, TransportPath, Wall


def _machine(mid: str, x: float, y: float, w: float = 2.0, d: float = 2.0, yaw: float = 0.0) -> Machine:
    return Machine(
        id=mid, name=mid, kind="cnc", asset="a", pose=Pose(x_m=x, y_m=y, yaw_deg=yaw), footprint=Footprint(width_m=w, depth_m=d)
    )


def _factory(machines, transports=(), flows=(), walls=()) -> Factory:
    return Factory(
        name="t",
        floor=Floor(width_m=40, depth_m=20, walls=list(walls)),
        machines=list(machines),
        transports=list(transports),
        flows=list(flows),
    )


def test_a_long_machine_holds_its_wip_along_its_long_side():
    f = _factory([_machine("A", 10, 10), _machine("CV", 20, 10, w=1.0, d=6.0, yaw=90.0)])
    pts, owners = holding_points(f)
    assert list(owners) == [0, 1, 1, 1, 1]  # a 2 m machine is one point; a 6 m conveyor four, 1.5 m apart
    conveyor = pts[owners == 1]
    # depth is its long side; turned by 90° the depth axis points along -x
    assert np.allclose(conveyor[:, 1], 10.0) and np.allclose(sorted(conveyor[:, 0]), [17.75, 19.25, 20.75, 22.25])


def test_wip_per_machine_is_conserved_split_along_conveyors_and_walls_count():
    wall = Wall(id="W", points=[[15.0, 0.0], [15.0, 20.0]])
    f = _factory([_machine("A", 10, 10), _machine("CV", 20, 10, w=6.0, d=1.0)], walls=[wall])
    s = wip_spreader(f, cell_m=0.25, radius_m=2.0)
    g = s.grid([4.0, 8.0])
    assert g.sum() == pytest.approx(12.0)
    assert g[:, : 15 * 4].sum() == pytest.approx(4.0)  # the wall at x = 15 keeps A's parts on its side
    row = g[40, :]  # y = 10.125: along the conveyor, its parts spread over its whole length
    assert row[4 * 17 : 4 * 23].min() > 0.25 * row[4 * 17 : 4 * 23].max()


def test_no_data_marks_cells_that_would_come_from_unknown_machines():
    f = _factory([_machine("A", 10, 10), _machine("B", 30, 10)])
    s = wip_spreader(f, cell_m=0.5, radius_m=2.0)
    g = s.grid([3.0, np.nan])
    nd = s.no_data(np.array([True, False]))
    assert g.sum() == pytest.approx(3.0) and s.ignored == 1
    assert nd[20, 60] and not nd[20, 20]  # around B: no data (not zero WIP); around A: a value
    assert not nd[0, 0]  # far from everything: neither


def test_hot_spots_are_distinct_peaks_named_after_the_nearest_machine():
    f = _factory([_machine("A", 10, 10), _machine("B", 30, 10)])
    s = wip_spreader(f, cell_m=0.25, radius_m=2.0)
    density = s.grid([2.0, 6.0]) / 0.0625
    spots = wip_hot_spots(density, 0.25, 5, f)
    assert [h.label for h in spots] == ["near B", "near A"]  # one peak each (a plateau is one spot)
    assert spots[0].value == pytest.approx(density.max()) and abs(spots[0].x_m - 30) < 0.5
    m = machine_hot_spots(f, np.array([50.0, 70.0]), np.array([True, False]), 5)
    assert [h.label for h in m] == ["A"]  # B's value is unknown: not a hot spot


def test_flow_shares_follow_part_flows_weighted_by_arrival_rate():
    ms = [_machine(i, 5 * k + 3, 5) for k, i in enumerate("SABC")]
    tr = [
        TransportPath(id="T1", from_machine="S", to_machine="A"),
        TransportPath(id="T2", from_machine="S", to_machine="B"),
        TransportPath(id="T3", from_machine="A", to_machine="C"),
        TransportPath(id="T4", from_machine="A", to_machine="B"),
    ]
    flows = [
        PartFlow(part="p", routing=["S", "A", "C"], interarrival=Distribution(mean_s=600)),  # 6 parts/h
        PartFlow(part="q", routing=["S", "B"], interarrival=Distribution(mean_s=1800)),  # 2 parts/h
    ]
    f = _factory(ms, tr, flows)
    shares = flow_shares(f)
    assert shares == pytest.approx([0.75, 0.25, 1.0, 0.0])
    out = path_flows(path_sources(f), shares, np.array([40.0, 10.0, np.nan, 0.0]))
    assert out == pytest.approx([30.0, 10.0, 10.0, 0.0])
    # No flows at all: a machine's output splits equally over its paths.
    assert flow_shares(_factory(ms, tr)) == pytest.approx([0.5, 0.5, 0.5, 0.5])
    assert np.isnan(path_flows(path_sources(f), shares, np.array([np.nan, 1.0, 1.0, 1.0]))[0])


def test_throughput_meter_rates_from_counters():
    m = ThroughputMeter(window_s=100, min_parts=1)  # the arithmetic; how many parts make a rate: below
    assert m.rates() is None
    m.add(0.0, [np.nan, 10, 5])
    m.add(10.0, [100, 12, 7])
    m.add(20.0, [102, 14, 1])  # the third counter was reset
    r = m.rates()
    assert r[0] == pytest.approx(2 / 10 * 3600)  # known since t = 10 only
    assert r[1] == pytest.approx(4 / 20 * 3600)
    assert np.isnan(r[2])
    for t in range(30, 200, 10):
        m.add(float(t), [102 + t, 14, 1])
    assert m.rates()[0] == pytest.approx(3600.0)  # the window slid: the last 100 s
    assert counter_rates(np.array([1.0]), np.array([2.0]), 0.0)[0] != counter_rates(np.array([1.0]), np.array([2.0]), 0.0)[0]


def test_no_rate_until_the_window_holds_enough_parts():
    """Right after connecting a few parts extrapolate to absurd rates (the plant makes 27/h): none is given
    until the counts cover MIN_PARTS parts or the whole window."""
    m = ThroughputMeter(window_s=300.0)
    rate_h = 27.0
    shown = []
    for t in range(0, 301):  # one reading a second, as the live link takes them
        parts = np.floor((t + 131.0) * rate_h / 3600.0)  # a part at t = 2 s: "1 part in 2 s" would be 1800/h
        m.add(float(t), np.array([1000.0 + parts]))
        r = m.rates()
        if r is not None and t < 300:
            shown.append(r[0])
            assert np.isnan(r[0]) and m.counting()[0]  # grey: still counting
    assert len(shown) == 299
    assert m.rates()[0] == pytest.approx(3 / 300 * 3600)  # the whole window: 3 parts in 5 min
    assert not m.counting()[0]
    busy = ThroughputMeter(window_s=300.0)
    busy.add(0.0, np.array([0.0]))
    busy.add(20.0, np.array([float(MIN_PARTS)]))  # enough parts before the window is full
    assert busy.rates()[0] == pytest.approx(MIN_PARTS / 20 * 3600)


def test_grid_csv_holds_every_cell_and_the_total():
    g = np.zeros((2, 3))
    g[1, 2] = 5.0
    nd = np.zeros((2, 3), dtype=bool)
    nd[0, 0] = True
    text = grid_csv(g, nd, 0.5, "Plant", None)
    lines = text.splitlines()
    assert lines[0].startswith("# floortwin WIP density of Plant, live") and "total 5 parts" in lines[1]
    assert lines[2] == "x_m,y_m,parts,parts_per_m2,no_data"
    table = np.loadtxt(io.StringIO(text), delimiter=",", comments="#", skiprows=3)
    assert table.shape == (6, 5)
    assert table[:, 2].sum() == 5.0 and table[5].tolist() == [1.25, 0.75, 5.0, 20.0, 0.0]
    assert table[0, 4] == 1.0


def test_grid_colours_are_transparent_at_zero_hatched_without_data():
    out = np.zeros((2, 4, 4), dtype=np.uint8)
    values = np.array([[0.0, 1.0, 2.0, 3.0], [0.0, 0.0, 0.0, math.inf]])
    nd = np.zeros((2, 4), dtype=bool)
    nd[1, 1] = True
    grid_rgba(out, values, nd, 0.0, 2.0, grid_table("viridis", 0.5))
    assert out[0, 0, 3] == 0 and out[1, 0, 3] == 0  # no WIP: the floor shows
    assert tuple(out[0, 2, :3]) == tuple(lut("viridis")[-1]) and out[0, 2, 3] == 128
    assert tuple(out[0, 3]) == tuple(out[0, 2])  # above the range: clipped to its top
    assert tuple(out[1, 1, :3]) in {tuple(c) for c in HATCH_RGB}  # no data: grey hatch, never "zero"
