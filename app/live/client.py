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
import itertools
import logging
import math
import time
import traceback
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from asyncua import Client, ua
from asyncua.common.subscription import DataChangeEvent, OverflowPolicy, StatusChangeEvent, Subscription
from asyncua.common.utils import NotEnoughData
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256

from app.state.store import BindingInfo, Update
from app.ua.plant_clock import PLANT_NAMESPACE, TIME_SCALE_NODE
from app.ua.values import node_id

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
    name: str = ""  # what a log line calls it: machine and signal

    @property
    def label(self) -> str:
        return f"{self.name} ({self.node_id})" if self.name else self.node_id


#: Requests of a big plant go out in chunks of this many nodes (servers cap the size of one request).
CHUNK = 500


@dataclass
class LinkStats:
    connects: int = 0
    reconnects: int = 0
    notifications: int = 0
    last_error: str = ""
    bad_bindings: dict[int, str] = field(default_factory=dict)


class LoginRejected(ConnectionError):
    """The server refused the user name or password. Not retried: repeating a wrong password can lock the
    account on a real plant's server."""


class ClientNotTrusted(ConnectionError):
    """The server refused this client's certificate (the normal first secure connection to a real PLC, until
    its administrator trusts the certificate). Not retried: the answer stays the same until then."""


_LOGIN_CODES = ("BadUserAccessDenied", "BadIdentityTokenRejected", "BadIdentityTokenInvalid", "BadUserSignatureInvalid")
_TRUST_CODES = ("BadSecurityChecksFailed", "BadCertificate", "BadSecurityPolicyRejected", "BadNoValidCertificates")


def classify_connect_error(exc: BaseException, secure: bool) -> BaseException:
    """The failure of a connection attempt as the user must act on it: ``LoginRejected``,
    ``ClientNotTrusted``, or ``exc`` itself (worth retrying: the server may come back)."""
    if isinstance(exc, (LoginRejected, ClientNotTrusted)):
        return exc
    text = f"{type(exc).__name__} {exc}"
    if isinstance(exc, ua.UaStatusCodeError) and any(code in text for code in _LOGIN_CODES):
        return LoginRejected("the server refused the user name or password")
    if secure and isinstance(exc, ua.UaStatusCodeError) and any(code in text for code in _TRUST_CODES):
        return ClientNotTrusted("the server does not trust this client's certificate yet")
    # A server that rejects the client certificate answers OpenSecureChannel with an error message that
    # asyncua does not decode (it ends in an AssertionError or NotEnoughData inside open_secure_channel).
    in_channel = any(frame.name == "open_secure_channel" for frame in traceback.extract_tb(exc.__traceback__))
    if secure and in_channel and isinstance(exc, (AssertionError, NotEnoughData, ua.UaError)):
        return ClientNotTrusted("the server does not trust this client's certificate yet")
    return exc


def explain(exc: BaseException, endpoint: str) -> str:
    """A sentence a user can act on for a connection failure."""
    if isinstance(exc, LoginRejected):
        return f"{endpoint}: the server refused the user name or password (not retried: check them, then connect again)"
    if isinstance(exc, ClientNotTrusted):
        return (
            f"{endpoint}: the server does not trust floortwin's client certificate yet — its administrator must "
            "trust it (Live ▸ Connect shows where it is), then connect again"
        )
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
    on_binding_info
        Called with a list of (binding index, ``BindingInfo``) once the server said what bound variables'
        units, EURanges and data types are (one call per request, not per variable).
    on_time_scale
        Called at every (re)connection, before the subscription's first values, with the plant's clock speed
        the server publishes (floortwin's plant simulator: ``Plant/TimeScale``, its ``--speed``), or None
        when it publishes none (a real plant's server).
    """

    def __init__(
        self,
        settings: ConnectionSettings,
        on_values: Callable[[list[Update]], None],
        on_state: Callable[[LinkState, str], None] | None = None,
        on_binding_error: Callable[[int, str], None] | None = None,
        on_binding_info: Callable[[list[tuple[int, BindingInfo]]], None] | None = None,
    ):
        self.settings = settings
        self.on_values = on_values
        self.on_state = on_state or (lambda s, m: None)
        self.on_binding_error = on_binding_error or (lambda k, m: None)
        self.on_binding_info = on_binding_info or (lambda infos: None)
        self.on_time_scale: Callable[[float | None], None] = lambda scale: None
        self.state = LinkState.DISCONNECTED
        self.stats = LinkStats()
        self.failure: BaseException | None = None  # why the link gave up (LoginRejected, ClientNotTrusted)
        self.client: Client | None = None
        self._bindings: list[_Binding] = []
        self._owners: dict[ua.NodeId, list[int]] = {}  # monitored node → the bindings it feeds
        self._handles: dict[ua.NodeId, int] = {}  # monitored node → the server's monitored item id
        self._sub: Subscription | None = None  # the running subscription (None while disconnected)
        self._client_handles = itertools.count(1)
        self._consumer: asyncio.Future | None = None
        self._info_tasks: set[asyncio.Task] = set()
        self._pending: list[Update] = []
        self._stop = asyncio.Event()
        self._lost = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._namespaces: list[str] = []

    # -- public -----------------------------------------------------------------------------------
    def set_bindings(self, bindings: Sequence[tuple[int, str]], names: dict[int, str] | None = None) -> None:
        """(binding index, node id string) pairs to monitor; applied at the next (re)connect. ``names`` says
        what each binding is (``CNC-01.Temperature``) for log lines and messages."""
        names = names or {}
        self._bindings = [_Binding(k, nid, names.get(k, "")) for k, nid in bindings]

    async def add_bindings(self, bindings: Sequence[tuple[int, str]], names: dict[int, str] | None = None) -> None:
        """Monitor more bindings: added to the running subscription (no reconnection), or at the next connect."""
        names = names or {}
        added = [_Binding(k, nid, names.get(k, "")) for k, nid in bindings]
        self._bindings.extend(added)
        if self._sub is not None and self.client is not None:
            await self._monitor(added)

    async def remove_bindings(self, indices: Sequence[int]) -> None:
        """Stop monitoring these bindings; a node nobody else is bound to leaves the subscription."""
        gone = set(indices)
        self._bindings = [b for b in self._bindings if b.index not in gone]
        unused = []
        for nid, owners in list(self._owners.items()):
            owners[:] = [k for k in owners if k not in gone]
            if not owners:
                del self._owners[nid]
                handle = self._handles.pop(nid, None)
                if handle is not None:
                    unused.append(handle)
        for k in gone:
            self.stats.bad_bindings.pop(k, None)
        sub = self._sub
        if unused and sub is not None:
            try:
                await self._quiesce(sub, unused)
                if self._sub is sub:  # (a subscription made anew meanwhile has no such items)
                    await sub.unsubscribe(unused)
            except (ua.UaError, asyncio.TimeoutError, ConnectionError) as e:  # gone with the session anyway
                log.debug("could not delete %d monitored items: %s", len(unused), e)

    async def _quiesce(self, sub: Subscription, handles: list[int]) -> None:
        """Stop the server sampling these monitored items, then let what it sent of them arrive before they
        are deleted: asyncua warns of "a notification for unknown handle" when one comes after."""
        client = self.client
        if client is None:
            return
        params = ua.SetMonitoringModeParameters(
            SubscriptionId=sub.subscription_id, MonitoredItemIds=list(handles), MonitoringMode=ua.MonitoringMode.Disabled
        )
        try:
            await client.uaclient.set_monitoring_mode(params)
        except ua.UaStatusCodeError as e:  # a server without SetMonitoringMode: delete them at once
            log.debug("could not disable %d monitored items: %s", len(handles), e)
            return
        await asyncio.sleep(2 * self.settings.publishing_ms / 1000)

    @property
    def subscription_id(self) -> int | None:
        """The server's id of the running subscription (None while disconnected): it changes only when the
        link is made anew, never for a binding added or removed."""
        return None if self._sub is None else self._sub.subscription_id

    def portable(self, nodeid: ua.NodeId) -> str:
        """A node id that survives a change of the server's namespace order: ``nsu=<namespace URI>;…``
        outside namespace 0 (whose index is fixed), as the bindings are saved."""
        text = nodeid.to_string()
        ns = nodeid.NamespaceIndex
        if ns == 0 or ns >= len(self._namespaces):
            return text
        return f"nsu={self._namespaces[ns]};{text.split(';', 1)[1]}"

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
            if isinstance(e, (LoginRejected, ClientNotTrusted)):
                self.failure = e
                raise type(e)(message) from None
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
        self.on_binding_info = lambda infos: None
        self.on_time_scale = lambda scale: None

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
            out.append(BrowseItem(self.portable(child.nodeid), name.Name, display, cls.name, dtype, desc))
        return out

    async def read_time_scale(self) -> float | None:
        """The plant's clock speed as the server publishes it (simulated seconds per wall second, floortwin's
        plant simulator's ``--speed``); None when the server has no such variable or it is not a positive
        number."""
        client = self.client
        if client is None or PLANT_NAMESPACE not in self._namespaces:
            return None
        try:
            value = await client.get_node(self._resolve(TIME_SCALE_NODE)).read_value()
        except (ua.UaError, ValueError) as e:  # an older simulator without it, or not readable by this login
            log.info("%s publishes no plant clock speed (%s): taking the one given", self.settings.endpoint, e)
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
            return float(value)
        return None

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
        # asyncua probes the server every watchdog_intervall and drops the link when a probe takes longer than
        # that (1 s by default): a loaded machine or a busy server lost its link ~30 s in. Probe as patiently as a
        # request is waited for; our own health check (health_check_s) still finds a dead server quickly.
        client = Client(s.endpoint, timeout=s.timeout_s, watchdog_intervall=s.timeout_s)
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
        try:
            await asyncio.wait_for(client.connect(), s.timeout_s * 2)
        except Exception as e:  # asyncua raises many unrelated types for one failed connect
            raise classify_connect_error(e, s.security_policy != "None") from e
        self._namespaces = await client.get_namespace_array()
        self.stats.connects += 1

    async def _on_lost(self, exc: Exception) -> None:
        self.stats.last_error = explain(exc, self.settings.endpoint)
        self._lost.set()

    async def _close_quietly(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.cancel()
        for task in list(self._info_tasks):
            task.cancel()
        self._sub = None
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), 2.0)

    def resolve(self, node_id: str) -> ua.NodeId:
        """The server's node id for a saved one (``nsu=URI;…`` mapped to this server's namespace index)."""
        return self._resolve(node_id)

    def _resolve(self, node_id: str) -> ua.NodeId:
        """Parse a node id string; ``nsu=URI;…`` is mapped to the server's namespace index."""
        nid = ua.NodeId.from_string(node_id)
        uri = getattr(nid, "NamespaceUri", None)
        if uri:
            if uri not in self._namespaces:
                raise ValueError(f"namespace {uri} is not on this server")
            return ua.NodeId(nid.Identifier, ua.Int16(self._namespaces.index(uri)), nid.NodeIdType)
        return nid

    async def _subscribe(self) -> None:
        s, client = self.settings, self.client
        if client is None:
            raise ConnectionError("not connected")
        # Iterator mode: asyncua queues the notifications of a publish response and one consumer task
        # takes them all at once (the handler mode would start an asyncio task per value). The queue holds
        # a few publish responses of every binding, so only a GUI stalled for seconds could overflow it.
        sub = await client.create_subscription(
            s.publishing_ms, None, queue_maxsize=max(10_000, 4 * len(self._bindings)), overflow=OverflowPolicy.DROP_OLDEST
        )
        self._consumer = asyncio.ensure_future(_consume(weakref.ref(self), sub))
        self._owners, self._handles = {}, {}
        self.stats.bad_bindings.clear()
        self._sub = sub
        await self._monitor(self._bindings)

    async def _monitor(self, bindings: Sequence[_Binding]) -> None:
        """Add monitored items for ``bindings`` to the running subscription (one per node however many
        bindings share it), then ask the server about their units and ranges in the background."""
        sub, s = self._sub, self.settings
        if sub is None:  # disconnected meanwhile: the bindings are monitored at the next connect
            return
        new: list[ua.NodeId] = []
        shared: list[tuple[int, ua.NodeId]] = []  # bindings of a node already monitored
        for b in bindings:
            try:
                nid = self._resolve(b.node_id)
            except (ValueError, ua.UaError) as e:
                self._binding_failed(b, str(e))
                continue
            if nid not in self._owners:
                self._owners[nid] = []
                new.append(nid)
            elif nid in self._handles:
                shared.append((b.index, nid))
            self._owners[nid].append(b.index)
        mfilter = None
        if s.deadband > 0:
            mfilter = ua.DataChangeFilter(
                Trigger=ua.DataChangeTrigger.StatusValue, DeadbandType=ua.DeadbandType.Absolute, DeadbandValue=s.deadband
            )
        by_index = {b.index: b for b in bindings}
        for start in range(0, len(new), CHUNK):  # big plants: several requests, one subscription
            chunk = new[start : start + CHUNK]
            results = await sub.create_monitored_items([self._request(nid, mfilter) for nid in chunk])
            for nid, r in zip(chunk, results, strict=True):
                if isinstance(r, ua.StatusCode):
                    for k in self._owners.pop(nid, []):
                        self._binding_failed(by_index.get(k) or _Binding(k, nid.to_string()), r.name)
                else:
                    self._handles[nid] = r
        if shared:  # the server reports changes only: the node's value now is the new binding's first
            await self._read_now(shared)
        watched = [nid for nid in new if nid in self._handles] + list(dict.fromkeys(nid for _k, nid in shared))
        if watched:
            task = asyncio.ensure_future(self._read_info(watched))
            self._info_tasks.add(task)
            task.add_done_callback(self._info_tasks.discard)

    async def _read_now(self, bindings: Sequence[tuple[int, ua.NodeId]]) -> None:
        """Read the current values of ``(binding, node)`` pairs once and hand them over as one batch."""
        client = self.client
        if client is None:
            return
        try:
            values = await client.read_attributes([client.get_node(nid) for _k, nid in bindings])
        except (ua.UaError, asyncio.TimeoutError, ConnectionError, OSError) as e:  # the next change brings it
            log.info("could not read the current value of %d bindings: %s", len(bindings), e)
            return
        now = time.time()
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._deliver)
        self._pending.extend(_update(k, dv, now) for (k, _nid), dv in zip(bindings, values, strict=True))

    def _request(self, nid: ua.NodeId, mfilter: ua.DataChangeFilter | None) -> ua.MonitoredItemCreateRequest:
        params = ua.MonitoringParameters(
            ClientHandle=next(self._client_handles), SamplingInterval=self.settings.sampling_ms, QueueSize=1, DiscardOldest=True
        )
        if mfilter is not None:
            params.Filter = mfilter
        return ua.MonitoredItemCreateRequest(
            ItemToMonitor=ua.ReadValueId(NodeId=nid, AttributeId=ua.AttributeIds.Value),
            MonitoringMode=ua.MonitoringMode.Reporting,
            RequestedParameters=params,
        )

    async def _read_info(self, nodes: list[ua.NodeId]) -> None:
        """Ask the server for the EngineeringUnits, EURange and data type of monitored nodes and report them
        (``on_binding_info``). A server that has none of them costs two requests per chunk of nodes."""
        client = self.client
        if client is None:  # disconnected meanwhile: asked again at the next connect
            return
        try:
            for start in range(0, len(nodes), CHUNK):
                chunk = nodes[start : start + CHUNK]
                infos = await _read_infos(client, chunk, self.portable)
                self.on_binding_info(
                    [(k, info) for nid, info in zip(chunk, infos, strict=True) for k in self._owners.get(nid, ())]
                )
        except (ua.UaError, asyncio.TimeoutError, ConnectionError, OSError) as e:  # units are a nicety: go on without
            log.info("could not read engineering units from %s: %s", self.settings.endpoint, e)

    def _binding_failed(self, binding: _Binding, reason: str) -> None:
        message = f"{binding.node_id}: {reason}"
        self.stats.bad_bindings[binding.index] = message
        log.warning("cannot monitor %s: %s", binding.name or binding.node_id, message if binding.name else reason)
        self.on_binding_error(binding.index, message)

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
                    self.on_time_scale(await self.read_time_scale())  # before the first value is measured
                    await self._subscribe()
                except (LoginRejected, ClientNotTrusted) as e:  # the same answer every time: stop and say why
                    await self._close_quietly()
                    self.stats.last_error = explain(e, self.settings.endpoint)
                    self.failure = e
                    self._set_state(LinkState.FAILED, self.stats.last_error)
                    return
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
            client = self.client
            lost = self._lost.is_set() or client is None
            if not lost and client is not None:
                try:
                    await asyncio.wait_for(client.nodes.server_state.read_value(), self.settings.timeout_s)
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
            now = time.time()
            self.stats.notifications += 1
            if not self._pending:  # runs once the queue is drained: the consumer takes a burst without yielding
                asyncio.get_running_loop().call_soon(self._deliver)
            for k in owners:
                self._pending.append(_update(k, dv, now))
        elif isinstance(event, StatusChangeEvent):
            log.info("subscription status: %s", event.notification.Status)
            self._lost.set()


def _update(binding: int, dv: ua.DataValue, received: float) -> Update:
    """A received data value as the store takes it (a LocalizedText, e.g. a state machine's CurrentState:
    its text)."""
    status = dv.StatusCode.value if dv.StatusCode is not None else 0
    src = dv.SourceTimestamp.timestamp() if dv.SourceTimestamp is not None else math.nan
    value = dv.Value.Value if dv.Value is not None else None
    if isinstance(value, ua.LocalizedText):
        value = value.Text or ""
    return Update(binding, value, status, src, received)


async def _consume(client_ref: weakref.ref, sub) -> None:
    """Take every event of ``sub`` until it is closed. Holds the client weakly: asyncua can keep a closed
    session's loops running for a while, and they must not keep the client (and the GUI behind it) alive."""
    async for event in sub:
        owner = client_ref()
        if owner is None:
            return
        owner._take(event)
        del owner


def _property_path(start: ua.NodeId, name: str) -> ua.BrowsePath:
    """The path from a variable to its standard property ``0:name`` (HasProperty)."""
    element = ua.RelativePathElement(
        ReferenceTypeId=node_id(ua.ObjectIds.HasProperty),
        # asyncua annotates these as its ua.Boolean marker class, which no bool can be; it encodes a plain bool
        IsInverse=False,  # type: ignore[arg-type]
        IncludeSubtypes=True,  # type: ignore[arg-type]
        TargetName=ua.QualifiedName(name, 0),
    )
    return ua.BrowsePath(StartingNode=start, RelativePath=ua.RelativePath(Elements=[element]))


def _is_good(dv: ua.DataValue) -> bool:
    """Whether a read value is good; a data value without a status code is good (OPC UA Part 4, 7.11)."""
    return dv.StatusCode is None or dv.StatusCode.is_good()


async def _read_infos(client: Client, nodes: list[ua.NodeId], portable: Callable[[ua.NodeId], str]) -> list[BindingInfo]:
    """Units (EUInformation's display name), EURange and data type of ``nodes``: one TranslateBrowsePaths,
    one Read of the properties found and one Read of the data types."""
    paths = [_property_path(nid, name) for nid in nodes for name in ("EngineeringUnits", "EURange")]
    found = await client.uaclient.translate_browsepaths_to_nodeids(paths)
    targets: dict[int, ua.NodeId] = {}
    for k, result in enumerate(found):
        if result.StatusCode.is_good() and result.Targets:
            t = result.Targets[0].TargetId
            targets[k] = ua.NodeId(t.Identifier, t.NamespaceIndex, t.NodeIdType)
    keys = list(targets)
    values = await client.read_attributes([client.get_node(targets[k]) for k in keys]) if keys else []
    read = {k: dv.Value.Value for k, dv in zip(keys, values, strict=True) if _is_good(dv) and dv.Value is not None}
    types = await client.read_attributes([client.get_node(nid) for nid in nodes], ua.AttributeIds.DataType)
    out = []
    for n, dt in enumerate(types):
        eu, eu_range = read.get(2 * n), read.get(2 * n + 1)
        unit = getattr(getattr(eu, "DisplayName", None), "Text", None) or ""
        low, high = _finite(getattr(eu_range, "Low", None)), _finite(getattr(eu_range, "High", None))
        value = dt.Value.Value if _is_good(dt) and dt.Value is not None else None
        data_type = portable(value) if isinstance(value, ua.NodeId) else ""
        out.append(BindingInfo(unit, low, high, data_type))
    return out


def _finite(x: object) -> float:
    return float(x) if isinstance(x, (int, float)) and math.isfinite(x) else math.nan
