"""Endpoint discovery against real servers on 127.0.0.1: the plant simulator's endpoints, nothing listening,
a port that never answers, and the service's signals."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest

from app.live.discovery import Discovery, DiscoveryError, discover
from app.live.netloop import NetworkLoop
from tests.live.conftest import free_port, run, running_plant


def test_lists_the_plant_endpoints_most_secure_first(tmp_path, port):
    async def scenario():
        async with running_plant(port, secure=True, users={"eng": "pw"}, cert_dir=tmp_path / "pki"):
            return await discover(f"127.0.0.1:{port}")

    servers = run(scenario())
    assert [s.name for s in servers] == ["floortwin plant simulator"]
    (server,) = servers
    assert server.kind == "Server" and not server.problem
    rows = [(e.security_policy, e.security_mode) for e in server.endpoints]
    assert rows == [("Basic256Sha256", "SignAndEncrypt"), ("Basic256Sha256", "Sign"), ("None", "None")]
    for e in server.endpoints:
        assert e.url == f"opc.tcp://127.0.0.1:{port}/floortwin/"
        assert set(e.user_tokens) == {"Anonymous", "User name"} and not e.problem
    assert [e.security for e in server.endpoints] == [2, 1, 0]  # the connection form's security choices


def test_a_secure_only_plant_without_anonymous_asks_for_a_login(tmp_path, port):
    async def scenario():
        kw = dict(secure_only=True, allow_anonymous=False, users={"eng": "pw"}, cert_dir=tmp_path / "pki")
        async with running_plant(port, **kw):
            return await discover(f"opc.tcp://127.0.0.1:{port}/floortwin/")

    (server,) = run(scenario())
    assert {e.security_policy for e in server.endpoints} == {"Basic256Sha256"}
    assert all(e.user_tokens == ("User name",) for e in server.endpoints)
    assert all(e.login(False) for e in server.endpoints)  # the form switches to a user login


def test_nothing_listening_is_said_at_once():
    port = free_port()
    with pytest.raises(DiscoveryError, match="nothing listens there"):
        run(discover(f"127.0.0.1:{port}", 5))


def test_a_port_that_never_answers_gives_up_within_the_limit():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts the connection, never says a word
    try:
        with pytest.raises(DiscoveryError, match=r"no answer within 1 s"):
            run(discover(f"127.0.0.1:{silent.getsockname()[1]}", 1), timeout=30)
    finally:
        silent.close()


def test_not_a_host_is_refused_before_any_request():
    with pytest.raises(DiscoveryError, match="Type a host and port"):
        run(discover("  "))


def test_the_service_reports_on_its_signals_from_the_network_thread(tmp_path):
    port = free_port()
    loop = NetworkLoop("test-discovery")
    discovery = Discovery(loop, timeout_s=5)
    got: list = []
    done = threading.Event()
    discovery.found.connect(lambda n, servers: (got.append((n, servers, threading.current_thread().name)), done.set()))
    discovery.failed.connect(lambda n, why: (got.append((n, why, threading.current_thread().name)), done.set()))
    try:
        number = discovery.start(f"127.0.0.1:{port}")
        assert done.wait(30)
        assert got[0][0] == number and "nothing listens" in got[0][1] and got[0][2] == "test-discovery"

        async def serve(stop: asyncio.Event):
            async with running_plant(port, cert_dir=tmp_path / "pki"):
                await stop.wait()

        stop = asyncio.Event()
        serving = loop.submit(serve(stop))
        got.clear()
        done.clear()
        for _ in range(50):  # the plant listens within a few seconds
            done.clear()
            got.clear()
            number = discovery.start(f"127.0.0.1:{port}")
            assert done.wait(30)
            if isinstance(got[0][1], list):
                break
            threading.Event().wait(0.2)
        n, servers, _thread = got[0]
        assert n == number and servers[0].endpoints[0].url.endswith(f":{port}/floortwin/")
        loop.call(stop.set)
        serving.result(30)
    finally:
        loop.shutdown()
