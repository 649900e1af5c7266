"""An opened layout is checked on a worker thread: the window does not freeze, and a layout with problems
still says so (issue 14, item 8)."""

from __future__ import annotations

import json
import threading

import pytest

from app.physics import world as world_module

pytestmark = pytest.mark.gui


def test_a_layout_with_a_collision_is_checked_off_the_gui_thread_and_says_so(
    make_window, qtbot, tmp_path, demo_path, monkeypatch
):
    data = json.loads(demo_path.read_text())
    by_id = {m["id"]: m for m in data["machines"]}
    by_id["CNC-01"]["pose"] = dict(by_id["CNC-02"]["pose"])  # CNC-01 on top of CNC-02
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    threads: list[str] = []
    real = world_module.check_layout

    def spy(factory, hulls):
        threads.append(threading.current_thread().name)
        return real(factory, hulls)

    monkeypatch.setattr("app.ui.layout_check_task.check_layout", spy)
    w = make_window(open_demo=False)
    assert w.files.open_path(bad)
    assert w.layout_editor.service.state == "idle"  # no editing world built at open: only the check's, on a worker
    dock = w.layout_check_dock.list
    qtbot.waitUntil(lambda: any("CNC-01 collides with CNC-02" in dock.item(k).text() for k in range(dock.count())), timeout=30000)
    assert threads and threads[0].startswith("layout-check") and threads[0] != threading.main_thread().name
    assert "1 collision(s)" in w.statusBar().currentMessage()
    texts = [dock.item(k).text() for k in range(dock.count())]
    assert not any("CNC-02 collides with CNC-01" in t for t in texts), texts  # one overlap, one row


def test_a_stale_check_does_not_overwrite_a_newer_layout(make_window, qtbot):
    w = make_window()
    qtbot.waitUntil(lambda: not w.layout_check.running, timeout=30000)
    dock = w.layout_check_dock.list
    assert dock.item(0).text() == "No collisions or clearance problems"
    w.layout_check.start(w.document.factory, {})  # a request that would fail (no hulls)...
    w.layout_check.cancel()  # ...is superseded before it ends
    w.layout_check.wait_idle()
    from PySide6 import QtWidgets

    QtWidgets.QApplication.processEvents()  # its (stale) result is delivered now, and ignored
    assert dock.item(0).text() == "No collisions or clearance problems"
