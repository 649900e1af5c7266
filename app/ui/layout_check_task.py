"""The layout check of a freshly opened factory, on a worker thread.

Building a collision world takes about a second at 2,000 machines and two at 5,000: done on the GUI thread
at every open it froze the window. The check is request → compute → apply: the factory (an immutable
version) and the hulls go to a worker thread, which builds a pybullet world of its own, checks, closes it
and hands the verdicts back to the GUI thread through psygnal's queued connection (no Qt call on the
worker thread). A newer request (another file opened) makes older results stale.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Mapping

from psygnal import Signal, emit_queued
from PySide6 import QtCore

from app.model.factory import Factory
from app.physics.world import MeshAsset, check_layout, hulls_of
from app.ui.gui_thread import connect_on_gui

log = logging.getLogger(__name__)


def _check(factory: Factory, meshes: Mapping[str, MeshAsset]) -> list:
    return check_layout(factory, hulls_of(meshes))


class _Reports:
    done = Signal(int, object)  # request number, future: emitted on the worker thread


class LayoutCheckTask(QtCore.QObject):
    """Checks layouts in the background, one at a time; ``finished`` carries the latest request's verdicts.

    Signals
    -------
    finished(object)
        The verdicts (a list of ``Verdict``) of the most recent request.
    failed(str)
        The most recent request could not be checked (why, in words).
    """

    finished = QtCore.Signal(object)
    failed = QtCore.Signal(str)

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="layout-check")
        self._request = 0
        self._closed = False
        self.running = False
        self._reports = _Reports()
        connect_on_gui(self._reports.done, self._on_done)

    def start(self, factory: Factory, meshes: Mapping[str, MeshAsset]) -> int:
        """Check ``factory`` (an immutable version: later edits make new ones) with its loaded ``meshes``
        (their collision shapes are made on the worker too); returns the request number."""
        self._request += 1
        number = self._request
        self.running = True
        future = self._pool.submit(_check, factory, dict(meshes))
        future.add_done_callback(lambda f: self._reports.done.emit(number, f))
        return number

    def cancel(self) -> None:
        """Forget the running request (its result will be ignored)."""
        self._request += 1
        self.running = False

    def wait_idle(self, timeout_s: float = 60.0) -> None:
        """Block until every request handed to the worker has ended, then deliver its report here."""
        self._pool.submit(lambda: None).result(timeout_s)
        emit_queued()

    def close(self) -> None:
        self._closed = True
        self.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _on_done(self, number: int, future: concurrent.futures.Future) -> None:
        if self._closed or number != self._request:
            return  # stale: another factory was opened meanwhile (or the window closed)
        self.running = False
        try:
            verdicts = future.result()
        except Exception as e:  # a broken hull or a pybullet error: say so, never crash the window
            log.error("layout check failed: %s", e)
            self.failed.emit(str(e))
            return
        self.finished.emit(verdicts)
