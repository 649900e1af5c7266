"""The connection dialog's choices and checks without a display: security, login, what goes into the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.live.client import ConnectionSettings
from app.live.connection_form import (
    SECURITY_CHOICES,
    connection_settings,
    file_settings,
    form_problem,
    login_in_clear,
    security_index,
)

CERT, KEY = Path("/pki/client_cert.der"), Path("/pki/client_key.pem")


def test_the_files_security_picks_its_choice_and_an_unknown_one_picks_none():
    for k, (_label, policy, mode) in enumerate(SECURITY_CHOICES):
        assert security_index(policy, mode) == k
    assert security_index("Basic256Sha256", "None") == 0


def test_the_form_names_what_is_wrong_first():
    assert form_problem("", 1, False, "", False) == "The endpoint must look like opc.tcp://host:port/path"
    assert form_problem("opc.tcp://", 1, False, "", False) is not None
    assert form_problem("  opc.tcp://plc:4840  ", 1, True, "  ", False) == "Enter a user name, or choose anonymous login"
    clear = form_problem("opc.tcp://plc:4840", 0, True, "operator", False)
    assert clear is not None and clear.startswith("Security None would send the password unencrypted")
    assert form_problem("opc.tcp://plc:4840", 0, True, "operator", True) is None  # the user said so
    assert form_problem("opc.tcp://plc:4840", 0, False, "", False) is None  # anonymous over None is fine
    assert login_in_clear(True, 0) and not login_in_clear(True, 2) and not login_in_clear(False, 0)


def test_a_secure_login_carries_the_client_certificate_and_the_password():
    s = connection_settings(" opc.tcp://plc:4840 ", 2, " operator ", "secret", CERT, KEY, 500.0, 100.0, 0.5)
    assert (s.endpoint, s.security_policy, s.security_mode) == ("opc.tcp://plc:4840", "Basic256Sha256", "SignAndEncrypt")
    assert (s.username, s.password, s.client_certificate, s.client_key) == ("operator", "secret", CERT, KEY)
    assert (s.publishing_ms, s.sampling_ms, s.deadband) == (500.0, 100.0, 0.5)
    anonymous = connection_settings("opc.tcp://plc:4840", 0, None, "ignored", CERT, KEY, 250.0, 250.0, 0.0)
    assert anonymous.username is None and anonymous.password is None and anonymous.client_certificate is None


def test_the_file_gets_everything_but_the_password():
    s = connection_settings("opc.tcp://plc:4840", 1, "operator", "secret", CERT, KEY, 500.0, 100.0, 0.5)
    o = file_settings(s, 12.0)
    assert (o.endpoint, o.security_policy, o.security_mode, o.username) == (
        "opc.tcp://plc:4840",
        "Basic256Sha256",
        "Sign",
        "operator",
    )
    assert (o.publishing_ms, o.sampling_ms, o.deadband, o.stale_after_s) == (500.0, 100.0, 0.5, 12.0)
    assert "secret" not in o.model_dump_json()
    with pytest.raises(ValidationError):
        file_settings(ConnectionSettings("opc.tcp://plc:4840", security_policy="Aes256"), 10.0)
