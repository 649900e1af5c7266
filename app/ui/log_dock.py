"""The log dock: every log record of the application, coloured by level, safe from any thread."""

from __future__ import annotations

import contextlib
import logging

from psygnal import Signal
from PySide6 import QtGui, QtWidgets

from app.ui.gui_thread import connect_on_gui

_LEVEL_COLOURS = {logging.WARNING: "#c77c00", logging.ERROR: "#d03030", logging.CRITICAL: "#d03030"}


class QtLogHandler(logging.Handler):
    """A logging handler that announces each record (level, formatted line) with a psygnal signal, on the
    thread that logged it; the dock receives them on the GUI thread (``app.ui.gui_thread``)."""

    record = Signal(int, str)

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(RuntimeError):  # the dock is gone (shutdown)
            self.record.emit(record.levelno, self.format(record))


class LogDock(QtWidgets.QDockWidget):
    """Shows log messages; keeps the last ``max_lines``."""

    def __init__(self, parent: QtWidgets.QWidget | None = None, max_lines: int = 5000):
        super().__init__("Log", parent)
        self.setObjectName("dock_log")
        self.text = QtWidgets.QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(max_lines)
        self.text.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont))
        self.setWidget(self.text)
        self.handler = QtLogHandler()
        connect_on_gui(self.handler.record, self.append)
        logging.getLogger().addHandler(self.handler)

    def append(self, level: int, line: str) -> None:
        colour = _LEVEL_COLOURS.get(level)
        if colour:
            self.text.appendHtml(f'<span style="color:{colour}">{_escape(line)}</span>')
        else:
            self.text.appendPlainText(line)

    def detach(self) -> None:
        """Stop receiving log records (before the dock is destroyed)."""
        logging.getLogger().removeHandler(self.handler)

    def plain_text(self) -> str:
        return self.text.toPlainText()


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
