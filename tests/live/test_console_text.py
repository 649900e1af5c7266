"""What the operator console decides and says about a link, without a display."""

from __future__ import annotations

import time
from pathlib import Path

from app.live.client import ClientNotTrusted, LoginRejected
from app.live.console_text import (
    asks_for_login,
    bind_choices,
    file_connection,
    history_file_name,
    is_final,
    link_badge,
    login_refused,
    replay_badge,
    replay_tip,
    trust_question,
)
from app.live.trust import CertificateInfo
from app.model.factory import OpcUaSettings
from app.model.signals import LIVE_SIGNALS

CERT, KEY = Path("/pki/client_cert.der"), Path("/pki/client_key.pem")


def test_each_link_state_has_its_badge():
    assert link_badge("connected") == '<b style="color:#1b8a3a">● Live</b>'
    assert "Reconnecting…" in link_badge("reconnecting") and "#c77c00" in link_badge("connecting")
    assert link_badge("failed") == '<b style="color:#d03030">● Link failed</b>'
    assert link_badge("disconnected") == '<b style="color:#777">● Offline</b>'
    assert link_badge("paused") == '<b style="color:#777">● paused</b>'
    assert "Replay" in replay_badge()
    t = time.mktime((2026, 11, 28, 10, 21, 7, 0, 0, -1))
    assert replay_tip(t) == "Showing the recorded state of 10:21:07"


def test_only_a_refused_login_or_an_untrusted_client_ends_the_link():
    assert is_final(LoginRejected("no")) and is_final(ClientNotTrusted("no"))
    assert not is_final(ConnectionRefusedError()) and not is_final(TimeoutError()) and not is_final(None)
    text = login_refused("opc.tcp://plc:4840")
    assert text.startswith("opc.tcp://plc:4840 refused the user name or password") and "does not retry" in text


def test_the_trust_question_shows_what_identifies_the_certificate():
    info = CertificateInfo("AB:CD", "CN=plc", "CN=ca", "2030-01-01", "urn:plc")
    q = trust_question(info)
    assert all(x in q for x in ("Subject: CN=plc", "Application: urn:plc", "Valid until: 2030-01-01", "SHA-256: AB:CD"))
    assert q.endswith("Trust it for future connections?")


def test_one_history_file_per_factory_name_safe_on_every_file_system():
    assert history_file_name("Demo plant") == "Demo_plant.sqlite"
    assert history_file_name("../etc/passwd") == "___etc_passwd.sqlite"
    assert history_file_name("Hall-2_A") == "Hall-2_A.sqlite"
    assert history_file_name(None) == "factory.sqlite"


def test_connecting_from_the_file_asks_only_when_the_file_cannot_say():
    anonymous = OpcUaSettings(endpoint="opc.tcp://plc:4840")
    assert not asks_for_login(anonymous, None)
    secure = OpcUaSettings(endpoint="opc.tcp://plc:4840", security_policy="Basic256Sha256", security_mode="Sign", username="op")
    assert asks_for_login(secure, None) and not asks_for_login(secure, "stored")
    clear = OpcUaSettings(endpoint="opc.tcp://plc:4840", username="op")
    assert asks_for_login(clear, "stored")  # a password over no security: the user decides


def test_the_files_settings_connect_with_a_certificate_only_when_secure():
    secure = OpcUaSettings(
        endpoint="opc.tcp://plc:4840",
        security_policy="Basic256Sha256",
        security_mode="SignAndEncrypt",
        username="op",
        publishing_ms=500,
        sampling_ms=100,
        deadband=0.5,
    )
    s = file_connection(secure, "opc.tcp://other:4840", "pw", CERT, KEY)
    assert (s.endpoint, s.security_mode, s.username, s.password) == ("opc.tcp://other:4840", "SignAndEncrypt", "op", "pw")
    assert (s.client_certificate, s.client_key, s.publishing_ms, s.sampling_ms, s.deadband) == (CERT, KEY, 500, 100, 0.5)
    plain = file_connection(OpcUaSettings(), "opc.tcp://plc:4840", None, CERT, KEY)
    assert plain.client_certificate is None and plain.client_key is None


def test_a_dropped_variable_is_offered_the_signal_it_is_named_after():
    choices, first = bind_choices(["Custom"], "Temperature")
    assert choices == sorted(set(LIVE_SIGNALS) | {"Custom"}) and choices[first] == "Temperature"
    assert bind_choices([], "SomethingElse")[1] == 0
    assert bind_choices([], None)[1] == 0
