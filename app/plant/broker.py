"""A local MQTT broker as a process of its own (mosquitto, when installed): for the demo plant to publish
to (the plant simulator's ``--mqtt auto`` starts one as its child) and for the tests. Never required:
``find_broker`` says None when there is none.

>>> broker = start_broker(0) if find_broker() else None  # doctest: +SKIP
>>> broker.url  # doctest: +SKIP
'mqtt://127.0.0.1:41883'
"""

from __future__ import annotations

import ctypes
import ctypes.util
import getpass
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

#: Where Debian puts mosquitto (not on a user's PATH: it is a daemon in /usr/sbin).
_PLACES = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/opt/homebrew/sbin/mosquitto")


def find_broker() -> Path | None:
    """The mosquitto executable, None when it is not installed."""
    found = shutil.which("mosquitto")
    if found:
        return Path(found)
    return next((Path(p) for p in _PLACES if Path(p).is_file()), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Broker:
    """A running broker process on 127.0.0.1."""

    process: subprocess.Popen
    port: int
    folder: tempfile.TemporaryDirectory

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self, timeout_s: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout_s)
        self.folder.cleanup()


def _die_with_parent() -> None:
    """In the child before mosquitto runs: the kernel ends it when the process that started it dies (Linux),
    so a killed plant simulator or test leaves no broker behind."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


def start_broker(port: int = 0, timeout_s: float = 10.0, listener_config: str = "allow_anonymous true\n") -> Broker:
    """Start mosquitto on 127.0.0.1:``port`` (0: a free one), nothing persisted; returns once it accepts
    connections. ``listener_config``: the listener's settings (default: anonymous, no TLS; a test of a
    secured broker gives ``cafile``/``certfile``/``keyfile``, ``require_certificate``, ``password_file``).
    ``FileNotFoundError`` when mosquitto is not installed, ``TimeoutError`` when it does not listen in time."""
    exe = find_broker()
    if exe is None:
        raise FileNotFoundError("mosquitto is not installed (Debian/Ubuntu: apt-get install mosquitto)")
    port = port or free_port()
    folder = tempfile.TemporaryDirectory(prefix="floortwin-broker-")
    conf = Path(folder.name) / "mosquitto.conf"
    conf.write_text(
        # ``user``: run as whoever started it (as root mosquitto would become "mosquitto", who may not read the files)
        f"user {getpass.getuser()}\nper_listener_settings true\nlistener {port} 127.0.0.1\n{listener_config}persistence false\n"
        "max_queued_messages 100000\nlog_dest stderr\nlog_type error\nlog_type warning\n",
        encoding="utf-8",
    )
    log_path = Path(folder.name) / "mosquitto.log"
    with open(log_path, "wb") as log_file:  # a file, not a pipe: nobody reads it while it runs
        process = subprocess.Popen(
            [str(exe), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=log_file, preexec_fn=_die_with_parent
        )
    broker = Broker(process, port, folder)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = log_path.read_text(encoding="utf-8", errors="replace")
            folder.cleanup()
            raise OSError(f"mosquitto exited at start ({process.returncode}): {err.strip()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return broker
        except OSError:
            time.sleep(0.05)
    broker.stop()
    raise TimeoutError(f"mosquitto did not listen on 127.0.0.1:{port} within {timeout_s:g} s")
