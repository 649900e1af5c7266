"""The demo plant is busy and plausible: conveyors carry parts, and the first minute shows every kind of state."""

from __future__ import annotations

import asyncio

from asyncua import Client, ua

from app.model.io import load_factory
from app.plant.server import DEMO_ARGS, NAMESPACE, Faults, build_parser
from tests.conftest import DEMO
from tests.live.conftest import run, running_plant


def test_conveyors_carry_part_flows_along_transport_paths():
    f = load_factory(DEMO)
    on_routes = {m for fl in f.flows for m in fl.routing}
    for cv in ("CV-01", "CV-02", "CV-03", "CV-04", "CV-05", "CV-06"):
        assert cv in on_routes, f"{cv} belongs to no part flow"
    paths = {(t.from_machine, t.to_machine) for t in f.transports}
    hops = {(a, b) for fl in f.flows for a, b in zip(fl.routing[:-1], fl.routing[1:], strict=True)}
    assert hops <= paths  # every hop is drawn (and measured by the flow heat map)
    assert len(f.machines) == 40 and sorted(m.id for m in f.machines)[:3] == ["ASM-01", "ASM-02", "ASM-03"]


def test_the_first_minute_of_the_demo_shows_every_state_and_an_alarm(port):
    """As ``--demo`` drives it (``DEMO_ARGS``), seen over OPC UA: one simulated minute at 10× speed."""
    args = build_parser().parse_args(["--factory", str(DEMO), *DEMO_ARGS])
    faults = Faults(breakdowns=args.breakdown)

    async def scenario():
        seen: dict[str, set[str]] = {}
        alarms: dict[str, str] = {}
        plant_kw = {"speed": 10.0, "interval_s": 0.1, "seed": args.seed, "faults": faults}
        async with running_plant(port, **plant_kw) as plant, Client(plant.endpoint, timeout=10) as client:
            idx = await client.get_namespace_index(NAMESPACE)
            names = [(m.id, f"Machines/{m.id}") for m in plant.machines]
            states = [client.get_node(ua.NodeId(f"{base}/State", idx)) for _id, base in names]
            alarm = [client.get_node(ua.NodeId(f"{base}/AlarmText", idx)) for _id, base in names]
            t0 = plant.sim_time()
            while plant.sim_time() - t0 < 60.0:  # the first simulated minute
                now = zip(names, await client.read_values(states), await client.read_values(alarm), strict=True)
                for (mid, _base), s, a in now:
                    seen.setdefault(s, set()).add(mid)
                    if a:
                        alarms[mid] = a
                await asyncio.sleep(0.1)
        return seen, alarms

    seen, alarms = run(scenario())
    for state in ("running", "setup", "starved", "blocked", "down"):
        assert seen.get(state), f"no machine {state} in the first minute: {seen}"
    assert len(seen["running"]) >= 8  # busy: machining, welding, assembly and inspection at work
    assert alarms.get("CNC-06") == "Breakdown"  # the alarm the operator sees first
    assert "CNC-05" in seen["blocked"]  # blocked behind it
