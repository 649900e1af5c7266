"""What the connection dialog asks and checks: the security choices, what is wrong with a filled-in form,
and what of a connection goes into the factory file (never the password). No widgets."""

from __future__ import annotations

import json
import math
from pathlib import Path

from app.live.client import ConnectionSettings
from app.model.factory import OpcUaSettings
from app.preferences import KeyValueStore

#: (label, security policy, message security mode), in the order offered.
SECURITY_CHOICES = (
    ("None — no security", "None", "None"),
    ("Basic256Sha256 — Sign", "Basic256Sha256", "Sign"),
    ("Basic256Sha256 — Sign & Encrypt", "Basic256Sha256", "SignAndEncrypt"),
)
ENDPOINT_SCHEME = "opc.tcp://"
#: MQTT brokers (``app.mqtt``, the built-in data source): plain, and over TLS.
BROKER_SCHEMES = ("mqtt://", "mqtts://")
DEFAULT_ENDPOINT = "opc.tcp://127.0.0.1:4840/"
#: The settings key of the plant clock speeds the user gave, per endpoint (a JSON object).
PLANT_CLOCKS_KEY = "live/plant_clocks"
#: The plant clock speeds the connection dialog takes (× real time).
PLANT_CLOCK_RANGE = (0.1, 100_000.0)


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
    >>> form_problem("mqtts://broker:8883", 0, True, "operator", False) is None
    True
    """
    url = endpoint.strip()
    broker = next((s for s in BROKER_SCHEMES if url.startswith(s) and len(url) > len(s)), None)
    if broker is None and (not url.startswith(ENDPOINT_SCHEME) or len(url) <= len(ENDPOINT_SCHEME)):
        return f"The endpoint must look like {ENDPOINT_SCHEME}host:port/path"
    if user_login and not username.strip():
        return "Enter a user name, or choose anonymous login"
    if broker is not None:  # TLS is the scheme's business there (mqtts://), not the OPC UA security mode's
        if user_login and broker == "mqtt://" and not insecure_ok:
            return "mqtt:// would send the password unencrypted: use mqtts://, or tick the box to send it anyway"
        return None
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


def _plant_clocks(store: KeyValueStore) -> dict[str, float]:
    try:
        saved = json.loads(str(store.value(PLANT_CLOCKS_KEY, "{}") or "{}"))
    except ValueError:  # a hand-edited settings file: nothing remembered
        return {}
    if not isinstance(saved, dict):
        return {}
    lo, hi = PLANT_CLOCK_RANGE
    return {
        str(k): float(v)
        for k, v in saved.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and lo <= v <= hi
    }


def remembered_plant_clock(store: KeyValueStore, endpoint: str) -> float:
    """The plant clock speed (plant seconds per clock second) last given for ``endpoint``; 1 (real time)
    when none was.

    >>> from app.preferences import MemoryStore
    >>> store = MemoryStore()
    >>> remember_plant_clock(store, "opc.tcp://sim:4840/", 60.0)
    >>> remembered_plant_clock(store, " opc.tcp://sim:4840/"), remembered_plant_clock(store, "opc.tcp://plc:4840/")
    (60.0, 1.0)
    """
    return _plant_clocks(store).get(endpoint.strip(), 1.0)


def remember_plant_clock(store: KeyValueStore, endpoint: str, scale: float) -> None:
    """Remember the plant clock speed given for ``endpoint`` (real time is not written down: it is the default)."""
    clocks = _plant_clocks(store)
    url = endpoint.strip()
    if scale == 1.0:
        clocks.pop(url, None)
    else:
        clocks[url] = float(scale)
    store.setValue(PLANT_CLOCKS_KEY, json.dumps(clocks, sort_keys=True))
