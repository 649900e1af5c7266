"""What the Deploy dialog says before anything starts (issue 16 F10): the plant's logins and whether the
scenario has anything to write. Qt-free."""

from __future__ import annotations

from app.deploy.text import NOTHING_TO_WRITE, deploy_blocker, login_hint, plant_logins
from app.model.io import load_factory
from app.plant.server import DEMO_ARGS
from app.sim.scenario import MachineParam, Scenario
from tests.conftest import DEMO

FACTORY = load_factory(DEMO)


def test_the_demo_plants_logins_come_from_its_command_line_without_their_passwords():
    logins = plant_logins([*DEMO_ARGS, "--speed", "20"])
    assert sorted(logins) == [("engineer", "write"), ("operator", "read")]
    hint = login_hint(logins)
    assert hint == "plant simulator logins: engineer (may write) / operator (read only)"
    assert plant_logins(["--user", "anna:pw"]) == [("anna", "read")] and "pw" not in login_hint([("anna", "read")])


def test_an_unknown_plant_says_a_writing_login_is_needed_until_one_is_given():
    assert "needs a login the plant lets write" in login_hint([], "")
    assert login_hint([], "engineer") == ""


def test_a_scenario_without_a_deployable_change_says_so_at_once():
    assert deploy_blocker(Scenario(name="s", factory=FACTORY, changes=[])) == NOTHING_TO_WRITE
    moved = MachineParam(machine="CNC-01", param="setup_s", value=30.0)  # no setpoint for it
    assert deploy_blocker(Scenario(name="s", factory=FACTORY, changes=[moved])) == NOTHING_TO_WRITE
    faster = MachineParam(machine="CNC-01", param="cycle_mean_s", value=100.0)
    assert deploy_blocker(Scenario(name="s", factory=FACTORY, changes=[faster])) == ""
    both = deploy_blocker(Scenario(name="s", factory=FACTORY, changes=[faster, moved]))
    assert both.startswith("Cannot deploy: changes[1]") and "no setpoint" in both
