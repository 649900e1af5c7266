"""Where a save goes: straight to the open file, or to a place the user chooses (and where that choice
starts). Never into the bundled demo or a read-only place (an installed package under /opt, a share mounted
read-only): a copy goes where the user can write.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def can_write(path: Path) -> bool:
    """Whether ``path`` (an existing file, or a new one in an existing folder) can be written."""
    return os.access(path, os.W_OK) if path.exists() else os.access(path.parent, os.W_OK)


def must_choose_place(path: Path | None, demo: Path) -> bool:
    """Whether Save must ask where: the factory has no file yet, it is the bundled ``demo``, or its file
    cannot be written.

    >>> must_choose_place(None, Path("demo.json"))
    True
    """
    return path is None or path == demo.resolve() or not can_write(path)


def save_as_start(current: Path | None, demo: Path, documents: Callable[[], Path], read_only: Path | None = None) -> Path:
    """Where Save As starts: beside the current file where that folder is writable, otherwise (no file yet,
    the demo, a read-only folder, the folder of ``read_only`` that just refused a save) in the user's
    ``documents()`` folder; with the current file's name ("factory.json" for a new one)."""
    name = current.name if current else "factory.json"
    folder = current.parent if current and current != demo.resolve() and can_write(current) else None
    if folder is None or (read_only is not None and folder == read_only.parent):
        folder = documents()
    return folder / name
