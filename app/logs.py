"""Logging set-up: a rotating file in the user's log folder plus the terminal."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from app.paths import user_log_dir


def setup_logging(console_level: str = "WARNING") -> Path | None:
    """Send INFO and above to ``floortwin.log`` in the user log folder and ``console_level`` to stderr.

    Returns the log file path (None if the folder is not writable; logging then goes to stderr only).
    """
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    # asyncua logs every broken connection with tracebacks; floortwin's live client reports those failures
    # itself, in words a user can act on.
    for name in ("asyncua", "asyncua.client", "asyncua.server", "asyncua.common", "asyncua.uaprotocol"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    # qasync announces at INFO which Qt binding it chose ("Forcing use of PySide6…"): noise for a user.
    logging.getLogger("qasync").setLevel(logging.WARNING)
    fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    console = logging.StreamHandler()
    console.setLevel(console_level.upper())
    console.setFormatter(fmt)
    root.addHandler(console)
    try:
        path = user_log_dir() / "floortwin.log"
        file_handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError as e:
        logging.getLogger(__name__).warning("cannot write the log file: %s", str(e))
        return None
    file_handler.setFormatter(fmt)
    root.addHandler(file_handler)
    return path
