"""The actuals of a window that begins as the link connects (trial 7): the first PartCount readings are
stamped a moment after the link's "connected" record, so there is no count at the window's start. The count
then starts from the first reading inside the window — never a made-up 0 — and a line total that lacks an
exit's count is "no data"."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.compare.diff import compare
from app.compare.kpis import Observation, line_kpis, machine_kpis, observe_history
from app.compare.window import connected_stretches, exits_over_stretches, observe_stretches
from app.history.recorder import History
from app.model.factory import Factory, Floor, Footprint, Machine, PartFlow, Pose
from tests.compare.helpers import recorded_history

CONNECTED = 1000.0


def _factory(ids=("A", "B")) -> Factory:
    ms = [
        Machine(id=i, name=i, kind="cnc", asset="a", pose=Pose(x_m=5 + 5 * k, y_m=5), footprint=Footprint(width_m=2, depth_m=2))
        for k, i in enumerate(ids)
    ]
    return Factory(name="t", floor=Floor(width_m=30, depth_m=10), machines=ms, flows=[PartFlow(part="p", routing=list(ids))])


@pytest.fixture
def late_first_counts(tmp_path) -> History:
    """Connected at 1000 s for 600 s. A's first count is stamped 0.23 s after "connected"; B (the exit) reads
    0.2 s after it, 22 parts, then one part every 10 s to 82. An earlier connection (800–950 s) left B's
    counter at 500, before the plant restarted."""
    rows = [("B", "PartCount", 900.0, 900.0, 500.0)]
    for m in ("A", "B"):
        rows.append((m, "State", CONNECTED + 0.1, CONNECTED + 0.15, "running"))
    rows += [("A", "PartCount", CONNECTED + 0.23, CONNECTED + 0.3, 40.0)]
    rows += [("A", "PartCount", CONNECTED + 5.0 + 10 * k, CONNECTED + 5.1 + 10 * k, 40.0 + k) for k in range(1, 60)]
    rows += [("B", "PartCount", CONNECTED + 0.2, CONNECTED + 0.25, 22.0)]
    rows += [("B", "PartCount", CONNECTED + 10.0 * k, CONNECTED + 10.0 * k + 0.05, 22.0 + k) for k in range(1, 61)]
    links = [(800.0, "connected"), (950.0, "disconnected"), (CONNECTED, "connected")]
    return recorded_history(tmp_path / "h.sqlite", rows, links)


def test_a_count_without_a_reading_at_the_start_counts_from_its_first_reading(late_first_counts):
    f = _factory()
    stretches = connected_stretches(late_first_counts, CONNECTED, CONNECTED + 600.0)
    assert stretches == ((CONNECTED, CONNECTED + 600.0),)
    o = observe_stretches(late_first_counts, f, stretches, time_scale=120.0)
    # B: 60 parts from its first reading at 1000.2 s to 1600 s (not 0, not 82 − 500): 60 / 599.8 s of clock time
    per_h = 60 / (599.8 * 120) * 3600
    assert line_kpis(o)["throughput_per_h"] == pytest.approx(per_h)
    assert machine_kpis(o)["output_per_h"].tolist() == pytest.approx([59 / (599.77 * 120) * 3600, per_h])
    _x, y = exits_over_stretches(late_first_counts, f, stretches, time_scale=120.0)  # the chart agrees
    assert y[-1] == pytest.approx(60.0) and (np.diff(y) >= 0).all()


def test_a_machine_without_a_usable_count_is_no_data_and_so_is_a_line_total_that_lacks_an_exit(late_first_counts):
    f = _factory(("A", "B", "C"))  # C, the exit, never sent a count
    o = observe_history(late_first_counts, f, CONNECTED, CONNECTED + 600.0)
    assert math.isnan(o.ops[2]) and math.isnan(o.exits)
    assert math.isnan(line_kpis(o)["throughput_per_h"]) and math.isnan(machine_kpis(o)["output_per_h"][2])
    # compared with a baseline: no actual figure and no verdict on it — never "0 … outside the prediction"
    base = [_sim(f, 36.0 + k) for k in range(5)]
    row = compare(base, actual=o).row("throughput_per_h")
    assert math.isnan(row.actual) and row.fit == "" and row.fits_actual is None


def _sim(f: Factory, per_h: float) -> Observation:
    n = len(f.machines)
    state = np.zeros((n, 5))
    state[:, 0] = 3600.0
    ops = np.full(n, per_h)
    return Observation([m.id for m in f.machines], 3600.0, state, ops, np.ones(n), 3.0, per_h)


def test_no_sum_in_the_actuals_path_turns_a_missing_count_into_0():
    """The cause of the trial's "0 parts/h": np.nansum over counts that were missing. None is left where a
    count or a line total is added up."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "app"
    for name in ("compare/kpis.py", "compare/window.py", "whatif/comparison.py"):
        for line in (root / name).read_text().splitlines():
            if "nansum" in line:
                assert "isfinite" in line and ("energy" in line or "levels" in line), f"{name}: {line.strip()}"


def test_a_machine_of_several_servers_is_not_judged_on_the_state_its_plant_shows(tmp_path):
    """Trial 8: WH-IN (3 servers) was called 'utilisation 16 outside the predicted 3.79 … 10.6' every minute: the
    plant shows a station running while any of its servers runs, the model counts each server's time. Issue 16:
    it is compared with the time the model's station *showed* running (same definition), never with per-server
    time — and where a stored run lacks that time, it is not judged at all."""
    from app.compare.calibrate import drift
    from app.compare.kpis import as_shown
    from app.model.factory import MachineSim

    f = _factory()
    f = f.model_copy(update={"machines": [f.machines[0].model_copy(update={"sim": MachineSim(servers=3)}), f.machines[1]]})
    rows = [("A", "State", CONNECTED + 1, "running"), ("B", "State", CONNECTED + 1, "running")]
    rows += [("A", "State", CONNECTED + 300, "idle"), ("B", "State", CONNECTED + 300, "idle")]
    h = recorded_history(tmp_path / "h.sqlite", rows, [(CONNECTED, "connected")])
    actual = observe_history(h, f, CONNECTED + 1, CONNECTED + 601)
    kpis = machine_kpis(actual)
    assert actual.shown_state.tolist() == [True, False]  # A's State is its station's
    assert kpis["utilisation"].tolist() == pytest.approx([299 / 600 * 100] * 2)  # what was recorded
    assert math.isfinite(kpis["active"][0])  # the recorded bottleneck still sees A
    # a model whose servers run 10% of the time each, stored before shown time was kept: A is not compared
    # (no figure, no verdict), B (50% against 10%) is called outside
    model = Observation(
        machines=["A", "B"], seconds=600.0, state_s=np.array([[60.0, 0, 540, 0, 0, 0, 0]] * 2), ops=np.array([5.0, 5.0]),
        energy_kwh=np.full(2, np.nan), wip=math.nan, exits=5.0,
    )
    assert math.isnan(machine_kpis(as_shown(model, actual))["utilisation"][0])
    assert machine_kpis(as_shown(model, actual))["utilisation"][1] == pytest.approx(10.0)
    found = drift([model, model], actual, ("utilisation",))
    assert [d.machine for d in found] == ["B"]
    # the same model with its station's shown time (running while any of its servers runs: 299 s of 600, as
    # recorded): A fits, though each of its servers ran 10% of the time
    shown = np.array([[299.0, 0, 301, 0, 0, 0, 0], [60.0, 0, 540, 0, 0, 0, 0]])
    with_shown = Observation(**{**model.__dict__, "shown_state_s": shown})
    assert machine_kpis(as_shown(with_shown, actual))["utilisation"].tolist() == pytest.approx([299 / 6, 10.0])
    assert machine_kpis(with_shown)["utilisation"].tolist() == pytest.approx([10.0, 10.0])  # alone: per server
    found = drift([with_shown, with_shown], actual, ("utilisation",))
    assert [d.machine for d in found] == ["B"]
    # and in a comparison table: A's rows say they are the station as shown, compared with what was recorded
    from app.compare.diff import compare

    c = compare([with_shown, with_shown], actual=actual)
    row = c.row("utilisation", "A")
    assert "as shown" in row.label and row.fits_actual is True
    assert "as shown" not in c.row("utilisation", "B").label
