"""A plant simulator serving the demo plant for the live GUI tests."""

from __future__ import annotations

import pytest

from tests.live.conftest import free_port, plantsim


@pytest.fixture
def plant_endpoint():
    """The endpoint of a plant simulator (demo plant, 20× speed) running for the test."""
    port = free_port()
    server = plantsim(port)
    yield f"opc.tcp://127.0.0.1:{port}/floortwin/"
    server.kill()
    server.wait(10)
