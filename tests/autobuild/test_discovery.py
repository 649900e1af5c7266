"""Build Twin from Server: discovery and build against node-opcua serving the official DI and Machinery nodesets
with Machinery machines (tests/interop/nodesets.js), a real process on 127.0.0.1."""

from __future__ import annotations

import asyncio
import subprocess
import threading

import pytest

from app.autobuild.build import build, difference, empty_factory, preview_rows, summary
from app.autobuild.discovery import Cancelled, Limits
from app.autobuild.job import DiscoveryJob
from app.optimise.feasibility import factory_hulls
from app.physics.world import check_layout
from tests.interop.test_node_opcua import _STARTED, start_node_server, start_nodeset_server
from tests.live.conftest import free_port


@pytest.fixture
def machinery():
    """Start nodesets.js with machines; yields a starter taking the machine count (and a huge node's size)."""

    def start(count: int, huge: int = 0) -> tuple[str, str]:
        port = free_port()
        _proc, uri = start_nodeset_server(port, str(count), str(huge))
        return f"opc.tcp://127.0.0.1:{port}/interop", uri

    yield start
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


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


def test_machines_are_found_with_identification_state_and_counter(machinery):
    url, uri = machinery(9)
    found = run(DiscoveryJob().run(url))
    assert found.complete and not found.problems
    by_name = {m.name: m for m in found.machines}
    assert sorted(by_name) == ["Liar", *(f"M{i:04d}" for i in range(1, 10)), "WrongType"]
    m = by_name["M0002"]
    assert m.group == ("Line1",) and by_name["M0005"].group == ("Line2",)
    assert m.identification == {
        "Manufacturer": "ACME Machines",
        "SerialNumber": "SN-1002",
        "ProductInstanceUri": "urn:acme:M0002",
        "Model": "CNC Mill DMU 50",
        "Location": "Hall A Line1",
    }
    assert m.bindings["PartCount"] == f"nsu={uri};s=Machines/M0002/PartsProduced"
    assert m.bindings["State"].startswith(f"nsu={uri};") and m.states == {
        "State": "machinery-item-state",
        "OperationMode": "machinery-operation-mode",
    }
    assert not m.problems
    # The liar: problems listed, no crash; its Loop (organizing its machine and the Machines folder) ends.
    liar = by_name["Liar"]
    assert set(liar.problems) == {
        "Identification has no SerialNumber (mandatory)",
        "Identification has no ProductInstanceUri (mandatory)",
        "no MachineryItemState/CurrentState: its state cannot be bound",
    }
    wrong = by_name["WrongType"]
    assert wrong.problems == (
        "no Identification: manufacturer, model and serial number unknown",
        "State's CurrentState is a int, not a LocalizedText: bound with the auto mapping",
    )
    assert wrong.states == {"State": "auto"} and wrong.bindings["State"] == f"nsu={uri};s=Machines/WrongType/State/CurrentState"
    rows = {r.name: r for r in preview_rows(found, None)}
    assert (rows["M0001"].kind, rows["M0002"].kind, rows["M0003"].kind) == ("press", "cnc", "robot_cell")
    assert rows["M0002"].bindings == "OperationMode, PartCount, State"


def test_limits_and_cancel(machinery):
    url, _uri = machinery(6, 100_000)  # the liar has a node of 100,000 children
    found = run(DiscoveryJob().run(url))
    liar = next(m for m in found.machines if m.name == "Liar")
    assert "Many has more than 1,000 children: only the first looked at" in liar.problems
    assert found.complete and len(found.machines) == 8 and found.nodes_browsed < 2000
    few = run(DiscoveryJob(Limits(children=100)).run(url))
    liar = next(m for m in few.machines if m.name == "Liar")
    assert "Many has more than 100 children: only the first looked at" in liar.problems
    small = run(DiscoveryJob(Limits(nodes=20)).run(url))
    assert not small.complete and "browse limit" in small.problems[0]
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        run(DiscoveryJob().run(url, cancel))


def test_build_places_binds_groups_and_rerun_shows_the_difference(machinery):
    url, _uri = machinery(10)
    found = run(DiscoveryJob().run(url))
    factory, changed = build(empty_factory(), found, {"press": (3.2, 2.6, 2.4)})
    assert len(factory.machines) == len(changed) == 12
    assert check_layout(factory, factory_hulls(factory, None)) == []  # no collision, clearance kept
    bound = [m for m in factory.machines if m.name not in ("Liar", "WrongType")]
    assert all({"State", "OperationMode", "PartCount"} <= set(m.tags) for m in bound)
    assert all(m.states["State"] == "machinery-item-state" for m in bound)
    lines = {m.id: m.line for m in factory.machines}
    assert lines["M0001"] == lines["M0004"] == "Line1" and lines["M0005"] == "Line2" and lines["M0009"] == "Line3"
    assert [line.id for line in factory.hierarchy.areas[0].lines] == ["Line1", "Line2", "Line3"]
    assert {m.pose.y_m for m in factory.machines if m.line == "Line1"} != {
        m.pose.y_m for m in factory.machines if m.line == "Line2"
    }
    # Re-run against the same server: nothing new; against a server with fewer machines: those gone listed.
    assert summary(preview_rows(found, factory)).startswith("0 new, 12 already in the factory, 0 gone")
    again, none = build(factory, found)
    assert again == factory and none == []


def test_rerun_on_a_changed_server_lists_added_and_gone(machinery):
    url, _uri = machinery(6)
    factory, _ = build(empty_factory(), run(DiscoveryJob().run(url)))
    url2, _ = machinery(4)  # another process: same namespace URI, M0005 and M0006 gone
    fewer = run(DiscoveryJob().run(url2))
    new, present, gone = difference(fewer, factory)
    assert new == [] and sorted(gone) == ["M0005", "M0006"] and len(present) == 6
    rows = preview_rows(fewer, factory)
    assert sorted(r.name for r in rows if r.status == "gone") == ["M0005", "M0006"]
    after, changed = build(factory, fewer)
    assert sorted(changed) == ["M0005", "M0006"] and len(after.machines) == 6
    url3, _ = machinery(8)
    more, _, _ = difference(run(DiscoveryJob().run(url3)), after)
    assert sorted(m.name for m in more) == ["M0005", "M0006", "M0007", "M0008"]


def test_a_server_without_the_machinery_companion_spec_says_so(machinery):
    port = free_port()
    start_node_server(port)  # tests/interop/server.js: Objects/Plant/Mill1, no DI or Machinery nodesets
    found = run(DiscoveryJob().run(f"opc.tcp://127.0.0.1:{port}/interop"))
    assert found.machines == () and found.complete
    assert found.problems == (
        "the server has no OPC UA for Machinery namespace (http://opcfoundation.org/UA/Machinery/): no machines to find",
    )
