"""The network's own thread: an asyncio event loop that the OPC UA client lives on, off the GUI thread.

Decoding a publish response of thousands of values takes a fair fraction of a second in asyncua (pure
Python); on the GUI's loop that would freeze the window for as long. Here it runs beside it: the GUI
submits coroutines (``submit`` gives a concurrent future its qasync loop can await through
``asyncio.wrap_future``) and the client reports back through the live session's signals, which the GUI
receives on its own thread (``app.live.session``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class NetworkLoop:
    """An asyncio loop running forever on a daemon thread."""

    def __init__(self, name: str = "network"):
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self.loop.is_closed()

    def submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future:
        """Run ``coro`` on the network thread; the result comes back through the returned future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, fn: Callable[..., object], *args: object) -> None:
        """Call ``fn(*args)`` on the network thread soon."""
        self.loop.call_soon_threadsafe(fn, *args)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Cancel what still runs there and stop the thread (at application exit)."""
        if not self.running:
            return

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.submit(cancel_all()).result(timeout)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)


_shared: NetworkLoop | None = None
_lock = threading.Lock()


def network_loop() -> NetworkLoop:
    """The application's network thread (started on first use)."""
    global _shared
    with _lock:
        if _shared is None or not _shared.running:
            _shared = NetworkLoop("opcua-network")
        return _shared


def shutdown_network_loop(timeout: float = 5.0) -> None:
    global _shared
    with _lock:
        loop, _shared = _shared, None
    if loop is not None:
        loop.shutdown(timeout)
