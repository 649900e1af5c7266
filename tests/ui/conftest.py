"""A plant simulator serving the demo plant for the live GUI tests."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import DEMO, ROOT
from tests.live.conftest import free_port


def plantsim(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.live.plantsim",
            "--factory",
            str(DEMO),
            "--port",
            str(port),
            "--speed",
            "20",
            "--interval",
            "0.25",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env=dict(os.environ),
    )
    assert "serving" in proc.stdout.readline()
    return proc


@pytest.fixture
def plant_endpoint():
    """The endpoint of a plant simulator (demo plant, 20× speed) running for the test."""
    port = free_port()
    server = plantsim(port)
    yield f"opc.tcp://127.0.0.1:{port}/floortwin/"
    server.kill()
    server.wait(10)
