"""The plant simulator is a real OPC UA server: browse, subscribe, units, logins, security, faults."""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys
import time

import pytest
from asyncua import Client, ua
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256

from app.plant.server import NAMESPACE, ensure_certificate, unece_code
from tests.conftest import DEMO, ROOT
from tests.live.conftest import Faults, free_port, run, running_plant


async def _browse_variables(client: Client) -> list:
    idx = await client.get_namespace_index(NAMESPACE)
    factory = await client.nodes.objects.get_child([f"{idx}:Factory"])
    out, stack = [], [factory]
    while stack:
        node = stack.pop()
        for child in await node.get_children(
            refs=ua.ObjectIds.HierarchicalReferences, nodeclassmask=ua.NodeClass.Object | ua.NodeClass.Variable
        ):
            cls = await child.read_node_class()
            if cls == ua.NodeClass.Variable:
                if (await child.read_browse_name()).Name not in ("EngineeringUnits", "EURange"):  # properties
                    out.append(child)
            else:
                stack.append(child)
    return out


class Collector:
    def __init__(self):
        self.values: dict[str, list] = {}
        self.status: list = []

    def datachange_notification(self, node, val, data):
        self.values.setdefault(node.nodeid.Identifier, []).append(val)
        self.status.append(data.monitored_item.Value.StatusCode)


def test_demo_plant_serves_changing_variables_a_plain_client_can_browse_and_subscribe(port):
    async def scenario():
        async with running_plant(port) as plant, Client(plant.endpoint, timeout=5) as client:
            variables = await _browse_variables(client)
            assert len(variables) >= 40 * 8
            got = Collector()
            sub = await client.create_subscription(100, got)
            await sub.subscribe_data_change(variables)
            await asyncio.sleep(4)
            changing = [k for k, v in got.values.items() if len(set(map(str, v))) > 1]
            assert len(changing) >= 40, len(changing)
            await sub.delete()

    run(scenario())


def test_address_space_follows_the_plant_with_units_and_descriptions(port):
    async def scenario():
        async with running_plant(port) as plant, Client(plant.endpoint, timeout=5) as client:
            idx = await client.get_namespace_index(NAMESPACE)
            lines = await (await client.nodes.objects.get_child([f"{idx}:Factory"])).get_children()
            assert {(await n.read_browse_name()).Name for n in lines} == {
                "Logistics",
                "Machining",
                "Pressing",
                "Welding",
                "Assembly",
                "Quality",
            }
            temp = client.get_node(ua.NodeId("Machines/CNC-01/Temperature", idx))
            assert 15 < await temp.read_value() < 80
            assert "temperature" in (await temp.read_description()).Text.lower()
            eu = await (await temp.get_child(["0:EngineeringUnits"])).read_value()
            assert eu.DisplayName.Text == "°C" and eu.UnitId == unece_code("CEL")
            assert await client.get_node(ua.NodeId("Machines/CNC-01/State", idx)).read_value() in (
                "running",
                "setup",
                "starved",
                "blocked",
                "down",
            )
            assert (
                await client.get_node(ua.NodeId("Machines/PR-01/PressForce", idx)).read_data_type_as_variant_type()
                == ua.VariantType.Double
            )
            level = client.get_node(ua.NodeId("Machines/BUF-01/Level", idx))
            cap = await client.get_node(ua.NodeId("Machines/BUF-01/Capacity", idx)).read_value()
            assert 0 <= await level.read_value() <= cap == 61
            with pytest.raises(ua.UaStatusCodeError):
                await client.get_node(ua.NodeId("Machines/NOPE/State", idx)).read_value()

    run(scenario())


def test_vibration_channels_change_at_every_update_and_follow_the_state(port):
    async def scenario():
        async with running_plant(port, vibration_channels=3) as plant, Client(plant.endpoint, timeout=5) as client:
            idx = await client.get_namespace_index(NAMESPACE)
            assert len(plant.vars) == 456 + 3 * 40
            node = client.get_node(ua.NodeId("Machines/CNC-01/Vibration3", idx))
            eu = await (await node.get_child(["0:EngineeringUnits"])).read_value()
            assert eu.DisplayName.Text == "mm/s" and eu.UnitId == unece_code("C16")
            assert "measuring point 3" in (await node.read_description()).Text
            seen = []
            for _ in range(4):
                seen.append(await node.read_value())
                await asyncio.sleep(plant.interval_s * 1.5)
            assert len(set(seen)) == 4 and all(0 < v < 10 for v in seen)
            with pytest.raises(ua.UaStatusCodeError):
                await client.get_node(ua.NodeId("Machines/CNC-01/Vibration4", idx)).read_value()

    run(scenario())


def test_part_counters_advance_with_simulated_time(port):
    async def scenario():
        async with running_plant(port, speed=600.0) as plant, Client(plant.endpoint, timeout=5) as client:
            idx = await client.get_namespace_index(NAMESPACE)
            node = client.get_node(ua.NodeId("Machines/WH-IN/PartCount", idx))
            first = await node.read_value()
            await asyncio.sleep(2.0)  # 20 simulated minutes: about 9 parts arrive at goods-in
            assert await node.read_value() > first

    run(scenario())


def test_username_password_logins(port):
    async def scenario():
        async with running_plant(port, users={"alice": "s3cret"}, allow_anonymous=False) as plant:
            good = Client(plant.endpoint, timeout=5)
            good.set_user("alice")
            good.set_password("s3cret")
            async with good:
                idx = await good.get_namespace_index(NAMESPACE)
                assert await good.get_node(ua.NodeId("Machines/QA-01/Capacity", idx)).read_value() > 0
            wrong = Client(plant.endpoint, timeout=5)
            wrong.set_user("alice")
            wrong.set_password("guess")
            with pytest.raises(ua.UaError):
                await wrong.connect()
            with pytest.raises(ua.UaError):
                await Client(plant.endpoint, timeout=5).connect()  # anonymous refused

    run(scenario())


@pytest.mark.parametrize("mode", [ua.MessageSecurityMode.Sign, ua.MessageSecurityMode.SignAndEncrypt])
def test_basic256sha256_with_a_self_signed_certificate(port, tmp_path, mode):
    async def scenario():
        async with running_plant(port, secure_only=True, cert_dir=tmp_path / "server") as plant:
            server_cert = tmp_path / "server" / "server_cert.der"
            assert server_cert.exists()
            cert, key = await ensure_certificate(
                tmp_path / "client", "client", "urn:floortwin:test:client", "127.0.0.1", server=False
            )
            client = Client(plant.endpoint, timeout=5)
            client.application_uri = "urn:floortwin:test:client"
            await client.set_security(
                SecurityPolicyBasic256Sha256, str(cert), str(key), server_certificate=str(server_cert), mode=mode
            )
            async with client:
                idx = await client.get_namespace_index(NAMESPACE)
                assert await client.get_node(ua.NodeId("Machines/CNC-02/State", idx)).read_value()
            with pytest.raises(Exception):  # noqa: B017 (no unsecured endpoint: asyncua raises several types)
                await Client(plant.endpoint, timeout=3).connect()
        mtime = server_cert.stat().st_mtime_ns
        async with running_plant(port, secure_only=True, cert_dir=tmp_path / "server"):
            pass
        assert server_cert.stat().st_mtime_ns == mtime  # made on first start, reused after

    run(scenario())


def test_injected_nan_readings_and_sensor_dropouts(port):
    async def scenario():
        async with running_plant(port, faults=Faults(nan=0.3, dropout=0.2)) as plant, Client(plant.endpoint, timeout=5) as client:
            idx = await client.get_namespace_index(NAMESPACE)
            nodes = [client.get_node(ua.NodeId(f"Machines/CNC-0{i}/Temperature", idx)) for i in range(1, 9)]
            got = Collector()
            sub = await client.create_subscription(100, got)
            await sub.subscribe_data_change(nodes)
            await asyncio.sleep(3)
            values = [v for vs in got.values.values() for v in vs]
            assert any(isinstance(v, float) and math.isnan(v) for v in values)
            assert any(not s.is_good() for s in got.status)
            assert any(isinstance(v, float) and math.isfinite(v) for v in values)

    run(scenario())


def test_injected_breakdown_raises_the_alarm(port):
    async def scenario():
        faults = Faults(breakdowns=[("CNC-03", 60.0, 3600.0)])
        async with running_plant(port, speed=120.0, faults=faults) as plant, Client(plant.endpoint, timeout=5) as client:
            idx = await client.get_namespace_index(NAMESPACE)
            base = "Machines/CNC-03"
            await asyncio.sleep(1.5)  # 180 simulated seconds
            assert await client.get_node(ua.NodeId(f"{base}/State", idx)).read_value() == "down"
            assert await client.get_node(ua.NodeId(f"{base}/Alarm", idx)).read_value() is True
            assert await client.get_node(ua.NodeId(f"{base}/AlarmText", idx)).read_value() == "Breakdown"
            assert await client.get_node(ua.NodeId(f"{base}/DownReason", idx)).read_value() == "breakdown"
            assert await client.get_node(ua.NodeId("Machines/CNC-01/DownReason", idx)).read_value() in ("", "breakdown")

    run(scenario())


def test_survives_abrupt_disconnects_and_a_request_flood(port):
    async def scenario():
        async with running_plant(port) as plant:
            for _ in range(10):  # clients that vanish without closing their session
                c = Client(plant.endpoint, timeout=5)
                await c.connect()
                c.uaclient.protocol.transport.abort()
            async with Client(plant.endpoint, timeout=10) as flood:
                idx = await flood.get_namespace_index(NAMESPACE)
                node = flood.get_node(ua.NodeId("Machines/CNC-01/Temperature", idx))
                for _ in range(20):
                    await asyncio.gather(*(node.read_value() for _ in range(100)))
            updates = plant.updates
            async with Client(plant.endpoint, timeout=5) as after:
                idx = await after.get_namespace_index(NAMESPACE)
                assert await after.get_node(ua.NodeId("Machines/ASM-01/State", idx)).read_value()
            await asyncio.sleep(0.5)
            assert plant.updates > updates  # the simulation kept running throughout

    run(scenario())


def _start_cli(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.plant.server", "--factory", str(DEMO), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=dict(os.environ),
    )
    deadline = time.monotonic() + 30
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "serving" in line or not line:
            break
    return proc, line


def test_command_line_server_and_a_stall():
    port = free_port()
    proc, line = _start_cli("--port", str(port), "--stall", "1.5:3", "--speed", "60")
    try:
        assert f"opc.tcp://127.0.0.1:{port}/floortwin/" in line and "456 variables of 40 machines" in line

        async def scenario():
            async with Client(f"opc.tcp://127.0.0.1:{port}/floortwin/", timeout=1.0) as client:
                idx = await client.get_namespace_index(NAMESPACE)
                node = client.get_node(ua.NodeId("Machines/CNC-01/Temperature", idx))
                assert await node.read_value()
                await asyncio.sleep(1.5)
                with pytest.raises((asyncio.TimeoutError, TimeoutError, ua.UaError)):
                    await node.read_value()  # the server is stalled
            await asyncio.sleep(2.5)
            async with Client(f"opc.tcp://127.0.0.1:{port}/floortwin/", timeout=5) as client:  # and back
                idx = await client.get_namespace_index(NAMESPACE)
                assert await client.get_node(ua.NodeId("Machines/CNC-01/State", idx)).read_value()

        run(scenario(), timeout=40)
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.returncode in (0, -15)


def test_command_line_refuses_a_bad_factory_and_a_busy_port(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    r = subprocess.run(
        [sys.executable, "-m", "app.plant.server", "--factory", str(bad), "--port", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert r.returncode == 2 and "not valid JSON" in r.stderr and "Traceback" not in r.stderr
    port = free_port()
    first, _ = _start_cli("--port", str(port))
    try:
        r = subprocess.run(
            [sys.executable, "-m", "app.plant.server", "--factory", str(DEMO), "--port", str(port)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
        assert r.returncode == 1 and "cannot listen" in r.stderr
        assert "Traceback" not in r.stderr  # one clear line, not asyncua's traceback before it (a new-user trial)
    finally:
        first.terminate()
        first.wait(10)
