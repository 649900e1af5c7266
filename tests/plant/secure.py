"""A plant simulator process with logins and roles, and secure clients for it (shared with tests/deploy)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

from asyncua import Client, ua
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256

from app.plant.server import ensure_certificate, spawn
from tests.conftest import DEMO

#: The logins the test plant accepts: an operator who reads, an engineer who writes.
USERS = ("operator:op-pw:read", "engineer:eng-pw:write")
CLIENT_URI = "urn:floortwin:test:client"


@contextlib.contextmanager
def plant_process(tmp: Path, speed: float = 600.0, extra: Sequence[str] = (), port: int = 0) -> Iterator[subprocess.Popen]:
    """The demo plant as its own process, secure, with ``USERS``, on ``port`` (0: a free one); ended afterwards."""
    args = ["--speed", str(speed), "--interval", "0.1", "--seed", "5", "--secure", "--cert-dir", str(tmp / "server")]
    for user in USERS:
        args += ["--user", user]
    proc = spawn(DEMO, port, [*args, *extra])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(10)


async def client_files(tmp: Path) -> tuple[Path, Path, Path]:
    """(client certificate, client key, server certificate) for a secure connection to ``plant_process``."""
    cert, key = await ensure_certificate(tmp / "client", "client", CLIENT_URI, "127.0.0.1", server=False)
    return cert, key, tmp / "server" / "server_cert.der"


async def secure_client(endpoint: str, tmp: Path, user: str | None, password: str = "") -> Client:
    """A client set up for Basic256Sha256 SignAndEncrypt (``user`` None: anonymous); not yet connected."""
    cert, key, server_cert = await client_files(tmp)
    client = Client(endpoint, timeout=5)
    client.application_uri = CLIENT_URI
    if user is not None:
        client.set_user(user)
        client.set_password(password)
    await client.set_security(
        SecurityPolicyBasic256Sha256,
        str(cert),
        str(key),
        server_certificate=str(server_cert),
        mode=ua.MessageSecurityMode.SignAndEncrypt,
    )
    return client
