"""What happens when floortwin meets an error nobody handled: nothing is lost, and the user is told.

``install_crash_handler`` routes uncaught exceptions (GUI thread and other threads) to ``report_crash``:

1. the unsaved layout is written to its autosave file (recovered at the next open, like after a crash);
2. a crash report — the traceback, versions, plugins and the end of the log — is written to the log folder;
3. a dialog says what happened and where both are, and offers to keep working or to quit.
"""

from __future__ import annotations

import logging
import platform
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from psygnal import Signal
from PySide6 import QtCore, QtWidgets

import app
from app.paths import user_log_dir
from app.plugins import PluginManager
from app.ui.gui_thread import connect_on_gui

log = logging.getLogger(__name__)


def versions() -> dict[str, str]:
    """floortwin and the libraries it stands on, for the About box and crash reports."""
    out = {"floortwin": app.__version__, "Python": platform.python_version(), "Qt": QtCore.qVersion()}
    for name, module in (("PySide6", "PySide6"), ("VTK", "vtkmodules"), ("pyvista", "pyvista"), ("numpy", "numpy")):
        try:
            out[name] = getattr(__import__(module), "__version__", "?")
        except ImportError:
            out[name] = "missing"
    import importlib.metadata as md

    for dist in ("asyncua", "pybullet", "trimesh", "pyqtgraph", "pydantic"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = "missing"
    out["system"] = f"{platform.system()} {platform.release()} ({platform.machine()})"
    return out


def write_crash_report(exc: BaseException, folder: Path | None = None, plugins: PluginManager | None = None) -> Path:
    """A text file with the traceback, the versions, the plugins and the last 200 lines of the log."""
    folder = folder or user_log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"crash-{time.strftime('%Y%m%d-%H%M%S')}.txt"
    lines = [f"floortwin crash report, {time.strftime('%Y-%m-%d %H:%M:%S')}", ""]
    lines += ["".join(traceback.format_exception(type(exc), exc, exc.__traceback__)), "Versions:"]
    lines += [f"  {k}: {v}" for k, v in versions().items()]
    found = plugins.plugins.values() if plugins is not None else ()
    lines += ["", "Plugins:"] + [f"  {p.name} {p.version}: {p.state} {p.error}".rstrip() for p in found]
    log_file = folder / "floortwin.log"
    if log_file.exists():
        tail = log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-200:]
        lines += ["", "Log (last lines):", *tail]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class CrashDialog(QtWidgets.QMessageBox):
    def __init__(self, exc: BaseException, report: Path | None, saved: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("crash_dialog")
        self.setIcon(QtWidgets.QMessageBox.Icon.Critical)
        self.setWindowTitle("floortwin hit an unexpected error")
        self.setText(f"<b>{type(exc).__name__}</b>: {exc}")
        where = f"A crash report is in {report}." if report else "The crash report could not be written."
        self.setInformativeText(f"{saved}\n{where}\nYou can keep working, or quit.")
        self.setDetailedText("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        self.keep = self.addButton("Keep Working", QtWidgets.QMessageBox.ButtonRole.AcceptRole)
        self.quit = self.addButton("Quit", QtWidgets.QMessageBox.ButtonRole.DestructiveRole)
        self.setDefaultButton(self.keep)
        self.buttonClicked.connect(self._clicked)

    def _clicked(self, button) -> None:
        if button is self.quit:
            QtWidgets.QApplication.instance().quit()


def report_crash(exc: BaseException, window=None, ask: bool = True) -> tuple[Path | None, str]:
    """Save what can be saved, write the report, and (``ask``) show the dialog. Returns (report, saved)."""
    # the traceback as text: a log record holding the exception would keep its frames (and windows) alive
    log.critical("unexpected error:\n%s", "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip())
    saved = "There were no unsaved layout changes."
    if window is not None and getattr(window, "document", None) is not None and window.document.dirty:
        try:
            window.files.autosave_now()
            saved = "Your unsaved layout was saved; it is offered back when the factory is opened again."
        except Exception as e:  # the report must go on even if this fails
            saved = f"The unsaved layout could not be saved: {e}"
    try:
        report = write_crash_report(exc, plugins=getattr(window, "plugins", None))
    except OSError as e:
        log.error("cannot write the crash report: %s", e)
        report = None
    if ask and QtWidgets.QApplication.instance() is not None:
        dialog = CrashDialog(exc, report, saved, window)
        if window is not None:
            window.crash_dialog = dialog
        dialog.show()
    return report, saved


class _Crashes:
    """An uncaught exception, on its way from the thread that raised it to the GUI thread."""

    raised = Signal(object)


_handlers: list[_Crashes] = []


def install_crash_handler(window_of: Callable[[], object]) -> None:
    """Send uncaught exceptions to ``report_crash`` (on the GUI thread, whichever thread raised)."""
    previous = sys.excepthook

    # A worker thread has no Qt event loop of its own: the report is queued to the GUI thread (a timer
    # started on the failing thread would never fire, and the crash would pass unreported).
    crashes = _Crashes()
    connect_on_gui(crashes.raised, lambda exc: report_crash(exc, window_of()))
    _handlers.append(crashes)  # kept for as long as the hooks are installed
    on_gui_thread = crashes.raised.emit

    def hook(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            previous(exc_type, exc, tb)
            return
        exc.__traceback__ = tb
        on_gui_thread(exc)

    def thread_hook(args) -> None:
        if args.exc_value is not None:
            on_gui_thread(args.exc_value)

    sys.excepthook = hook
    threading.excepthook = thread_hook
