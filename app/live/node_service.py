"""One node at a time, as UaExpert does it: its attributes read, a value written — on the network thread, over
the live session's connection, with the results announced on psygnal signals (a view connects them with
``app.ui.gui_thread.connect_on_gui``). No widgets."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from asyncua import ua
from psygnal import Signal

from app.live.client import LiveClient, explain
from app.live.node_attributes import read_node_attributes
from app.live.node_write import WriteOutcome, write_node

log = logging.getLogger(__name__)

#: A read or a write that takes longer than this is given up (the link is probably gone).
REQUEST_TIMEOUT_S = 10.0


class NodeService:
    """Reads and writes nodes over the live session's client.

    Parameters
    ----------
    session
        The live session (``app.live.session.LiveSession``): its running ``client`` and network loop ``net``
        are taken at each request.

    Signals (emitted on the network thread)
    -------
    attributes_read(int, NodeAttributes)
        The request number ``read`` returned, and what the node is.
    read_failed(int, str)
        The request number, and why the node could not be read.
    written(WriteOutcome)
        A write's outcome: the server's status, or why floortwin did not send it.
    """

    attributes_read = Signal(int, object)
    read_failed = Signal(int, str)
    written = Signal(object)

    def __init__(self, session: Any):
        self.session = session
        self.number = 0

    def _client(self) -> LiveClient | None:
        client = self.session.client
        return client if isinstance(client, LiveClient) and client.client is not None and self.session.net else None

    @property
    def offline_reason(self) -> str:
        """Why no node can be read or written now."""
        if self.session.client is not None and not isinstance(self.session.client, LiveClient):
            return "this link is not to an OPC UA server (node attributes and writes are OPC UA's)"
        return "not connected to a server"

    @property
    def connected(self) -> bool:
        return self._client() is not None

    @property
    def write_user(self) -> str | None:
        """The login writes go out as (None: anonymous or offline)."""
        client = self._client()
        return client.settings.username if client is not None else None

    def read(self, node_id: str) -> int:
        """Read ``node_id``'s attributes in the background; returns the request's number (0: not connected,
        ``read_failed`` says so at once)."""
        self.number += 1
        number = self.number
        client = self._client()
        if client is None:
            self.read_failed.emit(number, self.offline_reason)
            return number
        self.session.net.submit(self._read(client, number, node_id))
        return number

    async def _read(self, client: LiveClient, number: int, node_id: str) -> None:
        try:
            nid = client.resolve(node_id)
            if client.client is None:
                raise ConnectionError("not connected")
            attrs = await asyncio.wait_for(read_node_attributes(client.client, nid, node_id), REQUEST_TIMEOUT_S)
        except (ua.UaError, ValueError, ConnectionError, OSError, asyncio.TimeoutError) as e:
            self.read_failed.emit(number, explain(e, node_id))
            return
        self.attributes_read.emit(number, attrs)

    def write(self, node_id: str, text: str) -> None:
        """Write ``text`` to ``node_id`` in the background (``written`` tells the outcome)."""
        client = self._client()
        if client is None:
            self.written.emit(_not_sent(node_id, text, self.offline_reason))
            return
        self.session.net.submit(self._write(client, node_id, text))

    async def _write(self, client: LiveClient, node_id: str, text: str) -> None:
        try:
            outcome = await asyncio.wait_for(write_node(client, node_id, text), REQUEST_TIMEOUT_S)
        except (ua.UaError, ValueError, ConnectionError, OSError, asyncio.TimeoutError) as e:
            outcome = _not_sent(node_id, text, f"{explain(e, node_id)}; nothing known to be written")
            log.warning("write %s: %s", node_id, outcome.message)
        self.written.emit(outcome)


def _not_sent(node_id: str, text: str, why: str) -> WriteOutcome:
    return WriteOutcome(node_id, node_id, "", "", text, None, why, time.time())
