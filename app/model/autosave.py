"""Autosave: unsaved edits are written now and then beside the user's data, so a crash loses little.

One autosave file per factory file (named after the file's path), written atomically like a save; it is
removed when the factory is saved or closed without changes. On open, an autosave newer than the file
means the last session ended with unsaved edits: the application offers to recover them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from app.model.atomic import atomic_write_text
from app.model.factory import Factory
from app.model.io import dumps_factory, loads_factory
from app.model.problems import FactoryFileError, Problem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Autosave:
    path: Path  # the autosave file
    original: Path | None  # the factory file it belongs to (None: never saved)
    mtime: float


def autosave_path(folder: Path, original: str | os.PathLike[str] | None, name: str) -> Path:
    """Where the autosave of ``original`` (or of an unsaved factory called ``name``) goes."""
    key = str(Path(original).resolve()) if original is not None else f"untitled:{name}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in (Path(original).stem if original else name))[:40]
    return folder / f"{stem}-{digest}.autosave.json"


def write_autosave(folder: Path, factory: Factory, original: str | os.PathLike[str] | None) -> Path:
    """Write the autosave (atomically); returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = autosave_path(folder, original, factory.name)
    atomic_write_text(target, dumps_factory(factory))
    meta = {"original": str(Path(original).resolve()) if original is not None else None}
    atomic_write_text(target.with_suffix(".meta"), json.dumps(meta))
    return target


def find_autosave(folder: Path, original: str | os.PathLike[str]) -> Autosave | None:
    """The autosave of ``original`` if one is newer than the file itself."""
    target = autosave_path(folder, original, "")
    if not target.exists():
        return None
    mtime = target.stat().st_mtime
    try:
        if Path(original).stat().st_mtime >= mtime:
            return None  # saved after the autosave: nothing to recover
    except OSError:
        pass  # the file is gone: the autosave is all there is
    return Autosave(target, Path(original), mtime)


def load_autosave(autosave: Autosave) -> Factory:
    """The factory in an autosave file (FactoryFileError if it cannot be used)."""
    try:
        text = autosave.path.read_text(encoding="utf-8")
    except OSError as e:
        raise FactoryFileError(autosave.path.name, [Problem("", f"cannot read the autosave: {e.strerror or e}")]) from None
    return loads_factory(text, autosave.path.name)


def discard_autosave(folder: Path, original: str | os.PathLike[str] | None, name: str) -> None:
    target = autosave_path(folder, original, name)
    for p in (target, target.with_suffix(".meta")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            log.warning("cannot remove autosave %s: %s", p, e)
