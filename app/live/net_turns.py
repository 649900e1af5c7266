"""A service's work on the live session's network loop, one piece at a time, in the order it was asked for
(a subscription changed twice in a row never sees the second change run before the first)."""

from __future__ import annotations

import asyncio
from typing import Any


class InTurnOnNetwork:
    """Mixin: ``_on_net(fn, *args)`` runs ``await fn(*args)`` on ``self.session.net`` (nothing when the
    session has no network loop), each after the one before has finished."""

    session: Any
    _lock: asyncio.Lock | None = None

    def _on_net(self, fn: Any, *args: Any) -> None:
        net = self.session.net
        if net is not None:
            net.submit(self._in_turn(fn, *args))

    async def _in_turn(self, fn: Any, *args: Any) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()  # made on the network loop, where it is used
        async with self._lock:
            await fn(*args)
