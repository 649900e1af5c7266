"""The command line, run as a user runs it: real processes, a real X server, real PNG files."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from app.model.kinds import get_kind
from tests.conftest import ROOT

pytestmark = pytest.mark.gui


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
        cwd=ROOT,
    )


def test_help_documents_every_option():
    r = run("--help")
    assert r.returncode == 0
    options = ("FACTORY", "--demo", "--screenshot", "--quit-after", "--diff", "--size", "--theme", "--log-level", "--version")
    for option in options:
        assert option in r.stdout


def test_bad_factory_file_exits_2_with_one_clear_line(tmp_path, demo_text):
    doc = json.loads(demo_text)
    doc["machines"][3]["pose"]["yaw_deg"] = "abc"
    bad = tmp_path / "demo.json"
    bad.write_text(json.dumps(doc))
    r = run(str(bad), "--screenshot", str(tmp_path / "x.png"))
    assert r.returncode == 2
    assert r.stderr.strip() == 'floortwin: error: demo.json: machines[3].pose.yaw_deg: expected a number, got "abc"'
    assert "Traceback" not in r.stderr and not (tmp_path / "x.png").exists()


def test_an_unknown_heat_layer_is_a_bad_argument(tmp_path, demo_path):
    """Exit 2 with the known names, no screenshot (a new-user trial saw a warning and exit 0)."""
    out = tmp_path / "x.png"
    r = run(str(demo_path), "--heat", "wip,bogus", "--screenshot", str(out))
    assert r.returncode == 2, r.stderr
    assert "floortwin: error: --heat: no such layer or numeric signal: bogus (known: wip, flow" in r.stderr
    assert not out.exists() and "Traceback" not in r.stderr


def test_missing_file_and_conflicting_arguments_exit_2(tmp_path):
    r = run(str(tmp_path / "nope.json"))
    assert r.returncode == 2 and "file not found" in r.stderr and "Traceback" not in r.stderr
    r = run(str(tmp_path / "nope.json"), "--demo")
    assert r.returncode == 2 and "not both" in r.stderr
    r = run("--demo", "--screenshot", str(tmp_path / "no" / "such" / "dir.png"))
    assert r.returncode == 2 and "does not exist" in r.stderr
    r = run("--demo", "--size", "big")
    assert r.returncode == 2 and "--size" in r.stderr
    r = run("--demo", "--quit-after", "-1")
    assert r.returncode == 2 and "--quit-after: must be a number of seconds > 0" in r.stderr


def _share(img: np.ndarray, rgb: tuple[int, int, int], tol: float = 0.08) -> float:
    """Fraction of pixels whose colour direction matches ``rgb`` (lighting only scales brightness)."""
    px = img.reshape(-1, 3).astype(float)
    norm = np.linalg.norm(px, axis=1) + 1e-9
    ref = np.array(rgb, float) / np.linalg.norm(rgb)
    bright = norm > 60
    return float((np.linalg.norm(px / norm[:, None] - ref, axis=1) < tol)[bright].mean())


def test_offline_screenshot_shows_the_plant_in_kind_colours(tmp_path):
    out = tmp_path / "demo.png"
    r = run("--demo", "--no-plant", "--screenshot", str(out), "--size", "1400x900", "--theme", "light")
    assert r.returncode == 0, r.stderr
    img = np.asarray(Image.open(out).convert("RGB"))
    assert img.shape == (900, 1400, 3)
    assert img.std() > 30
    # Machines are drawn in their kinds' colours: CNC blue, press vermilion, assembly green, robot orange.
    for kind in ("cnc", "press", "assembly", "robot_cell"):
        assert _share(img, get_kind(kind).colour) > 0.0003, kind
    assert _share(img, (230, 0, 230)) < 0.00005  # no magenta placeholder boxes: every mesh loaded


def test_demo_screenshot_shows_live_state_colours(tmp_path):
    from app.state.colours import STATE_RGB

    out = tmp_path / "live.png"
    r = run("--demo", "--screenshot", str(out), "--size", "1400x900", "--theme", "light", timeout=90)
    assert r.returncode == 0, r.stderr
    assert "no live data" not in r.stderr
    img = np.asarray(Image.open(out).convert("RGB"))
    # Only the 3D view counts (not its legend): the Factory tree's Kind column shows each kind's colour swatch,
    # and the kinds' palette shares colours with the states' (assembly green is running green).
    view = img[60:600, 260:940]
    # The plant is live: machines show running (bluish green) and starved (yellow) states ...
    assert _share(view, tuple(STATE_RGB[0])) > 0.0005
    assert _share(view, tuple(STATE_RGB[2])) > 0.0005
    # ... and no longer their kinds' colours (CNC blue is gone from the machines).
    assert _share(view, get_kind("cnc").colour) < 0.0003


def test_quit_after_ends_the_program(tmp_path):
    r = run("--demo", "--quit-after", "1.5", timeout=60)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr


def test_diff_against_a_file_with_several_problems_lists_them_all(tmp_path, demo_path, demo_text):
    """Not the first one and "(and 2 more problems)" with the others nowhere (issue 13, item 3's rule)."""
    doc = json.loads(demo_text)
    doc["machines"] = [m for m in doc["machines"] if m["id"] != "CNC-05"]  # its transports now point nowhere
    other = tmp_path / "other.json"
    other.write_text(json.dumps(doc))
    r = run(str(demo_path), "--diff", str(other))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and "more problem" not in r.stderr and "Traceback" not in r.stderr
    assert len(lines) >= 2 and all(line.startswith("floortwin: error: other.json: ") for line in lines), lines
    assert sum('unknown machine "CNC-05"' in line for line in lines) >= 2


def test_drift_and_plant_speed_reach_the_embedded_plant_and_bad_ones_exit_2(tmp_path):
    from app.cli import _plant_args, build_parser
    from app.model.io import load_factory
    from tests.conftest import DEMO

    drifts = ["--drift", "CNC-03:cycle=+20%@10m", "--drift", "CNC-05:mttr=+50%@1h..2h"]
    args = build_parser().parse_args(["--demo", "--plant-speed", "60", *drifts])
    from app.plant.server import DEMO_ARGS

    assert _plant_args(args, load_factory(DEMO)) == (*DEMO_ARGS, "--speed", "60", *drifts)  # added to the demo's own
    r = run("--demo", "--drift", "CNC-03:cycle=20%@10m")
    assert r.returncode == 2 and "--drift CNC-03:cycle=20%@10m" in r.stderr and "signed percentage" in r.stderr
    r = run("--demo", "--drift", "CNC-99:cycle=+20%@10m")
    assert r.returncode == 2 and 'unknown machine "CNC-99"' in r.stderr
    r = run("--demo", "--plant-speed", "0")
    assert r.returncode == 2 and "--plant-speed: must be a number > 0" in r.stderr
    r = run("--demo", "--no-plant", "--drift", "CNC-03:cycle=+20%@10m")
    assert r.returncode == 2 and "need --demo (with its plant simulator)" in r.stderr
    assert "Traceback" not in r.stderr


def test_sigterm_closes_the_app_cleanly_and_leaves_no_process_behind(tmp_path):
    """A logout or `kill` ends floortwin like Quit: exit 0, the plant simulator and the forecast's worker
    processes end with it (a new-user trial found workers running 26 minutes after a kill)."""
    import signal
    import time

    import psutil

    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "--demo", "--log-level", "INFO"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ),
        cwd=ROOT,
    )
    try:
        me = psutil.Process(proc.pid)
        deadline = time.time() + 90
        while time.time() < deadline and len(me.children(recursive=True)) < 3:  # the plant and forecast workers
            time.sleep(0.5)
        children = me.children(recursive=True)
        assert len(children) >= 3, [c.cmdline() for c in children]
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        _gone, alive = psutil.wait_procs(children, timeout=15)
        assert not alive, [p.cmdline() for p in alive]
    finally:
        if proc.poll() is None:
            proc.kill()
