"""What the operator console decides and says about a link, without widgets: the link's badge, when a
failure is final, the questions and explanations it shows, the settings a factory file connects with, and
the signals a dropped variable can be bound to."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from app.live.client import ClientNotTrusted, ConnectionSettings, LoginRejected
from app.live.trust import CertificateInfo
from app.model.factory import OpcUaSettings
from app.model.signals import LIVE_SIGNALS

#: The link's state → (badge text, colour); unknown states show their name in grey.
LINK_BADGES = {
    "connected": ("Live", "#1b8a3a"),
    "reconnecting": ("Reconnecting…", "#c77c00"),
    "connecting": ("Connecting…", "#c77c00"),
    "failed": ("Link failed", "#d03030"),
    "disconnected": ("Offline", "#777"),
}
REPLAY_COLOUR = "#0072b2"


def link_badge(state: str, time_scale: float = 1.0) -> str:
    """The status bar's badge for a link state (rich text); a plant not on real time says its clock.

    >>> link_badge("connected")
    '<b style="color:#1b8a3a">● Live</b>'
    >>> link_badge("connected", 120.0)
    '<b style="color:#1b8a3a">● Live</b> · plant clock 120×'
    """
    text, colour = LINK_BADGES.get(state, (state, "#777"))
    clock = f" · plant clock {time_scale:g}×" if state == "connected" and time_scale != 1.0 else ""
    return f'<b style="color:{colour}">● {text}</b>{clock}'


def replay_badge() -> str:
    """The badge while a recorded time is shown."""
    return f'<b style="color:{REPLAY_COLOUR}">◀◀ Replay</b>'


def replay_tip(t: float) -> str:
    """``Showing the recorded state of 10:21:07`` (local time)."""
    return f"Showing the recorded state of {time.strftime('%H:%M:%S', time.localtime(t))}"


def is_final(failure: BaseException | None) -> bool:
    """Whether a failure ends the link for good: a refused login (retrying could lock the account) or a
    server that does not trust this client (retrying cannot help until someone trusts it)."""
    return isinstance(failure, (LoginRejected, ClientNotTrusted))


def login_refused(endpoint: str) -> str:
    """What to do after the server refused the login."""
    return (
        f"{endpoint} refused the user name or password.\n\nfloortwin does not retry a refused login: "
        "repeated attempts can lock the account. Check them and connect again (Live ▸ Connect to Server, Ctrl+K)."
    )


def trust_question(info: CertificateInfo) -> str:
    """The question before trusting a server certificate seen for the first time."""
    return (
        f"The server presents a certificate floortwin has not seen before.\n\nSubject: {info.subject}\n"
        f"Application: {info.application_uri}\nValid until: {info.not_after}\nSHA-256: {info.thumbprint}\n\n"
        "Trust it for future connections?"
    )


def history_file_name(factory_name: str | None) -> str:
    """The history file of a factory: its name with only letters, digits, - and _ (one file per name).

    >>> history_file_name("Plant 2/Hall A")
    'Plant_2_Hall_A.sqlite'
    """
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in (factory_name or "factory"))
    return f"{name}.sqlite"


def asks_for_login(o: OpcUaSettings, password: str | None) -> bool:
    """Whether connecting as the factory file says needs the dialog: a user login with no stored password,
    or one that would cross a channel without security (the user decides)."""
    return bool(o.username) and (password is None or o.security_policy == "None")


def file_connection(o: OpcUaSettings, endpoint: str, password: str | None, cert: Path, key: Path) -> ConnectionSettings:
    """The settings to connect to ``endpoint`` with the factory file's OPC UA settings (the client
    certificate only with security)."""
    secure = o.security_policy != "None"
    return ConnectionSettings(
        endpoint,
        security_policy=o.security_policy,
        security_mode=o.security_mode,
        username=o.username,
        password=password,
        client_certificate=cert if secure else None,
        client_key=key if secure else None,
        publishing_ms=o.publishing_ms,
        sampling_ms=o.sampling_ms,
        deadband=o.deadband,
    )


def bind_choices(bound: Iterable[str], dropped_name: str | None) -> tuple[list[str], int]:
    """The signals a dropped variable can be bound to (the known ones and the machine's bound ones, sorted)
    and which to offer first: the one named like the variable, else the first.

    >>> choices, first = bind_choices(["SpindleLoad"], "Temperature")
    >>> choices[first]
    'Temperature'
    """
    known = sorted(set(LIVE_SIGNALS) | set(bound))
    return known, known.index(dropped_name) if dropped_name in known else 0


def plant_clock_note(scale: float) -> str:
    """What the status bar says when the server tells the plant's clock speed.

    >>> plant_clock_note(120.0)
    "Plant clock: 120 × real time, as the server publishes it — rates and durations are counted in the plant's time"
    """
    return f"Plant clock: {scale:g} × real time, as the server publishes it — rates and durations are counted in the plant's time"
