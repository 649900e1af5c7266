"""UaExpert basics against an independent server (node-opcua): endpoint discovery, a node's attributes, and
writes answered by node-opcua's own checks (BadOutOfRange from an InstrumentRange, BadUserAccessDenied and
BadNotWritable from a server that refuses a node its access level calls writable)."""

from __future__ import annotations

import asyncio
import threading
import types

import pytest
from asyncua import ua

from app.live.client import ConnectionSettings, LiveClient
from app.live.discovery import discover
from app.live.netloop import NetworkLoop
from app.live.node_attributes import attribute_rows, read_node_attributes
from app.live.node_write import write_node
from app.live.watch_list import WatchList
from app.preferences import MemoryStore
from tests.interop.test_node_opcua import _close_node_pipes, endpoint, start_node_server  # noqa: F401 (its pipes closed)
from tests.live.conftest import free_port

URI = "urn:floortwin:interop:node-opcua"


@pytest.fixture
def plain_server():
    """node-opcua without security on a free port: the port."""
    port = free_port()
    proc = start_node_server(port)
    yield port
    proc.terminate()
    proc.wait(10)


TARGET = f"nsu={URI};s=Plant/Mill1/TargetTemperature"


def test_discovery_lists_node_opcua_endpoints_and_what_floortwin_can_use(plain_server):
    port = plain_server
    servers = asyncio.run(asyncio.wait_for(discover(f"127.0.0.1:{port}"), 30))
    (server,) = servers
    assert server.application_uri == URI and not server.problem
    usable = [(e.security_policy, e.security_mode) for e in server.endpoints if not e.problem]
    assert usable == [("Basic256Sha256", "SignAndEncrypt"), ("Basic256Sha256", "Sign"), ("None", "None")]
    other = [e for e in server.endpoints if e.problem]
    assert other and all(e.security_policy.startswith("Aes") and "does not speak" in e.problem for e in other)
    assert all(e.url == endpoint(port) and {"Anonymous", "User name"} <= set(e.user_tokens) for e in server.endpoints)


def test_attributes_and_writes_as_a_login_on_a_secure_channel(tmp_path):
    from app.live.trust import fetch_server_certificate
    from app.plant.server import ensure_certificate

    port = free_port()
    server = start_node_server(port, "secure", str(tmp_path / "server-pki"))
    url = endpoint(port)

    async def scenario():
        der = await fetch_server_certificate(url, 10)
        (tmp_path / "server.der").write_bytes(der)
        cert, key = await ensure_certificate(tmp_path / "client", "client", "urn:floortwin:client", "localhost", server=False)
        settings = ConnectionSettings(
            url, "Basic256Sha256", "SignAndEncrypt", "alice", "s3cret", cert, key, tmp_path / "server.der", timeout_s=10
        )
        client = LiveClient(settings, lambda _batch: None)
        await client.connect()
        try:
            assert client.client is not None
            attrs = await read_node_attributes(client.client, client.resolve(TARGET), TARGET)
            outcomes = {
                "good": await write_node(client, TARGET, "60"),
                "range": await write_node(client, TARGET, "200"),
                "locked": await write_node(client, f"nsu={URI};s=Plant/Mill1/Locked", "1"),
                "frozen": await write_node(client, f"nsu={URI};s=Plant/Mill1/Frozen", "1"),
                "type": await write_node(client, f"nsu={URI};s=Plant/Mill1/Frozen", "1.5"),
            }
            return attrs, outcomes, await client.read(TARGET)
        finally:
            await client.stop()

    try:
        attrs, outcomes, after = asyncio.run(asyncio.wait_for(scenario(), 120))
    finally:
        server.terminate()
        server.wait(10)
    rows = dict(attribute_rows(attrs))
    assert (rows["Data type"], rows["Engineering units"], rows["EU range"]) == ("Double", "°C (degree Celsius)", "20 – 80 °C")
    assert rows["Access"] == "read, write" and rows["Your access"] == "read, write" and rows["Status"] == "Good"
    assert outcomes["good"].ok and outcomes["good"].old == "45.0" and after == 60.0
    assert outcomes["range"].status == ua.StatusCodes.BadOutOfRange
    assert outcomes["locked"].status == ua.StatusCodes.BadUserAccessDenied and "BadUserAccessDenied" in outcomes["locked"].text
    assert outcomes["frozen"].status == ua.StatusCodes.BadNotWritable and "BadNotWritable" in outcomes["frozen"].text
    assert outcomes["type"].status is None and "not a whole number (Int32)" in outcomes["type"].message


def test_the_watch_list_follows_a_node_opcua_variable(plain_server):
    port = plain_server
    loop = NetworkLoop("test-interop-watch")
    client = LiveClient(ConnectionSettings(endpoint(port), timeout_s=5), lambda _batch: None)
    loop.submit(client.connect()).result(30)
    watch = WatchList(types.SimpleNamespace(client=client, net=loop), MemoryStore())
    seen: list = []
    enough = threading.Event()

    def on_readings(readings):
        seen.extend(r for r in readings if r.node_id.endswith("Temperature"))
        if len(seen) >= 3:
            enough.set()

    watch.readings.connect(on_readings)
    try:
        watch.use_endpoint(endpoint(port))
        watch.add(f"nsu={URI};s=Plant/Mill1/Temperature", "Mill1 Temperature")
        watch.attach()
        assert enough.wait(30)
        assert all(r.status == 0 and 30 < float(r.value) < 50 for r in seen) and len({r.value for r in seen}) > 1
    finally:
        watch.detach()
        loop.submit(client.stop()).result(30)
        loop.shutdown()
