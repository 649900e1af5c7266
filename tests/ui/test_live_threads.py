"""Reports of the network thread reach the live link on the GUI thread, in order, at a plant's rate, and
a stopped session's reports are dropped. (superqt's ensure_main_thread crashed the process here: it makes
a QObject on the calling Python thread for every report.)"""

from __future__ import annotations

import threading
import time

import pytest

from app.live.client import LinkState

pytestmark = pytest.mark.gui


def test_reports_from_a_busy_network_thread_arrive_on_the_gui_thread_in_order(make_window, qtbot):
    w = make_window(open_demo=False)
    session = w.live.session
    got: list[object] = []
    threads: set[str] = set()

    def ingest(batch):  # the store's side of a report, as the link's slot calls it
        got.append(batch[0])
        threads.add(threading.current_thread().name)

    session.ingest = ingest
    n = 5000

    def network() -> None:  # as the OPC UA client reports: hundreds of batches a second, and link changes
        g = session.generation
        for k in range(n):
            session.values_received.emit(g, [k])
            if k % 100 == 0:
                time.sleep(0.001)
        session.values_received.emit(g - 1, ["from a stopped session"])
        session.link_changed.emit(g - 1, LinkState.FAILED, "from a stopped session", time.time())
        session.link_changed.emit(g, LinkState.RECONNECTING, "connection lost", time.time())

    reporter = threading.Thread(target=network, name="opcua-network-test")
    reporter.start()
    qtbot.waitUntil(lambda: "Reconnecting" in w.status_link.text(), timeout=60000)
    reporter.join(10)
    assert got == list(range(n)) and threads == {"MainThread"}
    assert w.status_link.toolTip() == "connection lost" and w.live.state == LinkState.RECONNECTING
