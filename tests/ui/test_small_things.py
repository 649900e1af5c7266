"""Small things a new user met (issue 13, item 19): the status bar follows a cleared selection, no library
noise in the log or the terminal, one overlap is one collision, messages name things as the user does."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from app.model.factory import Pose
from app.physics.world import Contact, Verdict, collision_pairs
from tests.conftest import ROOT

pytestmark = pytest.mark.gui


def test_status_bar_forgets_a_cleared_selection(make_window):
    w = make_window()
    w.selection.select(["CNC-01"])
    assert "CNC-01" in w.statusBar().currentMessage()
    w.selection.clear()
    assert "CNC-01" not in w.statusBar().currentMessage()


def test_no_library_noise_in_the_terminal_or_the_log():
    probe = subprocess.run(
        [sys.executable, "-c", "import app.physics.world; from app.logs import setup_logging; setup_logging('INFO')"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert probe.returncode == 0, probe.stderr
    assert "build time" not in probe.stderr + probe.stdout  # pybullet's C-level banner
    from app.logs import setup_logging

    setup_logging("WARNING")
    assert not logging.getLogger("qasync").isEnabledFor(logging.INFO)  # "Forcing use of PySide6…"


def test_one_overlap_is_one_collision_and_parties_are_named():
    a = Verdict("PR-01", (Contact("PR-02", "collision", -0.3, 0.0, (0, 0, 0), (0, 0, 0)),))
    b = Verdict("PR-02", (Contact("PR-01", "collision", -0.3, 0.0, (0, 0, 0), (0, 0, 0)),))
    assert collision_pairs([a, b]) == 1
    aisle = Verdict("CNC-01", (Contact("aisle:A-EAST", "clearance", -0.1, 0.0, (0, 0, 0), (0, 0, 0)),))
    assert aisle.describe() == "CNC-01 stands in aisle A-EAST"


def test_opening_a_layout_with_one_overlap_says_one_collision(make_window, qtbot, tmp_path):
    from app.model.io import load_factory, save_factory
    from tests.conftest import DEMO

    f = load_factory(DEMO)
    other = f.machine("PR-02").pose
    machines = [m.model_copy(update={"pose": Pose(x_m=other.x_m, y_m=other.y_m)}) if m.id == "PR-01" else m for m in f.machines]
    path = tmp_path / "overlap.json"
    save_factory(f.model_copy(update={"machines": machines}), path)
    w = make_window(open_demo=False)
    assert w.files.open_path(path)
    qtbot.waitUntil(lambda: "collision" in w.statusBar().currentMessage(), timeout=30000)  # checked in the background
    message = w.statusBar().currentMessage()
    assert "1 collision(s)" in message, message
    w.show_layout_check()  # Edit ▸ Check Layout counts the same way: one overlap, one collision
    message = w.statusBar().currentMessage()
    assert "Layout check: 1 collision(s)" in message, message
