"""A secure plant simulator process with an operator and an engineer login, and deployments against it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from app.deploy.log import DeployLog, read_log
from app.deploy.plan import StageSpec, plan_deployment
from app.deploy.service import Deployment, StageState
from app.live.client import ConnectionSettings
from app.live.netloop import NetworkLoop
from app.model.io import load_factory
from app.sim.scenario import Change, Scenario
from tests.conftest import DEMO
from tests.plant.secure import client_files, plant_process

#: The plant runs this many times faster than the wall clock: a 12-hour window lasts 18 s.
SPEED = 2400.0
WINDOW_S = 12 * 3600.0
PASSWORDS = {"operator": "op-pw", "engineer": "eng-pw"}


@pytest.fixture
def plant(tmp_path):
    with plant_process(tmp_path, speed=SPEED) as proc:
        yield proc


@pytest.fixture
def netloop():
    loop = NetworkLoop("test-network")
    yield loop
    loop.shutdown()


def settings(endpoint: str, tmp_path, user: str | None, secure: bool = True) -> ConnectionSettings:
    cert, key, server_cert = asyncio.run(client_files(tmp_path))
    return ConnectionSettings(
        endpoint=endpoint,
        security_policy="Basic256Sha256" if secure else "None",
        security_mode="SignAndEncrypt" if secure else "None",
        username=user,
        password=PASSWORDS.get(user or "", ""),
        client_certificate=cert,
        client_key=key,
        server_certificate=server_cert,
        application_uri="urn:floortwin:test:client",
    )


def deploy(
    plant, tmp_path, netloop, changes: Sequence[Change], stages: Sequence[StageSpec], user: str | None = "engineer", **kw
) -> tuple[Deployment, list]:
    """Run a deployment to its end, confirming every stage that asks; returns it and the log's entries."""
    scenario = Scenario(name="test", factory=kw.pop("factory", None) or load_factory(DEMO), changes=list(changes))
    plan = plan_deployment(scenario, stages)
    follow = kw.pop("follow", None)  # called with the plan: returns a stage_changed slot (the model's follower)
    path = tmp_path / "plant.deployments.sqlite"
    dep_log = DeployLog(path)
    kw.setdefault("replications", 12)
    dep = Deployment(plan, settings(plant.endpoint, tmp_path, user, kw.pop("secure", True)), dep_log, SPEED, loop=netloop, **kw)
    asked: list[int] = []

    def on_stage(k, report):
        if report.state is StageState.AWAITING_CONFIRMATION:
            asked.append(k)
            dep.confirm_next_stage()

    if follow is not None:
        dep.stage_changed.connect(follow(plan))
    dep.stage_changed.connect(on_stage)
    dep.start().result(timeout=150)
    dep_log.close()
    return dep, read_log(path)


async def read_setpoints(endpoint: str, tmp_path, idents: Sequence[str]) -> list[float]:
    from app.plant.server import NAMESPACE
    from tests.plant.secure import secure_client

    client = await secure_client(endpoint, tmp_path, "operator", "op-pw")
    async with client:
        from asyncua import ua

        idx = await client.get_namespace_index(NAMESPACE)
        return [float(await client.get_node(ua.NodeId(i, idx)).read_value()) for i in idents]


__all__ = ["SPEED", "WINDOW_S", "deploy", "read_setpoints", "settings"]
