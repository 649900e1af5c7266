"""The server's own alarms (Alarms & Conditions) from node-opcua: an ExclusiveLimitAlarm raised by writing its
input, shown with its severity and message, acknowledged back to the server, shown again after a
re-subscription (ConditionRefresh) while unacknowledged, and gone once back to normal and acknowledged."""

from __future__ import annotations

import threading
import types

import pytest
from asyncua import ua

from app.live.client import ConnectionSettings, LiveClient
from app.live.conditions import ServerAlarms
from app.live.netloop import NetworkLoop
from tests.interop.test_node_opcua import _close_node_pipes, endpoint, start_node_server  # noqa: F401 (its pipes closed)
from tests.live.conftest import free_port

URI = "urn:floortwin:interop:node-opcua"
COOLANT = f"nsu={URI};s=Plant/Mill1/Coolant"


class Seen:
    """What the alarms reported, waited for from the test's thread."""

    def __init__(self, alarms: ServerAlarms):
        self.lists: list[list] = []
        self.acks: list[tuple[str, str]] = []
        self.cond = threading.Condition()
        alarms.changed.connect(self._on_changed)
        alarms.acknowledged.connect(self._on_ack)

    def _on_changed(self, conditions):
        with self.cond:
            self.lists.append(conditions)
            self.cond.notify_all()

    def _on_ack(self, name, outcome):
        with self.cond:
            self.acks.append((name, outcome))
            self.cond.notify_all()

    def wait(self, test, timeout=20):
        with self.cond:
            assert self.cond.wait_for(lambda: test(self), timeout), (self.lists[-3:], self.acks)


@pytest.fixture
def setup():
    port = free_port()
    proc = start_node_server(port)
    loop = NetworkLoop("test-alarms")
    client = LiveClient(ConnectionSettings(endpoint(port), timeout_s=5), lambda _batch: None)
    loop.submit(client.connect()).result(30)
    alarms = ServerAlarms(types.SimpleNamespace(client=client, net=loop))
    yield client, loop, alarms
    alarms.detach()
    loop.submit(client.stop()).result(30)
    loop.shutdown()
    proc.terminate()
    proc.wait(10)


def _write(client: LiveClient, loop: NetworkLoop, value: float) -> None:
    async def write():
        assert client.client is not None
        await client.client.get_node(client.resolve(COOLANT)).write_value(ua.Variant(value, ua.VariantType.Double))

    loop.submit(write()).result(10)


def test_an_alarm_raised_shown_acknowledged_and_refreshed(setup):
    client, loop, alarms = setup
    seen = Seen(alarms)
    alarms.attach()
    _write(client, loop, 95.0)  # above HighHigh
    seen.wait(lambda s: s.lists and s.lists[-1] and s.lists[-1][0].active)
    (alarm,) = seen.lists[-1]
    assert alarm.name == "CoolantHigh" and alarm.source == "Mill1Alarms" and not alarm.acked
    assert "95" in alarm.message and "HighHigh" in alarm.message and alarm.severity > 0
    assert alarm.condition_id == f"nsu={URI};s=Plant/Mill1Alarms/CoolantHigh" and alarm.state_text == "active, unacknowledged"

    # A new subscription (a reconnection) shows the active, unacknowledged alarm at once: ConditionRefresh.
    count = len(seen.lists)
    alarms.attach()
    seen.wait(lambda s: len(s.lists) > count and s.lists[-1] and s.lists[-1][0].name == "CoolantHigh")

    # Acknowledge goes back to the server, which answers Good and reports the condition acknowledged.
    alarms.acknowledge(seen.lists[-1][0], "seen from floortwin")
    seen.wait(lambda s: ("CoolantHigh", "Good") in s.acks)
    seen.wait(lambda s: not s.lists[-1] or s.lists[-1][0].acked)

    # Acknowledging the same event again is refused with the server's status.
    alarms.acknowledge(alarm, "again")
    seen.wait(lambda s: len(s.acks) == 2)
    assert seen.acks[1][0] == "CoolantHigh" and seen.acks[1][1].startswith("Bad")

    # Back to normal and acknowledged: nothing left to show.
    _write(client, loop, 50.0)
    seen.wait(lambda s: s.lists[-1] == [])


@pytest.mark.gui
def test_the_alarms_dock_shows_server_alarms_and_acknowledges_them(qloop, make_window, qtbot):
    from app.model.io import load_factory
    from tests.conftest import DEMO

    port = free_port()
    proc = start_node_server(port)
    try:
        w = make_window(open_demo=False)
        demo = load_factory(DEMO)
        plain = demo.model_copy(update={"machines": [m.model_copy(update={"tags": {}}) for m in demo.machines]})
        w.files.open_loaded(plain, None)
        w.console.connect_live(ConnectionSettings(endpoint(port), timeout_s=3, publishing_ms=100, sampling_ms=100))
        qtbot.waitUntil(lambda: w.live.state.value == "connected", timeout=20000)
        panel = w.node_tools.alarms_panel
        assert panel.isHidden()  # nothing reported yet: the section stays out of the way
        _write(w.live.client, w.live.net, 95.0)
        qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=20000)
        assert not panel.isHidden()
        cells = [panel.table.item(0, c).text() for c in range(panel.table.columnCount())]
        assert cells[1:3] == ["Mill1Alarms · CoolantHigh", "active · unacked"] and "HighHigh" in cells[3]
        panel.table.selectRow(0)
        assert panel.ack.isEnabled()
        panel.comment.setText("operator on it")
        panel.ack.click()
        qtbot.waitUntil(lambda: "acknowledged on the server" in panel.status.text(), timeout=20000)
        _write(w.live.client, w.live.net, 80.0)  # HighHigh → High: a new state of the condition, unacknowledged again
        qtbot.waitUntil(lambda: panel.table.rowCount() == 1 and "unacked" in panel.table.item(0, 2).text(), timeout=20000)
        w.console.disconnect_live()  # the server's alarms leave with the link
        qtbot.waitUntil(lambda: panel.table.rowCount() == 0, timeout=10000)
    finally:
        proc.terminate()
        proc.wait(10)
