"""The watchdog against the real plant simulator process, run 1,200 times faster than real time, over OPC UA."""

from __future__ import annotations

import asyncio
import math
import time

from asyncua import Client

from app.model.io import load_factory
from app.plant.server import spawn
from app.state.store import Update
from app.watchdog.service import Watchdog
from tests.conftest import DEMO
from tests.live.conftest import run

SPEED = 1200.0


def test_a_drift_injected_into_the_plant_process_is_detected_over_opc_ua():
    factory = load_factory(DEMO)
    proc = spawn(DEMO, 0, ("--speed", str(SPEED), "--interval", "0.05", "--seed", "3", "--drift", "CNC-03:cycle=+50%@30m"))
    serving_wall = time.time()  # the plant's clock starts when it serves: ±1 update (60 simulated s)
    dog = Watchdog(factory, time_scale=SPEED)
    names = [(m.id, s, f"ns=2;s=Machines/{m.id}/{s}") for m in factory.machines for s in ("State", "CycleTime")]
    pending: list[Update] = []

    class Handler:
        def __init__(self, nodes):
            self.binding = {n.nodeid: k for k, n in enumerate(nodes)}

        def datachange_notification(self, node, val, data):
            dv = data.monitored_item.Value
            stamp = dv.SourceTimestamp.timestamp() if dv.SourceTimestamp else math.nan
            status = dv.StatusCode.value if dv.StatusCode is not None else 0
            pending.append(Update(self.binding[node.nodeid], val, status, stamp, time.time()))

    async def watch() -> None:
        async with Client(proc.endpoint, timeout=10) as client:
            nodes = [client.get_node(n) for _, _, n in names]
            sub = await client.create_subscription(20, Handler(nodes))
            await sub.subscribe_data_change(nodes)
            deadline = time.monotonic() + 40.0
            while time.monotonic() < deadline:
                await asyncio.sleep(0.25)
                batch = pending[:]
                del pending[:]
                dog.feed(batch, names)
                if any(d.machine == "CNC-03" for d in dog.detections):
                    return

    try:
        run(watch(), timeout=60)
    finally:
        proc.terminate()
        proc.wait(10)
    found = [d for d in dog.detections if d.machine == "CNC-03"]
    assert found, f"nothing found on CNC-03 ({dog.status('CNC-03', 'cycle')}; {dog.values_fed} values fed)"
    d = found[0]
    assert (d.param, d.direction) == ("cycle", 1)
    assert abs(d.ratio - 1.5) <= d.half_width + 0.05
    detected_sim_s = (d.detected_ts - serving_wall) * SPEED
    since_sim_s = (d.since_ts - serving_wall) * SPEED
    assert 1800.0 < detected_sim_s < 1800.0 + 3 * 3600.0, detected_sim_s
    assert since_sim_s > 1800.0 - 3 * 270.0 - 120.0, since_sim_s  # the change point: at the drift, within a few cycles
    assert dog.values_fed > 100
    print(f"found {(detected_sim_s - 1800) / 60:.0f} simulated minutes after the drift: {d.text}")
