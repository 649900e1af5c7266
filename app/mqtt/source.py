"""An MQTT broker as the live session's data source: Sparkplug B metrics and JSON topics become updates of
the bound machine signals, exactly as an OPC UA subscription's values do.

Connect (Live ▸ Connect…) to ``mqtt://HOST:PORT`` or ``mqtts://HOST:PORT`` (TLS: ``?ca=FILE`` is the CA to
trust, else the system's; ``&cert=FILE&key=FILE`` the client certificate and key to send — or the
settings' ``server_certificate``, ``client_certificate``, ``client_key``); user name and password too.
Machines bind ``mqtt:`` addresses (``app.mqtt.addresses``); the source subscribes to ``spBv1.0/<group>/#``
for every Sparkplug group bound (and those named ``?group=A&group=B`` in the URL, to browse them) and to
every JSON topic bound.

paho-mqtt runs the connection on a thread of its own, reconnecting by itself with a growing delay; what it
receives is decoded there, and handed to the network loop (the thread the session's reports come from) in
batches. A broker that goes away makes every value stale (uncertain: the last usable value) until it is
back and the edge nodes, asked for a rebirth, have published their births again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import paho.mqtt.client as mqtt
from psygnal import Signal

from app.live.client import BrowseItem, LinkState
from app.mqtt.addresses import SPB_NAMESPACE, JsonAddress, SparkplugAddress, is_mqtt, parse_address
from app.mqtt.json_topics import JsonTopics
from app.mqtt.sparkplug import MetricKey, Outcome, SparkplugTracker, rebirth_payload
from app.state.store import Update

log = logging.getLogger(__name__)

#: The status of a value its source no longer vouches for (its edge node died, messages were lost, the
#: broker is gone): OPC UA's Uncertain_LastUsableValue — the last value is kept and shown stale.
STALE = 0x40900000
SCHEMES = ("mqtt", "mqtts")
DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
#: Values are handed to the session at most this often (s): at most 20 batches a second, however many messages.
DELIVER_S = 0.05
#: What went wrong is reported (``counts_changed``, a log line) at most this often (s).
REPORT_INTERVAL_S = 1.0


@dataclass(frozen=True)
class Endpoint:
    """Where the broker is, as an ``mqtt://`` or ``mqtts://`` URL says it."""

    host: str
    port: int
    tls: bool
    groups: tuple[str, ...] = ()  # Sparkplug groups to listen to besides those bound
    client_id: str = ""
    stale_s: float = 0.0  # a JSON value not published again for this long is stale (0: never)
    ca: str = ""  # TLS: the CA file to trust (PEM; none: the system's), the client certificate and its key
    cert: str = ""
    key: str = ""

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        """
        >>> e = Endpoint.parse("mqtts://broker.local?group=Plant&ca=/etc/plant/ca.pem")
        >>> e.host, e.port, e.tls, e.groups, e.ca
        ('broker.local', 8883, True, ('Plant',), '/etc/plant/ca.pem')
        """
        u = urlparse(url)
        if u.scheme not in SCHEMES:
            raise ValueError(f"{url}: an MQTT endpoint starts with mqtt:// or mqtts://")
        if not u.hostname:
            raise ValueError(f"{url}: no broker host")
        query = parse_qs(u.query)
        try:
            port = u.port or DEFAULT_PORTS[u.scheme]
        except ValueError as e:
            raise ValueError(f"{url}: {e}") from None
        one = lambda name: query.get(name, [""])[0]  # noqa: E731
        groups = tuple(query.get("group", ()))
        try:
            stale_s = float(one("stale_s") or 0)
        except ValueError:
            raise ValueError(f"{url}: stale_s must be a number of seconds") from None
        if not (math.isfinite(stale_s) and stale_s >= 0):
            raise ValueError(f"{url}: stale_s must be a number of seconds ≥ 0")
        return cls(u.hostname, port, u.scheme == "mqtts", groups, one("client_id"), stale_s, one("ca"), one("cert"), one("key"))


@dataclass
class MqttCounts:
    """The link's figures: connections, and what was wrong with what came (Sparkplug and JSON)."""

    connects: int = 0
    disconnects: int = 0
    messages: int = 0
    malformed: int = 0
    unknown_aliases: int = 0
    seq_gaps: int = 0
    data_before_birth: int = 0
    births: int = 0
    deaths: int = 0
    rebirths_requested: int = 0
    json_missing: int = 0

    def problems(self) -> str:
        """What went wrong, in words ('' when nothing did).

        >>> MqttCounts(malformed=2, seq_gaps=1).problems()
        '2 malformed payloads, 1 sequence gap'
        """
        parts = []
        for n, one, many in (
            (self.malformed, "malformed payload", "malformed payloads"),
            (self.unknown_aliases, "unknown alias", "unknown aliases"),
            (self.seq_gaps, "sequence gap", "sequence gaps"),
            (self.data_before_birth, "message before its birth", "messages before their birth"),
            (self.json_missing, "JSON value missing", "JSON values missing"),
            (self.disconnects, "broker disconnection", "broker disconnections"),
        ):
            if n:
                parts.append(f"{n} {one if n == 1 else many}")
        return ", ".join(parts)


class MqttSource:
    """The live client's interface over an MQTT broker (see ``app.plugins.api.DataSourceSpec``).

    Signals (emitted on the network loop)
    -------
    counts_changed(MqttCounts)
        What was received and what was wrong with it changed (at most once a second).
    """

    counts_changed = Signal(object)

    def __init__(
        self,
        settings: Any,
        on_values: Callable[[list[Update]], None],
        on_state: Callable[[LinkState, str], None] | None = None,
        on_binding_error: Callable[[int, str], None] | None = None,
    ):
        self.settings = settings
        self.endpoint = Endpoint.parse(settings.endpoint)
        self.on_values = on_values
        self.on_state = on_state or (lambda s, m: None)
        self.on_binding_error = on_binding_error or (lambda k, m: None)
        self.state = LinkState.DISCONNECTED
        self.client = None  # the browse dock asks ``client``: nothing to browse the OPC UA way
        self.tracker = SparkplugTracker()
        self.json = JsonTopics()
        self.counts = MqttCounts()
        self.failure: str | None = None
        self._metrics: dict[MetricKey, list[int]] = {}
        self._json_bindings: dict[JsonAddress, list[int]] = {}
        self._bad: list[tuple[int, str]] = []
        self._groups: set[str] = set(self.endpoint.groups)
        self._nodes: set[tuple[str, str]] = set()  # edge nodes bound: asked for a rebirth at each connection
        self._lock = threading.Lock()
        self._tracking = threading.Lock()  # the tracker: paho's thread writes, the browse dock reads
        self._pending: list[Update] = []
        self._reports: list[tuple[LinkState, str]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._mqtt: mqtt.Client | None = None
        self._stopping = False
        self._last_report = -math.inf
        self._last_delivery = -math.inf
        self._reported: tuple[int, ...] = ()
        self._timer: asyncio.TimerHandle | None = None
        self._json_last: dict[JsonAddress, tuple[float, object]] = {}  # when each JSON value came, and it
        self._json_stale: set[JsonAddress] = set()
        self._stale_timer: asyncio.TimerHandle | None = None
        self._problems = ""

    # -- the live client's interface -----------------------------------------------------------------
    def set_bindings(self, bindings: Sequence[tuple[int, str]], names: dict[int, str] | None = None) -> None:
        """(binding index, address) pairs; an address that is no ``mqtt:`` one fails its binding."""
        for k, text in bindings:
            if not is_mqtt(text):
                self._bad.append((k, f"{text}: an OPC UA node id, and this link is MQTT ({self.settings.endpoint})"))
                continue
            try:
                a = parse_address(text)
            except ValueError as e:
                self._bad.append((k, str(e)))
                continue
            if isinstance(a, SparkplugAddress):
                self._metrics.setdefault((a.group, a.edge, a.device, a.metric), []).append(k)
                self._groups.add(a.group)
                self._nodes.add(a.node)
            else:
                self._json_bindings.setdefault(a, []).append(k)
                self.json.add(a)

    def start(self) -> asyncio.Future:
        """Connect in the background (paho's thread) and keep connecting until ``stop``."""
        self._loop = asyncio.get_running_loop()
        for k, message in self._bad:
            self.on_binding_error(k, message)
        self._set(LinkState.CONNECTING, self._url())
        done = self._loop.create_future()
        try:
            self._mqtt = self._make_client()
            self._mqtt.connect_async(self.endpoint.host, self.endpoint.port, keepalive=10)
            self._mqtt.loop_start()
        except (OSError, ValueError, ssl.SSLError) as e:
            self.failure = f"{self._url()}: {e}"
            self._set(LinkState.FAILED, self.failure)
        if self.endpoint.stale_s > 0 and self._json_bindings:
            self._stale_timer = self._loop.call_later(min(1.0, self.endpoint.stale_s / 2), self._age_json)
        done.set_result(None)
        return done

    async def stop(self) -> None:
        """Disconnect and stop paho's thread."""
        self._stopping = True
        client, self._mqtt = self._mqtt, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.disconnect()
            await asyncio.to_thread(client.loop_stop)
        self._deliver()
        for timer in (self._timer, self._stale_timer):
            if timer is not None:
                timer.cancel()
        self._set(LinkState.DISCONNECTED, "")
        self.on_values = lambda batch: None
        self.on_state = lambda state, message: None
        self.on_binding_error = lambda index, message: None

    async def browse(self, node_id: str | None = None) -> list[BrowseItem]:
        """What the Browse dock lists: the Sparkplug groups listened to, their edge nodes born since the link
        was made, their devices and metrics (variables whose node id is the binding's ``mqtt:`` address).

        The tree: None → ``mqtt:spBv1.0/<group>`` → ``…/<edge node>`` → ``…/<device>`` (and the node's own
        metrics) → metrics."""
        with self._tracking:
            known = self.tracker.metrics()
        prefix = f"mqtt:{SPB_NAMESPACE}"
        if node_id is None:
            groups = sorted(self._groups | {key[0] for key, *_ in known})
            return [BrowseItem(f"{prefix}/{g}", g, g, "Object", "", "Sparkplug B group") for g in groups]
        path = node_id.removeprefix(prefix + "/").split("/") if node_id.startswith(prefix + "/") else []
        if len(path) == 1:
            edges = sorted({key[1] for key, *_ in known if key[0] == path[0]})
            return [BrowseItem(f"{node_id}/{e}", e, e, "Object", "", "Sparkplug B edge node") for e in edges]
        if len(path) not in (2, 3):
            return []
        device = path[2] if len(path) == 3 else None
        out = []
        if device is None:
            devices = sorted({key[2] for key, *_ in known if key[:2] == (path[0], path[1]) and key[2] is not None})
            out += [BrowseItem(f"{node_id}/{d}", d, d, "Object", "", "Sparkplug B device") for d in devices]
        for key, dtype, value, online in sorted(known, key=lambda k: k[0][3]):
            if key[:3] == (path[0], path[1], device):
                state = f"last value {value!r}" if online else f"stale (offline), last value {value!r}"
                address = str(SparkplugAddress(*key))
                out.append(BrowseItem(address, key[3], key[3], "Variable", dtype, f"Sparkplug B metric: {state}"))
        return out

    # -- paho's thread -------------------------------------------------------------------------------
    def _url(self) -> str:
        return f"{'mqtts' if self.endpoint.tls else 'mqtt'}://{self.endpoint.host}:{self.endpoint.port}"

    def _make_client(self) -> mqtt.Client:
        s = self.settings
        client_id = self.endpoint.client_id or f"floortwin-{uuid.uuid4().hex[:12]}"
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
        if getattr(s, "username", None):
            client.username_pw_set(s.username, getattr(s, "password", None))
        if self.endpoint.tls:
            e = self.endpoint  # files named in the URL first (the Connect dialog's certificates are OPC UA's)
            ca = e.ca or getattr(s, "server_certificate", None)
            cert, key = e.cert or getattr(s, "client_certificate", None), e.key or getattr(s, "client_key", None)
            client.tls_set(
                ca_certs=str(ca) if ca else None, certfile=str(cert) if cert else None, keyfile=str(key) if key else None
            )
        client.reconnect_delay_set(1, max(1, int(getattr(s, "max_backoff_s", 10.0))))
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _on_connect(self, client: mqtt.Client, _userdata: object, _flags: object, reason: Any, _props: object) -> None:
        if reason.is_failure:
            message = f"{self._url()}: the broker refused the connection ({reason})"
            if reason.value in (0x86, 0x87, 4, 5):  # bad user name or password, not authorised: the same every time
                self.failure = message
                self._report(LinkState.FAILED, message + " — not retried: check the login, then connect again")
                client.disconnect()
            else:
                self._report(LinkState.RECONNECTING, message)
            return
        self.counts.connects += 1
        topics = [(f"{SPB_NAMESPACE}/{g}/#", 0) for g in sorted(self._groups)] + [(t, 0) for t in self.json.topics()]
        if topics:
            client.subscribe(topics)
        now = time.time()
        with self._tracking:
            asked = self.tracker.rebirth_all(now, self._nodes)
        for group, edge in sorted(asked):  # births are not retained: ask for them to learn the values now
            self._rebirth(client, group, edge, now)
        self._report(LinkState.CONNECTED, self._url())

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: object) -> None:
        self._report(LinkState.RECONNECTING, f"{self._url()}: cannot reach the broker; retrying")

    def _on_disconnect(self, _client: mqtt.Client, _userdata: object, _flags: object, reason: Any, _props: object) -> None:
        if self._stopping or self.failure:
            return
        self.counts.disconnects += 1
        with self._tracking:
            stale = self.tracker.lost_link()
        now = time.time()
        self._report(LinkState.RECONNECTING, f"{self._url()}: the broker disconnected ({reason}); retrying")
        last = self.tracker.last_value  # (reported after the link's state: the values are stale because of it)
        updates = [Update(k, last(key), STALE, math.nan, now) for key in stale for k in self._metrics.get(key, ())]
        with self._lock:
            self._json_stale.update(self._json_last)
            json_last = dict(self._json_last)
        bound = self._json_bindings
        updates += [Update(k, value, STALE, math.nan, now) for a, (_t, value) in json_last.items() for k in bound[a]]
        self._hand_over(updates)

    def _on_message(self, client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        now = time.time()
        topic, payload = msg.topic, bytes(msg.payload)
        if topic.startswith(SPB_NAMESPACE + "/"):
            with self._tracking:
                out = self.tracker.handle(topic, payload, now)
            self._hand_over(self._sparkplug(client, out, now))
        else:
            found = self.json.handle(topic, payload)
            if found:
                with self._lock:
                    for a, value in found:
                        self._json_last[a] = (now, value)
                        self._json_stale.discard(a)
            self._hand_over([Update(k, value, 0, math.nan, now) for a, value in found for k in self._json_bindings.get(a, ())])

    def _sparkplug(self, client: mqtt.Client, out: Outcome, now: float) -> list[Update]:
        metrics = self._metrics
        updates = [Update(k, v.value, 0, v.timestamp, now) for v in out.values for k in metrics.get(v.key, ())]
        for key in out.stale:
            for k in metrics.get(key, ()):
                updates.append(Update(k, self.tracker.last_value(key), STALE, math.nan, now))
        for group, edge in out.rebirth:
            self._rebirth(client, group, edge, now)
        if out.birth_of is not None:
            born = set(out.born)
            for key, indices in metrics.items():
                if key[:3] == out.birth_of and key not in born:
                    where = "/".join(p for p in key[:3] if p)
                    for k in indices:
                        self._binding_failed(k, f"{SparkplugAddress(*key)}: not in the birth of {where}")
        return updates

    def _rebirth(self, client: mqtt.Client, group: str, edge: str, now: float) -> None:
        log.info("Sparkplug B: asking %s/%s for a rebirth", group, edge)
        client.publish(f"{SPB_NAMESPACE}/{group}/NCMD/{edge}", rebirth_payload(int(now * 1000)), qos=0)

    def _binding_failed(self, k: int, message: str) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self.on_binding_error, k, message)

    def _hand_over(self, updates: list[Update]) -> None:
        """Queue updates for the network loop: one delivery per burst of messages."""
        self._sync_counts()
        if not updates and not self._changed():
            return
        with self._lock:
            first = not self._pending and not self._reports
            self._pending.extend(updates)
        loop = self._loop
        if first and loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile (shutdown)
                loop.call_soon_threadsafe(self._deliver_soon)

    def _report(self, state: LinkState, message: str) -> None:
        with self._lock:
            first = not self._pending and not self._reports
            self._reports.append((state, message))
        loop = self._loop
        if first and loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._deliver_soon)

    def _sync_counts(self) -> None:
        c, t, j = self.counts, self.tracker.counts, self.json.counts
        c.messages = t.messages + j.messages
        c.malformed = t.malformed + j.malformed
        c.unknown_aliases, c.seq_gaps, c.data_before_birth = t.unknown_aliases, t.seq_gaps, t.data_before_birth
        c.births, c.deaths, c.rebirths_requested, c.json_missing = t.births, t.deaths, t.rebirths_requested, j.missing

    def _signature(self) -> tuple[int, ...]:
        c = self.counts
        return (c.connects, c.disconnects, c.malformed, c.unknown_aliases, c.seq_gaps, c.data_before_birth, c.births,
                c.deaths, c.rebirths_requested, c.json_missing)  # fmt: skip

    def _changed(self) -> bool:
        return self._signature() != self._reported

    # -- the network loop ----------------------------------------------------------------------------
    def _age_json(self) -> None:
        """JSON values not published again within ``stale_s`` become stale (once each, until the next)."""
        now, limit = time.time(), self.endpoint.stale_s
        with self._lock:
            old = [(a, v) for a, (t, v) in self._json_last.items() if now - t > limit and a not in self._json_stale]
            self._json_stale.update(a for a, _v in old)
        if old:
            log.info("MQTT %s: %d JSON values not published for %g s: stale", self._url(), len(old), limit)
            self.on_values([Update(k, v, STALE, math.nan, now) for a, v in old for k in self._json_bindings[a]])
        if self._loop is not None and not self._stopping:
            self._stale_timer = self._loop.call_later(min(1.0, limit / 2), self._age_json)

    def _deliver_soon(self) -> None:
        """Deliver what is pending, at most every ``DELIVER_S``: a thousand messages a second become twenty
        batches for the session (each batch costs the store's owner a queued call), as an OPC UA publish
        response does."""
        wait = self._last_delivery + DELIVER_S - time.monotonic()
        if wait <= 0:
            self._deliver()
        elif self._loop is not None:
            self._loop.call_later(wait, self._deliver)

    def _deliver(self) -> None:
        self._last_delivery = time.monotonic()
        with self._lock:
            batch, self._pending = self._pending, []
            reports, self._reports = self._reports, []
        for state, message in reports:
            self._set(state, message)
        if batch:
            self.on_values(batch)
        if not self._changed():
            return
        wait = self._last_report + REPORT_INTERVAL_S - time.monotonic()
        if wait > 0:  # reported a moment ago: once more when the interval is over
            if self._loop is not None and (self._timer is None or self._timer.cancelled()):
                self._timer = self._loop.call_later(wait, self._report_counts)
            return
        self._report_counts()

    def _report_counts(self) -> None:
        self._timer = None
        if self._changed():
            self._last_report = time.monotonic()
            self._reported = self._signature()
            snapshot = MqttCounts(**asdict(self.counts))
            self.counts_changed.emit(snapshot)
            problems = snapshot.problems()
            if problems != self._problems:  # one line a second at most, however fast bad messages come
                self._problems = problems
                log.warning("MQTT %s: %s so far", self._url(), problems)

    def _set(self, state: LinkState, message: str) -> None:
        self.state = state
        self.on_state(state, message)
