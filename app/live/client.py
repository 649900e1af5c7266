"""The OPC UA client side: connect, browse, subscribe to bound variables, reconnect by itself.

Pure asyncio (asyncua); the GUI runs it on its Qt-integrated event loop (qasync) and hears about values
and link states through plain callbacks. One subscription carries every monitored item; the values of
one publish response are handed over as one batch, as soon as the response has been read. When the link
drops — the server died, the network stalled — the client says so, retries with exponential backoff and
re-creates its subscription when the server is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import math
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from asyncua import Client, Node, ua
from asyncua.common.subscription import DataChangeEvent, OverflowPolicy, StatusChangeEvent
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256

from app.state.store import Update

log = logging.getLogger(__name__)


class LinkState(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    FAILED = "failed"


@dataclass
class ConnectionSettings:
    """Where and how to connect. Passwords are held in memory only (the GUI keeps them in the keyring)."""

    endpoint: str
    security_policy: str = "None"  # "None" or "Basic256Sha256"
    security_mode: str = "None"  # "None", "Sign", "SignAndEncrypt"
    username: str | None = None
    password: str | None = None
    client_certificate: Path | None = None
    client_key: Path | None = None
    server_certificate: Path | None = None
    application_uri: str = "urn:floortwin:client"
    timeout_s: float = 5.0
    publishing_ms: float = 250.0
    sampling_ms: float = 250.0
    deadband: float = 0.0  # absolute deadband on numeric values (0: every change)
    max_backoff_s: float = 10.0
    health_check_s: float = 1.0


@dataclass(frozen=True)
class BrowseItem:
    """One node of the server's address space as the browse dock shows it."""

    node_id: str
    browse_name: str
    display_name: str
    node_class: str  # "Object", "Variable", "Method", ...
    data_type: str = ""
    description: str = ""


@dataclass
class _Binding:
    index: int
    node_id: str
    node: Node | None = None


@dataclass
class LinkStats:
    connects: int = 0
    reconnects: int = 0
    notifications: int = 0
    last_error: str = ""
    bad_bindings: dict[int, str] = field(default_factory=dict)


def explain(exc: BaseException, endpoint: str) -> str:
    """A sentence a user can act on for a connection failure."""
    if isinstance(exc, ua.UaStatusCodeError):
        code = getattr(exc, "code", None)
        text = str(exc)
        if "BadUserAccessDenied" in text or "BadIdentityTokenRejected" in text or "BadIdentityTokenInvalid" in text:
            return f"{endpoint}: the server refused the user name or password"
        if "BadSecurityChecksFailed" in text or "BadCertificate" in text:
            return f"{endpoint}: the server refused the certificate or security settings"
        return f"{endpoint}: the server answered {text}" + (f" (0x{code:08X})" if isinstance(code, int) else "")
    if isinstance(exc, (ConnectionRefusedError,)):
        return f"{endpoint}: nothing listens there (connection refused)"
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return f"{endpoint}: no answer within the time limit"
    if isinstance(exc, OSError):
        return f"{endpoint}: {exc.strerror or exc}"
    if isinstance(exc, ValueError) and "opc.tcp" not in str(exc):
        return f"{endpoint}: {exc}"
    return f"{endpoint}: {type(exc).__name__}: {exc}"


class LiveClient:
    """A self-healing OPC UA link.

    Parameters
    ----------
    settings
        Endpoint, security, credentials, intervals.
    on_values
        Called with a list of ``Update`` (batched).
    on_state
        Called with (LinkState, message) whenever the link changes.
    on_binding_error
        Called with (binding index, message) when a bound node cannot be monitored.
    """

    def __init__(
        self,
        settings: ConnectionSettings,
        on_values: Callable[[list[Update]], None],
        on_state: Callable[[LinkState, str], None] | None = None,
        on_binding_error: Callable[[int, str], None] | None = None,
    ):
        self.settings = settings
        self.on_values = on_values
        self.on_state = on_state or (lambda s, m: None)
        self.on_binding_error = on_binding_error or (lambda k, m: None)
        self.state = LinkState.DISCONNECTED
        self.stats = LinkStats()
        self.client: Client | None = None
        self._bindings: list[_Binding] = []
        self._by_node: dict[str, list[int]] = {}
        self._owners: dict[ua.NodeId, list[int]] = {}
        self._consumer: asyncio.Future | None = None
        self._pending: list[Update] = []
        self._stop = asyncio.Event()
        self._lost = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._namespaces: list[str] = []

    # -- public -----------------------------------------------------------------------------------
    def set_bindings(self, bindings: Sequence[tuple[int, str]]) -> None:
        """(binding index, node id string) pairs to monitor; applied at the next (re)connect."""
        self._bindings = [_Binding(k, nid) for k, nid in bindings]

    async def connect(self) -> None:
        """Connect once (raises ``ConnectionError`` with a readable message on failure)."""
        self._set_state(LinkState.CONNECTING, self.settings.endpoint)
        try:
            await self._open()
        except Exception as e:  # asyncua raises many unrelated types for one failed connect
            await self._close_quietly()
            message = explain(e, self.settings.endpoint)
            self.stats.last_error = message
            self._set_state(LinkState.FAILED, message)
            raise ConnectionError(message) from None
        self._set_state(LinkState.CONNECTED, self.settings.endpoint)

    def start(self) -> asyncio.Task:
        """Keep the link up in the background (connect, subscribe, reconnect) until ``stop``."""
        self._stop.clear()
        self._task = asyncio.ensure_future(self._supervise())
        return self._task

    async def stop(self) -> None:
        """Close the link and stop retrying."""
        self._stop.set()
        self._lost.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._close_quietly()
        self._deliver()
        self._set_state(LinkState.DISCONNECTED, "")
        self._release_callbacks()

    def _release_callbacks(self) -> None:
        """Forget the receivers: a stopped client must not keep its owner alive."""
        self.on_values = lambda batch: None
        self.on_state = lambda state, message: None
        self.on_binding_error = lambda index, message: None

    def abandon(self) -> None:
        """Drop the connection without the event loop (only at shutdown, when no loop runs any more)."""
        self._stop.set()
        self._release_callbacks()
        client, self.client = self.client, None
        transport = getattr(getattr(getattr(client, "uaclient", None), "protocol", None), "transport", None)
        if transport is not None:
            transport.close()

    async def browse(self, node_id: str | None = None) -> list[BrowseItem]:
        """Children of a node (the Objects folder when None)."""
        if self.client is None:
            raise ConnectionError("not connected")
        node = self.client.nodes.objects if node_id is None else self.client.get_node(self._resolve(node_id))
        out = []
        for child in await node.get_children(refs=ua.ObjectIds.HierarchicalReferences):
            cls = await child.read_node_class()
            name = await child.read_browse_name()
            try:
                display = (await child.read_display_name()).Text or name.Name
            except ua.UaError:
                display = name.Name
            dtype = ""
            if cls == ua.NodeClass.Variable:
                with contextlib.suppress(ua.UaError, ValueError):
                    dtype = (await child.read_data_type_as_variant_type()).name
            desc = ""
            with contextlib.suppress(ua.UaError, AttributeError):
                desc = (await child.read_description()).Text or ""
            out.append(BrowseItem(child.nodeid.to_string(), name.Name, display, cls.name, dtype, desc))
        return out

    async def read(self, node_id: str):
        if self.client is None:
            raise ConnectionError("not connected")
        return await self.client.get_node(self._resolve(node_id)).read_value()

    # -- internals ----------------------------------------------------------------------------------
    def _set_state(self, state: LinkState, message: str) -> None:
        self.state = state
        self.on_state(state, message)

    async def _open(self) -> None:
        s = self.settings
        client = Client(s.endpoint, timeout=s.timeout_s)
        client.application_uri = s.application_uri
        client.session_timeout = 60_000
        if s.username:
            client.set_user(s.username)
            client.set_password(s.password or "")
        if s.security_policy == "Basic256Sha256":
            if not (s.client_certificate and s.client_key):
                raise ValueError("a secure connection needs a client certificate and key")
            mode = ua.MessageSecurityMode.Sign if s.security_mode == "Sign" else ua.MessageSecurityMode.SignAndEncrypt
            await client.set_security(
                SecurityPolicyBasic256Sha256,
                str(s.client_certificate),
                str(s.client_key),
                server_certificate=str(s.server_certificate) if s.server_certificate else None,
                mode=mode,
            )
        client.connection_lost_callback = self._on_lost
        self.client = client
        await asyncio.wait_for(client.connect(), s.timeout_s * 2)
        self._namespaces = await client.get_namespace_array()
        self.stats.connects += 1

    async def _on_lost(self, exc: Exception) -> None:
        self.stats.last_error = explain(exc, self.settings.endpoint)
        self._lost.set()

    async def _close_quietly(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.cancel()
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), 2.0)

    def _resolve(self, node_id: str) -> ua.NodeId:
        """Parse a node id string; ``nsu=URI;…`` is mapped to the server's namespace index."""
        nid = ua.NodeId.from_string(node_id)
        uri = getattr(nid, "NamespaceUri", None)
        if uri:
            if uri not in self._namespaces:
                raise ValueError(f"namespace {uri} is not on this server")
            return ua.NodeId(nid.Identifier, self._namespaces.index(uri), nid.NodeIdType)
        return nid

    async def _subscribe(self) -> None:
        s = self.settings
        # Iterator mode: asyncua queues the notifications of a publish response and one consumer task
        # takes them all at once (the handler mode would start an asyncio task per value). The queue holds
        # a few publish responses of every binding, so only a GUI stalled for seconds could overflow it.
        sub = await self.client.create_subscription(
            s.publishing_ms, None, queue_maxsize=max(10_000, 4 * len(self._bindings)), overflow=OverflowPolicy.DROP_OLDEST
        )
        self._consumer = asyncio.ensure_future(_consume(weakref.ref(self), sub))
        nodes, owners = [], []
        self._by_node = {}
        self._owners = {}
        self.stats.bad_bindings.clear()
        for b in self._bindings:
            try:
                nid = self._resolve(b.node_id)
            except (ValueError, ua.UaError) as e:
                self._binding_failed(b.index, f"{b.node_id}: {e}")
                continue
            key = nid.to_string()
            if key not in self._by_node:
                self._by_node[key] = []
                node = self.client.get_node(nid)
                nodes.append(node)
                owners.append(key)
                self._owners[nid] = self._by_node[key]
            self._by_node[key].append(b.index)
        if not nodes:
            return
        for start in range(0, len(nodes), 1000):  # big plants: several requests, one subscription
            chunk = nodes[start : start + 1000]
            if s.deadband > 0:
                mfilter = ua.DataChangeFilter(
                    Trigger=ua.DataChangeTrigger.StatusValue, DeadbandType=ua.DeadbandType.Absolute, DeadbandValue=s.deadband
                )
                results = await sub._subscribe(chunk, ua.AttributeIds.Value, mfilter=mfilter, sampling_interval=s.sampling_ms)
            else:
                results = await sub.subscribe_data_change(chunk, sampling_interval=s.sampling_ms)
            for k, r in enumerate(results if isinstance(results, list) else [results]):
                if isinstance(r, ua.StatusCode):
                    failed = self._by_node.pop(owners[start + k], [])
                    for idx in list(failed):
                        self._binding_failed(idx, f"{owners[start + k]}: {r.name}")
                    failed.clear()

    def _binding_failed(self, index: int, message: str) -> None:
        self.stats.bad_bindings[index] = message
        log.warning("cannot monitor binding %d: %s", index, message)
        self.on_binding_error(index, message)

    async def _supervise(self) -> None:
        backoff = 0.5
        first = True
        while not self._stop.is_set():
            if self.client is None:
                self._set_state(
                    LinkState.CONNECTING if first else LinkState.RECONNECTING, self.stats.last_error or self.settings.endpoint
                )
                try:
                    await self._open()
                    self._lost.clear()
                    await self._subscribe()
                except Exception as e:  # any failure means: not connected, try again later
                    await self._close_quietly()
                    self.stats.last_error = explain(e, self.settings.endpoint)
                    self._set_state(LinkState.RECONNECTING, f"{self.stats.last_error}; retrying in {backoff:.1f} s")
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), backoff)
                    backoff = min(backoff * 2, self.settings.max_backoff_s)
                    first = False
                    continue
                if not first:
                    self.stats.reconnects += 1
                first = False
                backoff = 0.5
                self._set_state(LinkState.CONNECTED, self.settings.endpoint)
            # Connected: wait for a loss signal, probing the server now and then.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._lost.wait(), self.settings.health_check_s)
            if self._stop.is_set():
                break
            lost = self._lost.is_set()
            if not lost:
                try:
                    await asyncio.wait_for(self.client.nodes.server_state.read_value(), self.settings.timeout_s)
                except Exception as e:  # a dead server shows up as timeouts, resets or status errors
                    self.stats.last_error = explain(e, self.settings.endpoint)
                    lost = True
            if lost:
                log.warning("OPC UA link lost: %s", self.stats.last_error)
                self._set_state(LinkState.RECONNECTING, self.stats.last_error or "link lost")
                await self._close_quietly()
                self._lost.clear()

    def _deliver(self) -> None:
        if self._pending:
            batch, self._pending = self._pending, []
            self.on_values(batch)

    def _take(self, event: object) -> None:
        """One queued subscription event; the values of a publish response go out together (``_deliver``)."""
        if isinstance(event, DataChangeEvent):
            owners = self._owners.get(event.node.nodeid)
            if not owners:
                return
            dv = event.data.monitored_item.Value
            status = dv.StatusCode.value if dv.StatusCode is not None else 0
            src = dv.SourceTimestamp.timestamp() if dv.SourceTimestamp is not None else math.nan
            now = time.time()
            self.stats.notifications += 1
            if not self._pending:  # runs once the queue is drained: the consumer takes a burst without yielding
                asyncio.get_running_loop().call_soon(self._deliver)
            for k in owners:
                self._pending.append(Update(k, event.value, status, src, now))
        elif isinstance(event, StatusChangeEvent):
            log.info("subscription status: %s", event.notification.Status)
            self._lost.set()


async def _consume(client_ref: weakref.ref, sub) -> None:
    """Take every event of ``sub`` until it is closed. Holds the client weakly: asyncua can keep a closed
    session's loops running for a while, and they must not keep the client (and the GUI behind it) alive."""
    async for event in sub:
        client = client_ref()
        if client is None:
            return
        client._take(event)
        del client
