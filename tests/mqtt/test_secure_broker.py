"""A secured broker: mqtts:// with the broker's CA, a client certificate and a user login gets the values; a
wrong password fails at once and is not retried (repeating it can lock an account)."""

from __future__ import annotations

import datetime
import ipaddress
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.live.client import ConnectionSettings, LinkState
from app.plant.broker import Broker, free_port, start_broker
from tests.mqtt.conftest import CNC, NODE, EdgeNode, wait_for
from tests.mqtt.test_sparkplug_source import BASE, _source, _stop


def _key_and_cert(folder: Path, name: str, issuer: tuple | None, ca: bool = False) -> tuple:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[1].subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
    cert = builder.sign(issuer[0] if issuer else key, hashes.SHA256())
    (folder / f"{name}.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


@pytest.fixture
def secure(tmp_path) -> tuple[Broker, int, Path]:
    """A broker with a TLS listener (client certificate and login required) and a plain one for the edge node."""
    ca = _key_and_cert(tmp_path, "ca", None, ca=True)
    _key_and_cert(tmp_path, "server", ca)
    _key_and_cert(tmp_path, "client", ca)
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(tmp_path / "passwords"), "operator", "s3cret"], check=True)
    plain = free_port()
    config = (
        f"cafile {tmp_path / 'ca.pem'}\ncertfile {tmp_path / 'server.pem'}\nkeyfile {tmp_path / 'server.key'}\n"
        f"require_certificate true\nallow_anonymous false\npassword_file {tmp_path / 'passwords'}\n"
        f"listener {plain} 127.0.0.1\nallow_anonymous true\n"
    )
    broker = start_broker(listener_config=config)
    try:
        yield broker, plain, tmp_path
    finally:
        broker.stop()


def _settings(port: int, pki: Path, password: str, in_url: bool = False) -> ConnectionSettings:
    if in_url:  # as typed in the Connect dialog (its own certificates are OPC UA's)
        files = f"?ca={pki / 'ca.pem'}&cert={pki / 'client.pem'}&key={pki / 'client.key'}"
        return ConnectionSettings(f"mqtts://127.0.0.1:{port}{files}", username="operator", password=password)
    return ConnectionSettings(
        f"mqtts://127.0.0.1:{port}",
        username="operator",
        password=password,
        server_certificate=pki / "ca.pem",
        client_certificate=pki / "client.pem",
        client_key=pki / "client.key",
    )


@pytest.mark.parametrize("in_url", [False, True], ids=["settings", "url"])
def test_mqtts_with_a_client_certificate_and_a_login_gets_the_values(secure, net, in_url):
    broker, plain, pki = secure
    edge = EdgeNode(plain, "Plant", "Edge-1", "CNC-01", NODE, CNC)
    edge.connect()
    try:
        settings = _settings(broker.port, pki, "s3cret", in_url)
        source, heard = _source(broker, net, [(0, f"{BASE}/CNC-01#Temperature")], settings=settings)
        try:
            wait_for(lambda: heard.value(0) == 41.5, what="a value over TLS")
            assert source.counts.connects == 1
        finally:
            _stop(source, net)
    finally:
        edge.close()


def test_a_broker_whose_certificate_is_not_trusted_is_not_connected_to(secure, net):
    broker, _plain, _pki = secure
    settings = ConnectionSettings(f"mqtts://127.0.0.1:{broker.port}", username="operator", password="s3cret")  # system CAs
    source, heard = _source(broker, net, [(0, f"{BASE}/CNC-01#Temperature")], settings=settings)
    try:
        wait_for(lambda: any(s == LinkState.RECONNECTING for s, _ in heard.states), what="the failed handshake")
        assert source.counts.connects == 0 and not any(s == LinkState.CONNECTED for s, _ in heard.states)
    finally:
        _stop(source, net)


def test_a_wrong_password_fails_once_and_is_not_retried(secure, net):
    broker, _plain, pki = secure
    source, heard = _source(broker, net, [(0, f"{BASE}/CNC-01#Temperature")], settings=_settings(broker.port, pki, "wrong"))
    try:
        wait_for(lambda: any(s == LinkState.FAILED for s, _ in heard.states), what="the refusal")
        message = next(m for s, m in heard.states if s == LinkState.FAILED)
        assert "refused" in message and "not retried" in message
        assert source.failure is not None and source.counts.connects == 0
        time.sleep(2.5)  # longer than the first retry's delay: no second attempt is made
        assert [s for s, _ in heard.states].count(LinkState.FAILED) == 1 and heard.states[-1][0] == LinkState.FAILED
    finally:
        _stop(source, net)
