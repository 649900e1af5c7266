"""A factory file that names its server connects on open; ``--connect URL`` connects from the command line;
a screenshot of any live server waits for its first values (issue 14, item 1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import DEMO, ROOT
from tests.live.conftest import free_port
from tests.live.conftest import plantsim as _plantsim

pytestmark = pytest.mark.gui


def _factory_naming(tmp_path, endpoint: str):
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    data.setdefault("opcua", {})["endpoint"] = endpoint
    path = tmp_path / "plant-with-server.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def plant():
    port = free_port()
    proc = _plantsim(port)
    try:
        yield f"opc.tcp://127.0.0.1:{port}/floortwin/"
    finally:
        proc.kill()
        proc.wait(10)


def test_opening_a_file_that_names_a_server_connects(qloop, make_window, qtbot, plant, tmp_path):
    w = make_window(open_demo=False)
    assert w.files.open_path(_factory_naming(tmp_path, plant))
    qtbot.waitUntil(w.console.has_live_values, timeout=20000)
    assert w.live.active
    qtbot.waitUntil(lambda: "Live" in w.status_link.text(), timeout=10000)
    w.console.disconnect_live()


def test_connect_on_open_can_be_turned_off(qloop, make_window, qtbot, plant, tmp_path):
    w = make_window(open_demo=False)
    w.settings.connect_on_open = False
    assert w.files.open_path(_factory_naming(tmp_path, plant))
    # The connection would be scheduled on the next turn of the event loop: let several turns pass.
    for _ in range(20):
        qtbot.wait(10)
    assert not w.live.active


def test_command_line_connect_screenshot_waits_for_live_values(plant, tmp_path):
    out = tmp_path / "live.png"
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), str(DEMO), "--connect", plant, "--screenshot", str(out), "--quit-after", "40"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.exists() and out.stat().st_size > 10_000
    assert "no live data" not in proc.stderr, proc.stderr


def test_command_line_connect_refuses_a_bad_url_and_a_missing_factory():
    main = str(ROOT / "main.py")
    bad = subprocess.run([sys.executable, main, str(DEMO), "--connect", "http://x"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "opc.tcp://" in bad.stderr
    alone = subprocess.run(
        [sys.executable, main, "--connect", "opc.tcp://127.0.0.1:4840/"], capture_output=True, text=True, timeout=60
    )
    assert alone.returncode == 2 and "FACTORY" in alone.stderr


def test_live_menu_turns_connect_on_open_off_and_on(make_window):
    w = make_window(open_demo=False)
    action = w.actions_by_id["live.connect_on_open"]
    assert action.isCheckable() and action.isChecked() and w.settings.connect_on_open
    action.trigger()
    assert not w.settings.connect_on_open and not action.isChecked()
    action.trigger()
    assert w.settings.connect_on_open and action.isChecked()
