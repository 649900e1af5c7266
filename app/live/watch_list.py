"""The watch list: any nodes the user picked, subscribed on the live session's connection beside the bound
signals, each with its latest value, status and source time. Kept per server in the preferences, and
subscribed anew at every (re)connection. No widgets.

Examples
--------
>>> from app.preferences import MemoryStore
>>> store = MemoryStore()
>>> save_watch_list(store, "opc.tcp://plc:4840/", [WatchItem("ns=2;s=T", "Temperature")])
>>> load_watch_list(store, " opc.tcp://plc:4840/"), load_watch_list(store, "opc.tcp://other:4840/")
([WatchItem(node_id='ns=2;s=T', name='Temperature')], [])
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import time
import weakref
from dataclasses import dataclass
from typing import Any

from asyncua import ua
from asyncua.common.subscription import Subscription
from psygnal import Signal

from app.live.client import LiveClient
from app.live.net_turns import InTurnOnNetwork
from app.live.node_attributes import status_text, time_text, value_text
from app.preferences import KeyValueStore

log = logging.getLogger(__name__)

#: The settings key of the watch lists, per endpoint (a JSON object: endpoint → [[node id, name], …]).
WATCH_LISTS_KEY = "live/watch_lists"
#: How often the server sends the watched nodes' changes (ms).
WATCH_PUBLISHING_MS = 500.0


@dataclass(frozen=True)
class WatchItem:
    node_id: str
    name: str


@dataclass(frozen=True)
class WatchReading:
    """A watched node's latest value as text, its status code and its source time (None: the server sent none)."""

    node_id: str
    value: str
    status: int
    source_ts: datetime.datetime | None
    received: float


def reading_cells(reading: WatchReading | None) -> tuple[str, str, str]:
    """(value, status, source time) as the watch list shows a node ("waiting…" before its first value)."""
    if reading is None:
        return "waiting…", "", ""
    return reading.value, status_text(reading.status), time_text(reading.source_ts)


def _lists(store: KeyValueStore) -> dict[str, list[WatchItem]]:
    try:
        saved = json.loads(str(store.value(WATCH_LISTS_KEY, "{}") or "{}"))
    except ValueError:  # a hand-edited settings file: nothing remembered
        return {}
    if not isinstance(saved, dict):
        return {}
    out: dict[str, list[WatchItem]] = {}
    for endpoint, rows in saved.items():
        if isinstance(rows, list):
            out[str(endpoint)] = [
                WatchItem(r[0], r[1] if isinstance(r[1], str) else r[0])
                for r in rows
                if isinstance(r, list) and len(r) == 2 and isinstance(r[0], str) and r[0]
            ]
    return out


def load_watch_list(store: KeyValueStore, endpoint: str) -> list[WatchItem]:
    """The nodes watched on ``endpoint`` last time."""
    return _lists(store).get(endpoint.strip(), [])


def save_watch_list(store: KeyValueStore, endpoint: str, items: list[WatchItem]) -> None:
    lists = _lists(store)
    if items:
        lists[endpoint.strip()] = list(items)
    else:
        lists.pop(endpoint.strip(), None)
    store.setValue(WATCH_LISTS_KEY, json.dumps({k: [[i.node_id, i.name] for i in v] for k, v in lists.items()}, sort_keys=True))


class WatchList(InTurnOnNetwork):
    """The nodes watched on the live session's server.

    Parameters
    ----------
    session
        The live session: its ``client`` (a ``LiveClient``) and network loop ``net`` at each (re)connection.
    store
        Where the lists are kept (the preferences), per endpoint.

    Signals
    -------
    items_changed()
        A node was added or removed, or another server's list was loaded (on the caller's thread).
    readings(list[WatchReading])
        New values (on the network thread).
    stopped()
        The link is down: the values shown are the last ones, no longer kept up to date (caller's thread).
    """

    items_changed = Signal()
    readings = Signal(object)
    stopped = Signal()

    def __init__(self, session: Any, store: KeyValueStore):
        self.session, self.store = session, store
        self.endpoint = ""
        self.items: list[WatchItem] = []
        self.generation = 0
        # On the network thread only: the running subscription, its client, node → (item, monitored handle).
        self._sub: Subscription | None = None
        self._client: LiveClient | None = None
        self._handles: dict[str, int] = {}
        self._ids: dict[ua.NodeId, str] = {}
        self._lock: asyncio.Lock | None = None  # one change of the subscription at a time, in the order asked

    # -- the list (the caller's thread) ----------------------------------------------------------------
    def use_endpoint(self, endpoint: str) -> None:
        """Show the list kept for ``endpoint`` (at a connection to it)."""
        if endpoint.strip() != self.endpoint:
            self.endpoint = endpoint.strip()
            self.items = load_watch_list(self.store, self.endpoint)
            self.items_changed.emit()

    def add(self, node_id: str, name: str) -> bool:
        """Watch ``node_id`` (False when it is watched already); subscribed at once when connected."""
        if any(i.node_id == node_id for i in self.items):
            return False
        item = WatchItem(node_id, name or node_id)
        self.items.append(item)
        self._save()
        self.items_changed.emit()
        self._on_net(self._monitor, [item], self.generation)
        return True

    def remove(self, node_id: str) -> None:
        before = len(self.items)
        self.items = [i for i in self.items if i.node_id != node_id]
        if len(self.items) != before:
            self._save()
            self.items_changed.emit()
            self._on_net(self._unmonitor, node_id, self.generation)

    def _save(self) -> None:
        if self.endpoint:
            save_watch_list(self.store, self.endpoint, self.items)

    # -- the subscription ------------------------------------------------------------------------------
    def attach(self) -> None:
        """The link is (again) up: subscribe the list on its connection (a new subscription each time)."""
        self.generation += 1
        self._on_net(self._subscribe, list(self.items), self.generation)

    def detach(self) -> None:
        """The link is gone or stopped: readings of the old subscription are dropped."""
        self.generation += 1
        self._on_net(self._drop, self.generation)
        self.stopped.emit()

    async def _subscribe(self, items: list[WatchItem], generation: int) -> None:
        await self._drop(generation)
        client = self.session.client
        if not isinstance(client, LiveClient) or client.client is None or generation != self.generation:
            return
        self._client = client
        try:
            self._sub = await client.client.create_subscription(WATCH_PUBLISHING_MS, _Handler(self, generation))
        except (ua.UaError, ConnectionError, OSError, asyncio.TimeoutError) as e:
            log.warning("watch list: cannot subscribe on %s: %s", client.settings.endpoint, str(e) or type(e).__name__)
            return
        await self._monitor(items, generation)

    async def _monitor(self, items: list[WatchItem], generation: int) -> None:
        sub, client = self._sub, self._client
        if sub is None or client is None or client.client is None or generation != self.generation:
            return
        bad: list[WatchReading] = []
        for item in items:
            try:
                nid = client.resolve(item.node_id)
                self._ids[nid] = item.node_id
                handle = await sub.subscribe_data_change(client.client.get_node(nid), queuesize=1)
            except (ua.UaStatusCodeError, ValueError) as e:
                code = e.code if isinstance(e, ua.UaStatusCodeError) else ua.StatusCodes.BadNodeIdInvalid
                log.info("watch list: %s cannot be monitored: %s", item.node_id, str(e) or type(e).__name__)
                bad.append(WatchReading(item.node_id, "", int(code), None, time.time()))
                continue
            except (ua.UaError, ConnectionError, OSError, asyncio.TimeoutError) as e:
                log.info("watch list: cannot monitor %s now: %s", item.node_id, str(e) or type(e).__name__)
                continue
            if isinstance(handle, int):
                self._handles[item.node_id] = handle
        if bad:
            self.readings.emit(bad)

    async def _unmonitor(self, node_id: str, generation: int) -> None:
        handle = self._handles.pop(node_id, None)
        sub = self._sub
        if handle is None or sub is None or generation != self.generation:
            return
        try:
            await sub.unsubscribe(handle)
        except (ua.UaError, ConnectionError, OSError, asyncio.TimeoutError) as e:  # gone with the session anyway
            log.debug("watch list: could not stop monitoring %s: %s", node_id, str(e) or type(e).__name__)

    async def _drop(self, _generation: int) -> None:
        sub, self._sub = self._sub, None
        self._handles, self._ids, self._client = {}, {}, None
        if sub is not None:
            try:
                await asyncio.wait_for(sub.delete(), 2.0)
            except (ua.UaError, ConnectionError, OSError, asyncio.TimeoutError) as e:  # the session is gone already
                log.debug("watch list: subscription not deleted: %s", str(e) or type(e).__name__)

    def _on_change(self, generation: int, nid: ua.NodeId, dv: ua.DataValue) -> None:
        node_id = self._ids.get(nid)
        if node_id is None or generation != self.generation:
            return
        value = dv.Value.Value if dv.Value is not None else None
        status = dv.StatusCode.value if dv.StatusCode is not None else 0
        self.readings.emit([WatchReading(node_id, value_text(value), status, dv.SourceTimestamp, time.time())])


class _Handler:
    """asyncua's subscription handler: hands each change to the watch list (on the network thread). Holds it
    weakly: asyncua may keep a closed session's subscription a while, and it must not keep the list (and the
    window behind it) alive."""

    def __init__(self, owner: WatchList, generation: int):
        self.owner, self.generation = weakref.ref(owner), generation

    def datachange_notification(self, node: Any, _val: Any, data: Any) -> None:
        owner = self.owner()
        if owner is not None:
            owner._on_change(self.generation, node.nodeid, data.monitored_item.Value)

    def status_change_notification(self, status: Any) -> None:
        log.info("watch list subscription: %s", status)
