"""The network thread: coroutines run there, results come back, shutdown stops it."""

from __future__ import annotations

import asyncio
import threading

from app.live.netloop import NetworkLoop


def test_coroutines_run_on_the_network_thread_and_results_come_back():
    net = NetworkLoop("test-network")
    try:

        async def where():
            await asyncio.sleep(0.01)
            return threading.current_thread().name

        assert net.submit(where()).result(5) == "test-network"
        seen = []
        done = threading.Event()
        net.call(lambda: (seen.append(threading.current_thread().name), done.set()))
        assert done.wait(5) and seen == ["test-network"]

        async def main_awaits():  # another loop (the GUI's) awaits network work without blocking
            return await asyncio.wrap_future(net.submit(where()))

        assert asyncio.run(main_awaits()) == "test-network"
    finally:
        net.shutdown()
    assert not net.running


def test_shutdown_cancels_what_still_runs():
    net = NetworkLoop("test-network-2")
    cancelled = threading.Event()

    async def forever():
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    net.submit(forever())
    net.shutdown(timeout=5)
    assert cancelled.is_set() and not net.running
