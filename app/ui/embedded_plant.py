"""The embedded plant simulator of ``--demo``: a child process serving OPC UA on a free loopback port."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6 import QtCore

from app.paths import DEMO_FACTORY, ROOT
from app.plant.server import DEMO_ARGS, SERVING, command

log = logging.getLogger(__name__)


class EmbeddedPlant(QtCore.QObject):
    """Runs the plant simulator for a factory file and reports when it serves.

    Signals
    -------
    started(str)
        The endpoint URL, once the server listens.
    failed(str)
        Why it could not start or why it stopped.
    """

    started = QtCore.Signal(str)
    failed = QtCore.Signal(str)

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.process = QtCore.QProcess(self)
        self.process.setProcessChannelMode(QtCore.QProcess.ProcessChannelMode.SeparateChannels)
        self.process.readyReadStandardOutput.connect(self._on_stdout)
        self.process.finished.connect(self._on_finished)
        self.process.errorOccurred.connect(self._on_error)
        self.endpoint: str | None = None
        self.args: tuple[str, ...] = ()
        self._stopping = False
        self._stderr = ""

    def start(self, factory: Path, extra_args: tuple[str, ...] = ()) -> None:
        """Start serving ``factory``; ``extra_args`` go to the simulator (speed, fault injection). The bundled
        demo without extra arguments is driven by ``DEMO_ARGS`` (a busy first minute, the same every time)."""
        if not extra_args and factory.resolve() == DEMO_FACTORY.resolve():
            extra_args = (*DEMO_ARGS, "--mqtt", "auto")  # and Sparkplug B to a broker of its own, when there is one
        self.args = tuple(extra_args)  # what the simulator was told (its logins among them)
        program, *args = command(factory, 0, extra_args)  # the child picks a free port: no race for one
        env = QtCore.QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), env.value("PYTHONPATH")])))
        self.process.setProcessEnvironment(env)
        self.process.setWorkingDirectory(str(ROOT))
        self._stopping = False
        self.endpoint = None
        log.info("starting the plant simulator for %s", factory.name)
        self.process.start(program, args)

    def is_running(self) -> bool:
        return self.process.state() != QtCore.QProcess.ProcessState.NotRunning

    def stop(self, timeout_ms: int = 3000) -> None:
        """Stop the simulator (SIGTERM, then kill after ``timeout_ms``)."""
        if not self.is_running():
            return
        self._stopping = True
        self.process.terminate()
        if not self.process.waitForFinished(timeout_ms):
            self.process.kill()
            self.process.waitForFinished(timeout_ms)

    def _on_stdout(self) -> None:
        text = bytes(self.process.readAllStandardOutput()).decode(errors="replace")
        for line in text.splitlines():
            if "MQTT" in line or "Sparkplug" in line:  # the demo's broker: where it publishes, or why not
                log.info("%s", line.removeprefix("plantsim: "))
        m = SERVING.search(text)
        if m:
            self.endpoint = m.group(3)
            log.info("plant simulator serves %s variables of %s machines on %s", m.group(1), m.group(2), self.endpoint)
            self.started.emit(self.endpoint)

    def _on_finished(self, code: int, _status) -> None:
        self._stderr += bytes(self.process.readAllStandardError()).decode(errors="replace")
        if not self._stopping:
            tail = self._stderr.strip().splitlines()[-1:] or [f"exit code {code}"]
            log.error("plant simulator stopped: %s", tail[0])
            self.failed.emit(tail[0])

    def _on_error(self, error) -> None:
        if error == QtCore.QProcess.ProcessError.FailedToStart:
            log.error("cannot start the plant simulator: %s", self.process.errorString())
            self.failed.emit(self.process.errorString())
