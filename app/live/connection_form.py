"""What the connection dialog asks and checks: the security choices, what is wrong with a filled-in form,
and what of a connection goes into the factory file (never the password). No widgets."""

from __future__ import annotations

from pathlib import Path

from app.live.client import ConnectionSettings
from app.model.factory import OpcUaSettings

#: (label, security policy, message security mode), in the order offered.
SECURITY_CHOICES = (
    ("None — no security", "None", "None"),
    ("Basic256Sha256 — Sign", "Basic256Sha256", "Sign"),
    ("Basic256Sha256 — Sign & Encrypt", "Basic256Sha256", "SignAndEncrypt"),
)
ENDPOINT_SCHEME = "opc.tcp://"
DEFAULT_ENDPOINT = "opc.tcp://127.0.0.1:4840/"


def security_index(policy: str, mode: str) -> int:
    """The choice of ``SECURITY_CHOICES`` that is (policy, mode); 0 (no security) when none is.

    >>> security_index("Basic256Sha256", "SignAndEncrypt"), security_index("Aes256", "Sign")
    (2, 0)
    """
    return next((k for k, (_label, p, m) in enumerate(SECURITY_CHOICES) if (p, m) == (policy, mode)), 0)


def login_in_clear(user_login: bool, security: int) -> bool:
    """Whether a login would cross the network unencrypted (a user login over security None)."""
    return user_login and SECURITY_CHOICES[security][1] == "None"


def form_problem(endpoint: str, security: int, user_login: bool, username: str, insecure_ok: bool) -> str | None:
    """What is wrong with the form, as the user reads it, or None when it can connect.

    >>> form_problem("localhost:4840", 0, False, "", False)
    'The endpoint must look like opc.tcp://host:port/path'
    >>> form_problem("opc.tcp://plc:4840", 1, True, "operator", False) is None
    True
    """
    url = endpoint.strip()
    if not url.startswith(ENDPOINT_SCHEME) or len(url) <= len(ENDPOINT_SCHEME):
        return f"The endpoint must look like {ENDPOINT_SCHEME}host:port/path"
    if user_login and not username.strip():
        return "Enter a user name, or choose anonymous login"
    if login_in_clear(user_login, security) and not insecure_ok:
        return (
            "Security None would send the password unencrypted: choose a Basic256Sha256 mode, or tick the box to send it anyway"
        )
    return None


def connection_settings(
    endpoint: str,
    security: int,
    username: str | None,
    password: str | None,
    client_cert: Path,
    client_key: Path,
    publishing_ms: float,
    sampling_ms: float,
    deadband: float,
) -> ConnectionSettings:
    """The settings a filled-in form connects with (``username`` None: anonymous; the client certificate
    only with security)."""
    _label, policy, mode = SECURITY_CHOICES[security]
    secure = policy != "None"
    return ConnectionSettings(
        endpoint=endpoint.strip(),
        security_policy=policy,
        security_mode=mode,
        username=username.strip() if username is not None else None,
        password=password if username is not None else None,
        client_certificate=client_cert if secure else None,
        client_key=client_key if secure else None,
        publishing_ms=publishing_ms,
        sampling_ms=sampling_ms,
        deadband=deadband,
    )


def file_settings(s: ConnectionSettings, stale_after_s: float) -> OpcUaSettings:
    """What of a connection goes into the factory file: everything but the password and certificates."""
    return OpcUaSettings.model_validate(  # validated: a policy or mode the file format does not know is refused
        {
            "endpoint": s.endpoint,
            "security_policy": s.security_policy,
            "security_mode": s.security_mode,
            "username": s.username,
            "publishing_ms": s.publishing_ms,
            "sampling_ms": s.sampling_ms,
            "deadband": s.deadband,
            "stale_after_s": stale_after_s,
        }
    )
