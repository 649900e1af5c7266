"""UaExpert basics against a real, secure plant simulator process (an operator who reads, an engineer who
writes): a node's attributes, a value written under the deployment's rules with the server's status shown,
and a watch list subscribed beside the bindings."""

from __future__ import annotations

import asyncio
import math
import threading
import types

import pytest
from asyncua import ua

from app.live.client import ConnectionSettings, LiveClient
from app.live.netloop import NetworkLoop
from app.live.node_attributes import attribute_rows, read_node_attributes
from app.live.node_service import NodeService
from app.live.node_write import parse_value, write_node
from app.live.watch_list import WatchItem, WatchList, load_watch_list
from app.plant.server import NAMESPACE
from app.preferences import MemoryStore
from tests.live.conftest import run
from tests.plant.secure import CLIENT_URI, client_files, plant_process

PASSWORDS = {"operator": "op-pw", "engineer": "eng-pw"}
SETPOINT = f"nsu={NAMESPACE};s=Machines/CNC-02/CycleTimeSetpoint"
TEMPERATURE = f"nsu={NAMESPACE};s=Machines/CNC-02/Temperature"
MACHINE = f"nsu={NAMESPACE};s=Machines/CNC-02"


@pytest.fixture(scope="module")
def plant(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plant")
    with plant_process(tmp, speed=60.0) as proc:
        yield proc, tmp


def settings(plant, user: str | None, secure: bool = True) -> ConnectionSettings:
    proc, tmp = plant
    cert, key, server_cert = asyncio.run(client_files(tmp))
    return ConnectionSettings(
        proc.endpoint,
        "Basic256Sha256" if secure else "None",
        "SignAndEncrypt" if secure else "None",
        user,
        PASSWORDS.get(user or ""),
        cert if secure else None,
        key if secure else None,
        server_cert if secure else None,
        application_uri=CLIENT_URI,
    )


async def _connected(s: ConnectionSettings) -> LiveClient:
    client = LiveClient(s, lambda batch: None)
    await client.connect()
    return client


def test_attributes_of_a_setpoint_a_measurement_and_a_machine(plant):
    s = settings(plant, "operator")

    async def scenario():
        client = await _connected(s)
        try:
            assert client.client is not None
            return [await read_node_attributes(client.client, client.resolve(n), n) for n in (SETPOINT, TEMPERATURE, MACHINE)]
        finally:
            await client.stop()

    setpoint, temperature, machine = run(scenario())
    rows = dict(attribute_rows(setpoint))
    assert rows["Node"] == SETPOINT and rows["Node class"] == "Variable" and rows["Data type"] == "Double"
    assert rows["Access"] == "read, write" and rows["Your access"] == "read only"  # the operator's login
    assert rows["Engineering units"] == "s" and rows["EU range"].endswith(" s") and setpoint.has_range
    assert setpoint.eu_low < float(rows["Value"]) < setpoint.eu_high and rows["Status"] == "Good"
    assert setpoint.source_ts is not None and setpoint.server_ts is not None and "writable" in rows["Description"]
    t = dict(attribute_rows(temperature))
    assert (t["Access"], t["Engineering units"], t["EU range"]) == ("read", "°C", "0 – 100 °C")
    m = dict(attribute_rows(machine))
    assert m["Node class"] == "Object" and "Data type" not in m and m["Display name"] == "CNC-02"


def test_a_node_the_server_does_not_have_is_said_so(plant):
    s = settings(plant, "operator")

    async def scenario():
        client = await _connected(s)
        try:
            assert client.client is not None
            missing = f"nsu={NAMESPACE};s=Machines/NOPE"
            await read_node_attributes(client.client, client.resolve(missing), missing)
        finally:
            await client.stop()

    with pytest.raises(ua.UaStatusCodeError, match="BadNodeIdUnknown"):
        run(scenario())


@pytest.mark.parametrize(
    "user, secure, why",
    [
        ("engineer", False, "writes need a secure channel"),
        (None, True, "an anonymous session never writes"),
        ("operator", True, "operator may not write CycleTimeSetpoint (the server grants this login read access only)"),
    ],
)
def test_writes_the_rules_refuse_are_never_sent(plant, user, secure, why):
    s = settings(plant, user, secure)

    async def scenario():
        client = await _connected(s)
        try:
            before = await client.read(SETPOINT)
            outcome = await write_node(client, SETPOINT, str(before + 10))
            return before, outcome, await client.read(SETPOINT)
        finally:
            await client.stop()

    before, outcome, after = run(scenario())
    assert outcome.status is None and why in outcome.message and outcome.message.endswith("nothing was written")
    assert after == before and outcome.text.startswith("Not written: ")


def test_an_engineer_writes_and_the_server_status_is_shown(plant, caplog):
    s = settings(plant, "engineer")

    async def scenario():
        client = await _connected(s)
        try:
            before = await client.read(SETPOINT)
            good = await write_node(client, SETPOINT, "300")
            after = await client.read(SETPOINT)
            out_of_range = await write_node(client, SETPOINT, "1")
            kept = await client.read(SETPOINT)
            not_a_number = await write_node(client, SETPOINT, "fast")
            read_only = await write_node(client, TEMPERATURE, "20")
            await write_node(client, SETPOINT, str(before))  # as it was, for the other tests
            return before, good, after, out_of_range, kept, not_a_number, read_only
        finally:
            await client.stop()

    with caplog.at_level("INFO", logger="app.live.node_write"):
        before, good, after, out_of_range, kept, not_a_number, read_only = run(scenario())
    assert good.ok and after == 300.0 and good.old == str(before) and good.new == "300.0" and good.user == "engineer"
    assert good.text == f"Written: CycleTimeSetpoint = 300.0 (was {before}) by engineer"
    assert out_of_range.status == ua.StatusCodes.BadOutOfRange and kept == 300.0
    assert "BadOutOfRange (0x803C0000)" in out_of_range.text and out_of_range.text.startswith("The server refused")
    assert not_a_number.status is None and "'fast' is not a number (Double)" in not_a_number.message
    assert read_only.status is None and "engineer may not write Temperature" in read_only.message
    logged = [r.getMessage() for r in caplog.records if r.name == "app.live.node_write"]
    assert any("by engineer" in m and "→ 300.0: Good" in m for m in logged)
    assert any("BadOutOfRange" in m for m in logged)


def test_typed_text_becomes_the_node_type():
    assert parse_value("0x10", "Byte").Value == 16 and parse_value("-3", "Int16").VariantType == ua.VariantType.Int16
    assert parse_value("1e3", "Float").VariantType == ua.VariantType.Float
    assert parse_value("  keep spaces ", "String").Value == "  keep spaces "
    assert parse_value("2026-01-02 03:04:05+00:00", "DateTime").Value.year == 2026
    for text, kind, why in [
        ("-1", "UInt32", "outside a UInt32's range"),
        ("nan", "Double", "not a finite number"),
        ("maybe", "Boolean", "not a Boolean"),
        ("1", "ExtensionObject", "this node holds ExtensionObject"),
    ]:
        with pytest.raises(ValueError, match=why):
            parse_value(text, kind)


@pytest.fixture
def netloop():
    loop = NetworkLoop("test-node-tools")
    yield loop
    loop.shutdown()


def _session_on(loop: NetworkLoop, s: ConnectionSettings):
    """A connected client on the network thread, as a live session holds it (its ``client`` and ``net``)."""
    client = LiveClient(s, lambda batch: None)
    loop.submit(client.connect()).result(30)
    return types.SimpleNamespace(client=client, net=loop)


def test_the_node_service_reports_reads_and_writes_from_the_network_thread(plant, netloop):
    session = _session_on(netloop, settings(plant, "engineer"))
    service = NodeService(session)
    got: list = []
    done = threading.Event()

    def note(*args):
        got.append((args, threading.current_thread().name))
        done.set()

    service.attributes_read.connect(note)
    service.read_failed.connect(note)
    service.written.connect(note)
    try:
        assert service.connected and service.write_user == "engineer"
        number = service.read(SETPOINT)
        assert done.wait(30)
        (n, attrs), thread = got.pop()
        assert n == number and attrs.writable and attrs.data_type == "Double" and thread == "test-node-tools"
        done.clear()
        service.read(f"nsu={NAMESPACE};s=Machines/NOPE")
        assert done.wait(30)
        (_n, why), _thread = got.pop()
        assert "BadNodeIdUnknown" in why
        done.clear()
        service.write(SETPOINT, str(attrs.value))
        assert done.wait(30)
        (outcome,), _thread = got.pop()
        assert outcome.ok
    finally:
        netloop.submit(session.client.stop()).result(30)
    offline = NodeService(types.SimpleNamespace(client=None, net=None))
    offline.read_failed.connect(note)
    offline.read(SETPOINT)
    (_n, why), _thread = got.pop()
    assert why == "not connected to a server"


def test_the_watch_list_subscribes_reports_and_is_kept_per_server(plant, netloop):
    session = _session_on(netloop, settings(plant, "operator"))
    store = MemoryStore()
    watch = WatchList(session, store)
    seen: dict[str, object] = {}
    lock = threading.Lock()

    def on_readings(readings):
        with lock:
            for r in readings:
                seen[r.node_id] = r

    watch.readings.connect(on_readings)
    endpoint = session.client.settings.endpoint
    missing = f"nsu={NAMESPACE};s=Machines/NOPE"
    try:
        watch.use_endpoint(endpoint)
        assert watch.items == []
        assert watch.add(TEMPERATURE, "CNC-02 Temperature") and not watch.add(TEMPERATURE, "again")
        watch.attach()
        watch.add(missing, "nothing")
        deadline = threading.Event()
        for _ in range(100):
            with lock:
                if TEMPERATURE in seen and missing in seen:
                    break
            deadline.wait(0.1)
        temperature, nothing = seen[TEMPERATURE], seen[missing]
        assert temperature.status == 0 and 0 <= float(temperature.value) <= 100 and temperature.source_ts is not None
        assert nothing.status == ua.StatusCodes.BadNodeIdUnknown
        assert load_watch_list(store, endpoint) == [WatchItem(TEMPERATURE, "CNC-02 Temperature"), WatchItem(missing, "nothing")]
        # A reconnection subscribes anew: values keep coming after attach() on the new connection.
        watch.detach()
        seen.clear()
        watch.remove(missing)
        watch.attach()
        for _ in range(100):
            with lock:
                if TEMPERATURE in seen:
                    break
            deadline.wait(0.1)
        assert TEMPERATURE in seen and missing not in seen
        assert [i.node_id for i in load_watch_list(store, endpoint)] == [TEMPERATURE]
        watch.use_endpoint("opc.tcp://other:4840/")
        assert watch.items == []
    finally:
        watch.detach()
        netloop.submit(session.client.stop()).result(30)
    assert math.isfinite(float(temperature.value))
