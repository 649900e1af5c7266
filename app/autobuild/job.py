"""A discovery run in the background: its own connection to the server, on the network thread, with progress
and cancel, its outcome on psygnal signals (a view connects them with ``app.ui.gui_thread.connect_on_gui``)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading

from asyncua import Client, ua
from psygnal import Signal

from app.autobuild.discovery import Cancelled, Discovery, Limits, discover
from app.live.netloop import network_loop

log = logging.getLogger(__name__)


class DiscoveryJob:
    """Finds the machines of the server at an endpoint (anonymous login, no security).

    Signals (emitted on the network thread)
    -------
    progress(int, str)
        Nodes browsed so far, and that in words.
    finished(Discovery)
        What was found.
    failed(str)
        Why nothing was found (cannot connect, cancelled, the server refused the browse).
    """

    progress = Signal(int, str)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, limits: Limits | None = None, connect_timeout_s: float = 10.0, request_timeout_s: float = 60.0):
        self.limits = limits or Limits()
        #: A server busy answering (a PLC, node-opcua collecting a node's 100,000 references) is waited for longer
        #: than one that does not answer the connection at all.
        self.connect_timeout_s, self.request_timeout_s = connect_timeout_s, request_timeout_s
        self._cancel = threading.Event()
        self.future: concurrent.futures.Future | None = None

    @property
    def running(self) -> bool:
        return self.future is not None and not self.future.done()

    def start(self, endpoint: str) -> None:
        """Discover ``endpoint``'s machines in the background (a running discovery is cancelled first)."""
        self.cancel()
        self._cancel = threading.Event()
        self.future = network_loop().submit(self._run(endpoint, self._cancel))

    def cancel(self) -> None:
        """Stop the running discovery (``failed`` says it was cancelled)."""
        self._cancel.set()

    async def _run(self, endpoint: str, cancel: threading.Event) -> None:
        try:
            result = await self.run(endpoint, cancel)
        except Cancelled:
            self.failed.emit("cancelled: nothing was built")
            return
        except (ua.UaError, OSError, asyncio.TimeoutError, ConnectionError, ValueError) as e:
            log.info("discovery of %s failed: %s", endpoint, e)
            self.failed.emit(f"could not browse {endpoint}: {e or type(e).__name__}")
            return
        self.finished.emit(result)

    async def run(self, endpoint: str, cancel: threading.Event | None = None) -> Discovery:
        """The discovery itself, awaited on the caller's loop (tests call this)."""
        cancel = cancel or threading.Event()
        # asyncua's watchdog probes the server every watchdog_intervall and gives up the connection when a probe
        # takes longer than that (1 s by default): a server busy collecting a big node's references for two
        # seconds would be dropped mid-browse. Probe as patiently as a request is waited for.
        client = Client(endpoint, timeout=self.request_timeout_s, watchdog_intervall=self.request_timeout_s)
        await asyncio.wait_for(client.connect(), self.connect_timeout_s)
        try:
            return await discover(client, self.limits, cancel.is_set, self.progress.emit)
        finally:
            with contextlib.suppress(ua.UaError, OSError, asyncio.TimeoutError, ConnectionError):
                await asyncio.wait_for(client.disconnect(), 5)
