"""The plant simulator publishes what it serves as a Sparkplug B edge node too (``--mqtt``): a factory bound
to its metrics fills the store as one bound to its OPC UA variables does, and its clean stop is a death."""

from __future__ import annotations

import asyncio
import time

import numpy as np

from app.live.client import ConnectionSettings, LinkState
from app.live.session import LiveSession
from app.model.io import load_factory
from app.mqtt.source import STALE, MqttSource
from app.plant.server import spawn
from tests.conftest import DEMO
from tests.mqtt.test_session_mqtt import _pump, _wire


def test_the_plant_simulator_publishes_its_machines_as_sparkplug_b(broker, tmp_path):
    factory = load_factory(DEMO)
    base = "mqtt:spBv1.0/floortwin/plantsim"
    machines = [
        m.model_copy(update={"tags": {s: f"{base}/{m.id}#{s}" for s in ("State", "PartCount", "Temperature")}, "states": {}})
        for m in factory.machines
    ]
    factory = factory.model_copy(update={"machines": machines})
    plant = spawn(DEMO, 0, ("--speed", "20", "--interval", "0.25", "--seed", "3", "--mqtt", broker.url))
    session = LiveSession(max_age_s=10.0)
    _wire(session)
    try:
        assert session.start(factory, ConnectionSettings(broker.url), tmp_path / "h.sqlite", make_client=MqttSource)
        _pump(session, lambda: session.ready(0.9, time.time()), 30)
        store = session.store
        assert session.state == LinkState.CONNECTED and store is not None
        states = {store.state(m.id) for m in factory.machines}
        assert states <= {"running", "setup", "starved", "blocked", "down", "unknown"} and len(states) >= 2
        made = np.nansum(store.column("PartCount"))
        assert made > 0, "the births carry the part counts served now"
        _pump(session, lambda: np.nansum(store.column("PartCount")) > made, 30)  # and the plant goes on producing
        client = session.client
        assert isinstance(client, MqttSource)
        assert client.counts.seq_gaps == 0 and client.counts.malformed == 0 and client.counts.unknown_aliases == 0

        plant.terminate()  # a clean stop publishes the edge node's death
        plant.wait(15)
        i, j = store.machine_index["CNC-01"], store.signal_index["Temperature"]
        _pump(session, lambda: store.status[i, j] == STALE, 15)
    finally:
        if plant.poll() is None:
            plant.kill()
            plant.wait(10)
        asyncio.run(session.aclose())
