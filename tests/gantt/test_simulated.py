"""The state Gantt's bars from a simulation: replication 1 traced over a window, one row per simulated
machine in the factory tree's order; each row covers the window, and its totals are the engine's shares."""

from __future__ import annotations

import numpy as np

from app.gantt import GanttService, tree_order
from app.model.io import load_factory
from app.model.signals import MACHINE_STATES
from app.paths import DEMO_FACTORY
from app.sim.engine import simulate
from app.sim.model import compile_model

HOUR = 3600.0


def test_rows_cover_the_window_and_sum_to_the_engines_state_shares():
    factory = load_factory(DEMO_FACTORY)
    model = compile_model(factory, horizon_s=6 * HOUR, warmup_s=HOUR)
    result = simulate(model)  # replication 1 (index 0), measured after the warm-up
    service = GanttService(sync=True)
    got = []
    service.ready.connect(got.append)
    service.show_simulated(model, factory, HOUR, 6 * HOUR, "Demo plant as it is")
    bars = got[0]
    assert not bars.clock and bars.window == (HOUR, 6 * HOUR) and bars.source == "Demo plant as it is"
    assert list(bars.machines) == [factory.machines[i].id for i in tree_order(factory)]
    for k, station in enumerate(model.stations):
        r = bars.row_of(station.id)
        lo, hi = bars.first[r], bars.first[r + 1]
        starts, ends, codes = bars.start[lo:hi], bars.end[lo:hi], bars.code[lo:hi]
        assert starts[0] == HOUR and ends[-1] == 6 * HOUR and (starts[1:] == ends[:-1]).all()
        assert (codes >= 0).all()  # a simulation always knows its state
        # the station as the plant shows it: the engine's shown time (its servers' time when it has one)
        totals = np.bincount(codes, weights=ends - starts, minlength=len(MACHINE_STATES))
        np.testing.assert_allclose(totals, result.shown_state_s[k], atol=1e-6)
        if station.servers == 1:
            np.testing.assert_allclose(totals, result.state_s[k], atol=1e-6)
    running = [bars.totals(r).get("running", 0.0) for r in range(bars.n_rows)]
    assert max(running) > 0


def test_a_later_request_replaces_the_one_under_way():
    factory = load_factory(DEMO_FACTORY)
    model = compile_model(factory, horizon_s=200 * HOUR, warmup_s=0.0)
    service = GanttService()
    got = []
    service.ready.connect(got.append)
    service.show_simulated(model, factory, 0.0, 200 * HOUR, "long")  # cancelled by the next one
    service.show_simulated(model, factory, 0.0, HOUR, "short")
    for _ in range(3):
        service.wait(60)
    service.shutdown()
    assert [b.source for b in got] == ["short"]


def test_tree_order_lists_each_group_before_the_next():
    factory = load_factory(DEMO_FACTORY)
    order = tree_order(factory)
    lines = [factory.machines[i].line for i in order]
    # machines of one line stand together, as in the factory tree
    assert all(lines.index(x) == len(lines) - 1 - lines[::-1].index(x) - (lines.count(x) - 1) for x in set(lines))
