"""Shared fixtures. Per-user folders point into a temporary directory so tests never touch the real ones."""

from __future__ import annotations

import gc
import os
import shutil
import sys
import tempfile
import time
import weakref
from pathlib import Path

import pytest

# Before anything asks platformdirs or QSettings where the user's folders are.
_HOME = Path(tempfile.mkdtemp(prefix="floortwin-tests-"))
for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
    os.environ[var] = str(_HOME / var.lower())

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEMO = ROOT / "assets" / "factories" / "demo.json"


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture(autouse=True)
def _own_data_folder(tmp_path_factory):
    """Each test records into a data folder of its own (histories, logs, autosaves, plugins): a history the
    demo recorded in one test never shows in the next one's comparison or replay. (Not through monkeypatch:
    an autouse fixture's monkeypatch would be undone only after every other fixture, the test's own
    patches with it — after the window's leak check.)"""
    before = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("data"))
    yield
    if before is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = before


@pytest.fixture
def demo_path() -> Path:
    return DEMO


@pytest.fixture
def demo_text() -> str:
    return DEMO.read_text(encoding="utf-8")


@pytest.fixture
def settings(tmp_path):
    """Isolated application settings in a temporary INI file."""
    from PySide6 import QtCore

    from app.ui.settings import Settings

    return Settings(QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat))


def _finish_async_work(timeout_s: float = 5.0) -> None:
    """Let tasks on a qasync loop (a live link closing) finish, driving Qt's loop meanwhile."""
    import asyncio

    from PySide6 import QtWidgets

    loop = asyncio.events._get_running_loop()
    if loop is None:
        return
    deadline = time.monotonic() + timeout_s
    while any(not t.done() for t in asyncio.all_tasks(loop)) and time.monotonic() < deadline:
        QtWidgets.QApplication.processEvents()
        time.sleep(0.01)


def _referrer_chains(type_name: str, depth: int = 6) -> str:
    """Who keeps objects of ``type_name`` alive (for leak failures)."""
    import types

    out: list[str] = []
    targets = [o for o in gc.get_objects() if type(o).__name__ == type_name]

    def walk(obj, level, seen):
        if level > depth:
            return
        for ref in gc.get_referrers(obj):
            if id(ref) in seen or isinstance(ref, types.FrameType) or ref is targets:
                continue
            seen.add(id(ref))
            out.append("  " * level + f"<- {type(ref).__name__} {getattr(ref, '__qualname__', '')}")
            walk(ref, level + 1, seen)

    for t in targets:
        walk(t, 0, {id(targets)})
    return "\n".join(out[:60])


@pytest.fixture
def make_window(qtbot, settings):
    """Build main windows that are closed after the test; fails if a window or its 3D view leaks."""
    from PySide6 import QtCore, QtWidgets

    from app.ui.main_window import MainWindow

    made: list[MainWindow] = []

    def make(open_demo: bool = True, size=(1400, 900)) -> MainWindow:
        w = MainWindow(settings=settings)
        w.resize(*size)
        with qtbot.waitExposed(w):
            w.show()
        if open_demo:
            assert w.files.open_demo()
        w.view.render_now()
        made.append(w)
        return w

    yield make

    refs = [weakref.ref(w.view) for w in made]
    for window in made:
        if window.document is not None and window.document.dirty:  # no "save changes?" prompt at teardown
            window.document.replace(window.document.factory, window.document.path)
        shutil.rmtree(window.files.autosave_folder(), ignore_errors=True)  # no "recover?" question for the next test
        window.close()
        window.deleteLater()
    del window
    made.clear()
    _finish_async_work()
    QtWidgets.QApplication.processEvents()
    QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete.value)
    gc.collect()
    leaked_windows = [
        tw for tw in QtWidgets.QApplication.topLevelWidgets() if tw.isVisible() and type(tw).__name__ == "MainWindow"
    ]
    assert not leaked_windows, f"main windows still open after the test: {leaked_windows}"
    leaked_views = [r for r in refs if r() is not None]
    assert not leaked_views, "FactoryView objects survived their window:\n" + _referrer_chains("FactoryView")


@pytest.fixture
def qloop(qapp):
    """A qasync event loop joined to the Qt application (as the app runs), undone after the test."""
    import asyncio

    import qasync

    # pytest-qt drives the Qt loop (qtbot.wait*), so the asyncio loop is "already running" inside it.
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    # Let pending closes run, then put asyncio back as it was: later tests use asyncio.run().
    deadline = time.monotonic() + 3
    while any(not t.done() for t in asyncio.all_tasks(loop)) and time.monotonic() < deadline:
        qapp.processEvents()
    for task in asyncio.all_tasks(loop):
        task.cancel()
    qapp.processEvents()
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)


def run_to_done(qtbot, service, entry, timeout_ms: int = 60000):
    """Run a what-if scenario through the service and wait until its job is done (successfully)."""
    job = service.run(entry)
    qtbot.waitUntil(lambda: job.done, timeout=timeout_ms)
    assert job.status == "done", job.message
    return job


def comparison_of(qtbot, dock, entry, timeout_ms: int = 20000):
    """Compare a run scenario and return the comparison dialog the What-if dock opens for it."""
    opened: list = []
    dock.comparison_opened.connect(opened.append)
    dock.service.compare(entry)
    qtbot.waitUntil(lambda: bool(opened), timeout=timeout_ms)
    return opened[0]
