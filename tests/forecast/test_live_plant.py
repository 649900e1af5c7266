"""End to end: the plant simulator as its own process (300 times faster than real time), read over OPC UA
into the live store; a forecast made from that live state alone; then the plant runs on to the horizon
and the parts it really put out are checked against the forecast."""

from __future__ import annotations

import asyncio
import math
import time

from asyncua import Client

from app.forecast.forecast import Forecast, prediction_band
from app.forecast.live_state import COUNT, LEVEL, from_store
from app.forecast.service import ForecastService
from app.model.io import load_factory
from app.plant.server import spawn
from app.sim.model import compile_model
from app.state.store import STATE_SIGNAL, StateStore, Update
from tests.conftest import DEMO
from tests.live.conftest import run

SPEED = 300.0
HORIZON_S = 3600.0  # twelve wall seconds at this speed
SIGNALS = (STATE_SIGNAL, LEVEL, COUNT)


def test_the_forecast_from_the_live_plant_holds_what_the_plant_then_put_out():
    factory = load_factory(DEMO)
    model = compile_model(factory, horizon_s=HORIZON_S, warmup_s=0.0)
    store = StateStore([m.id for m in factory.machines], list(SIGNALS))
    names = [(m.id, s, f"ns=2;s=Machines/{m.id}/{s}") for m in factory.machines for s in SIGNALS]
    for machine, signal, node in names:
        store.bind(machine, signal, node)
    svc = ForecastService(factory, replications=40, workers=2)
    results: list[Forecast] = []
    svc.finished.connect(results.append)
    proc = spawn(DEMO, 0, ("--speed", str(SPEED), "--interval", "0.05", "--seed", "3"))
    seen: dict = {}

    class Handler:
        def __init__(self, nodes):
            self.binding = {n.nodeid: k for k, n in enumerate(nodes)}
            self.pending: list[Update] = []

        def datachange_notification(self, node, val, data):
            dv = data.monitored_item.Value
            stamp = dv.SourceTimestamp.timestamp() if dv.SourceTimestamp else math.nan
            self.pending.append(Update(self.binding[node.nodeid], val, dv.StatusCode.value, stamp, time.time()))

    async def watch() -> None:
        async with Client(proc.endpoint, timeout=10) as client:
            nodes = [client.get_node(n) for _, _, n in names]
            handler = Handler(nodes)
            sub = await client.create_subscription(20, handler)
            await sub.subscribe_data_change(nodes)

            async def take() -> None:
                batch, handler.pending = handler.pending, []
                store.ingest(batch)

            await asyncio.sleep(3.0)  # every variable's first value (15 simulated minutes of changes)
            await take()
            now = time.time()
            live = from_store(store, model, now, time_scale=SPEED)
            seen["live"] = live
            svc.request(live, HORIZON_S, target=live.parts_out + 40, made_so_far=live.parts_out, seed=11)
            await asyncio.sleep(now + HORIZON_S / SPEED - time.time())
            await take()
            seen["after"] = from_store(store, model, time.time(), SPEED).parts_out

    try:
        run(watch(), timeout=90)
        assert svc.wait(60)
    finally:
        svc.close()
        proc.terminate()
        proc.wait(10)
    live, after = seen["live"], seen["after"]
    assert live.parts_out > 0 and all(m.level >= 0 and m.state >= 0 for m in live.machines.values())
    assert sum(m.level for m in live.machines.values()) > 0  # it started from a plant with parts in it
    (forecast,) = results
    band = forecast.band_at_horizon()
    assert band is not None and forecast.probability() is not None
    # The 95% band holds the plant's parts out in 95% of trials (tests/forecast/test_coverage.py counts
    # them); one trial is checked against the 99.9% band, so that this test fails by chance 1 time in 1,000.
    wide = prediction_band(forecast.runs, floor=forecast.made_so_far, level=0.999)
    assert wide is not None
    print(f"parts out in the hour: {after - live.parts_out}; forecast {forecast.summary()}")
    assert math.floor(wide[0][-1]) <= after <= math.ceil(wide[1][-1]), (after, forecast.summary())
