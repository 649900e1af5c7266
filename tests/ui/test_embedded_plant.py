"""--demo's embedded plant simulator: a real child process serving OPC UA, stopped with the window."""

from __future__ import annotations

import asyncio

import pytest
from asyncua import Client, ua

from app.plant.server import NAMESPACE

pytestmark = pytest.mark.gui


def test_demo_starts_the_plant_and_a_client_reads_it(qloop, make_window, qtbot, demo_path):
    w = make_window()
    with qtbot.waitSignal(w.console.start_embedded_plant(demo_path).started, timeout=30000) as blocker:
        pass
    endpoint = blocker.args[0]
    assert endpoint.startswith("opc.tcp://127.0.0.1:") and endpoint in w.status_plant.toolTip()
    assert w.status_plant.text() == "Plant simulator running"
    assert "CNC-06@-1800+2700" in w.plant.process.arguments()  # the demo's busy first minute (DEMO_ARGS)

    async def read() -> str:
        async with Client(endpoint, timeout=5) as client:
            idx = await client.get_namespace_index(NAMESPACE)
            return await client.get_node(ua.NodeId("Machines/RC-01/State", idx)).read_value()

    task = asyncio.ensure_future(asyncio.wait_for(read(), 20))  # on the app's (qasync) loop, as the GUI would
    qtbot.waitUntil(task.done, timeout=25000)
    assert task.result() in ("running", "setup", "starved", "blocked", "down")
    process = w.plant.process
    w.close()
    assert process.state() == process.ProcessState.NotRunning


def test_a_plant_that_cannot_start_is_reported(qloop, make_window, qtbot, tmp_path):
    w = make_window()
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with qtbot.waitSignal(w.console.start_embedded_plant(bad).failed, timeout=30000) as blocker:
        pass
    assert "is this a floortwin factory file?" in blocker.args[0]
    assert w.status_plant.text() == "Plant simulator: stopped"
    assert "Plant simulator stopped" in w.statusBar().currentMessage()
