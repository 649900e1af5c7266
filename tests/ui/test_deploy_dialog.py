"""Deploy to Plant…: the dialog on a what-if scenario against the plant simulator process (issue 16, item 5)."""

from __future__ import annotations

import pytest
from PySide6 import QtCore

from app.deploy.log import read_log
from app.model.io import load_factory
from app.sim.scenario import MachineParam, Scenario
from app.ui.deploy_dialog import DeployDialog
from tests.conftest import DEMO
from tests.deploy.conftest import SPEED, settings
from tests.plant.secure import plant_process

pytestmark = pytest.mark.gui

FACTORY = load_factory(DEMO)


def test_the_dialog_shows_the_stages_asks_for_each_confirmation_and_lists_the_log(qtbot, tmp_path):
    cnc01, cnc02 = (FACTORY.machine(m).sim.cycle.mean_s for m in ("CNC-01", "CNC-02"))
    scenario = Scenario(
        name="Faster CNCs",
        factory=FACTORY,
        changes=[
            MachineParam(machine="CNC-02", param="cycle_mean_s", value=round(0.8 * cnc02)),
            MachineParam(machine="CNC-01", param="cycle_mean_s", value=round(0.8 * cnc01)),
        ],
    )
    with plant_process(tmp_path, speed=SPEED) as plant:
        dialog = DeployDialog(scenario, tmp_path / "plant.deployments.sqlite")
        qtbot.addWidget(dialog)
        dialog.show()
        assert dialog.first.text() == "CNC-02"  # the first change's machine first, the rest after
        dialog.speed.setValue(SPEED)
        dialog.window.setValue(60.0)
        assert dialog.start(settings(plant.endpoint, tmp_path, "engineer"))
        assert dialog.stages.topLevelItemCount() == 2
        assert "CNC-02 cycle time" in dialog.stages.topLevelItem(0).text(1)
        for stage in (1, 2):
            qtbot.waitUntil(dialog.confirm_button.isEnabled, timeout=90_000)
            assert dialog.confirm_button.text().replace("&", "") == f"Confirm Stage {stage}"
            assert dialog.stages.topLevelItem(stage - 1).text(2) == "awaiting confirmation"
            qtbot.mouseClick(dialog.confirm_button, QtCore.Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Deployment" in dialog.message.text(), timeout=90_000)
        assert dialog.message.text().startswith("Deployment completed"), dialog.message.text()
        assert [dialog.stages.topLevelItem(k).text(2) for k in range(2)] == ["passed", "passed"]
        rows = [[dialog.log_list.topLevelItem(k).text(c) for c in range(9)] for k in range(dialog.log_list.topLevelItemCount())]
        writes = [(r[3], r[4], r[5], r[6], r[7]) for r in rows if r[2] == "write"]
        assert writes == [
            ("Machines/CNC-02/CycleTimeSetpoint", f"{cnc02:g}", f"{round(0.8 * cnc02):g}", "Good", "engineer"),
            ("Machines/CNC-01/CycleTimeSetpoint", f"{cnc01:g}", f"{round(0.8 * cnc01):g}", "Good", "engineer"),
        ]
        assert len(rows) == len(read_log(tmp_path / "plant.deployments.sqlite"))  # the list is the log
        dialog.close()


def test_the_whatif_dock_offers_deploy_for_the_selected_scenario(qtbot, tmp_path):
    from app.model.document import FactoryDocument
    from app.ui.whatif_dock import WhatIfDock
    from app.whatif import ScenarioStore, WhatIfService

    document = FactoryDocument(FACTORY)
    service = WhatIfService(lambda: document, lambda: tmp_path / "plant.sqlite", ScenarioStore(tmp_path / "whatif"), cores=1)
    dock = WhatIfDock(service, say=lambda _t: None, show_error=lambda *_: None, show_delta=lambda *_: None)
    qtbot.addWidget(dock)
    service.new_scenario("current")
    qtbot.waitUntil(lambda: dock.selected() is not None)
    qtbot.mouseClick(dock.deploy_button, QtCore.Qt.MouseButton.LeftButton)
    dialogs = [d for d in dock.dialogs if isinstance(d, DeployDialog)]
    assert len(dialogs) == 1 and dialogs[0].log_path == tmp_path / "plant.deployments.sqlite"
    assert not dialogs[0].start()  # a scenario without changes: the plan says why, nothing starts
    assert "changes nothing" in dialogs[0].message.text()
    for d in list(dock.dialogs):
        d.close()
    dock.shutdown()
    service.shutdown()
