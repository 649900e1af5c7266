"""The OPC UA client against an in-process asyncua server on 127.0.0.1: portable node ids, units and
ranges, states from other vocabularies, bindings added to a running subscription, log lines that name
machine and signal."""

from __future__ import annotations

import asyncio
import logging

from asyncua import Server, ua

from app.live.client import ConnectionSettings, LinkState, LiveClient
from app.state.store import StateStore
from tests.live.conftest import free_port, run

PLANT_URI = "urn:floortwin:test:plant"


async def _server(port: int, extra_namespaces: int = 0):
    """A server whose plant namespace comes after ``extra_namespaces`` others (so its index differs)."""
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/")
    for k in range(extra_namespaces):
        await server.register_namespace(f"urn:floortwin:test:other{k}")
    ns = await server.register_namespace(PLANT_URI)
    mill = await server.nodes.objects.add_object(ua.NodeId("Mill1", ns), ua.QualifiedName("Mill1", ns))
    speed = await mill.add_variable(ua.NodeId("Mill1/Speed", ns), ua.QualifiedName("Speed", ns), 1012.7)
    eu = ua.EUInformation(NamespaceUri="http://www.opcfoundation.org/UA/units/un/cefact", UnitId=5393996)
    eu.DisplayName = ua.LocalizedText("rpm")
    eu.Description = ua.LocalizedText("revolutions per minute")
    extension = ua.VariantType.ExtensionObject
    await speed.add_property(ua.NodeId(0, 0), ua.QualifiedName("EngineeringUnits", 0), ua.Variant(eu, extension))
    eu_range = ua.Range(Low=0.0, High=1000.0)
    await speed.add_property(ua.NodeId(0, 0), ua.QualifiedName("EURange", 0), ua.Variant(eu_range, extension))
    state = await mill.add_variable(
        ua.NodeId("Mill1/CurrentState", ns), ua.QualifiedName("CurrentState", ns), ua.LocalizedText("Executing", "en")
    )
    running = await mill.add_variable(ua.NodeId("Mill1/Running", ns), ua.QualifiedName("Running", ns), True)
    code = await mill.add_variable(ua.NodeId("Mill1/Code", ns), ua.QualifiedName("Code", ns), ua.Variant(7, ua.VariantType.Int32))
    await server.start()
    return server, {"speed": speed, "state": state, "running": running, "code": code}


async def _collect(client: LiveClient, got: list, predicate, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)


def test_browse_gives_namespace_uris_and_bindings_resolve_after_the_namespace_order_changes():
    port = free_port()

    async def scenario():
        server, _ = await _server(port, extra_namespaces=0)
        try:
            client = LiveClient(ConnectionSettings(f"opc.tcp://127.0.0.1:{port}/", timeout_s=3), lambda b: None)
            await client.connect()
            mill = next(i for i in await client.browse(None) if i.browse_name == "Mill1")
            speed = next(i for i in await client.browse(mill.node_id) if i.browse_name == "Speed")
            await client.stop()
        finally:
            await server.stop()
        assert speed.node_id == f"nsu={PLANT_URI};s=Mill1/Speed"  # saved with the namespace's URI, not its index
        # The server restarts with another namespace registered first: index 2 became 3.
        server, _ = await _server(port, extra_namespaces=1)
        try:
            got = []
            client = LiveClient(ConnectionSettings(f"opc.tcp://127.0.0.1:{port}/", timeout_s=3, publishing_ms=50), got.extend)
            client.set_bindings([(0, speed.node_id)])
            await client.connect()
            await client._subscribe()
            await _collect(client, got, lambda: got)
            assert got and got[0].value == 1012.7 and not client.stats.bad_bindings
            await client.stop()
        finally:
            await server.stop()

    run(scenario())


def test_units_ranges_states_and_localized_text_reach_the_store():
    port = free_port()
    store = StateStore(["M1", "M2", "M3", "M4"], ["State", "Temperature"])
    k_speed = store.bind("M1", "Speed", f"nsu={PLANT_URI};s=Mill1/Speed")
    k_state = store.bind("M1", "State", f"nsu={PLANT_URI};s=Mill1/CurrentState")
    k_bool = store.bind("M2", "State", f"nsu={PLANT_URI};s=Mill1/Running")
    k_code = store.bind("M3", "State", f"nsu={PLANT_URI};s=Mill1/Code")
    k_di = store.bind("M4", "State", f"nsu={PLANT_URI};s=Mill1/Code", states={"7": "down"})

    async def scenario():
        server, _ = await _server(port)
        try:
            got, infos = [], []
            client = LiveClient(
                ConnectionSettings(f"opc.tcp://127.0.0.1:{port}/", timeout_s=3, publishing_ms=50),
                got.extend,
                on_binding_info=infos.extend,
            )
            client.set_bindings([(k, store.bindings[k][2]) for k in (k_speed, k_state, k_bool, k_code, k_di)])
            client.start()
            await _collect(client, got, lambda: len({u.binding for u in got}) == 5 and len(infos) == 5)
            await client.stop()
        finally:
            await server.stop()
        return got, infos

    got, infos = run(scenario())
    state_values = [u.value for u in got if u.binding == k_state]
    assert state_values == ["Executing"]  # a LocalizedText arrives as its text
    for k, info in infos:
        store.set_info(k, info)
    store.ingest(got)
    info = dict(infos)[k_speed]
    assert (info.unit, info.low, info.high) == ("rpm", 0.0, 1000.0)
    assert store.unit("M1", "Speed") == "rpm"
    assert store.out_of_range[0, store.signal_index["Speed"]]  # 1012.7 rpm is above its EURange
    assert store.state("M1") == "running"  # Machinery's "Executing"
    assert store.state("M2") == "running"  # a Boolean true, not "setup"
    assert store.state("M3") == "unknown"  # 7 is no state: unknown, not clipped to "down"
    assert store.state("M4") == "down"  # the binding's own table


def test_a_binding_added_while_connected_joins_the_running_session(caplog):
    port = free_port()

    async def scenario():
        server, _ = await _server(port)
        try:
            got, states = [], []
            client = LiveClient(
                ConnectionSettings(f"opc.tcp://127.0.0.1:{port}/", timeout_s=3, publishing_ms=50),
                got.extend,
                lambda s, m: states.append(s),
            )
            client.set_bindings([(0, f"nsu={PLANT_URI};s=Mill1/Speed")], {0: "CNC-01.Speed"})
            client.start()
            await _collect(client, got, lambda: got)
            assert got and client.state == LinkState.CONNECTED
            session = client.client
            with caplog.at_level(logging.WARNING, logger="app.live.client"):
                await client.add_bindings(
                    [(1, f"nsu={PLANT_URI};s=Mill1/Running"), (2, f"nsu={PLANT_URI};s=Mill1/Nope")],
                    {1: "CNC-01.State", 2: "CNC-02.Temperature"},
                )
            await _collect(client, got, lambda: any(u.binding == 1 for u in got))
            assert any(u.binding == 1 and u.value is True for u in got)
            assert client.client is session and client.stats.connects == 1  # the same session, no reconnection
            assert states.count(LinkState.CONNECTED) == 1
            await client.remove_bindings([1])
            assert client.stats.connects == 1
            await client.stop()
        finally:
            await server.stop()

    run(scenario())
    failures = [r.getMessage() for r in caplog.records if "cannot monitor" in r.getMessage()]
    assert failures and "CNC-02.Temperature" in failures[0] and "binding 2" not in failures[0]


def test_the_plant_clock_is_read_where_the_server_publishes_it_and_none_elsewhere():
    """At each connection, before its subscription, the client says the plant clock the server publishes
    (floortwin's plant simulator: ``Plant/TimeScale``); a server without it (a real plant's) gives None, and
    so does a value that is no speed."""
    from app.ua.plant_clock import PLANT_NAMESPACE, TIME_SCALE_ID

    async def told(publish: object) -> list:
        port = free_port()
        server, _ = await _server(port)
        if publish is not None:
            ns = await server.register_namespace(PLANT_NAMESPACE)
            plant = await server.nodes.objects.add_object(ua.NodeId("Plant", ns), ua.QualifiedName("Plant", ns))
            await plant.add_variable(ua.NodeId(TIME_SCALE_ID, ns), ua.QualifiedName("TimeScale", ns), publish)
        try:
            scales: list = []
            client = LiveClient(ConnectionSettings(f"opc.tcp://127.0.0.1:{port}/", timeout_s=3), lambda batch: None)
            client.on_time_scale = scales.append
            client.start()
            await _collect(client, scales, lambda: bool(scales) and client.state == LinkState.CONNECTED)
            assert client.state == LinkState.CONNECTED
            await client.stop()
            return scales
        finally:
            await server.stop()

    assert run(told(120.0)) == [120.0]
    assert run(told(None)) == [None]
    assert run(told(-3.0)) == [None]
    assert run(told("fast")) == [None]
