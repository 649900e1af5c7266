"""Live ▸ Build Twin from Server… on the real window, against node-opcua serving the official DI and Machinery
nodesets with Machinery machines (nodesets.js): browse off the GUI thread, preview, build as one undo step."""

from __future__ import annotations

import subprocess

import pytest
from PySide6 import QtCore, QtWidgets

from app.autobuild.build import mesh_sizes
from app.optimise.feasibility import factory_hulls
from app.physics.world import check_layout
from app.ui.build_twin_dialog import BuildTwinDialog
from tests.interop.test_node_opcua import _STARTED, start_nodeset_server
from tests.live.conftest import free_port

pytestmark = pytest.mark.gui


@pytest.fixture
def machinery_url():
    port = free_port()
    start_nodeset_server(port, "6")
    yield f"opc.tcp://127.0.0.1:{port}/interop"
    while _STARTED:
        proc = _STARTED.pop()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def _run_dialog(qtbot, url: str, act, tmp_path) -> dict:
    """Find machines in the dialog the action opens (it runs its own loop), note what it shows, then Build."""
    seen: dict = {}

    def drive():
        dialogs = [d for d in QtWidgets.QApplication.topLevelWidgets() if isinstance(d, BuildTwinDialog) and d.isVisible()]
        if not dialogs:
            QtCore.QTimer.singleShot(50, drive)
            return
        dialog = dialogs[0]
        if "started" not in seen:
            seen["started"] = True
            dialog.endpoint.setText(url)
            dialog.find.click()
            seen["stop_enabled"] = dialog.stop.isEnabled()
        if not dialog.build_button.isEnabled():
            if dialog.find.isEnabled() and dialog.discovery is None and "started" in seen and not dialog.stop.isEnabled():
                seen["status"] = dialog.status.text()
                dialog.reject()
                return
            QtCore.QTimer.singleShot(50, drive)
            return
        table = dialog.table
        seen["rows"] = {
            table.item(r, 1).text(): [table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())
        }
        seen["status"] = dialog.status.text()
        dialog.grab().save(str(tmp_path / "build_twin.png"))
        dialog.build_button.click()

    QtCore.QTimer.singleShot(0, drive)
    act.trigger()
    return seen


def test_build_twin_adds_the_servers_machines_as_one_undo_step(make_window, qtbot, machinery_url, tmp_path):
    w = make_window()
    before = w.document.factory
    seen = _run_dialog(qtbot, machinery_url, w.actions_by_id["live.build_twin"], tmp_path)
    assert seen["stop_enabled"]  # the browse ran off the GUI thread, cancellable
    rows = seen["rows"]
    assert sorted(rows) == ["Liar", "M0001", "M0002", "M0003", "M0004", "M0005", "M0006", "WrongType"]
    assert rows["M0002"][:4] == ["new", "M0002", "CNC machining centre", "Line1"]
    assert rows["M0002"][5] == "OperationMode, PartCount, State"
    assert "no MachineryItemState" in rows["Liar"][4]
    assert rows["M0002"][6] == "ACME Machines, CNC Mill DMU 50, SN-1002, Hall A Line1"
    assert seen["status"].startswith("8 new, 0 already in the factory, 0 gone from the server; 2 with problems")
    after = w.document.factory
    assert len(after.machines) == len(before.machines) + 8
    added = {m.id: m for m in after.machines}
    assert added["M0003"].kind == "robot_cell" and "State" in added["M0003"].tags and added["M0003"].line == "Line1"
    assert all(m.pose == before.machine(m.id).pose for m in before.machines)  # nothing already there moved
    size = added["M0002"].footprint
    assert (size.width_m, size.depth_m, size.height_m) == mesh_sizes(w.asset_of)["cnc"]  # sized as its kind's mesh
    new_ids = set(added) - {m.id for m in before.machines}
    verdicts = check_layout(after, factory_hulls(after, w.document.path))
    assert not [v.machine for v in verdicts if v.machine in new_ids]  # placed clear of everything
    w.layout_editor.stack.undo()  # one step takes it all back
    assert w.document.factory.machines == before.machines
    w.layout_editor.stack.redo()
    # Again: everything is already there, nothing to build.
    again: dict = {}

    def look():
        dialogs = [d for d in QtWidgets.QApplication.topLevelWidgets() if isinstance(d, BuildTwinDialog) and d.isVisible()]
        if not dialogs:
            QtCore.QTimer.singleShot(50, look)
            return
        dialog = dialogs[0]
        if "clicked" not in again:
            again["clicked"] = True
            dialog.endpoint.setText(machinery_url)
            dialog.find.click()
        if dialog.discovery is None:
            QtCore.QTimer.singleShot(50, look)
            return
        again["status"], again["build"] = dialog.status.text(), dialog.build_button.isEnabled()
        dialog.reject()

    QtCore.QTimer.singleShot(0, look)
    w.actions_by_id["live.build_twin"].trigger()
    assert again["status"].startswith("0 new, 8 already in the factory, 0 gone") and not again["build"]


def test_a_server_that_does_not_answer_says_so(make_window, qtbot, tmp_path):
    w = make_window()
    before = w.document.factory
    seen = _run_dialog(qtbot, f"opc.tcp://127.0.0.1:{free_port()}/none", w.actions_by_id["live.build_twin"], tmp_path)
    assert seen["status"].startswith("could not browse opc.tcp://127.0.0.1:")
    assert w.document.factory == before
