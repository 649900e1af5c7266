"""The watchdog service without Qt: statuses, detections, the log on disk, recalibration, history replay."""

from __future__ import annotations

import math
import sqlite3

import pytest

from app.history.recorder import Recorder, sample_of
from app.model.io import load_factory
from app.plant.drift import parse_drift
from app.sim.scenario import MachineParam, Scenario, apply
from app.state.store import GOOD, Update
from app.watchdog.log import read_log
from app.watchdog.service import Watchdog, WatchdogConfig
from app.watchdog.simfeed import SimulatedPlant
from tests.conftest import DEMO

BAD = 0x80000000


@pytest.fixture(scope="module")
def factory():
    return load_factory(DEMO)


def hours(t: float) -> str:
    return f"{t / 3600:.1f} h"


def _names(machine: str) -> list[tuple[str, str, str]]:
    return [(machine, "CycleTime", "n1"), (machine, "State", "n2"), (machine, "Temperature", "n3")]


def test_no_detection_is_claimed_before_there_are_enough_observations(factory):
    """A moderate change (cycles 35% longer: about three standard deviations each, inside the single-cycle
    limits) is a detection only once the CUSUM has five cycles since the change point."""
    dog = Watchdog(factory, clock=hours)
    names = _names("CNC-03")
    found = []
    dog.detected.connect(found.append)
    assert dog.channels["CNC-03", "cycle"].upper > 364.5
    dog.feed([Update(0, 270.0, GOOD, 0.0)] + [Update(0, 364.5 + i, GOOD, 600.0 * (i + 1)) for i in range(4)], names)
    assert found == []
    assert dog.status("CNC-03", "cycle") == "possible change, not enough data — needs ≥ 5 cycles since it began (4 so far)"
    dog.feed([Update(0, 369.0, GOOD, 3000.0)], names)
    assert len(found) == 1
    d = found[0]
    assert (d.machine, d.param, d.direction, d.n, d.rule) == ("CNC-03", "cycle", 1, 5, "cusum")
    # found on five cycles, its size settles on sixteen: a 95% interval within the chart's k = 0.5 σ
    assert not d.size_known and d.needs == 16 and d.ratio == pytest.approx(1.36, rel=0.02)
    assert d.text.startswith("CNC-03 cycle time up since 0.2 h (size: settling — needs ≥ 16 cycles, 5 so far;")
    assert dog.status("CNC-03", "cycle") == d.text
    dog.feed([Update(0, 366.0 + i, GOOD, 3600.0 + 600 * i) for i in range(11)], names)
    d = dog.latest(d)
    assert d.size_known and d.n == 16 and d.ratio == pytest.approx(1.36, rel=0.02)
    assert d.text.startswith("CNC-03 cycle time +3") and "since 0.2 h" in d.text and "confidence)" in d.text
    assert dog.status("CNC-03", "cycle") == d.text
    assert dog.status("CNC-03", "mtbf") == "not enough data — needs ≥ 5 failures (0 so far)"
    assert dog.status("CNC-01", "cycle") == "not enough data — needs ≥ 5 cycles (0 so far)"
    assert dog.status("QA-01", "mtbf").startswith("not watched")


def test_one_overwhelming_cycle_is_a_detection_whose_size_waits_for_enough_cycles(factory):
    """A cycle twice the modelled length (seven standard deviations) is found at once, as "up"; its size is
    "settling — needs ≥ 16" (a 95% interval within the CUSUM's k = 0.5 σ) and nothing can be recalibrated
    until sixteen cycles since it are in."""
    dog = Watchdog(factory, clock=hours)
    names = _names("CNC-03")
    found = []
    dog.detected.connect(found.append)
    dog.feed([Update(0, 270.0, GOOD, 0.0), Update(0, 540.0, GOOD, 600.0)], names)
    assert len(found) == 1
    d = found[0]
    assert (d.direction, d.n, d.rule, d.since_ts, d.needs) == (1, 1, "shewhart", 600.0, 16)
    assert not d.size_known
    assert d.text == (
        "CNC-03 cycle time up since 0.2 h (size: settling — needs ≥ 16 cycles, 1 so far; > 99.9% confidence)"
    )
    assert dog.status("CNC-03", "cycle") == d.text
    with pytest.raises(ValueError, match="settling"):
        dog.changes_for(d)
    with pytest.raises(ValueError, match="settling"):
        dog.recalibrate(d)
    dog.feed([Update(0, 541.0 + i, GOOD, 1200.0 + 600 * i) for i in range(14)], names)
    assert not dog.latest(d).size_known and "settling — needs ≥ 16 cycles, 15 so far;" in dog.latest(d).text
    dog.feed([Update(0, 560.0, GOOD, 9600.0)], names)
    assert len(found) == 1  # one detection, re-estimated
    now = dog.latest(d)
    assert now.size_known and now.n == 16 and now.ratio == pytest.approx(2.05, rel=0.02)
    assert now.text.startswith("CNC-03 cycle time +10") and "since 0.2 h" in now.text
    assert dog.status("CNC-03", "cycle") == now.text
    assert dog.changes_for(now)[0].value == pytest.approx(540.0, rel=0.1)


def test_bad_readings_other_signals_and_unknown_bindings_are_ignored(factory):
    dog = Watchdog(factory)
    names = _names("CNC-03")
    first = [Update(0, 270.0, GOOD, 0.0), Update(0, 999.0, BAD, 1.0), Update(2, 55.0, GOOD, 1.0), Update(7, 1.0, GOOD, 1.0)]
    dog.feed(first, names)
    dog.feed([Update(0, math.nan, GOOD, 2.0), Update(0, 280.0, GOOD, 3.0)], names)
    assert dog.channels["CNC-03", "cycle"].n_obs == 1  # 280 only: the first value may be an old cycle
    assert dog.values_fed == 6
    names.extend([("CNC-01", "CycleTime", "n4")] * 5)  # the session names bindings added since (binding 7 among them)
    dog.feed([Update(7, 240.0, GOOD, 4.0), Update(7, 250.0, GOOD, 5.0)], names)
    assert dog.channels["CNC-01", "cycle"].n_obs == 1


def test_state_changes_give_times_between_failures_and_repair_times_in_simulated_seconds(factory):
    dog = Watchdog(factory, time_scale=10.0)  # a plant run at --speed 10
    names = _names("CNC-03")
    seq = ["running", "down", "running", "starved", "down", "blocked"]
    dog.feed([Update(1, s, GOOD, 100.0 * k) for k, s in enumerate(seq)], names)
    up, down = dog.channels["CNC-03", "mtbf"], dog.channels["CNC-03", "mttr"]
    # running at 0 (its start unseen), down 100–200 (a repair of 1,000 simulated s), up 200–400 (2,000 s)
    assert (up.n_obs, down.n_obs) == (1, 2)
    assert up.cusum.moments(1)[0] + up.cusum.moments(-1)[0] >= 0  # fed, whichever side
    dog.interrupted()
    dog.feed([Update(1, "running", GOOD, 900.0), Update(1, "down", GOOD, 1000.0)], names)
    assert down.n_obs == 2 and up.n_obs == 1  # an outage: the state's start was not seen


def test_every_detection_and_recalibration_is_on_disk_at_once_and_the_change_is_a_scenario_change(factory, tmp_path):
    log = tmp_path / "history.sqlite"
    plant = SimulatedPlant(factory, seed=5, drifts=[parse_drift("CNC-03:cycle=+20%@1h")], step_s=10.0)
    dog = Watchdog(factory, log_path=log)
    changes = []
    dog.recalibrated.connect(changes.append)
    for batch in plant.run(8 * 3600.0):
        dog.feed(batch, plant.names)
    found = [d for d in dog.detections if d.machine == "CNC-03"]
    assert found and found[0].param == "cycle"
    entries = read_log(log)  # another connection, while the watchdog's is still open (WAL): nothing waits in memory
    assert [e.text for e in entries] == [d.text for d in dog.detections]
    assert sqlite3.connect(log).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    d = found[0]
    [change] = dog.recalibrate(d, t=plant.time())
    assert isinstance(change, MachineParam) and change.param == "cycle_mean_s" and change.machine == "CNC-03"
    assert change.value == pytest.approx(270.0 * 1.2, rel=d.half_width + 0.02)
    assert changes == [[change]]
    last = read_log(log)[-1]
    assert (last.kind, last.old, last.new) == ("recalibration", 270.0, change.value)
    # From now on the channel expects the recalibrated time: the drifted plant raises nothing more on it.
    for batch in plant.run(16 * 3600.0):
        dog.feed(batch, plant.names)
    assert [x for x in dog.detections if x.machine == "CNC-03" and x.param == "cycle"] == [d]
    # The document takes the change; the new version leaves the recalibrated channel as it is.
    recalibrated = apply(Scenario(name="recalibrated", factory=factory, changes=[change]))
    channel = dog.channels["CNC-03", "cycle"]
    dog.set_factory(recalibrated)
    assert channel.exp.mean_s == change.value
    assert dog.channels["CNC-03", "cycle"] is channel  # same expectation: its sums go on
    dog.close()


def test_a_recorded_history_replays_to_the_same_detections_as_the_live_feed(factory, tmp_path):
    path = tmp_path / "history.sqlite"
    recorder = Recorder(path, flush_s=0.05)
    recorder.record_link("connected", 0.0)
    plant = SimulatedPlant(factory, seed=6, drifts=[parse_drift("CNC-05:cycle=+30%@2h")], step_s=10.0)
    live = Watchdog(factory)
    for batch in plant.run(10 * 3600.0):
        live.feed(batch, plant.names)
        recorder.record(sample_of(*plant.names[u.binding], u.value, u.status, u.source_ts, u.received_ts) for u in batch)
    assert recorder.flush()
    recorder.close()
    replayed = Watchdog(factory)
    assert replayed.replay(path) == live.values_fed
    assert [d.text for d in replayed.detections] == [d.text for d in live.detections]
    assert any(d.machine == "CNC-05" for d in live.detections)


def test_a_stopped_watchdog_ignores_what_it_is_fed(factory):
    dog = Watchdog(factory, config=WatchdogConfig(rearm=True))
    dog.stop()
    dog.feed([Update(0, 270.0, GOOD, 0.0), Update(0, 300.0, GOOD, 1.0)], _names("CNC-03"))
    assert dog.values_fed == 0
    dog.start()
    dog.feed([Update(0, 270.0, GOOD, 0.0), Update(0, 300.0, GOOD, 1.0)], _names("CNC-03"))
    assert dog.channels["CNC-03", "cycle"].n_obs == 1


def test_repairs_that_take_three_times_longer_are_found_on_the_repair_time_only(factory):
    import numpy as np

    rng = np.random.default_rng(8)
    dog = Watchdog(factory)
    names = _names("CNC-03")
    t, updates = 0.0, [Update(1, "running", GOOD, 0.0)]
    for _ in range(60):
        t += rng.exponential(28_800.0)
        updates.append(Update(1, "down", GOOD, t))
        t += rng.exponential(3 * 1_800.0)
        updates.append(Update(1, "running", GOOD, t))
    dog.feed(updates, names)
    found = [(d.param, d.direction) for d in dog.detections]
    assert found == [("mttr", 1)]
    d = dog.latest(dog.detections[0])  # re-estimated from every repair since the change point
    assert abs(d.ratio - 3.0) <= d.half_width + 0.3 and d.n >= 5 and d.size_known
    assert "CNC-03 repair time +" in d.text


def test_a_detection_whose_size_holds_no_change_is_withdrawn_once_sized_and_a_real_one_stands(factory, tmp_path):
    """Trial 10: "PR-04 cycle time +3.4 ± 4.1% since 17:02 (> 99.9% confidence)" with a Recalibrate offer —
    an interval that holds no change. Once sized, such a detection is withdrawn (logged) and watched again."""
    dog = Watchdog(factory, clock=hours, log_path=tmp_path / "wd.sqlite")
    names = _names("CNC-03")
    found = []
    dog.detected.connect(found.append)
    # one cycle twice the model's (found at once), then cycles just like the model's
    dog.feed([Update(0, 270.0, GOOD, 0.0), Update(0, 540.0, GOOD, 600.0)], names)
    assert len(found) == 1 and not dog.withdraw_if_unfounded(found[0])  # settling: not judged yet
    dog.feed([Update(0, 270.0 + (3 if i % 2 else -3), GOOD, 1200.0 + 600 * i) for i in range(20)], names)
    d = dog.latest(found[0])
    assert d.size_known and abs(d.ratio - 1.0) <= d.half_width
    sized = dog.withdraw_if_unfounded(found[0])
    assert sized is not None and sized.size_known and sized.n >= 16
    assert dog.channels["CNC-03", "cycle"].detection is None  # watched again
    assert dog.withdraw_if_unfounded(found[0]) is None  # once
    from app.watchdog.text import UNFOUNDED, log_rows, withdrawn_text

    said = withdrawn_text(sized)  # trial 11: the row kept "settling … 1 so far; > 99.9% confidence"
    assert "no change once sized" in said and "confidence" not in said and "settling" not in said
    rows = log_rows(read_log(tmp_path / "wd.sqlite"), clock=hours)
    assert rows[0][5] == UNFOUNDED and rows[0][3].startswith("+")  # logged as withdrawn (not "dismissed"), with its size
    # a real +35% change stands
    dog2 = Watchdog(factory, clock=hours)
    real = []
    dog2.detected.connect(real.append)
    dog2.feed([Update(0, 270.0, GOOD, 0.0)] + [Update(0, 364.5 + i % 3, GOOD, 600.0 * (i + 1)) for i in range(20)], names)
    assert real and dog2.latest(real[0]).size_known and dog2.withdraw_if_unfounded(real[0]) is None
