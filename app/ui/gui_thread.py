"""The one way a report from a worker or network thread reaches the GUI thread.

Services (Qt-free) announce results with psygnal signals, on whatever thread the work ran. A view connects
to them with :func:`connect_on_gui`: psygnal queues the call (``connect(thread="main")``) and a timer of
``psygnal.qt`` on the GUI thread runs the queued calls every ``QUEUE_MS``. The worker thread never touches
Qt. (superqt's ``ensure_main_thread`` makes a QObject on the calling thread for every call, which crashes
PySide6 6.11 under a live plant's rate of reports: tests/ui/test_live_threads.py.)

A signal emitted on the GUI thread itself calls its slot at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psygnal import SignalInstance
from psygnal.qt import start_emitting_from_queue

#: How often the GUI thread runs the calls queued for it (ms): the longest a report waits.
QUEUE_MS = 10


def deliver_queued_calls() -> None:
    """Start running calls queued for the GUI thread (idempotent; call on the GUI thread)."""
    start_emitting_from_queue(QUEUE_MS)


def connect_on_gui(signal: SignalInstance, slot: Callable[..., Any]) -> None:
    """Call ``slot`` on the GUI thread whenever ``signal`` is emitted, on whichever thread."""
    deliver_queued_calls()
    signal.connect(slot, thread="main")
