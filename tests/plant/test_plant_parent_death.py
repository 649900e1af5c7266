"""The plant simulator a process starts ends with that process: killed (-9), crashed or gone otherwise."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from app.plant import lifeline
from app.plant.server import free_port
from tests.conftest import DEMO, ROOT

BOUND_S = 30.0  # generous: a busy machine with two cores; normally well under a second


def _gone(pid: int) -> bool:
    """The process has ended (a zombie waiting for its reaper counts as ended: it serves nothing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait(predicate, what: str) -> None:
    deadline = time.monotonic() + BOUND_S
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {BOUND_S:.0f} s")
        time.sleep(0.1)


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def _plant_child_of(pid: int) -> int:
    """The pid of the ``--plantsim`` child of process ``pid`` (waits for it to appear)."""
    found: list[int] = []

    def look() -> bool:
        for c in _children(pid):
            with open(f"/proc/{c}/cmdline", "rb") as f:
                if b"--plantsim" in f.read():
                    found.append(c)
                    return True
        return False

    _wait(look, "the plant simulator was not started")
    return found[0]


def _kill_parent_and_check(parent: subprocess.Popen, child: int, port: int) -> None:
    assert _listening(port) and not _gone(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    _wait(lambda: _gone(child), f"the plant simulator (pid {child}) did not end with its parent")
    _wait(lambda: not _listening(port), f"port {port} is still served after its parent was killed")


def _listening_ports(pid: int) -> list[int]:
    """TCP ports process ``pid`` listens on (from /proc: its socket inodes in the kernel's TCP table)."""
    inodes = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # gone
        return []
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                    ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _python(code: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env
    )


def _serving_plant(reap: list[int], port: int, *extra: str, stdin: int) -> subprocess.Popen:
    """The plant simulator as its own process on ``port`` with ``extra`` options, once it says it serves."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.plant.server", "--factory", str(DEMO), "--port", str(port), *extra],
        cwd=ROOT,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    reap.append(proc.pid)
    assert "serving" in proc.stdout.readline()
    return proc


@pytest.fixture
def reap():
    """Kill whatever a failed test left running."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if not _gone(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_plant_spawned_by_a_script_ends_when_the_script_is_killed(reap):
    port = free_port()
    parent = _python(
        f"""
        import time
        from pathlib import Path
        from app.plant.server import spawn
        proc = spawn(Path({str(DEMO)!r}), {port})
        print(proc.pid, flush=True)
        time.sleep(600)
        """
    )
    reap.append(parent.pid)
    child = int(parent.stdout.readline())
    reap.append(child)
    _kill_parent_and_check(parent, child, port)


@pytest.mark.gui
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_apps_embedded_plant_ends_when_the_app_is_killed(reap, tmp_path):
    """``main.py --demo`` as a real process (the user's app), then ``kill -9``: no plant left serving."""
    env = dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    app = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "--demo", "--size", "800x600", "--quit-after", "300"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    reap.append(app.pid)
    child = _plant_child_of(app.pid)
    reap.append(child)
    ports: list[int] = []  # the app lets its plant choose a free port (--port 0)
    _wait(lambda: bool(ports.extend(_listening_ports(child)) or ports), "the embedded plant did not serve")
    _kill_parent_and_check(app, child, ports[0])


def test_closing_the_stdin_pipe_ends_the_plant(reap):
    """The portable signal alone: the parent lives on but lets go of the pipe (Windows, macOS)."""
    port = free_port()
    proc = _serving_plant(reap, port, "--stdin-lifeline", stdin=subprocess.PIPE)
    proc.stdin.close()
    assert proc.wait(BOUND_S) == 0  # a clean stop
    assert not _listening(port)


def test_the_watchdog_ends_the_plant_when_the_watched_pid_ends(reap):
    """The pid watchdog alone: the plant watches a process that is not its parent (no parent-death signal)."""
    watched = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    reap.append(watched.pid)
    port = free_port()
    proc = _serving_plant(reap, port, "--parent-pid", str(watched.pid), stdin=subprocess.DEVNULL)
    assert proc.poll() is None  # watching a live process that is not its parent: keeps serving
    watched.kill()
    watched.wait(10)
    assert proc.wait(BOUND_S) == 0
    assert not _listening(port)


def test_child_args_name_this_process():
    assert lifeline.child_args() == ["--parent-pid", str(os.getpid()), "--stdin-lifeline"]
