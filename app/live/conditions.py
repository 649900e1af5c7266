"""The server's own alarms (OPC UA Alarms & Conditions): the conditions it reports as events on its Server
object, kept current (active, acknowledged, severity, message), and Acknowledge sent back to it. Subscribed
on the live session's connection at every (re)connection, with a ConditionRefresh so that alarms already
active show at once. No widgets: the alarms dock's Server alarms section shows ``conditions``.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
import weakref
from dataclasses import dataclass
from typing import Any

from asyncua import ua
from asyncua.common.subscription import Subscription
from psygnal import Signal

from app.live.client import LiveClient, explain
from app.live.net_turns import InTurnOnNetwork
from app.live.node_attributes import status_text
from app.ua.values import node_id

log = logging.getLogger(__name__)

#: How often the server sends events (ms).
EVENT_PUBLISHING_MS = 250.0

#: The event fields asked for: (name, browse path from the event type); ConditionId is the condition's node.
_FIELDS = (
    ("EventId", ("EventId",)),
    ("SourceName", ("SourceName",)),
    ("Time", ("Time",)),
    ("Message", ("Message",)),
    ("Severity", ("Severity",)),
    ("ConditionName", ("ConditionName",)),
    ("Retain", ("Retain",)),
    ("Active", ("ActiveState", "Id")),
    ("Acked", ("AckedState", "Id")),
)


@dataclass(frozen=True)
class ServerCondition:
    """One condition as the server last reported it."""

    condition_id: str  # the condition's node (what Acknowledge is called on)
    source: str
    name: str
    message: str
    severity: int  # 1–1000
    active: bool
    acked: bool
    time: datetime.datetime | None
    event_id: bytes  # the last event's id (Acknowledge names it)
    retain: bool = True  # the server still deems it of interest (active, or waiting for an acknowledgement)

    @property
    def state_short(self) -> str:
        """The state as a table cell shows it.

        >>> ServerCondition("c", "s", "n", "m", 500, True, True, None, b"").state_short
        'active · acked'
        """
        return ("active" if self.active else "inactive") + (" · acked" if self.acked else " · unacked")

    @property
    def state_text(self) -> str:
        """The condition's state in words.

        >>> ServerCondition("c", "s", "n", "m", 500, True, False, None, b"").state_text
        'active, unacknowledged'
        """
        return ("active" if self.active else "inactive") + (", acknowledged" if self.acked else ", unacknowledged")


def event_filter() -> ua.EventFilter:
    """The fields of every condition event, and only condition events (OfType ConditionType)."""
    selects = []
    for _name, path in _FIELDS:
        op = ua.SimpleAttributeOperand()
        op.TypeDefinitionId = node_id(ua.ObjectIds.ConditionType)
        op.BrowsePath = [ua.QualifiedName(p, 0) for p in path]
        op.AttributeId = ua.AttributeIds.Value
        selects.append(op)
    cid = ua.SimpleAttributeOperand()
    cid.TypeDefinitionId = node_id(ua.ObjectIds.ConditionType)
    cid.AttributeId = ua.AttributeIds.NodeId
    selects.append(cid)
    where = ua.ContentFilter()
    element = ua.ContentFilterElement()
    element.FilterOperator = ua.FilterOperator.OfType
    operand = ua.LiteralOperand()
    operand.Value = ua.Variant(node_id(ua.ObjectIds.ConditionType))
    element.FilterOperands = [operand]
    where.Elements = [element]
    result = ua.EventFilter()
    result.SelectClauses = selects
    result.WhereClause = where
    return result


def condition_of(fields: list[ua.Variant], portable: Any = None) -> ServerCondition | None:
    """A condition from one event's fields (in ``event_filter``'s order); None for an event without a condition."""
    values = [f.Value if isinstance(f, ua.Variant) else f for f in fields]
    named = dict(zip([n for n, _p in _FIELDS], values[: len(_FIELDS)], strict=True))
    cid = values[len(_FIELDS)] if len(values) > len(_FIELDS) else None
    if not isinstance(cid, ua.NodeId):
        return None
    message = named["Message"]
    name = named["ConditionName"]
    return ServerCondition(
        portable(cid) if portable is not None else cid.to_string(),
        str(named["SourceName"] or "").split(":", 1)[-1],
        (name.Text if isinstance(name, ua.LocalizedText) else str(name or "")) or "",
        (message.Text if isinstance(message, ua.LocalizedText) else str(message or "")) or "",
        int(named["Severity"] or 0),
        bool(named["Active"]),
        bool(named["Acked"]),
        named["Time"] if isinstance(named["Time"], datetime.datetime) else None,
        bytes(named["EventId"] or b""),
        bool(named["Retain"]) if named["Retain"] is not None else (bool(named["Active"]) or not bool(named["Acked"])),
    )


class ServerAlarms(InTurnOnNetwork):
    """The server's conditions over the live session's connection.

    Signals
    -------
    changed(list[ServerCondition])
        The conditions the server retains now, most severe first (on the network thread).
    acknowledged(str, str)
        A condition's name and what became of an Acknowledge ("Good" or the server's status) (network thread).
    """

    changed = Signal(object)
    acknowledged = Signal(str, str)

    def __init__(self, session: Any):
        self.session = session
        self.generation = 0
        self.conditions: dict[str, ServerCondition] = {}  # network thread only
        self._sub: Subscription | None = None
        self._lock: asyncio.Lock | None = None

    def attach(self) -> None:
        """The link is (again) up: subscribe to the Server object's condition events, then ConditionRefresh."""
        self.generation += 1
        self._on_net(self._subscribe, self.generation)

    def detach(self) -> None:
        self.generation += 1
        self._on_net(self._drop)

    def acknowledge(self, condition: ServerCondition, comment: str) -> None:
        """Send Acknowledge for ``condition``'s last event, with ``comment`` (``acknowledged`` tells the outcome)."""
        self._on_net(self._acknowledge, condition, comment)

    def _client(self) -> LiveClient | None:
        client = self.session.client
        return client if isinstance(client, LiveClient) and client.client is not None else None

    async def _subscribe(self, generation: int) -> None:
        await self._drop()
        client = self._client()
        if client is None or client.client is None or generation != self.generation:
            return
        try:
            sub = await client.client.create_subscription(EVENT_PUBLISHING_MS, _Handler(self, generation, client.portable))
            self._sub = sub
            # Our own filter: asyncua's would browse the whole event type hierarchy first.
            await sub.subscribe_events(client.client.nodes.server, evfilter=event_filter(), queuesize=1000)
        except (ua.UaError, ConnectionError, OSError, asyncio.TimeoutError) as e:
            log.info("%s reports no alarms and conditions (%s)", client.settings.endpoint, str(e) or type(e).__name__)
            return
        try:  # the conditions already active are sent again, between RefreshStart and RefreshEnd events
            await client.client.get_node(node_id(ua.ObjectIds.ConditionType)).call_method(
                node_id(ua.ObjectIds.ConditionType_ConditionRefresh), ua.Variant(sub.subscription_id, ua.VariantType.UInt32)
            )
        except ua.uaerrors.BadNothingToDo:  # a server with no conditions to send again (the embedded plant)
            log.debug("%s: ConditionRefresh: no conditions to refresh", client.settings.endpoint)
        except (ua.UaError, ConnectionError, OSError, asyncio.TimeoutError) as e:
            why = str(e) or type(e).__name__  # text, not the exception: a kept log record would hold its frames
            log.info("%s: ConditionRefresh failed (%s): alarms show from their next change", client.settings.endpoint, why)

    async def _drop(self) -> None:
        sub, self._sub = self._sub, None
        if self.conditions:
            self.conditions = {}
            self.changed.emit([])
        if sub is not None:
            try:
                await asyncio.wait_for(sub.delete(), 2.0)
            except (ua.UaError, ConnectionError, OSError, asyncio.TimeoutError) as e:  # gone with the session
                log.debug("server alarms: subscription not deleted: %s", str(e) or type(e).__name__)

    async def _acknowledge(self, condition: ServerCondition, comment: str) -> None:
        client = self._client()
        if client is None or client.client is None:
            self.acknowledged.emit(condition.name, "not connected to a server")
            return
        user = client.settings.username or "anonymous"
        try:
            await asyncio.wait_for(
                client.client.get_node(client.resolve(condition.condition_id)).call_method(
                    node_id(ua.ObjectIds.AcknowledgeableConditionType_Acknowledge),
                    ua.Variant(condition.event_id, ua.VariantType.ByteString),
                    ua.Variant(ua.LocalizedText(comment), ua.VariantType.LocalizedText),
                ),
                10.0,
            )
            outcome = "Good"
        except ua.UaStatusCodeError as e:
            outcome = status_text(int(e.code))
        except (ua.UaError, ValueError, ConnectionError, OSError, asyncio.TimeoutError) as e:
            outcome = explain(e, condition.condition_id)
        level = logging.INFO if outcome == "Good" else logging.WARNING
        log.log(level, "acknowledge %s (%s) by %s, %r: %s", condition.name, condition.source, user, comment, outcome)
        self.acknowledged.emit(condition.name, outcome)

    def _on_event(self, generation: int, condition: ServerCondition) -> None:
        if generation != self.generation:
            return
        retained = dict(self.conditions)
        if condition.retain and (condition.active or not condition.acked):
            retained[condition.condition_id] = condition
        else:  # of no more interest: the server says so (Retain), or inactive and acknowledged
            retained.pop(condition.condition_id, None)
        self.conditions = retained
        self.changed.emit(sorted(retained.values(), key=lambda c: (-c.severity, c.name)))


class _Handler:
    """asyncua's event handler (network thread); holds the alarms weakly."""

    def __init__(self, owner: ServerAlarms, generation: int, portable: Any):
        self.owner, self.generation, self.portable = weakref.ref(owner), generation, portable

    def event_notification(self, event: Any) -> None:
        owner = self.owner()
        fields = getattr(event, "event_fields", None)  # the raw fields, in event_filter's order
        if owner is None or fields is None:
            return
        condition = condition_of(fields, self.portable)
        if condition is not None and condition.event_id:
            owner._on_event(self.generation, condition)

    def status_change_notification(self, status: Any) -> None:
        log.info("server alarms subscription: %s (%s)", status, time.time())
