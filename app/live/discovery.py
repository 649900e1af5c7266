"""Endpoint discovery: the servers a host knows of (FindServers) and each one's endpoints (GetEndpoints), with
their security mode, policy and the logins they take — so that a user picks an endpoint instead of typing
a URL. No widgets: the connection dialog's Discover… shows what ``discover`` finds.

The requests run on the network thread (``Discovery.start``); the whole look-up is bounded by one time
limit, however many servers a discovery server lists.

Examples
--------
>>> discovery_url("plc-7:4840")
'opc.tcp://plc-7:4840'
>>> discovery_url(" opc.tcp://127.0.0.1:4840/floortwin/ ")
'opc.tcp://127.0.0.1:4840/floortwin/'
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from asyncua import Client, ua
from psygnal import Signal

from app.live.client import explain
from app.live.connection_form import ENDPOINT_SCHEME, SECURITY_CHOICES
from app.live.netloop import NetworkLoop, network_loop

log = logging.getLogger(__name__)

#: The whole look-up (FindServers and every server's GetEndpoints) ends within this many seconds.
DISCOVERY_TIMEOUT_S = 8.0

_MODES = {
    ua.MessageSecurityMode.None_: "None",
    ua.MessageSecurityMode.Sign: "Sign",
    ua.MessageSecurityMode.SignAndEncrypt: "SignAndEncrypt",
}
_TOKENS = {
    ua.UserTokenType.Anonymous: "Anonymous",
    ua.UserTokenType.UserName: "User name",
    ua.UserTokenType.Certificate: "Certificate",
    ua.UserTokenType.IssuedToken: "Issued token",
}
_KINDS = {
    ua.ApplicationType.Server: "Server",
    ua.ApplicationType.ClientAndServer: "Server",
    ua.ApplicationType.DiscoveryServer: "Discovery server",
    ua.ApplicationType.Client: "Client",
}


class DiscoveryError(ConnectionError):
    """Nothing could be discovered at the address (nothing listens, no answer in time, not OPC UA)."""


@dataclass(frozen=True)
class EndpointChoice:
    """One endpoint a server offers, as the user chooses among them."""

    url: str
    security_policy: str  # the policy's short name: "None", "Basic256Sha256", "Aes256_Sha256_RsaPss"…
    security_mode: str  # "None", "Sign", "SignAndEncrypt"
    user_tokens: tuple[str, ...]  # "Anonymous", "User name", "Certificate", "Issued token"
    security_level: int = 0

    @property
    def security(self) -> int | None:
        """The connection form's security choice (``SECURITY_CHOICES``) for this endpoint; None when
        floortwin does not speak its policy."""
        return next(
            (k for k, (_l, p, m) in enumerate(SECURITY_CHOICES) if (p, m) == (self.security_policy, self.security_mode)), None
        )

    @property
    def supported(self) -> bool:
        return self.security is not None

    def login(self, user_login: bool) -> bool:
        """Whether the form should ask for a user name on this endpoint, given what it asks now: a user login
        where it takes no anonymous one, anonymous where it takes no user name, else the form's choice.

        >>> EndpointChoice("opc.tcp://h:1", "None", "None", ("Anonymous",)).login(True)
        False
        >>> EndpointChoice("opc.tcp://h:1", "Basic256Sha256", "Sign", ("User name",)).login(False)
        True
        """
        if "Anonymous" not in self.user_tokens and "User name" in self.user_tokens:
            return True
        if "User name" not in self.user_tokens:
            return False
        return user_login

    @property
    def problem(self) -> str:
        """Why this endpoint cannot be picked ("" when it can)."""
        if not self.supported:
            return f"floortwin does not speak {self.security_policy} ({mode_label(self.security_mode)})"
        if not ({"Anonymous", "User name"} & set(self.user_tokens)):
            return "takes only " + ", ".join(self.user_tokens).lower() + " logins, which floortwin does not offer"
        return ""


@dataclass(frozen=True)
class DiscoveredServer:
    """A server a host knows of, and its endpoints (``problem``: why they could not be listed)."""

    name: str
    application_uri: str
    kind: str  # "Server", "Discovery server"
    discovery_url: str
    endpoints: tuple[EndpointChoice, ...] = ()
    problem: str = ""


def discovery_url(text: str) -> str:
    """The discovery URL of what the user typed: ``host:port`` or an ``opc.tcp://`` URL."""
    text = text.strip()
    return text if text.startswith(ENDPOINT_SCHEME) else ENDPOINT_SCHEME + text


def mode_label(mode: str) -> str:
    """A security mode as the dialog shows it.

    >>> mode_label("SignAndEncrypt")
    'Sign & Encrypt'
    """
    return {"SignAndEncrypt": "Sign & Encrypt"}.get(mode, mode)


def policy_name(uri: str) -> str:
    """A security policy's short name from its URI.

    >>> policy_name("http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256")
    'Basic256Sha256'
    """
    return uri.rsplit("#", 1)[-1] or "None"


def _with_host(url: str, host: str) -> str:
    """``url`` reached at ``host`` (its port and path kept): a server that advertises a name this machine cannot
    resolve is reached where the user found it."""
    parts = urlsplit(url)
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


async def _resolvable(url: str) -> bool:
    host = urlsplit(url).hostname
    if not host:
        return False
    try:
        await asyncio.wait_for(asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM), 2.0)
    except (OSError, asyncio.TimeoutError):
        return False
    return True


async def _reachable_url(url: str, typed_host: str) -> str:
    """``url`` as advertised when its host resolves here, else at the host the user typed."""
    return url if await _resolvable(url) else _with_host(url, typed_host)


def _choice(ep: ua.EndpointDescription, url: str) -> EndpointChoice:
    tokens = tuple(dict.fromkeys(_TOKENS.get(t.TokenType, str(t.TokenType)) for t in ep.UserIdentityTokens or ()))
    return EndpointChoice(
        url, policy_name(ep.SecurityPolicyUri or ""), _MODES.get(ep.SecurityMode, str(ep.SecurityMode)), tokens, ep.SecurityLevel
    )


async def _endpoints(url: str, typed_host: str, timeout_s: float) -> tuple[EndpointChoice, ...]:
    client = Client(url, timeout=timeout_s)
    found = await client.connect_and_get_server_endpoints()
    out = []
    for ep in found:
        if ep.TransportProfileUri and not ep.TransportProfileUri.endswith("uatcp-uasc-uabinary"):
            continue  # HTTPS, WebSockets: floortwin speaks opc.tcp only
        out.append(_choice(ep, await _reachable_url(ep.EndpointUrl or url, typed_host)))
    # The most secure first, as the servers rank them (SecurityLevel), then as listed.
    return tuple(sorted(out, key=lambda c: -c.security_level))


async def _server(app: ua.ApplicationDescription, url: str, typed_host: str, timeout_s: float) -> DiscoveredServer:
    name = app.ApplicationName.Text if app.ApplicationName is not None else ""
    urls = [u for u in (app.DiscoveryUrls or []) if u.startswith(ENDPOINT_SCHEME)]
    target = await _reachable_url(urls[0], typed_host) if urls else url
    server = DiscoveredServer(
        name or app.ApplicationUri, app.ApplicationUri or "", _KINDS.get(app.ApplicationType, "Server"), target
    )
    if app.ApplicationType == ua.ApplicationType.Client:
        return server
    try:
        endpoints = await _endpoints(target, typed_host, timeout_s)
    except Exception as e:  # asyncua raises many unrelated types for one failed request: listed as the server's problem
        return DiscoveredServer(server.name, server.application_uri, server.kind, target, problem=explain(e, target))
    return DiscoveredServer(server.name, server.application_uri, server.kind, target, endpoints)


async def _discover(url: str, timeout_s: float) -> list[DiscoveredServer]:
    typed_host = urlsplit(url).hostname or "localhost"
    client = Client(url, timeout=timeout_s)
    try:
        apps = await client.connect_and_find_servers()
    except ua.UaStatusCodeError as e:  # FindServers is optional on a plain server: its own endpoints still tell
        log.info("%s answers no FindServers (%s): listing its own endpoints", url, str(e) or type(e).__name__)
        apps = []
    servers = [a for a in apps if a.ApplicationType != ua.ApplicationType.Client]
    if not servers:
        return [DiscoveredServer(url, "", "Server", url, await _endpoints(url, typed_host, timeout_s))]
    return list(await asyncio.gather(*(_server(a, url, typed_host, timeout_s) for a in servers)))


async def discover(text: str, timeout_s: float = DISCOVERY_TIMEOUT_S) -> list[DiscoveredServer]:
    """The servers at ``text`` (``host:port`` or a URL) and their endpoints, within ``timeout_s`` in all.

    Raises ``DiscoveryError`` with a sentence a user can act on when nothing answers there.
    """
    url = discovery_url(text)
    if len(url) <= len(ENDPOINT_SCHEME) or not urlsplit(url).hostname:
        raise DiscoveryError("Type a host and port, e.g. 127.0.0.1:4840 or opc.tcp://plc-7:4840")
    try:
        return await asyncio.wait_for(_discover(url, min(timeout_s, 5.0)), timeout_s)
    except asyncio.TimeoutError:
        raise DiscoveryError(f"{url}: no answer within {timeout_s:g} s (no OPC UA server there, or a firewall)") from None
    except Exception as e:  # asyncua raises many unrelated types for one failed connection
        raise DiscoveryError(explain(e, url)) from None


class Discovery:
    """Looks up a host's servers on the network thread and announces the result.

    Signals (emitted on the network thread; a view connects with ``app.ui.gui_thread.connect_on_gui``)
    -------
    found(int, list[DiscoveredServer])
        The look-up number ``start`` returned, and what it found.
    failed(int, str)
        The look-up number, and why nothing was found.
    """

    found = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self, loop: NetworkLoop | None = None, timeout_s: float = DISCOVERY_TIMEOUT_S):
        self._loop = loop
        self.timeout_s = timeout_s
        self.number = 0
        self._future: concurrent.futures.Future | None = None

    def start(self, text: str) -> int:
        """Begin looking up ``text`` (a look-up still running is cancelled); returns its number."""
        self.cancel()
        self.number += 1
        self._future = (self._loop or network_loop()).submit(self._run(self.number, text))
        return self.number

    def cancel(self) -> None:
        future, self._future = self._future, None
        if future is not None:
            future.cancel()

    async def _run(self, number: int, text: str) -> None:
        try:
            servers = await discover(text, self.timeout_s)
        except DiscoveryError as e:
            self.failed.emit(number, str(e))
            return
        log.info("discovered %d servers at %s", len(servers), discovery_url(text))
        self.found.emit(number, servers)


def summary(servers: list[DiscoveredServer]) -> str:
    """One line under the list: how many servers and endpoints, and how many floortwin can use.

    >>> summary([DiscoveredServer("a", "", "Server", "u", (EndpointChoice("u", "None", "None", ("Anonymous",)),))])
    '1 server, 1 endpoint (1 floortwin can use): pick one to fill in the form'
    """
    endpoints = [e for s in servers for e in s.endpoints]
    usable = sum(1 for e in endpoints if not e.problem)
    n, m = len(servers), len(endpoints)
    text = f"{n} server{'s' if n != 1 else ''}, {m} endpoint{'s' if m != 1 else ''} ({usable} floortwin can use)"
    return text + (": pick one to fill in the form" if usable else "")
