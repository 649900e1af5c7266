"""The material heat maps as a service, without Qt: what the demo plant and a generated plant draw from a
real state store (WIP kept to the parts reported, no data never zero, flows and their legend, hot spots and
notices announced, a dragged machine moving only its own kernel, CSV)."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest

from app.heat.colour import HATCH_RGB
from app.heat.layers import (
    CELL_M,
    FLOW_CMAP,
    RADIUS_M,
    WIP_CMAP,
    LayerBar,
    MaterialHeat,
    MaterialLayers,
    StateOnView,
    machine_heat_notice,
)
from app.heat.material import flow_shares, path_flows, path_sources, wip_spreader
from app.model.edits import with_poses, without
from app.model.io import load_factory
from app.model.signals import LIVE_SIGNALS
from app.state.store import StateStore, Update
from tests.conftest import DEMO, ROOT

NOW = 1_000_000.0


@pytest.fixture(scope="module")
def demo():
    return load_factory(DEMO)


def _store(factory, values: dict[str, np.ndarray], received_ts: float = NOW, extra: tuple[str, ...] = ()) -> StateStore:
    """A state store as a live link fills it: every machine's ``values`` (NaN: never received)."""
    store = StateStore([m.id for m in factory.machines], [*LIVE_SIGNALS, *extra])
    updates = []
    for signal, column in values.items():
        for m, v in zip(factory.machines, column, strict=True):
            b = store.bind(m.id, signal, f"ns=2;s={m.id}/{signal}")
            if not (isinstance(v, float) and np.isnan(v)):
                updates.append(Update(b, v, received_ts=received_ts))
    store.ingest(updates)
    store.flush()
    return store


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_the_service_loads_no_gui_or_3d_library():
    code = "import sys, app.heat.layers; print(sorted(m for m in ('PySide6', 'vtk', 'pyvista', 'app.ui') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_wip_on_the_floor_is_the_wip_the_plant_reports(demo):
    heat = MaterialHeat()
    heat.set_factory(demo)
    heat.set_layers(MaterialLayers(wip=True))
    levels = np.arange(len(demo.machines), dtype=float) % 7
    store = _store(demo, {"Level": levels})
    frame = heat.update(StateOnView(store, NOW))
    assert frame.grid == (round(demo.floor.width_m / CELL_M), round(demo.floor.depth_m / CELL_M), CELL_M)
    assert heat.parts.sum() == pytest.approx(levels.sum())  # mass is kept, end to end
    assert not heat.no_data.any() and heat.ready()
    density = heat.parts / CELL_M**2
    bar = frame.bars["floor"]
    assert bar == LayerBar("WIP (parts/m²)", 0.0, bar.hi, WIP_CMAP) and density.max() <= bar.hi < 1.1 * density.max()
    rgba = np.zeros((*heat.parts.shape, 4), dtype=np.uint8)
    frame.wip.paint(rgba)
    coloured = rgba[..., 3] > 0
    assert not coloured[density == 0].any() and coloured[density > 0.2 * density.max()].all()  # colour where WIP is

    again = heat.update(StateOnView(store, NOW + 1))
    assert again.grid is None and again.wip is None and not again.changed  # nothing new: nothing to redraw
    heat.set_layers(MaterialLayers(wip=True, opacity=0.5))
    assert heat.update(StateOnView(store, NOW + 1)).wip is not None  # another opacity: drawn again


def test_stale_or_missing_wip_is_no_data_never_zero(demo):
    heat = MaterialHeat()
    heat.set_factory(demo)
    heat.set_layers(MaterialLayers(wip=True))
    frame = heat.update(StateOnView(None, NOW))  # not connected
    at_machines = tuple(np.array([(int(m.pose.y_m / CELL_M), int(m.pose.x_m / CELL_M)) for m in demo.machines]).T)
    assert heat.parts.sum() == 0 and heat.no_data[at_machines].all() and not heat.ready()
    assert frame.bars["floor"].lo is None and frame.bars["floor"].hi is None  # no scale from nowhere
    rgba = np.zeros((*heat.parts.shape, 4), dtype=np.uint8)
    frame.wip.paint(rgba)
    hatched = {tuple(c) for c in rgba[heat.no_data][:, :3]}
    assert hatched == set(HATCH_RGB) and (rgba[~heat.no_data][:, 3] == 0).all()  # grey stripes where WIP would be

    store = _store(demo, {"Level": np.full(len(demo.machines), 3.0)})
    heat.update(StateOnView(store, NOW + 5.0, max_age_s=10.0))
    assert not heat.no_data.any()
    heat.update(StateOnView(store, NOW + 11.0, max_age_s=10.0))  # the values aged out
    assert heat.no_data[at_machines].all() and heat.parts.sum() == 0


def test_a_simulations_wip_replaces_the_plants_under_its_own_title(demo):
    heat = MaterialHeat()
    heat.set_factory(demo)
    heat.set_layers(MaterialLayers(wip=True))
    store = _store(demo, {"Level": np.ones(len(demo.machines))})
    amounts = np.zeros(len(demo.machines))
    amounts[3] = 12.5
    heat.show_simulated("Faster presses", amounts)
    frame = heat.update(StateOnView(store, NOW))
    assert heat.parts.sum() == pytest.approx(12.5) and frame.bars["floor"].title == "WIP (parts/m²), Faster presses"
    heat.show_simulated(None, None)
    frame = heat.update(StateOnView(store, NOW))
    assert heat.parts.sum() == pytest.approx(len(demo.machines)) and frame.bars["floor"].title == "WIP (parts/m²)"


def test_flow_is_the_output_rate_times_the_routing_share_and_says_when_still_counting(demo):
    heat = MaterialHeat()
    heat.set_factory(demo)
    heat.set_layers(MaterialLayers(flow=True))
    n = len(demo.machines)
    frame = heat.update(StateOnView(None, NOW))  # no rates yet
    assert frame.routes is not None and len(frame.routes) == len(demo.transports)
    assert np.isnan(heat.flows).all() and heat.ready()  # grey is the honest state
    assert frame.bars["flow"] == LayerBar("Flow (parts/h)", None, None, FLOW_CMAP)

    rates = np.linspace(10.0, 100.0, n)
    rates[0] = np.nan  # one machine still counting
    counting = np.zeros(n, dtype=bool)
    counting[0] = True
    frame = heat.update(StateOnView(None, NOW, rates=rates, counting=counting))
    assert frame.routes is None  # the ribbons are built once per layout
    expected = path_flows(path_sources(demo), flow_shares(demo), rates)
    assert np.allclose(heat.flows, expected, equal_nan=True)
    known = np.isfinite(expected)
    widths = frame.flow.widths_m
    assert (np.diff(widths[known][np.argsort(expected[known])]) >= 0).all()  # the busier, the wider
    assert 1.3 < widths[known].max() <= 1.5 and (widths[~known] == 0.12).all()
    assert (path_sources(demo) == 0).any()  # WH-IN's paths are grey...
    assert frame.bars["flow"].title == "Flow (parts/h) · grey: still counting"  # ...and the legend says why
    assert frame.bars["flow"].hi >= np.nanmax(expected)
    frame = heat.update(StateOnView(None, NOW, rates=rates, counting=np.zeros(n, dtype=bool)))
    assert frame.bars["flow"].title == "Flow (parts/h)"  # unknown for another reason: not "counting"


def test_hot_spots_and_notice_are_announced_about_once_a_second(demo):
    clock = Clock()
    heat = MaterialHeat(clock=clock)
    spots_seen: list[list] = []
    notices: list[str] = []
    heat.hot_spots_changed.connect(spots_seen.append)
    heat.notice_changed.connect(notices.append)
    heat.set_factory(demo)
    heat.set_layers(MaterialLayers(wip=True))
    levels = np.zeros(len(demo.machines))
    levels[[2, 20]] = (8.0, 4.0)
    temperature = np.linspace(20.0, 60.0, len(demo.machines))
    store = _store(demo, {"Level": levels, "Temperature": temperature})
    heat.update(StateOnView(store, NOW, machine_signal="Temperature"))
    assert len(spots_seen) == 1 and notices == [""]
    wip = [s for s in spots_seen[-1] if s.kind == "wip"]
    machines = [s for s in spots_seen[-1] if s.kind == "machine"]
    assert [s.label for s in wip] == [f"near {demo.machines[2].id}", f"near {demo.machines[20].id}"]
    assert machines[0].label == demo.machines[-1].id and machines[0].value == pytest.approx(60.0)  # the hottest first
    clock.t = 0.5
    heat.update(StateOnView(store, NOW))
    assert len(spots_seen) == 1  # not yet
    clock.t = 1.0
    heat.update(StateOnView(store, NOW))
    assert len(spots_seen) == 2 and all(s.kind == "wip" for s in spots_seen[-1])  # machines by state: no machine spots


def test_an_empty_list_is_filled_as_soon_as_there_is_something_to_list(demo):
    clock = Clock()
    heat = MaterialHeat(clock=clock)
    spots_seen: list[list] = []
    heat.hot_spots_changed.connect(spots_seen.append)
    heat.set_factory(demo)
    heat.set_layers(MaterialLayers(wip=True))
    heat.update(StateOnView(None, NOW))
    assert spots_seen == [[]]
    clock.t = 0.1
    heat.update(StateOnView(_store(demo, {"Level": np.ones(len(demo.machines))}), NOW))
    assert len(spots_seen) == 2 and spots_seen[-1]  # at once, not a second later


def test_a_text_signal_as_machine_heat_is_named_in_the_notice(demo):
    store = _store(demo, {"Mode": np.array(["automatic"] * len(demo.machines), dtype=object)}, extra=("Mode",))
    assert "Mode is not a numeric signal" in machine_heat_notice(store, "Mode")
    assert machine_heat_notice(store, "Temperature") == "" and machine_heat_notice(store, None) == ""
    heat = MaterialHeat()
    notices: list[str] = []
    heat.notice_changed.connect(notices.append)
    heat.set_factory(demo)
    heat.update(StateOnView(store, NOW, machine_signal="Mode"))
    assert notices and "machines stay grey" in notices[-1]


def test_a_moved_machine_moves_only_its_own_kernel_on_a_generated_plant():
    from bench.genfactory import generate

    plant = generate(150)
    heat = MaterialHeat()
    heat.set_factory(plant)
    heat.set_layers(MaterialLayers(wip=True, flow=True))
    amounts = np.zeros(len(plant.machines))
    amounts[7] = 10.0
    heat.show_simulated("one machine", amounts)
    first = heat.update(StateOnView(None, NOW))
    assert first.grid is not None and first.routes is not None
    spreader = heat.spreader
    m = plant.machines[7]
    moved = with_poses(plant, {m.id: m.pose.model_copy(update={"x_m": m.pose.x_m + 3.0})})
    heat.set_factory(moved)
    frame = heat.update(StateOnView(None, NOW))
    assert heat.spreader is spreader and frame.grid is None  # moved in place, the grid kept
    assert frame.routes is not None  # the paths to the machine follow it
    assert np.allclose(heat.parts, wip_spreader(moved, CELL_M, RADIUS_M).grid(amounts))
    row, col = np.unravel_index(int(np.argmax(heat.parts)), heat.parts.shape)
    assert np.hypot((col + 0.5) * CELL_M - (m.pose.x_m + 3.0), (row + 0.5) * CELL_M - m.pose.y_m) < 1.5  # its WIP went along

    fewer = without(moved, [plant.machines[-1].id])  # a machine removed: kernels made anew
    heat.set_factory(fewer)
    heat.show_simulated(None, None)
    frame = heat.update(StateOnView(None, NOW))
    assert heat.spreader is not spreader and frame.grid is not None
    assert heat.spreader.n_inputs == len(fewer.machines)


def test_the_wip_grid_exports_as_csv_whose_cells_add_up(demo, tmp_path):
    heat = MaterialHeat()
    heat.set_factory(demo)
    with pytest.raises(ValueError, match="WIP layer"):
        heat.export_csv(tmp_path / "none.csv")
    heat.set_layers(MaterialLayers(wip=True))
    store = _store(demo, {"Level": np.full(len(demo.machines), 2.0)})
    heat.update(StateOnView(store, NOW, at=NOW - 60.0))  # a replayed moment
    assert heat.shown_at == NOW - 60.0
    out = tmp_path / "wip.csv"
    heat.export_csv(out)
    text = out.read_text()
    assert text.startswith(f"# floortwin WIP density of {demo.name}, ") and ", live" not in text.splitlines()[0]
    table = np.loadtxt(io.StringIO(text), delimiter=",", comments="#", skiprows=3)
    assert table.shape == (heat.parts.size, 5) and table[:, 2].sum() == pytest.approx(2.0 * len(demo.machines), rel=1e-4)
    with pytest.raises(OSError):
        heat.export_csv(tmp_path / "no-such-folder" / "wip.csv")
