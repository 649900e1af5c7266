"""Trust-gated deployment against the plant simulator process (issue 16, item 5)."""

from __future__ import annotations

import asyncio

import pytest

from app.deploy.plan import PlanError, StageSpec, plan_deployment
from app.deploy.service import Deployment, Outcome, StageState
from app.model.io import load_factory
from app.sim.scenario import MachineParam, MoveMachine, Scenario, apply
from tests.conftest import DEMO
from tests.deploy.conftest import WINDOW_S, deploy, read_setpoints

FACTORY = load_factory(DEMO)
CNC01 = FACTORY.machine("CNC-01").sim.cycle.mean_s
CNC02 = FACTORY.machine("CNC-02").sim.cycle.mean_s  # the bottleneck
SP01, SP02 = "Machines/CNC-01/CycleTimeSetpoint", "Machines/CNC-02/CycleTimeSetpoint"


def cycle(machine: str, value: float) -> MachineParam:
    return MachineParam(machine=machine, param="cycle_mean_s", value=value)


def writes(entries, kind="write"):
    return [(e.node, e.old, e.new, e.status, e.user) for e in entries if e.kind == kind]


def test_a_plan_says_what_cannot_be_deployed_and_what_no_stage_holds():
    s = Scenario(name="x", factory=FACTORY, changes=[cycle("CNC-02", 200.0), MoveMachine(machine="CNC-01", x_m=1, y_m=1)])
    with pytest.raises(PlanError, match=r"changes\[1\].*no setpoint"):
        plan_deployment(s, [StageSpec(None, 60.0)])
    s = Scenario(name="x", factory=FACTORY, changes=[cycle("CNC-02", 200.0), cycle("CNC-01", 200.0)])
    with pytest.raises(PlanError, match="not in any stage: CNC-01"):
        plan_deployment(s, [StageSpec(("CNC-02",), 60.0)])
    with pytest.raises(PlanError, match="stage 2 writes nothing"):
        plan_deployment(s, [StageSpec(None, 60.0), StageSpec(None, 60.0)])


def test_a_change_that_improves_the_plant_completes_all_stages(plant, tmp_path, netloop):
    changes = [cycle("CNC-02", round(0.75 * CNC02)), cycle("CNC-01", round(0.75 * CNC01))]
    dep, entries = deploy(plant, tmp_path, netloop, changes, [StageSpec(("CNC-02",), WINDOW_S), StageSpec(None, WINDOW_S)])
    assert dep.outcome is Outcome.COMPLETED, dep.reason
    assert [r.state for r in dep.reports] == [StageState.PASSED, StageState.PASSED]
    assert asyncio.run(read_setpoints(plant.endpoint, tmp_path, [SP02, SP01])) == [round(0.75 * CNC02), round(0.75 * CNC01)]
    # the log: the plan, a confirmation before each stage's write, each write with its old and new value, by whom
    kinds = [e.kind for e in entries]
    assert kinds == ["plan", "confirmation", "write", "stage", "confirmation", "write", "stage", "end"]
    assert writes(entries) == [
        (SP02, pytest.approx(CNC02), round(0.75 * CNC02), "Good", "engineer"),
        (SP01, pytest.approx(CNC01), round(0.75 * CNC01), "Good", "engineer"),
    ]


def test_a_change_that_hurts_is_rolled_back_in_its_first_stage(plant, tmp_path, netloop):
    changes = [cycle("CNC-02", 3 * CNC02), cycle("CNC-01", 2 * CNC01)]
    dep, entries = deploy(plant, tmp_path, netloop, changes, [StageSpec(("CNC-02",), WINDOW_S), StageSpec(None, WINDOW_S)])
    assert dep.outcome is Outcome.ROLLED_BACK
    assert [r.state for r in dep.reports] == [StageState.ROLLED_BACK, StageState.PENDING]
    assert "CNC-02 throughput" in dep.reason and "fewer than the plant makes without the change" in dep.reason
    assert asyncio.run(read_setpoints(plant.endpoint, tmp_path, [SP02, SP01])) == [pytest.approx(CNC02), pytest.approx(CNC01)]
    assert writes(entries) == [(SP02, pytest.approx(CNC02), 3 * CNC02, "Good", "engineer")]
    assert writes(entries, "rollback write") == [(SP02, 3 * CNC02, pytest.approx(CNC02), "Good", "engineer")]
    assert [e.text for e in entries if e.kind == "rollback"] == [dep.reason]


def test_the_read_only_login_is_refused_before_any_write(plant, tmp_path, netloop):
    dep, entries = deploy(plant, tmp_path, netloop, [cycle("CNC-02", 200.0)], [StageSpec(None, WINDOW_S)], user="operator")
    assert dep.outcome is Outcome.STOPPED
    assert "operator may not write" in dep.reason and "nothing was written" in dep.reason
    assert writes(entries) == [] and [e.kind for e in entries] == ["plan", "refused", "end"]
    assert asyncio.run(read_setpoints(plant.endpoint, tmp_path, [SP02])) == [pytest.approx(CNC02)]


@pytest.mark.parametrize("user, secure", [(None, True), ("engineer", False)])
def test_anonymous_or_unsecured_sessions_never_write(plant, tmp_path, netloop, user, secure):
    dep, entries = deploy(
        plant, tmp_path, netloop, [cycle("CNC-02", 200.0)], [StageSpec(None, WINDOW_S)], user=user, secure=secure
    )
    assert dep.outcome is Outcome.STOPPED and "nothing was written" in dep.reason
    assert writes(entries) == []


def test_an_out_of_range_write_stops_the_stage_with_the_status_and_writes_back_the_stage(plant, tmp_path, netloop):
    changes = [cycle("CNC-01", round(0.9 * CNC01)), cycle("CNC-02", 10 * CNC02)]
    dep, entries = deploy(plant, tmp_path, netloop, changes, [StageSpec(None, WINDOW_S)])
    assert dep.outcome is Outcome.STOPPED
    assert "BadOutOfRange" in dep.reason and "CNC-02" in dep.reason
    assert dep.reports[0].state is StageState.STOPPED
    assert writes(entries) == [
        (SP01, pytest.approx(CNC01), round(0.9 * CNC01), "Good", "engineer"),
        (SP02, pytest.approx(CNC02), 10 * CNC02, "BadOutOfRange", "engineer"),
    ]
    assert writes(entries, "rollback write") == [(SP01, round(0.9 * CNC01), pytest.approx(CNC01), "Good", "engineer")]
    assert asyncio.run(read_setpoints(plant.endpoint, tmp_path, [SP01, SP02])) == [pytest.approx(CNC01), pytest.approx(CNC02)]


def test_a_link_that_drops_during_a_stage_freezes_it_and_rolls_it_back_when_it_returns(tmp_path, netloop):
    import threading

    from app.deploy.log import DeployLog, read_log
    from tests.deploy.conftest import SPEED, settings
    from tests.plant.secure import plant_process

    scenario = Scenario(name="x", factory=FACTORY, changes=[cycle("CNC-02", round(0.75 * CNC02))])
    plan = plan_deployment(scenario, [StageSpec(None, WINDOW_S)])
    seen: dict[StageState, threading.Event] = {s: threading.Event() for s in StageState}
    with plant_process(tmp_path, speed=SPEED) as first:
        endpoint = first.endpoint
        dep_log = DeployLog(tmp_path / "d.sqlite")
        dep = Deployment(plan, settings(endpoint, tmp_path, "engineer"), dep_log, SPEED, replications=8, loop=netloop)

        def on_stage(_k, report):
            seen[report.state].set()
            if report.state is StageState.AWAITING_CONFIRMATION:
                dep.confirm_next_stage()

        dep.stage_changed.connect(on_stage)
        done = dep.start()
        assert seen[StageState.WATCHING].wait(90)
        first.kill()  # the plant goes away in the middle of the window
        first.wait(10)
        assert seen[StageState.FROZEN].wait(30)
        assert not done.done()  # frozen: waiting for the link, nothing rolled back yet
        port = int(endpoint.rsplit(":", 1)[1].split("/")[0])
        with plant_process(tmp_path, speed=SPEED, port=port):
            assert done.result(timeout=60) is Outcome.ROLLED_BACK
            assert "link to the plant dropped during stage 1" in dep.reason
            assert asyncio.run(read_setpoints(endpoint, tmp_path, [SP02])) == [pytest.approx(CNC02)]
    dep_log.close()
    kinds = [e.kind for e in read_log(tmp_path / "d.sqlite")]
    assert kinds == ["plan", "confirmation", "write", "frozen", "rollback", "rollback write", "end"]


def test_drift_on_the_changed_machine_rolls_the_stage_back_at_once(tmp_path, netloop):
    from tests.deploy.conftest import SPEED
    from tests.plant.secure import plant_process

    # The plant's CNC-02 really runs 60% slower than any setpoint says: the watchdog armed on the changed
    # factory sees its cycles too long and the stage is rolled back before its window ends.
    with plant_process(tmp_path, speed=SPEED, extra=("--drift", "CNC-02:cycle=+60%@0")) as plant:
        changes = [cycle("CNC-02", round(0.9 * CNC02))]
        dep, entries = deploy(plant, tmp_path, netloop, changes, [StageSpec(None, 2 * WINDOW_S)])
        assert dep.outcome is Outcome.ROLLED_BACK
        # (a cycle 60% too long is beyond the single-cycle limit: found on it, before its size is known)
        head = "drift on the changed plant: CNC-02 cycle time "
        assert dep.reason.startswith((head + "+", head + "up since ")), dep.reason
        assert "parts in the window" not in dep.reason  # it did not wait for the window to end
        assert writes(entries, "rollback write") == [(SP02, round(0.9 * CNC02), pytest.approx(CNC02), "Good", "engineer")]
        assert asyncio.run(read_setpoints(plant.endpoint, tmp_path, [SP02])) == [pytest.approx(CNC02)]


def test_a_plant_whose_certificate_the_user_has_not_trusted_is_not_written(plant, tmp_path, netloop):
    import dataclasses

    from app.deploy.log import DeployLog, read_log
    from app.live.trust import TrustStore
    from tests.deploy.conftest import SPEED, settings

    plan = plan_deployment(Scenario(name="x", factory=FACTORY, changes=[cycle("CNC-02", 200.0)]), [StageSpec(None, WINDOW_S)])
    unverified = dataclasses.replace(settings(plant.endpoint, tmp_path, "operator"), server_certificate=None)
    store = TrustStore(tmp_path / "trusted")
    dep_log = DeployLog(tmp_path / "d.sqlite")
    dep = Deployment(plan, unverified, dep_log, SPEED, loop=netloop, trusted=store)
    assert dep.start().result(timeout=60) is Outcome.STOPPED
    assert "certificate" in dep.reason and "is not trusted" in dep.reason and "nothing was written" in dep.reason
    store.trust((tmp_path / "server" / "server_cert.der").read_bytes())  # as the live console's trust dialog does
    again = Deployment(plan, unverified, dep_log, SPEED, loop=netloop, trusted=store)
    assert again.start().result(timeout=60) is Outcome.STOPPED
    assert "operator may not write" in again.reason  # it connected to the trusted plant, and the login was checked
    dep_log.close()
    assert [e.kind for e in read_log(tmp_path / "d.sqlite") if e.kind == "write"] == []


def test_a_demand_change_is_deployed_as_the_release_rate_setpoint(plant, tmp_path, netloop):
    from app.sim.scenario import Demand

    cover = next(f for f in FACTORY.flows if f.part == "cover").interarrival.mean_s
    dep, entries = deploy(
        plant, tmp_path, netloop, [Demand(part="cover", interarrival_mean_s=0.8 * cover)], [StageSpec(None, WINDOW_S)]
    )
    assert dep.outcome is Outcome.COMPLETED, dep.reason
    assert list(dep.reports[0].measured) == ["line output"]  # no machine changed: the line's output is watched
    rate = "Sources/cover/ReleaseRate"
    assert writes(entries) == [(rate, pytest.approx(3600 / cover), pytest.approx(3600 / (0.8 * cover)), "Good", "engineer")]
    assert asyncio.run(read_setpoints(plant.endpoint, tmp_path, [rate])) == [pytest.approx(3600 / (0.8 * cover))]


def _follower(document):
    from app.deploy.model_sync import ModelFollower

    def make(plan):
        return ModelFollower(document, plan).on_stage

    return make


@pytest.fixture
def worn_plant(tmp_path):
    """The plant with CNC-02's tool worn from the start: its cycles 50% longer than its setpoint says."""
    from tests.deploy.conftest import SPEED
    from tests.plant.secure import plant_process

    with plant_process(tmp_path, speed=SPEED, extra=("--drift", "CNC-02:cycle=+50%@0m")) as proc:
        yield proc


def test_a_recalibrated_model_writes_its_change_as_a_ratio_of_the_plants_setpoint_and_the_model_follows(
    worn_plant, tmp_path, netloop
):
    """Trial 9: after Recalibrate set the model's CNC-03 to the observed 400 s (the plant's setpoint still 270 s),
    a "20% faster" scenario (400 → 320 s) wrote 270 → 320: a slower setpoint. It must write 270 → 216, say so
    before Confirm, and the model must then hold 320 s (else the watchdog calls the deployed change drift)."""
    from app.model.document import FactoryDocument as Document

    worn = apply(Scenario(name="worn", factory=FACTORY, changes=[cycle("CNC-02", 1.5 * CNC02)]))  # recalibrated: a worn tool
    faster = 0.8 * 1.5 * CNC02
    document = Document(worn)
    texts: list[str] = []
    dep, entries = deploy(
        worn_plant, tmp_path, netloop, [cycle("CNC-02", faster)], [StageSpec(None, WINDOW_S)], factory=worn,
        follow=lambda plan: (lambda k, r: (texts.append(r.text), _follower(document)(plan)(k, r))),
    )
    assert writes(entries)[0][:3] == (SP02, pytest.approx(CNC02), pytest.approx(0.8 * CNC02))  # 20% lower, not 1.2× higher
    assert "−20% (model" in dep.plan.stages[0].changes[0].label
    assert any(f"Writes: {SP02} {CNC02:g} → {0.8 * CNC02:g}." in t for t in texts)  # said before Confirm
    assert dep.outcome is Outcome.COMPLETED, dep.reason
    assert document.factory.machine("CNC-02").sim.cycle.mean_s == pytest.approx(faster)  # the model follows the plant
    assert asyncio.run(read_setpoints(worn_plant.endpoint, tmp_path, [SP02])) == [pytest.approx(0.8 * CNC02)]


def test_a_rolled_back_stage_leaves_the_model_as_it_was(plant, tmp_path, netloop):
    from app.model.document import FactoryDocument as Document

    document = Document(FACTORY)
    dep, _entries = deploy(
        plant, tmp_path, netloop, [cycle("CNC-02", 3 * CNC02)], [StageSpec(None, WINDOW_S)], follow=_follower(document)
    )
    assert dep.outcome is Outcome.ROLLED_BACK
    assert document.factory.machine("CNC-02").sim.cycle.mean_s == pytest.approx(CNC02)
    assert document.dirty is False  # back to the very parameters it had
