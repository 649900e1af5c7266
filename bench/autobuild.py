#!/usr/bin/env python3
"""Build Twin from Server benchmark: a 2,000-machine OPC UA for Machinery server (node-opcua with the official
DI and Machinery nodesets, ``tests/interop/nodesets.js``).

- **autobuild** (the app): ``app.autobuild.discovery.discover`` (the bounded browse of the Machines folder and
  every machine three object levels down, and the read of identification and state values) plus
  ``app.autobuild.build.build`` (kinds, rows, bindings, hierarchy) into an empty factory.
- **bare browse**: plain asyncua of the same nodes — the Machines folder, its line folders, every machine and
  its objects three levels down, one ``get_children_descriptions`` per node, each level's nodes browsed
  concurrently (``asyncio.gather``, 32 requests in flight), no reads, nothing built.
- **check**: the built factory's collision check (``app.physics.world.check_layout``, not timed against a target),
  and the count of machines with a state variable left unbound.

Target (issue 20): autobuild ≤ 2× the bare browse. Ends with one JSON line with ``targets``.

Usage: ``python bench/autobuild.py [--machines 2000] [--endpoint URL]`` (without ``--endpoint`` it starts
nodesets.js itself; that takes node-opcua about half a minute for 2,000 machines).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path

from asyncua import Client, ua

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.autobuild.build import build, empty_factory  # noqa: E402
from app.autobuild.discovery import MACHINERY, MACHINES_FOLDER_ID, discover  # noqa: E402
from bench._harness import emit, ratio  # noqa: E402

INTEROP = ROOT / "tests" / "interop"
#: Browse requests the bare browse keeps in flight at once (thousands at once time out on node-opcua).
CONCURRENT = 32


async def bare_browse(client: Client, root: ua.NodeId, levels: int) -> int:
    """Objects under ``root`` down to ``levels`` levels (each node once), the asyncua way; the nodes browsed."""
    seen = {root}
    level = [root]
    browsed = 0
    gate = asyncio.Semaphore(CONCURRENT)

    async def children(node: ua.NodeId) -> list[ua.ReferenceDescription]:
        async with gate:
            return await client.get_node(node).get_children_descriptions()

    for _ in range(levels):
        answers = await asyncio.gather(*(children(n) for n in level))
        browsed += len(level)
        deeper = []
        for refs in answers:
            for ref in refs:
                node = ua.NodeId(ref.NodeId.Identifier, ref.NodeId.NamespaceIndex, ref.NodeId.NodeIdType)
                if node not in seen and ref.NodeClass == ua.NodeClass.Object:
                    seen.add(node)
                    deeper.append(node)
        level = deeper
    return browsed


async def measure(endpoint: str) -> dict:
    async with Client(endpoint, timeout=60) as client:
        namespaces = await client.get_namespace_array()
        root = ua.NodeId(ua.Int32(MACHINES_FOLDER_ID), ua.Int16(namespaces.index(MACHINERY)))
        t0 = time.perf_counter()
        bare_nodes = await bare_browse(client, root, 5)  # Machines → line folders → machines → 3 levels
        bare_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        found = await discover(client)
        discover_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    factory, _ids = build(empty_factory(), found)
    build_s = time.perf_counter() - t0
    from app.optimise.feasibility import factory_hulls
    from app.physics.world import check_layout

    t0 = time.perf_counter()
    verdicts = check_layout(factory, factory_hulls(factory, None))
    check_s = time.perf_counter() - t0
    with_state = [m for m in found.machines if "State" in m.bindings]
    unbound = sum("State" not in factory.machine(m.name).tags for m in with_state if factory.machine(m.name) is not None)
    autobuild_s = discover_s + build_s
    return {
        "machines_found": len(found.machines),
        "machines_placed": len(factory.machines),
        "nodes_browsed_autobuild": found.nodes_browsed,
        "nodes_browsed_bare": bare_nodes,
        "bare_browse_s": round(bare_s, 3),
        "discover_s": round(discover_s, 3),
        "build_s": round(build_s, 3),
        "autobuild_s": round(autobuild_s, 3),
        "collision_check_s": round(check_s, 3),
        "machines_with_problems_in_layout": len(verdicts),
        "unbound_state_variables": unbound,
        "targets": {"autobuild_vs_bare_browse": {"value": ratio(autobuild_s, bare_s), "target": "<= 2"}},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, default=2000)
    parser.add_argument("--endpoint", default=None, help="a running nodesets.js (else one is started)")
    args = parser.parse_args()
    proc = None
    endpoint = args.endpoint
    if endpoint is None:
        from tests.live.conftest import free_port

        port = free_port()
        proc = subprocess.Popen(
            ["node", str(INTEROP / "nodesets.js"), str(port), str(args.machines)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=INTEROP,
        )
        assert proc.stdout is not None
        while not proc.stdout.readline().startswith("ready"):
            if proc.poll() is not None:
                raise SystemExit("nodesets.js did not start")
        endpoint = f"opc.tcp://127.0.0.1:{port}/interop"
    try:
        emit("autobuild", asyncio.run(measure(endpoint)))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
