"""A child process that ends with its parent: the plant simulator started by the app, a test or a benchmark.

Three independent signals, any one of which is enough:

* on Linux the kernel's parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGTERM)``), delivered the moment the
  parent dies, even by ``kill -9``;
* everywhere a watchdog thread that looks at the parent's pid twice a second;
* everywhere a pipe on standard input that the parent holds open: when the parent dies the operating system
  closes it and the child reads end-of-file.

The parent side is :func:`child_args` (what to append to the child's command line) and a stdin pipe kept
open for the child's life (``subprocess.PIPE``; ``QProcess`` opens one by default).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

log = logging.getLogger("floortwin.lifeline")

PR_SET_PDEATHSIG = 1
POLL_S = 0.5
GRACE_S = 10.0  # after asking to stop: how long a clean shutdown may take before the process is ended hard


def child_args(parent_pid: int | None = None) -> list[str]:
    """Command-line options that make a plant simulator started by this process end with it.

    >>> child_args(123)
    ['--parent-pid', '123', '--stdin-lifeline']
    """
    return ["--parent-pid", str(os.getpid() if parent_pid is None else parent_pid), "--stdin-lifeline"]


def die_with_parent(parent_pid: int) -> bool:
    """Ask the kernel to send SIGTERM to this process when its parent dies (Linux only).

    Returns True when armed (only when ``parent_pid`` is this process's parent). If it died before this call,
    SIGTERM is sent at once. Note that on Linux the "parent" is the thread that started the child: start the
    simulator from a thread that lives as long as its parent process (the main thread).
    """
    if not sys.platform.startswith("linux"):
        return False
    if os.getppid() != parent_pid:  # told to follow another process: the watchdog does that
        if not parent_alive(parent_pid, is_parent=False):
            os.kill(os.getpid(), signal.SIGTERM)
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        log.warning("cannot arm the parent-death signal: %s", os.strerror(ctypes.get_errno()))
        return False
    if os.getppid() != parent_pid:  # the parent died between fork and here: nobody will signal us
        os.kill(os.getpid(), signal.SIGTERM)
    return True


def parent_alive(parent_pid: int, is_parent: bool) -> bool:
    """Whether ``parent_pid`` still runs; ``is_parent``: it is this process's parent (then a changed
    parent pid means it died, which is immune to pid reuse)."""
    if is_parent and os.name == "posix":
        return os.getppid() == parent_pid
    if os.name == "nt":
        return _windows_alive(parent_pid)
    try:
        os.kill(parent_pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return not _zombie(parent_pid)


def watch(parent_pid: int | None, stdin_pipe: bool, on_lost: Callable[[str], object]) -> list[threading.Thread]:
    """Call ``on_lost(reason)`` once (from a worker thread) when the parent is gone; if the process is still
    alive ``GRACE_S`` later, end it. Returns the (daemon) threads started."""
    fired = threading.Event()

    def lost(reason: str) -> None:
        if fired.is_set():
            return
        fired.set()
        log.warning("ending: %s", reason)
        on_lost(reason)
        time.sleep(GRACE_S)
        os._exit(3)  # the clean shutdown hangs: never outlive the parent

    threads = []
    if parent_pid is not None:
        is_parent = os.getppid() == parent_pid

        def poll() -> None:
            while parent_alive(parent_pid, is_parent):
                time.sleep(POLL_S)
            lost(f"the parent process {parent_pid} has ended")

        threads.append(threading.Thread(target=poll, name="lifeline-pid", daemon=True))
    if stdin_pipe and sys.stdin is not None:

        def read() -> None:
            with contextlib.suppress(OSError, ValueError):
                while sys.stdin.buffer.read(1):  # the parent never writes; anything it does is ignored
                    pass
            lost("the parent closed the pipe on standard input")

        threads.append(threading.Thread(target=read, name="lifeline-stdin", daemon=True))
    for t in threads:
        t.start()
    return threads


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False


def _windows_alive(pid: int) -> bool:
    synchronize, wait_timeout = 0x00100000, 0x102
    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(synchronize, False, pid)
    if not handle:
        return False
    try:
        return kernel32.WaitForSingleObject(handle, 0) == wait_timeout
    finally:
        kernel32.CloseHandle(handle)
