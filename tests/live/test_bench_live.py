"""bench/live.py reports a failed case in its JSON line and never crashes on a figure it could not measure."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from bench.live import figures_of, table
from tests.conftest import ROOT


def test_a_case_whose_plant_cannot_start_is_reported_in_the_json_line():
    with socket.socket() as busy:  # the plant's port is taken: it cannot listen
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "bench/live.py", "--quick", "--sizes", "20", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    line = json.loads(proc.stdout.strip().splitlines()[-1])
    assert line["bench"] == "live" and line["all_targets_met"] is False
    assert "did not start" in line["error_20"]
    assert "failed: RuntimeError" in proc.stdout  # the table says so too


def test_figures_that_could_not_be_measured_are_shown_as_missing_not_a_crash():
    """A client that received nothing has no latency percentiles; a window that drew nothing has no frame time."""
    bare = {"rate": 0.0, "p50_ms": None, "p99_ms": None, "attempts": 1}
    app = {
        "rate": 10.0,
        "history_rate": 10.0,
        "p50_ms": None,
        "p99_ms": None,
        "frame_ms_idle": 3.0,
        "frame_ms_median": None,
        "frame_ms_max": None,
        "frames_per_s": 0.0,
        "loop_stall_ms_p99": None,
        "machines": 2,
        "attempts": 1,
    }
    failed = {"variables": 10_000, "error": "app: ConnectionError: client is disconnected", "bare": bare, "app": {"error": "x"}}
    results = {20: {"variables": 20, "plant_start_s": 1.0, "bare": bare, "app": app}, 10_000: failed}
    lines = table(results)
    assert any("—" in ln and "bare" in ln for ln in lines)
    assert any("failed: app: ConnectionError" in ln for ln in lines)
    figures = figures_of(results)
    json.dumps(figures)
    assert figures["vars_20"]["targets_met"] is False and figures["vars_20"]["p99_ratio_app_vs_bare"] is None
    assert figures["error_10000"].startswith("app: ConnectionError") and figures["all_targets_met"] is False
