"""Material heat maps in the window against the real plant: WIP on the floor, flow, hot spots, CSV, replay."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest

from app.heat.material import flow_shares, path_flows, path_sources
from app.history.recorder import History
from app.live.client import ConnectionSettings

pytestmark = pytest.mark.gui


def _known_levels(w) -> np.ndarray:
    store = w.live.store
    levels = store.column("Level")
    fresh = store.fresh("Level", time.time(), w.live.max_age_s)
    return np.where(fresh & np.isfinite(levels), levels, np.nan)


def test_wip_and_flow_layers_follow_the_plant_and_replay_from_history(qloop, make_window, qtbot, plant_endpoint, tmp_path):
    w = make_window()
    maps = w.heat_maps
    # Before any data: the WIP layer shows "no data" around every machine, never zero.
    w.heat_dock.wip.setChecked(True)
    maps.update_now()
    assert maps.material.parts.sum() == 0 and maps.material.no_data.any()
    assert w.view.floor_heat.visible and w.view.colour_bar("floor") == "WIP (parts/m²)"

    w.console.connect_live(ConnectionSettings(plant_endpoint))
    qtbot.waitUntil(w.console.live_ready, timeout=15000)
    w.heat_dock.flow.setChecked(True)
    assert w.view.flow.visible and w.view.colour_bar("flow").startswith("Flow (parts/h)")

    # The grid holds exactly the WIP the plant reports (mass is conserved end to end).
    def wip_matches() -> bool:
        w.live.flush()
        maps.update_now()
        return abs(maps.material.parts.sum() - np.nansum(_known_levels(w))) < 1e-6 and np.nansum(_known_levels(w)) > 0

    qtbot.waitUntil(wip_matches, timeout=15000)
    assert not maps.material.no_data.any()  # every machine reports its level
    rgba = w.view.floor_heat.rgba
    assert (rgba[..., 3] > 0).sum() > 100 and (rgba[..., 3] == 0).sum() > 0.5 * rgba[..., 3].size  # colour where WIP is

    # Flow: output rates from part counts × routing shares; the busiest paths stand out.
    qtbot.waitUntil(lambda: np.nansum(maps.material.flows) > 0, timeout=60000)  # a rate needs MIN_PARTS parts counted
    rates = w.live.output_rates()
    expected = path_flows(path_sources(w.document.factory), flow_shares(w.document.factory), rates)
    assert np.allclose(maps.material.flows, expected, equal_nan=True)

    # Hot spots: listed in the dock; a click flies the camera there.
    maps.update_now()
    maps.material.announce()  # at once, not at the next second
    tree = w.heat_dock.hot
    qtbot.waitUntil(lambda: tree.topLevelItemCount() > 0, timeout=5000)
    first = tree.topLevelItem(0)
    assert first.text(0).startswith("WIP near ") and "parts/m²" in first.text(1)
    x, y = first.data(0, 256)
    w.heat_dock._on_hot(first)
    fp = w.view.renderer.GetActiveCamera().GetFocalPoint()
    assert abs(fp[0] - x) < 1e-6 and abs(fp[1] - y) < 1e-6

    # Export: the grid as CSV whose cells add up to the WIP shown.
    out = tmp_path / "wip.csv"
    maps.material.export_csv(out)
    table = np.loadtxt(io.StringIO(out.read_text()), delimiter=",", comments="#", skiprows=3)
    assert table.shape == (maps.material.parts.size, 5)
    assert table[:, 2].sum() == pytest.approx(maps.material.parts.sum(), rel=1e-4)

    # Replay: the layers show the WIP recorded at time t.
    qtbot.wait(1500)
    t_mark = time.time() - 1.0
    w.live.recorder.flush()
    w.timeline.show_time(t_mark)
    qtbot.waitUntil(lambda: w.live.replay_time == t_mark, timeout=5000)
    maps.update_now()
    snapshot = History(w.console.history_path()).state_at(t_mark)
    recorded = sum(v[0] for (m, s), v in snapshot.items() if s == "Level" and v[0] is not None)
    assert maps.material.shown_at == t_mark
    assert maps.material.parts.sum() == pytest.approx(recorded)
    assert w.live.output_rates() is not None  # rates over the window before t (from history too)
    w.timeline.go_live()

    # The link goes: values age into "no data" (hatched), not zero WIP.
    w.console.disconnect_live()
    w.live.max_age_s = 0.0
    maps.update_now()
    assert maps.material.no_data.any()
    w.heat_dock.wip.setChecked(False)
    w.heat_dock.flow.setChecked(False)
    assert not w.view.floor_heat.visible and w.view.colour_bar("floor") is None and w.view.colour_bar("flow") is None


def test_material_layers_follow_layout_edits(make_window):
    w = make_window()
    w.heat_dock.wip.setChecked(True)
    w.heat_dock.flow.setChecked(True)
    maps = w.heat_maps
    cell = lambda x, y: (int(y / 0.25), int(x / 0.25))  # noqa: E731
    assert maps.material.no_data[cell(74.0, 35.0)] and not maps.material.no_data[cell(74.0, 27.0)]
    ribbon = w.view.flow.mesh.points.copy()
    m = w.document.factory.machine("QA-01")
    w.layout_editor.apply_poses({"QA-01": m.pose.model_copy(update={"y_m": 27.0})})
    maps.update_now()  # the kernels were rebuilt for the new layout
    assert maps.material.no_data[cell(74.0, 27.0)] and not maps.material.no_data[cell(74.0, 35.0)]
    assert not np.array_equal(ribbon, w.view.flow.mesh.points)  # the paths to QA-01 follow it


def test_a_text_signal_as_machine_heat_says_so(make_window):
    from app.model.signals import LIVE_SIGNALS as SIGNALS
    from app.state.store import StateStore, Update

    w = make_window()
    store = StateStore([m.id for m in w.document.factory.machines], [*SIGNALS, "Mode"])
    b = store.bind("CNC-01", "Mode", "ns=2;s=x")
    store.ingest([Update(b, "automatic", received_ts=1.0)])
    store.flush()
    w.heat_dock.set_signals(["Mode", "Temperature"])
    w.heat_dock.choose("Mode")
    w.live.session.store = store  # the state on view, as a connection leaves it
    w.heat_maps.update_now()
    w.heat_maps.material.announce()
    assert "not a numeric signal" in w.heat_dock.hint.text() and "text" in w.heat_dock.hint.text()
    w.heat_dock.choose("Temperature")
    w.heat_maps.update_now()
    w.heat_maps.material.announce()
    assert "not a numeric signal" not in w.heat_dock.hint.text()
