"""OPC UA fixtures: real servers on 127.0.0.1, free ports, bounded time."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess

import pytest

from app.model.io import load_factory
from app.plant.server import Faults, PlantServer, free_port, spawn
from tests.conftest import DEMO


@pytest.fixture
def port() -> int:
    return free_port()


@contextlib.asynccontextmanager
async def running_plant(port: int, factory=None, **kw):
    """A PlantServer for the demo plant (or ``factory``), updating in the background of this event loop."""
    kw.setdefault("speed", 120.0)
    kw.setdefault("interval_s", 0.2)
    kw.setdefault("seed", 3)
    plant = PlantServer(factory if factory is not None else load_factory(DEMO), port=port, **kw)
    await plant.start()
    stop = asyncio.Event()
    task = asyncio.create_task(plant.run(stop))
    try:
        yield plant
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await plant.stop()


def plantsim(port: int, speed: float = 20.0, interval_s: float = 0.25) -> subprocess.Popen:
    """The plant simulator as its own process serving the demo plant on 127.0.0.1:``port``."""
    return spawn(DEMO, port, ("--speed", str(speed), "--interval", str(interval_s)))


def run(coro, timeout: float = 60):
    """Run a coroutine with a hard time limit."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


__all__ = ["Faults", "free_port", "plantsim", "run", "running_plant"]
