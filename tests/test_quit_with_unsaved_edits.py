"""Issue 16 F13: after a what-if run, a comparison and a refused deployment, a quit with unsaved edits (a
recalibration) opened "Save the unsaved changes?" — off screen in a headless session — and SIGTERM then left
the process, its plant simulator and its workers running. SIGTERM dismisses the question and ends the app as
it ends it otherwise: exit 0, nothing left behind, the edits in the autosave."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import psutil
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.gui

DRIVER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    import app.cli as cli
    from PySide6 import QtCore, QtWidgets

    def steps(w):
        while not w.console.live_ready():
            yield 0.5
        dock, service = w.whatif_dock, w.whatif
        entry = service.new_scenario("current", name="As it is")
        quick = {{"replications": 2, "warmup_s": 600.0, "horizon_s": 3600.0}}
        service.update_scenario(entry, entry.scenario.model_copy(update=quick))
        job = service.run(entry)
        while not job.done:
            yield 0.5
        opened = []
        dock.comparison_opened.connect(opened.append)
        service.compare(entry)
        while not opened:
            yield 0.5
        dock.select(entry)
        dock.deploy_button.click()  # nothing to write: the dialog says so
        machine = w.document.factory.machines[0]
        w.document.set_poses({{machine.id: machine.pose.model_copy(update={{"x_m": machine.pose.x_m + 1.0}})}})
        print("DIRTY", w.document.dirty, flush=True)
        # said from inside the question's own event loop, once it is up
        asked = lambda: print("ASKED", type(QtWidgets.QApplication.activeModalWidget()).__name__, flush=True)
        QtCore.QTimer.singleShot(1000, asked)
        QtWidgets.QApplication.quit()  # asks whether to save: nobody answers

    orig = cli._run_loop

    def hooked(qapp, window):
        gen = steps(window)

        def step():
            try:
                QtCore.QTimer.singleShot(int(next(gen) * 1000), step)
            except StopIteration:
                pass

        QtCore.QTimer.singleShot(500, step)
        return orig(qapp, window)

    if __name__ == "__main__":
        cli._run_loop = hooked
        sys.exit(cli.main(["--demo", "--plant-speed", "20"]))
    """
)


def test_sigterm_ends_the_app_while_quits_save_question_is_open(tmp_path):
    script = tmp_path / "drive.py"
    script.write_text(DRIVER.format(root=str(ROOT)))
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_DATA_HOME=str(tmp_path / "data"))
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT
    )
    try:
        me = psutil.Process(proc.pid)
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:  # until the quit has asked its question
            lines.append(line)
            if line.startswith("ASKED"):
                break
        assert lines and lines[-1] == "ASKED QMessageBox\n", "".join(lines)
        assert proc.poll() is None  # the question holds the app: nobody answers it
        children = me.children(recursive=True)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, "".join(lines) + out
        _gone, alive = psutil.wait_procs(children, timeout=15)
        assert not alive, [p.cmdline() for p in alive]
        autosaved = [p for p in (tmp_path / "data").rglob("*") if "autosave" in p.parts and p.is_file()]
        assert autosaved, ("".join(lines) + out, [str(p) for p in (tmp_path / "data").rglob("*")])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

