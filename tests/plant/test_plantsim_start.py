"""Starting the plant simulator never races for a port and never hangs its caller (issue 14, item 14)."""

from __future__ import annotations

import socket
import sys

import pytest
from asyncua import Client

import app.plant.server as plantsim
from tests.conftest import DEMO
from tests.live.conftest import run, running_plant


def test_spawn_with_port_0_serves_on_the_port_it_names():
    proc = plantsim.spawn(DEMO, 0, ("--speed", "20"))
    try:
        endpoint = proc.endpoint
        port = int(endpoint.split(":")[2].split("/")[0])
        assert port > 0

        async def read() -> str:
            async with Client(endpoint, timeout=10) as client:
                return str(await client.nodes.server.read_browse_name())

        assert "Server" in run(read())
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_port_taken_meanwhile_is_replaced_by_another(monkeypatch):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()  # someone else got the port between the choice and the bind
    busy = taken.getsockname()[1]
    choices = iter([busy])
    real = plantsim.free_port
    monkeypatch.setattr(plantsim, "free_port", lambda host="127.0.0.1": next(choices, None) or real(host))

    async def start() -> int:
        async with running_plant(0) as plant:
            assert plant.port != busy and str(plant.port) in plant.endpoint
            async with Client(plant.endpoint, timeout=10) as client:
                await client.nodes.server.read_browse_name()
            return plant.port

    try:
        assert run(start()) > 0
    finally:
        taken.close()


def test_spawn_gives_up_on_a_child_that_never_says_it_serves(monkeypatch):
    # A child that hangs before serving (here: one that only sleeps) must not hang the caller.
    monkeypatch.setattr(plantsim, "command", lambda *a, **k: [sys.executable, "-c", "import time; time.sleep(60)"])
    with pytest.raises(RuntimeError, match=r"did not start within 2 s \(it said nothing\)"):
        plantsim.spawn(DEMO, 0, timeout_s=2.0)  # given up at the timeout, while the child still sleeps
