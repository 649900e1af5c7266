"""The Bottlenecks tab of a what-if comparison in the window: a short what-if on the demo plant, its comparison
opened, the tab's bars and timeline drawn, the sentence naming the machine the analysis found, and the machines
highlighted by their share in the 3D view under a legend that says so."""

from __future__ import annotations

import html
import re

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtGui, QtWidgets

from app.sim.bottleneck import MAX_HALF_WIDTH, shift_text, total_estimate
from app.sim.scenario import MachineParam
from tests.conftest import comparison_of, run_to_done

pytestmark = pytest.mark.gui


def test_the_bottleneck_tab_shows_the_shares_the_timeline_and_highlights_machines_in_3d(make_window, qtbot, tmp_path):
    w = make_window()
    dock = w.whatif_dock
    dock.window_min.setValue(0)  # no recorded actuals: scenario against baseline
    entry = dock.service.new_scenario("current", name="Faster CNC-05")
    quick = {"horizon_s": 4 * 3600.0, "warmup_s": 600.0, "replications": 12}  # enough to name the bottleneck
    faster = [MachineParam(machine="CNC-05", param="cycle_mean_s", value=20.0)]
    dock.service.update_scenario(entry, entry.scenario.model_copy(update={"changes": faster, **quick}))
    run_to_done(qtbot, dock.service, entry)
    cmp = comparison_of(qtbot, dock, entry)
    view = cmp.bottlenecks
    assert view is not None and cmp.tabs.tabText(cmp.tabs.indexOf(view)) == "&Bottlenecks"
    cmp.tabs.setCurrentWidget(view)
    base, scen = view.sources["baseline"], view.sources["scenario"]
    assert base.enough and scen.enough and base.resolution_text() == "state sampled every 5 min"
    # the sentence names the machine the analysis says limits the line, before and after
    leader = scen.leader()[0]
    assert leader and view.headline.text() == shift_text(base, scen)
    assert view.headline.text().startswith(f"{base.leader()[0]} sole ") and leader in view.headline.text()
    # bars: sole and shifting per source, the leader's bar as tall as its share
    assert len(view.bar_items) == 4
    machines = view.machines
    assert leader in machines and len(machines) <= 8
    assert scen.sole[leader].enough and total_estimate(scen, leader).enough
    heights = view.bar_items[2].opts["height"] + view.bar_items[3].opts["height"]  # scenario sole + shifting
    assert heights[machines.index(leader)] == pytest.approx(100 * scen.total(leader))
    assert view.table.rowCount() == len(scen.machines) and view.table.item(0, 0).text() == machines[0]
    base_colour = QtWidgets.QApplication.palette().color(QtGui.QPalette.ColorRole.Base)
    assert view.bars.backgroundBrush().color() == base_colour  # the theme's colours, not a fixed white
    # the timeline: which machine when, in the colours of its legend
    assert view.strips["scenario"] and set(p[2] for p in view.strips["scenario"]) <= set(view.timeline_colours)
    # the 3D view: machines coloured by the scenario's share, under a 0–100% legend
    view.show3d.setChecked(True)
    assert w.view.colour_bar_title == "Bottleneck share, scenario (sole + shifting) (%)"
    w.view.render_now()
    colours = np.asarray(w.view.machines.colours)[:, :3].astype(int)
    top = colours[w.view.machines.index[leader]]
    idle = next(m for m in scen.machines if scen.total(m) == 0)
    assert top.sum() < colours[w.view.machines.index[idle]].sum()  # darker red than a machine never the bottleneck
    # the exports carry the shares: a sole and a shifting row per machine ever the bottleneck, and the sentence
    cmp.export_csv(tmp_path / "c.csv")
    lines = (tmp_path / "c.csv").read_text().splitlines()
    sole = next(line.split(",") for line in lines if line.startswith(f"Bottleneck share: sole,{leader},"))
    assert float(sole[6]) == pytest.approx(scen.sole[leader].mean, rel=1e-5)  # 6 significant digits
    assert float(sole[4]) == pytest.approx(base.sole[leader].mean, rel=1e-5)
    # the interval as the tab shows it (clipped to 0–100%), not only the symmetric half-width columns
    assert f"scenario: {scen.sole[leader].format('%', 100.0)}" in sole[-1]
    assert f"baseline: {base.sole[leader].format('%', 100.0)}" in sole[-1]
    ever = [m for m in scen.machines if max(base.total(m), scen.total(m)) >= 0.005]
    assert sum(line.startswith("Bottleneck share: ") for line in lines) == 2 * len(ever)
    cmp.export_html(tmp_path / "c.html")
    page = (tmp_path / "c.html").read_text()
    assert "<h2>Bottlenecks over time</h2>" in page and html.escape(view.headline.text()) in page
    cmp.close()
    assert w.live.delta is None and w.view.colour_bar_title is None  # back to what the view showed


def test_three_replications_show_no_share_they_cannot_support_and_nothing_leaves_0_to_100(make_window, qtbot):
    """A new user's trial: CNC-05 at 20 s, 3 replications of 8 h — shares of "16 ± 58%" and a whisker past
    100% before; a legend over the bars; light-grey timeline pieces its key did not name."""
    w = make_window()
    dock = w.whatif_dock
    dock.window_min.setValue(0)
    entry = dock.service.new_scenario("current", name="Faster CNC-05")
    trial = {"horizon_s": 8 * 3600.0, "warmup_s": 600.0, "replications": 3}
    faster = [MachineParam(machine="CNC-05", param="cycle_mean_s", value=20.0)]
    dock.service.update_scenario(entry, entry.scenario.model_copy(update={"changes": faster, **trial}))
    run_to_done(qtbot, dock.service, entry)
    cmp = comparison_of(qtbot, dock, entry)
    view = cmp.bottlenecks
    cmp.tabs.setCurrentWidget(view)
    base, scen = view.sources["baseline"], view.sources["scenario"]
    # every share is within 0–100%, or says how many replications it needs; the wide ones are not shown
    wide = [e for s in (base, scen) for e in (*s.sole.values(), *s.shifting.values()) if e.half_width > MAX_HALF_WIDTH]
    assert wide and all(e.needed > 3 for e in wide)
    cells = [view.table.item(r, c).text() for r in range(view.table.rowCount()) for c in range(1, view.table.columnCount())]
    assert any(re.fullmatch(r"needs ≥ \d+ replications", c) for c in cells)
    for c in cells:
        for number in re.findall(r"-?\d+(?:\.\d+)?", c.split("needs")[0]):
            assert 0 <= float(number) <= 100, c
        if "±" in c:  # a symmetric interval only when it stays inside 0–100%
            m, h = (float(x) for x in re.findall(r"\d+(?:\.\d+)?", c))
            assert m - h >= 0 and m + h <= 100 and h <= 100 * MAX_HALF_WIDTH, c
    assert view.headline.text().startswith("Bottlenecks: not enough data — needs ≥ ")
    # the chart: whiskers within 0–100%, the axis 0–100%, the key above the bars, not over them
    ends = [(lo, hi) for whiskers in view.whiskers.values() for _x, lo, hi in whiskers]
    assert ends and all(0 <= lo <= hi <= 100 for lo, hi in ends)
    items = view.bars.getPlotItem().items
    for item in items:
        if isinstance(item, pg.ErrorBarItem):
            y, top, bottom = (np.asarray(item.opts[k]) for k in ("y", "top", "bottom"))
            assert (y - bottom >= -1e-9).all() and (y + top <= 100 + 1e-9).all()
    low, high = view.bars.getPlotItem().viewRange()[1]
    assert -5 <= low <= 0 and 100 <= high <= 105
    assert view.bars.getPlotItem().legend is None
    key = view.bars_key
    assert key.isVisible() and key.geometry().bottom() <= view.bars.geometry().top()
    assert all(f"{k} {kind}" in key.text() for k in ("baseline", "scenario") for kind in ("sole", "shifting"))
    # the timeline draws only colours its key names
    named = {tuple(c) for c in view.timeline_colours.values()}
    drawn = {
        b.color().getRgb()[:3]
        for item in view.timeline.getPlotItem().items if isinstance(item, pg.BarGraphItem)
        for b in item.opts["brushes"]
    }
    assert drawn and drawn <= named
    assert all(m in view.timeline_key.text() for m in view.timeline_colours)
    cmp.close()
