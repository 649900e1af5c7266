"""The what-if service without Qt: scenarios of the open document, real runs through the job queue in
worker processes, comparisons (with and without recorded actuals), calibration from a real SQLite history
and the drift check — each report on the thread the service says."""

from __future__ import annotations

import threading
import time

import pytest

from app.model.document import FactoryDocument
from app.model.factory import Pose
from app.model.io import load_factory
from app.paths import DEMO_FACTORY
from app.sim.scenario import MachineParam, MoveMachine
from app.whatif import ScenarioStore, WhatIfComparison, WhatIfService, status_text
from tests.recorded import record
from tests.whatif.conftest import Heard

QUICK = {"horizon_s": 4 * 3600.0, "warmup_s": 600.0, "replications": 2, "seed": 7}


def _until(condition, timeout_s: float = 30.0) -> bool:
    """Wait for ``condition`` (a job's status is set just before its thread reports it)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _run(service: WhatIfService, entry, timeout_s: float = 120.0):
    job = service.run(entry)
    assert job is not None
    assert service.queue is not None and service.queue.wait(timeout_s)
    assert job.status == "done", job.message
    return job


def test_a_scenario_holds_the_document_version_it_was_made_from(service, document, tmp_path):
    heard = Heard(service)
    entry = service.new_scenario("current", name="As it was")
    assert entry is not None and service.entries == [entry] and len(heard.of("entries_changed")) == 1
    assert entry.scenario.factory is document.factory and status_text(entry) == "not run"
    document.set_poses({"A": Pose(x_m=1, y_m=1)})
    document.set_tag("A", "State", "ns=2;s=A/State")
    a = entry.scenario.factory.machines[0]
    assert (a.pose.x_m, a.pose.y_m) == (5, 5) and "State" not in a.tags  # the later edits are not in it
    # ... nor in its file: a new service (a restart) lists it as it was made.
    again = WhatIfService(lambda: document, lambda: None, ScenarioStore(tmp_path / "whatif"))
    try:
        again.load_for(document.factory)
        assert [e.scenario for e in again.entries] == [entry.scenario]
    finally:
        again.shutdown()


def test_layout_edits_become_a_scenario_of_the_saved_file(tmp_path):
    document = FactoryDocument(load_factory(DEMO_FACTORY))
    service = WhatIfService(lambda: document, lambda: None, ScenarioStore(tmp_path / "whatif"))
    heard = Heard(service)
    try:
        assert service.new_scenario("layout") is None
        assert heard.of("message")[-1] == ("Save the factory first: layout edits are compared with the saved file",)
        document.save(tmp_path / "demo.json")
        assert service.new_scenario("layout") is None
        assert heard.of("message")[-1] == ("No layout edits since the file was saved",)
        saved_x = document.factory.machine("CNC-01").pose.x_m
        document.set_poses({"CNC-01": Pose(x_m=saved_x + 2, y_m=document.factory.machine("CNC-01").pose.y_m)})
        entry = service.new_scenario("layout")
        assert entry is not None and entry.scenario.name == "Layout edits"
        assert entry.scenario.factory.machine("CNC-01").pose.x_m == saved_x  # the saved layout, changed by the scenario
        assert [type(c) for c in entry.scenario.changes] == [MoveMachine] and entry.scenario.changes[0].machine == "CNC-01"
        (tmp_path / "demo.json").write_text("{broken")
        assert service.new_scenario("layout") is None and heard.of("message")[-1][0].startswith("Cannot read the saved factory: ")
    finally:
        service.shutdown()


def test_run_compare_and_compare_again_after_a_restart(service, document, tmp_path):
    heard = Heard(service)
    service.actuals_min = 0  # no actuals: scenario against baseline over the horizon
    entry = service.new_scenario("current", name="Faster A")
    faster = [MachineParam(machine="A", param="cycle_mean_s", value=20.0)]
    assert service.update_scenario(entry, entry.scenario.model_copy(update={"changes": faster, **QUICK}))
    job = _run(service, entry)
    assert entry.job is job and status_text(entry) == "done"
    # The job's thread reported its progress (the service passes it on, on that thread) and its end.
    assert heard.of("job_changed")[-1] == (job,)
    assert any(t is not threading.main_thread() for t in heard.threads("job_changed"))
    assert _until(lambda: ("What-if “Faster A”: done",) in heard.of("message"))
    assert entry.window() is None and entry.has_results

    result = service.compare(entry).result(timeout=60)
    assert isinstance(result, WhatIfComparison) and heard.of("comparison_ready") == [(result,)]
    assert heard.threads("comparison_ready") != {threading.main_thread()}  # computed and reported on the worker
    assert result.notes[0] == (
        "No actuals: this run was made with none asked for (Actuals: last 0 min) — scenario against baseline only."
    )
    assert result.actual is None
    assert result.trust is None and service.drift_model is None  # no actuals: nothing to watch for drift
    util = result.comparison.row("utilisation", "B")
    assert util.delta is not None and util.delta.mean > 0  # a faster A feeds B more often
    assert "B" in result.comparison.changed_machines() and result.comparison.machines_by_change()[0] in ("A", "B")
    assert set(result.series) == {"baseline", "scenario"} and len(result.baseline_observations) == 2
    assert result.changes == ["A: cycle time (s) = 20"] and result.title == "Faster A"
    assert result.simulated_wip is not None and result.simulated_wip[0] == ["A", "B"]
    # the bottleneck over time, per source (no recorded window: no actual), from the replications' samples
    assert list(result.bottlenecks) == ["baseline", "scenario"] and result.bottlenecks["scenario"].machines == ["A", "B"]
    assert len(result.bottlenecks["baseline"].timelines) == 2 and result.bottlenecks["baseline"].resolution_s == 300.0

    # After a restart the stored results are listed and compared again, with the same figures.
    again = WhatIfService(lambda: document, lambda: None, ScenarioStore(tmp_path / "whatif"))
    try:
        again.load_for(document.factory)
        stored = next(e for e in again.entries if e.path == entry.path)
        assert stored.job is None and status_text(stored) == "results stored" and stored.has_results
        reread = again.compare(stored).result(timeout=60)
        assert reread.comparison.row("utilisation", "B").delta.mean == pytest.approx(util.delta.mean)
        assert again.delete(stored) and not entry.path.exists() and not entry.results.exists()
    finally:
        again.shutdown()


def test_a_bad_scenario_is_refused_a_failed_comparison_said_and_a_run_cancelled(service):
    heard = Heard(service)
    service.actuals_min = 0
    bad = service.new_scenario("current", name="bad")
    no_servers = [MachineParam(machine="A", param="servers", value=0)]
    service.update_scenario(bad, bad.scenario.model_copy(update={"changes": no_servers}))
    assert service.run(bad) is None and bad.job is None
    title, text = heard.of("error")[-1]
    assert title == "The scenario cannot run" and "changes[0].value" in text

    never = service.new_scenario("current", name="never run")
    with pytest.raises(LookupError):
        service.compare(never).result(timeout=30)
    assert heard.of("error")[-1][0] == "Cannot compare" and "no finished run" in heard.of("error")[-1][1]

    long = service.new_scenario("current", name="long")
    service.update_scenario(long, long.scenario.model_copy(update={"horizon_s": 4000 * 86400.0, "replications": 1}))
    job = service.run(long)
    assert job is not None and long.running and not service.delete(long)  # not while it runs
    service.cancel(long)
    assert service.queue.wait(30) and job.status == "cancelled" and status_text(long) == "cancelled"
    assert _until(lambda: any(m.startswith("What-if “long”: cancelled") for (m,) in heard.of("message")))


def _links(path, events) -> None:
    """Link events (t, state) through the real recorder, as a live session records them."""
    from app.history.recorder import Recorder

    rec = Recorder(path)
    for t, state in events:
        rec.record_link(state, t)
    assert rec.flush()
    rec.close()


def _plant_rows(t0: float, seconds: float):
    """A running at a part every 10 s with one 20 s repair, B (the sink) taking every part."""
    rows = [("A", "State", t0, "running"), ("B", "State", t0, "running"), ("A", "PartCount", t0, 0), ("B", "PartCount", t0, 0)]
    parts = 0
    for k in range(1, int(seconds // 10) + 1):
        t = t0 + 10 * k
        if k == 6:
            rows += [("A", "State", t, "down"), ("A", "State", t + 20, "running")]
        elif 6 < k <= 8:
            continue
        parts += 1
        rows += [("A", "PartCount", t, parts), ("B", "PartCount", t + 1, parts)]
    return rows


def test_actuals_calibration_trust_and_drift_from_a_recorded_history(service, document, history_file):
    heard = Heard(service)
    service.min_window_s = 60.0
    service.actuals_min = 5
    assert service.actuals_window() is None  # no history yet
    assert service.calibrate() is None and "Not enough data to calibrate — needs ≥ 1 min" in heard.of("message")[-1][0]
    assert not heard.of("error")  # an expected state, not an error box (a new-user trial saw a red one)
    t0 = 1_000_000.0
    record(history_file, _plant_rows(t0, 40))
    assert service.actuals_window() is None  # 41 s recorded: too short to compare with
    record(history_file, _plant_rows(t0 + 100, 200))  # after a restart: the counters begin again at 0
    _links(history_file, ((t0, "connected"), (t0 + 41, "disconnected"), (t0 + 100, "connected")))
    window = service.actuals_window()
    assert window is not None and window[1] == pytest.approx(t0 + 301) and window[1] - window[0] <= 300

    cal = service.calibrate().result(timeout=60)
    assert heard.of("calibration_ready") == [(cal,)] and heard.threads("calibration_ready") != {threading.main_thread()}
    assert {e.machine for e in cal.machines} == {"A", "B"} and cal.machine("A").failures >= 1
    entry = service.add_calibrated(cal)
    assert entry is not None and entry.scenario.name.startswith("Calibrated baseline") and not entry.scenario.changes
    assert entry.scenario.factory != document.factory and "A: " in entry.scenario.description

    service.update_scenario(entry, entry.scenario.model_copy(update={"replications": 3, "warmup_s": 600.0}))
    job = _run(service, entry)
    assert entry.window() == pytest.approx(window)
    baseline = dict(job.models)["baseline"]
    connected = service.actuals().connected_s  # 40 s before the restart, 201 s after
    assert connected == pytest.approx(241.0) and baseline.horizon_s == pytest.approx(600.0 + connected)  # as long as it
    result = service.compare(entry).result(timeout=60)
    assert result.actual is not None and result.trust is not None and result.notes[0].startswith("Actuals: ")
    assert "actual" in result.series
    assert service.drift_model is not None and service.drift_model.window_s == pytest.approx(window[1] - window[0])

    # The plant stops: A down, nothing made, for as long as the window. The check names A.
    t_stop = window[1] + 1
    stopped = [("A", "State", t_stop, "down"), ("A", "State", t_stop + 400, "down"), ("B", "State", t_stop + 400, "idle")]
    record(history_file, stopped)
    found = service.check_drift().result(timeout=60)
    assert found and "A" in {d.machine for d in found}  # (its output: the calibrated arrivals were not usable)
    assert heard.of("drift_checked")[-1] == (found,) and service.drifting == found
    message = heard.of("message")[-1][0]  # the status bar's short form (trial 9: the long one ran into the badge)
    assert message.startswith("Drift from the model: A") and message.endswith("figures in the What-if dock")
    assert service.drift_said.startswith("Drift from the model: A: ")

    # Trial 10: after a recalibration or a deployment the compared run no longer describes the model — the check
    # says so instead of naming machines against a model that is gone.
    from app.sim.scenario import MachineParam, Scenario, apply
    from app.whatif.service import DRIFT_STALE

    slower = apply(Scenario(name="deployed", factory=document.factory, changes=[
        MachineParam(machine="A", param="cycle_mean_s", value=2 * document.factory.machine("A").sim.cycle.mean_s)]))
    document.set_parameters(slower, ["A"])
    assert service.check_drift().result(timeout=60) == [] and service.drift_said == DRIFT_STALE


def test_a_window_with_a_plant_restart_compares_connected_time_only_and_says_so(service, history_file):
    service.actuals_min = 60
    service.min_window_s = 60.0
    t0 = 2_000_000.0
    # Two 20-minute stretches; between them the link was down 10 minutes and the plant restarted (its
    # counters began again at 0). A window stitched across them would count the gap as no output.
    record(history_file, _plant_rows(t0, 1200) + _plant_rows(t0 + 1800, 1200))
    _links(history_file, ((t0, "connected"), (t0 + 1200, "disconnected"), (t0 + 1800, "connected")))
    assert service.actuals_text() == "Actuals: 40 min of 60, 1 gap"
    w = service.actuals()
    assert w is not None and w.stretches == ((t0, t0 + 1200), (t0 + 1800, t0 + 3001))
    entry = service.new_scenario("current", name="restart")
    service.update_scenario(entry, entry.scenario.model_copy(update={"replications": 3, "warmup_s": 600.0, "seed": 7}))
    job = _run(service, entry)
    assert dict(job.models)["baseline"].horizon_s == pytest.approx(600.0 + w.connected_s)  # connected time, not 50 min
    result = service.compare(entry).result(timeout=60)
    assert result.actuals is not None and result.actuals.text() == "40 min of 60, 1 gap"
    assert result.notes[0].startswith("Actuals: 40 min of 60, 1 gap of connected history")
    assert result.actual is not None and result.actual.seconds == pytest.approx(w.connected_s)
    necks = result.bottlenecks["actual"]  # each connected stretch analysed on its own, over connected time
    assert necks.source == "history" and len(necks.timelines) == 2 and necks.analysed_s == pytest.approx(w.connected_s)
    thr = result.comparison.row("throughput_per_h")
    assert thr.actual == pytest.approx(3600 / 10 * 0.97, rel=0.05)  # a part every 10 s (less the repairs), not ⅘ of it
    assert thr.fit in ("fits", "outside", "not enough data") and (thr.fit != "not enough data" or thr.needs.startswith("≥ "))
    # Trust needs ≥ 5 windows of 15 min inside connected stretches: 40 min in two stretches hold 2.
    assert result.trust is not None and not result.trust.line.enough
    assert result.trust.line.text() == "not enough data — needs ≥ 5 windows of 15 min (has 2)"
    service.fit_margin = 0.5  # the margin is the user's: it goes with the next comparison
    wider = service.compare(entry).result(timeout=60).comparison.row("throughput_per_h")
    assert wider.margin == 0.5


def test_a_plant_run_faster_than_the_clock_is_compared_and_calibrated_in_its_own_time(tmp_path, document, history_file):
    """A plant simulator at 10× records ten plant seconds a second: the baseline covers the plant time of the
    window and the actuals are rates per plant hour (a new-user trial saw 25,970 parts/h against 49)."""
    history_file.parent.mkdir()
    service = WhatIfService(
        lambda: document, lambda: history_file, ScenarioStore(tmp_path / "whatif"), cores=1, time_scale=lambda: 10.0
    )
    try:
        service.actuals_min = 60
        service.min_window_s = 60.0
        t0 = 3_000_000.0
        rows = [(m, s, t0 + (t - t0) / 10, v) for m, s, t, v in _plant_rows(t0, 3000)]  # 3000 plant s in 300 s
        record(history_file, rows)
        _links(history_file, ((t0, "connected"),))
        w = service.actuals()
        assert w is not None and w.connected_s == pytest.approx(300.1, abs=0.5)
        # the window is minutes of recording: the text says so and the plant time they hold (issue 16 F11)
        assert service.actuals_text() == "Actuals: 5 min of 60 recorded (50 min of plant time at 10×), no gaps"
        entry = service.new_scenario("current", name="fast plant")
        service.update_scenario(entry, entry.scenario.model_copy(update={"replications": 3, "warmup_s": 600.0, "seed": 7}))
        job = _run(service, entry)
        assert dict(job.models)["baseline"].horizon_s == pytest.approx(600.0 + 10 * w.connected_s)  # plant seconds
        assert entry.time_scale() == 10.0
        result = service.compare(entry).result(timeout=60)
        thr = result.comparison.row("throughput_per_h")
        assert result.notes[0].startswith("Actuals: 5 min of 60 recorded (50 min of plant time at 10×), no gaps of connected")
        assert thr.actual == pytest.approx(3600 / 10, rel=0.1)  # a part every 10 plant seconds, per plant hour
        cal = service.calibrate().result(timeout=60)
        assert cal.time_scale == 10.0 and cal.machine("A").cycle_s is not None
        assert cal.machine("A").cycle_s.mean == pytest.approx(10.0, rel=0.15)  # plant seconds, not 1 s
    finally:
        service.shutdown()


def test_a_run_made_before_a_minute_was_recorded_says_why_it_has_no_actuals_when_compared_later(service, history_file):
    """Issue 16 F5: a run made while 0.3 min were recorded, compared when 1.5 min were, said "No recorded window"
    while the dock said 1.5 min recorded. A run is simulated for as long as its window, so it cannot take the
    window recorded since: the comparison says why it has none and what a new run would compare with."""
    service.actuals_min = 60
    service.min_window_s = 60.0
    t0 = 4_000_000.0
    record(history_file, _plant_rows(t0, 30))
    _links(history_file, ((t0, "connected"),))
    assert service.actuals_text() == "Actuals: 0.5 min of 60, no gaps — not enough data, needs ≥ 1 min connected"
    entry = service.new_scenario("current", name="early")
    service.update_scenario(entry, entry.scenario.model_copy(update=QUICK))
    _run(service, entry)
    assert entry.window() is None and entry.noted("recorded_s") == pytest.approx(30.0, abs=1.5)
    record(history_file, [(m, sig, t + 40, v) for m, sig, t, v in _plant_rows(t0, 300)])  # recorded since
    now = service.actuals_text()
    assert now == "Actuals: 5.6 min of 60, no gaps"
    result = service.compare(entry).result(timeout=60)
    assert result.actual is None and result.actuals is None
    assert result.notes[0] == (
        "No actuals: this run was made when only 0.5 min had been recorded (needs ≥ 1 min connected) — run it again "
        "to compare with what has been recorded since: 5.6 min of 60, no gaps."
    )
    assert now.removeprefix("Actuals: ") in result.notes[0]  # the dock's words
    assert "No recorded window" not in result.notes[0]
