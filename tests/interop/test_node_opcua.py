"""Interoperability: floortwin's client against an independent OPC UA server (node-opcua, Node.js)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path

import pytest
from PySide6 import QtCore, QtWidgets

from app.live.client import ClientNotTrusted, ConnectionSettings, LinkState, LiveClient, LoginRejected
from app.model.io import load_factory
from tests.conftest import DEMO
from tests.live.conftest import free_port

HERE = Path(__file__).parent


_STARTED: list[subprocess.Popen] = []  # every node process a test started: its pipe is closed after the test


@pytest.fixture(autouse=True)
def _close_node_pipes():
    """End what a test left running and close the pipes of every node process it started (an open pipe was
    reported as an unclosed file by a later garbage collection)."""
    yield
    while _STARTED:
        proc = _STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def start_node_server(port: int, *extra: str) -> subprocess.Popen:
    if not (HERE / "node_modules" / "node-opcua").exists():
        pytest.fail("node-opcua is not installed: run `make test` (it runs npm ci in tests/interop)")
    proc = subprocess.Popen(
        ["node", str(HERE / "server.js"), str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=HERE,
    )
    _STARTED.append(proc)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("ready"):
            return proc
        if not line and proc.poll() is not None:
            break
    proc.kill()
    pytest.fail("the node-opcua server did not start")


def start_nodeset_server(port: int, *extra: str) -> tuple[subprocess.Popen, str]:
    """nodesets.js on ``port`` (``extra``: how many Machinery machines, and the size of a huge node): the process
    and its own namespace's URI."""
    if not (HERE / "node_modules" / "node-opcua-nodesets").exists():
        pytest.fail("node-opcua-nodesets is not installed: run `make test` (it runs npm ci in tests/interop)")
    proc = subprocess.Popen(
        ["node", str(HERE / "nodesets.js"), str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=HERE,
    )
    _STARTED.append(proc)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("ready"):
            return proc, line.split()[2]
        if not line and proc.poll() is not None:
            break
    proc.kill()
    pytest.fail("the node-opcua nodeset server did not start")


@pytest.fixture
def node_server():
    port = free_port()
    procs = [start_node_server(port)]
    yield port, procs
    for p in procs:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


def endpoint(port: int) -> str:
    return f"opc.tcp://127.0.0.1:{port}/interop"


def test_secure_connection_with_a_login(tmp_path):
    """Basic256Sha256 Sign & Encrypt with a user name, against node-opcua's security implementation."""
    from app.live.trust import fetch_server_certificate
    from app.plant.server import ensure_certificate

    port = free_port()
    server = start_node_server(port, "secure", str(tmp_path / "server-pki"))
    url = endpoint(port)

    async def scenario():
        der = await fetch_server_certificate(url, 10)
        assert der, "node-opcua offers no Basic256Sha256 endpoint"
        (tmp_path / "server.der").write_bytes(der)
        cert, key = await ensure_certificate(tmp_path / "client", "client", "urn:floortwin:client", "localhost", server=False)

        def settings(password: str) -> ConnectionSettings:
            return ConnectionSettings(
                url,
                security_policy="Basic256Sha256",
                security_mode="SignAndEncrypt",
                username="alice",
                password=password,
                client_certificate=cert,
                client_key=key,
                server_certificate=tmp_path / "server.der",
                timeout_s=10,
                publishing_ms=100,
                sampling_ms=100,
            )

        got = []
        client = LiveClient(settings("s3cret"), got.extend)
        client.set_bindings([(0, "ns=1;s=Plant/Mill1/Temperature")])
        await client.connect()
        assert client.state == LinkState.CONNECTED
        await client._subscribe()
        for _ in range(100):
            if len(got) >= 3:
                break
            await asyncio.sleep(0.1)
        assert len(got) >= 3 and 30 < got[-1].value < 50
        await client.stop()

        wrong = LiveClient(settings("guess"), got.extend)
        with pytest.raises(LoginRejected):  # said as a refused login, never retried
            await wrong.connect()
        await wrong.stop()

    try:
        asyncio.run(asyncio.wait_for(scenario(), 120))
    finally:
        server.terminate()
        server.wait(10)


def test_a_server_that_does_not_trust_the_client_says_so_once(tmp_path):
    """node-opcua as a real PLC is set up: unknown client certificates are rejected. The client says that the
    server does not trust it yet (not "AssertionError"), gives up instead of retrying, and the certificate
    the server put in its rejected folder is ours."""
    from app.live.trust import describe
    from app.plant.server import ensure_certificate

    port = free_port()
    pki = tmp_path / "server-pki"
    server = start_node_server(port, "secure", str(pki), "strict")

    async def scenario():
        cert, key = await ensure_certificate(tmp_path / "client", "client", "urn:floortwin:client", "localhost", server=False)
        states: list[tuple[LinkState, str]] = []
        settings = ConnectionSettings(
            endpoint(port), security_policy="Basic256Sha256", security_mode="Sign", client_certificate=cert, client_key=key
        )
        client = LiveClient(settings, lambda _v: None, on_state=lambda st, m: states.append((st, m)))
        client.start()
        for _ in range(100):
            if client.state == LinkState.FAILED:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(2.0)  # long enough for a retry (backoff 0.5 s), which must not happen
        await client.stop()
        assert isinstance(client.failure, ClientNotTrusted)
        assert [st for st, _m in states if st != LinkState.DISCONNECTED] == [LinkState.CONNECTING, LinkState.FAILED], states
        message = states[1][1]
        assert "does not trust" in message and "AssertionError" not in message
        return describe(cert.read_bytes()).thumbprint

    try:
        thumbprint = asyncio.run(asyncio.wait_for(scenario(), 120))
    finally:
        server.terminate()
        server.wait(10)
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    rejected = [
        describe(x509.load_pem_x509_certificate(f.read_bytes()).public_bytes(Encoding.DER)).thumbprint
        for f in (pki / "rejected").glob("*.pem")
    ]
    assert thumbprint in rejected  # what the administrator finds in the server's rejected folder is ours


def test_browse_bind_and_subscribe(node_server):
    port, _ = node_server

    async def scenario():
        got = []
        client = LiveClient(ConnectionSettings(endpoint(port), timeout_s=3), got.extend)
        await client.connect()
        objects = {i.browse_name: i for i in await client.browse(None)}
        plant = objects["Plant"]
        mill = {i.browse_name: i for i in await client.browse(plant.node_id)}["Mill1"]
        variables = {i.browse_name: i for i in await client.browse(mill.node_id)}
        assert {"State", "Temperature", "PartCount"} <= set(variables)
        assert variables["Temperature"].data_type == "Double" and variables["Temperature"].node_class == "Variable"
        await client.stop()
        client = LiveClient(ConnectionSettings(endpoint(port), timeout_s=3, publishing_ms=100, sampling_ms=100), got.extend)
        client.set_bindings(
            [
                (0, variables["State"].node_id),
                (1, variables["Temperature"].node_id),
                (2, variables["PartCount"].node_id),
                (3, "ns=1;s=Plant/Nope"),
            ]
        )
        bad = []
        client.on_binding_error = lambda k, m: bad.append((k, m))
        client.start()
        await asyncio.sleep(3)
        await client.stop()
        values = {}
        for u in got:
            values.setdefault(u.binding, []).append(u.value)
        assert values[0][0] in ("running", "starved")
        assert len(set(values[1])) > 3 and all(30 < v < 50 for v in values[1])
        assert values[2][-1] >= values[2][0]
        assert bad and bad[0][0] == 3 and "BadNodeIdUnknown" in bad[0][1]

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_reconnects_after_the_server_is_restarted(node_server):
    port, procs = node_server

    async def scenario():
        got, states = [], []
        client = LiveClient(
            ConnectionSettings(
                endpoint(port), timeout_s=1, max_backoff_s=1, health_check_s=0.5, publishing_ms=100, sampling_ms=100
            ),
            got.extend,
            lambda s, m: states.append(s),
        )
        client.set_bindings([(0, "ns=1;s=Plant/Mill1/Temperature")])
        client.start()
        await asyncio.sleep(2)
        assert got and client.state == LinkState.CONNECTED
        procs[0].kill()
        procs[0].wait(10)
        await asyncio.sleep(2.5)
        assert client.state == LinkState.RECONNECTING
        n = len(got)
        procs.append(await asyncio.to_thread(start_node_server, port))
        for _ in range(60):
            await asyncio.sleep(0.25)
            if client.state == LinkState.CONNECTED and len(got) > n:
                break
        assert client.state == LinkState.CONNECTED and len(got) > n
        assert client.stats.reconnects >= 1
        await client.stop()

    asyncio.run(asyncio.wait_for(scenario(), 90))


@pytest.mark.gui
def test_gui_browse_drop_to_bind_and_live_colours(qloop, make_window, qtbot, node_server, monkeypatch, tmp_path):
    from app.ui.browse_dock import MIME_NODE

    port, _ = node_server
    w = make_window(open_demo=False)
    demo = load_factory(DEMO)
    # A factory whose CNC-01 is bound to nothing yet: the operator binds it by drag and drop.
    plain = demo.model_copy(update={"machines": [m.model_copy(update={"tags": {}}) for m in demo.machines]})
    w.files.open_loaded(plain, None)
    w.view.camera_preset("top")
    w.console.connect_live(ConnectionSettings(endpoint(port), timeout_s=3, publishing_ms=100, sampling_ms=100))
    qtbot.waitUntil(lambda: w.browse_dock.find(["Plant"]) is not None, timeout=15000)
    plant = w.browse_dock.find(["Plant"])
    w.browse_dock.tree.expand(plant.index())
    qtbot.waitUntil(lambda: w.browse_dock.find(["Plant", "Mill1"]) is not None, timeout=10000)
    w.browse_dock.tree.expand(w.browse_dock.find(["Plant", "Mill1"]).index())
    qtbot.waitUntil(lambda: w.browse_dock.find(["Plant", "Mill1", "State"]) is not None, timeout=10000)
    item = w.browse_dock.find(["Plant", "Mill1", "State"])
    # At the window's size the names in the Server dock are whole, not cut to "…".
    w.browse_dock.raise_()
    qtbot.waitUntil(lambda: w.browse_dock.tree.isVisible(), timeout=5000)
    QtWidgets.QApplication.processEvents()
    tree = w.browse_dock.tree
    assert tree.columnWidth(0) >= tree.sizeHintForColumn(0) > 0
    mime = w.browse_dock.model.mimeData([item.index()])
    # Saved with node-opcua's namespace URI: it still names this variable if the namespaces are reordered.
    node_id = "nsu=urn:floortwin:interop:node-opcua;s=Plant/Mill1/State"
    assert json.loads(bytes(mime.data(MIME_NODE)).decode())["node_id"] == node_id
    client = w.live.client
    connects = client.stats.connects

    # Drop it on CNC-01 in the 3D view; the binding dialog answers "State".
    monkeypatch.setattr(QtWidgets.QInputDialog, "getItem", lambda *a, **k: ("State", True))
    x, y = w.view.display_position("CNC-01")
    pos = QtCore.QPointF(x, w.view.plotter.height() - 1 - y)
    drops = []
    w.view.dropped_on_machine.connect(lambda mid, m: drops.append(mid))
    for kind in (QtCore.QEvent.Type.DragEnter, QtCore.QEvent.Type.Drop):
        # QDragEnterEvent has only a deprecated constructor; a QDropEvent of type DragEnter is the same event.
        event = QtGui.QDropEvent(
            pos,
            QtCore.Qt.DropAction.CopyAction,
            mime,
            QtCore.Qt.MouseButton.LeftButton,
            QtCore.Qt.KeyboardModifier.NoModifier,
            kind,
        )
        QtWidgets.QApplication.sendEvent(w.view.plotter, event)
    assert drops == ["CNC-01"]
    assert w.document.factory.machine("CNC-01").tags == {"State": node_id}
    assert w.document.dirty
    # The binding joins the running subscription: CNC-01 turns to the node-opcua machine's live state...
    qtbot.waitUntil(
        lambda: w.live.store is not None and w.live.store.text("CNC-01", "State") in ("running", "starved"), timeout=15000
    )
    assert w.live.client is client and client.stats.connects == connects  # ...in the same session, no reconnection
    w.live.flush()
    from app.state.colours import STATE_RGB

    rgb = tuple(int(c) for c in w.view.machines.colours[w.view.machines.index["CNC-01"]][:3])
    assert rgb in (tuple(STATE_RGB[0]), tuple(STATE_RGB[2]))
    # The binding is saved with the factory.
    assert w.files.save_to(tmp_path / "bound.json")
    assert load_factory(tmp_path / "bound.json").machine("CNC-01").tags == {"State": node_id}
    # Binding is one undo step.
    assert w.layout_editor.stack.text(w.layout_editor.stack.count() - 1) == "Bind CNC-01.State"
    w.layout_editor.stack.undo()
    assert w.document.factory.machine("CNC-01").tags == {}
    w.layout_editor.stack.redo()
    assert w.document.factory.machine("CNC-01").tags == {"State": node_id}


from PySide6 import QtGui  # noqa: E402  (used in the GUI test above; kept local to the Qt tests)


def test_states_units_and_ranges_from_the_official_di_and_machinery_nodesets(tmp_path):
    """node-opcua with the OPC Foundation's DI and Machinery nodesets: a DI DeviceHealth FAILURE shows down
    (not "setup"), Machinery's CurrentState "Executing" shows running and is recorded as its text, an
    AnalogItem's unit and EURange are read and a value beyond the range is flagged."""
    from app.history.recorder import History, Recorder, sample_of
    from app.state.store import StateStore

    port = free_port()
    proc, _uri = start_nodeset_server(port)
    try:

        async def scenario():
            settings = ConnectionSettings(endpoint(port), timeout_s=10, publishing_ms=100, sampling_ms=100)
            client = LiveClient(settings, lambda b: None)
            await client.connect()
            press = next(i for i in await client.browse(None) if i.browse_name == "Press1")
            children = {i.browse_name: i for i in await client.browse(press.node_id)}
            state = {i.browse_name: i for i in await client.browse(children["State"].node_id)}
            await client.stop()
            nodes = {
                "health": children["DeviceHealth"].node_id,
                "state": state["CurrentState"].node_id,
                "speed": children["Speed"].node_id,
            }
            assert all(n.startswith("nsu=") for n in nodes.values())
            got, infos = [], []
            client = LiveClient(
                ConnectionSettings(endpoint(port), timeout_s=10, publishing_ms=100, sampling_ms=100),
                got.extend,
                on_binding_info=infos.extend,
            )
            client.set_bindings([(0, nodes["health"]), (1, nodes["state"]), (2, nodes["speed"])])
            client.start()
            for _ in range(200):
                if len({u.binding for u in got}) == 3 and len(infos) == 3:
                    break
                await asyncio.sleep(0.05)
            await client.stop()
            return nodes, got, infos

        nodes, got, infos = asyncio.run(asyncio.wait_for(scenario(), 90))
    finally:
        proc.terminate()
        proc.wait(10)
    store = StateStore(["PR-01", "PR-02"], ["State", "Speed"])
    assert store.bind("PR-01", "State", nodes["health"]) == 0
    assert store.bind("PR-02", "State", nodes["state"]) == 1
    assert store.bind("PR-01", "Speed", nodes["speed"]) == 2
    for k, info in infos:
        store.set_info(k, info)
    store.ingest(got)
    assert store.state("PR-01") == "down"  # DeviceHealth FAILURE (1), recognised by its DI data type
    assert store.state("PR-02") == "running" and store.text("PR-02", "State") == "Executing"
    assert store.unit("PR-01", "Speed") == "rpm"
    assert store.value("PR-01", "Speed") == pytest.approx(1012.7)
    assert store.out_of_range[0, store.signal_index["Speed"]]
    rec = Recorder(tmp_path / "h.sqlite", flush_s=0.05)
    node = nodes["state"]
    rec.record(sample_of("PR-02", "State", node, u.value, u.status, u.received_ts, u.received_ts) for u in got if u.binding == 1)
    rec.close()
    _t, texts = History(tmp_path / "h.sqlite").text_series("PR-02", "State")
    assert texts == ["Executing"]  # its text, never "LocalizedText(Locale=..., Text='Executing')"


@pytest.mark.gui
def test_gui_shows_the_servers_unit_range_flag_and_device_health(qloop, make_window, qtbot, tmp_path):
    """On the window, against the DI/Machinery server: CNC-01's label shows 1012.7 rpm (not °C) flagged
    beyond its EURange, the Properties dock shows the unit, a DeviceHealth FAILURE colours the machine as
    down; the history is recorded with the retention the settings give."""
    from app.state.colours import STATE_RGB

    port = free_port()
    proc, uri = start_nodeset_server(port)
    try:
        w = make_window(open_demo=False)
        demo = load_factory(DEMO)
        tags = {"Temperature": f"nsu={uri};s=Press1/Speed", "State": f"nsu={uri};s=Press1/DeviceHealth"}
        machines = [m.model_copy(update={"tags": tags if m.id == "CNC-01" else {}}) for m in demo.machines]
        w.files.open_loaded(demo.model_copy(update={"machines": machines}), None)
        w.settings.history_retention_days = 30
        w.settings.history_max_mb = 100
        w.console.connect_live(ConnectionSettings(endpoint(port), timeout_s=10, publishing_ms=100, sampling_ms=100))
        assert w.live.recorder.retention_s == 30 * 86_400 and w.live.recorder.max_bytes == 100 * 2**20
        index = [m.id for m in machines].index("CNC-01")
        qtbot.waitUntil(lambda: w.live.label_texts()[index] == "CNC-01 · 1012.7 rpm (max 1000)", timeout=20000)
        w.live.flush()
        rgb = tuple(int(c) for c in w.view.machines.colours[w.view.machines.index["CNC-01"]][:3])
        assert rgb == tuple(STATE_RGB[4])  # FAILURE: down, not "setup"
        w.selection.select(["CNC-01"])
        qtbot.waitUntil(lambda: (w.properties_dock.widget().value_of("Temperature") or "").endswith("[rpm]"), timeout=5000)
        w.trends_dock.raise_()
        qtbot.waitUntil(lambda: w.trends_dock.axis_label("Temperature") is not None, timeout=10000)
        assert "rpm" in w.trends_dock.axis_label("Temperature") and "°C" not in w.trends_dock.axis_label("Temperature")
    finally:
        proc.terminate()
        proc.wait(10)


def test_gui_says_the_server_does_not_trust_floortwin_and_hands_over_the_certificate(qloop, make_window, qtbot, tmp_path):
    from app.live.trust import describe
    from app.model.factory import OpcUaSettings
    from tests.ui.test_connect_dialog import _when_modal

    port = free_port()
    server = start_node_server(port, "secure", str(tmp_path / "server-pki"), "strict")
    try:
        w = make_window()
        w.document.set_opcua(OpcUaSettings(endpoint=endpoint(port), security_policy="Basic256Sha256", security_mode="Sign"))
        asked = _when_modal(qtbot, QtWidgets.QMessageBox, lambda b: b.button(QtWidgets.QMessageBox.StandardButton.Yes).click())
        assert w.console.connect_from_file()
        qtbot.waitUntil(lambda: len(asked) == 1, timeout=20000)  # first: do we trust the server? yes
        qtbot.waitUntil(lambda: w.console.trust_dialog is not None and w.console.trust_dialog.isVisible(), timeout=30000)
        dialog = w.console.trust_dialog
        cert = w.console.client_certificate_paths()[0]
        thumbprint = describe(cert.read_bytes()).thumbprint
        assert "refused floortwin's client certificate" in dialog.text()
        assert str(cert) in dialog.informativeText() and thumbprint in dialog.informativeText()
        dialog.copy_button.click()
        assert QtWidgets.QApplication.clipboard().text() == thumbprint and dialog.isVisible()
        assert dialog.export_to(tmp_path / "for-the-admin.der")
        assert (tmp_path / "for-the-admin.der").read_bytes() == cert.read_bytes()
        dialog.close()
        assert not w.live.active and "Link failed" in w.status_link.text()
        assert w.actions_by_id["live.connect"].isEnabled()
    finally:
        server.terminate()
        server.wait(10)
