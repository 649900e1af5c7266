"""One background search at a time, on its own thread: what the layout and scenario optimiser services share.

A service subclasses `SearchJob`, names its work (``what``, for messages and the thread) and the bad-input
errors its search raises, and starts a run with ``_submit(work)``: ``work()`` runs on the job's thread and
returns the result. Its signals are emitted there (a GUI connects through ``app.ui.gui_thread.connect_on_gui``):

- ``finished(result)`` — the result (a search cancelled part-way may still give what it found);
- ``failed(str)`` — why nothing came out: the bad input's own message, a resource that cannot be reached
  (an ``OSError``, when the service names it in ``unreachable``), or a fault (logged with its traceback);
  nothing is applied either way;
- ``cancelled()`` — cancelled where no result can be given.

Examples
--------
>>> class Squares(SearchJob):
...     what = "square search"
...     def start(self, n):
...         return self._submit(lambda: n * n)
>>> job = Squares()
>>> got = []
>>> _ = job.finished.connect(got.append)
>>> job.start(7).result(), got
(None, [49])
>>> job.close()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ClassVar

from psygnal import Signal, SignalInstance

from app.sim.engine import Cancelled
from app.sim.model import SimInputError

__all__ = ["SearchJob"]

log = logging.getLogger(__name__)


class SearchJob:
    """One search at a time on its own thread, with Cancel; ``close`` stops it and lets go of its listeners."""

    #: What the search is, in words ("layout search"): thread name and fault messages.
    what: ClassVar[str] = "search"
    #: Exceptions that mean bad input: their message is what ``failed`` says, with nothing added.
    input_errors: ClassVar[tuple[type[Exception], ...]] = (SimInputError,)
    #: What an ``OSError`` means for this search ("cannot run the simulations"); None: a fault like any other.
    unreachable: ClassVar[str | None] = None

    progressed = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=self.what.replace(" ", "-"))
        self._cancel = threading.Event()
        self._running: Future[None] | None = None

    @property
    def running(self) -> bool:
        return self._running is not None and not self._running.done()

    def cancel(self) -> None:
        """Stop the running search as soon as it can."""
        self._cancel.set()

    def close(self) -> None:
        """Cancel, disconnect every listener and wait for the thread to end."""
        self.cancel()
        for name in dir(type(self)):
            signal = getattr(self, name, None)
            if isinstance(signal, SignalInstance):
                signal.disconnect()
        self._pool.shutdown(wait=True)

    def _submit(self, work: Callable[[], Any]) -> Future[None]:
        """Run ``work()`` on the job's thread and report how it ended; RuntimeError when one runs."""
        if self.running:
            raise RuntimeError(f"a {self.what} is already running: cancel it first")
        self._cancel.clear()
        self._running = self._pool.submit(self._run, work)
        return self._running

    def _run(self, work: Callable[[], Any]) -> None:
        try:
            result = work()
        except self.input_errors as e:
            self.failed.emit(str(e))
            return
        except Cancelled:
            self.cancelled.emit()
            return
        except Exception as e:  # a fault in the search: said, logged with its traceback, nothing applied
            if isinstance(e, OSError) and self.unreachable:  # e.g. a cluster address that cannot be reached
                self.failed.emit(f"{self.unreachable}: {e}")
                return
            log.exception("%s failed", self.what)
            self.failed.emit(f"the {self.what} failed: {e}")
            return
        self.finished.emit(result)
