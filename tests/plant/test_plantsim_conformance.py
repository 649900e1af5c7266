"""The plant simulator as a standard OPC UA client sees it (issue 14, item 6)."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys

import pytest
from asyncua import Client, ua
from cryptography import x509

from app.paths import ROOT
from app.plant.server import NAMESPACE, ensure_certificate
from tests.conftest import DEMO
from tests.live.conftest import run, running_plant


def test_analog_values_are_analog_items_with_standard_units_range_and_sampling_interval(port):
    async def scenario():
        async with (
            running_plant(port, interval_s=0.5) as _plant,
            Client(f"opc.tcp://127.0.0.1:{port}/floortwin/", timeout=5) as client,
        ):
            idx = await client.get_namespace_index(NAMESPACE)
            temp = client.get_node(ua.NodeId("Machines/CNC-01/Temperature", idx))
            assert (await temp.read_type_definition()) == ua.NodeId(ua.ObjectIds.AnalogItemType)
            eu = await (await temp.get_child(["0:EngineeringUnits"])).read_value()  # namespace 0, as standard clients ask
            assert eu.DisplayName.Text == "°C"
            eu_range = await (await temp.get_child(["0:EURange"])).read_value()
            assert (eu_range.Low, eu_range.High) == (0.0, 100.0)
            assert eu_range.Low <= await temp.read_value() <= eu_range.High
            power = await (await client.get_node(ua.NodeId("Machines/CNC-01/Power", idx)).get_child(["0:EURange"])).read_value()
            assert power.High > await client.get_node(ua.NodeId("Machines/CNC-01/Power", idx)).read_value() >= 0
            sampling = await temp.read_attribute(ua.AttributeIds.MinimumSamplingInterval)
            assert sampling.Value.Value == 500.0  # values change at most every 0.5 s
            state = client.get_node(ua.NodeId("Machines/CNC-01/State", idx))  # a string: no unit, no range
            assert (await state.read_type_definition()) == ua.NodeId(ua.ObjectIds.BaseDataVariableType)
            with pytest.raises(ua.UaStatusCodeError):
                await state.get_child(["0:EURange"])

    run(scenario())


def test_server_object_build_info_capabilities_write_history_and_monitored_items(port):
    async def scenario():
        async with running_plant(port) as plant, Client(plant.endpoint, timeout=5) as client:
            build = await client.get_node(ua.NodeId(ua.ObjectIds.Server_ServerStatus_BuildInfo)).read_value()
            assert build.ProductName == "floortwin plant simulator" and build.ManufacturerName == "floortwin"
            caps = ua.ObjectIds
            for node_id in (
                caps.Server_ServerCapabilities_ServerProfileArray,
                caps.Server_ServerCapabilities_LocaleIdArray,
                caps.Server_ServerCapabilities_MinSupportedSampleRate,
                caps.Server_ServerCapabilities_MaxBrowseContinuationPoints,
                caps.Server_ServerCapabilities_MaxArrayLength,
            ):
                assert await client.get_node(ua.NodeId(node_id)).read_value() is not None, node_id
            idx = await client.get_namespace_index(NAMESPACE)
            temp = client.get_node(ua.NodeId("Machines/CNC-01/Temperature", idx))
            with pytest.raises(ua.uaerrors.BadNotWritable):
                await temp.write_value(ua.DataValue(ua.Variant(99.0, ua.VariantType.Double)))
            details = ua.ReadRawModifiedDetails(IsReadModified=False, NumValuesPerNode=10, ReturnBounds=False)
            details.StartTime = ua.get_win_epoch()
            results = await client.uaclient.history_read(
                ua.HistoryReadParameters(
                    HistoryReadDetails=details,
                    TimestampsToReturn=ua.TimestampsToReturn.Both,
                    NodesToRead=[ua.HistoryReadValueId(NodeId=temp.nodeid)],
                )
            )
            assert results[0].StatusCode.value == ua.StatusCodes.BadHistoryOperationUnsupported
            sub = await client.create_subscription(200, None)
            handles = await sub.subscribe_data_change([temp, client.get_node(ua.NodeId("Machines/CNC-02/State", idx))])
            server = client.nodes.server
            server_handles, client_handles = await server.call_method(
                ua.NodeId(ua.ObjectIds.Server_GetMonitoredItems), ua.Variant(sub.subscription_id, ua.VariantType.UInt32)
            )
            assert sorted(server_handles) == sorted(handles) and len(client_handles) == 2
            await sub.delete()

    run(scenario())


def test_machine_node_ids_do_not_change_when_the_machine_moves_to_another_line(port, tmp_path):
    data = json.loads(DEMO.read_text())
    cnc = next(m for m in data["machines"] if m["id"] == "CNC-01")
    cnc["line"] = "Pressing"
    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps(data))
    from app.model.io import load_factory

    async def scenario():
        async with running_plant(port, factory=load_factory(moved)) as plant, Client(plant.endpoint, timeout=5) as client:
            idx = await client.get_namespace_index(NAMESPACE)
            node = client.get_node(ua.NodeId("Machines/CNC-01/State", idx))  # the id the demo's bindings use
            assert await node.read_value()
            pressing = await client.nodes.objects.get_child([f"{idx}:Factory", f"{idx}:Pressing", f"{idx}:CNC-01"])
            assert pressing.nodeid == ua.NodeId("Machines/CNC-01", idx)  # browsed under its new line

    run(scenario())


def test_a_user_login_without_security_is_refused():
    r = subprocess.run(
        [sys.executable, "-m", "app.plant.server", "--factory", str(DEMO), "--port", "0", "--user", "alice:s3cret"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert r.returncode == 2 and "--secure" in r.stderr and "clear text" in r.stderr


def test_the_server_certificate_lists_its_address_as_an_ip_address(tmp_path):
    cert, _key = run(ensure_certificate(tmp_path, "server", "urn:floortwin:plantsim:server", "127.0.0.1", server=True))
    sans = x509.load_der_x509_certificate(cert.read_bytes()).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in sans.get_values_for_type(x509.IPAddress)
    assert "127.0.0.1" not in sans.get_values_for_type(x509.DNSName)
    assert "urn:floortwin:plantsim:server" in sans.get_values_for_type(x509.UniformResourceIdentifier)
    before = cert.read_bytes()
    again, _ = run(ensure_certificate(tmp_path, "server", "urn:floortwin:plantsim:server", "127.0.0.1", server=True))
    assert again.read_bytes() == before  # reused while it fits


def test_the_plant_is_found_warm(port):
    """An hour into the shift a running CNC is well above the ambient 21 °C (the warm start runs the
    thermal lag too), so a temperature heat map shows the plant, not one shade."""

    async def scenario():
        async with running_plant(port, speed=1.0) as plant, Client(plant.endpoint, timeout=5) as client:
            idx = await client.get_namespace_index(NAMESPACE)
            states = [await client.get_node(ua.NodeId(f"Machines/CNC-0{i}/State", idx)).read_value() for i in range(1, 9)]
            temps = [await client.get_node(ua.NodeId(f"Machines/CNC-0{i}/Temperature", idx)).read_value() for i in range(1, 9)]
            running = [t for s, t in zip(states, temps, strict=True) if s in ("running", "setup")]
            assert running and min(running) > 40, list(zip(states, temps, strict=True))

    run(scenario())
