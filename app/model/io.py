"""Loading and saving factory files.

``load_factory`` turns any bad input into a ``FactoryFileError`` whose message names the file, the JSON
path and what was expected; it never raises anything else for bad content. ``save_factory`` writes
atomically, and what it writes loads back to an equal ``Factory`` and re-saves to the same bytes.

Examples
--------
>>> from app.model.io import load_factory, save_factory
>>> from app.paths import DEMO_FACTORY
>>> f = load_factory(DEMO_FACTORY)
>>> len(f.machines) >= 40
True
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.model.atomic import atomic_write_text
from app.model.checks import check_factory
from app.model.factory import FORMAT, FORMAT_VERSION, Factory
from app.model.problems import FactoryFileError, Problem, problems_from_validation, show_value
from app.paths import ASSETS_DIR

#: Factory files larger than this are refused before reading (20,000 machines take about 15 MB).
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Prefix of asset paths that point into floortwin's bundled ``assets/`` folder.
BUILTIN_PREFIX = "builtin:"


def load_factory(path: str | os.PathLike[str]) -> Factory:
    """Read, parse, validate and cross-check a factory file.

    Raises
    ------
    FactoryFileError
        For anything wrong with the file: missing, too large, not UTF-8, not JSON, another format or
        version, a schema violation, a broken reference.
    """
    p = Path(path)
    source = p.name or str(p)
    try:
        size = p.stat().st_size
        if p.is_dir():
            raise FactoryFileError(source, [Problem("", "is a folder, not a factory file")])
    except FileNotFoundError:
        raise FactoryFileError(source, [Problem("", f"file not found ({p})")]) from None
    except OSError as e:
        raise FactoryFileError(source, [Problem("", f"cannot read the file: {e.strerror}")]) from None
    if size > MAX_FILE_BYTES:
        raise FactoryFileError(
            source,
            [
                Problem(
                    "",
                    f"file is {size / 1e6:.1f} MB; factory files are at most {MAX_FILE_BYTES / 1e6:.0f} MB "
                    "— is this the right file?",
                )
            ],
        )
    try:
        data = p.read_bytes()
    except OSError as e:
        raise FactoryFileError(source, [Problem("", f"cannot read the file: {e.strerror}")]) from None
    return loads_factory(data, source)


def loads_factory(data: bytes | str, source: str = "<factory>") -> Factory:
    """Parse and validate factory JSON given as bytes or text (see ``load_factory``)."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise FactoryFileError(source, [Problem("", f"not UTF-8 text (byte {e.start}); is this a factory file?")]) from None
    else:
        text = data
    if not text.strip():
        raise FactoryFileError(source, [Problem("", "file is empty")])
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise FactoryFileError(source, [Problem("", f"not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}")]) from None
    except RecursionError:
        raise FactoryFileError(source, [Problem("", "not valid JSON: nested too deeply")]) from None
    _check_header(raw, source)
    try:
        factory = Factory.model_validate(raw, strict=True)
    except ValidationError as e:
        raise FactoryFileError(source, problems_from_validation(e)) from None
    problems = check_factory(factory)
    if problems:
        raise FactoryFileError(source, problems)
    return factory


def _check_header(raw: Any, source: str) -> None:
    if not isinstance(raw, dict):
        raise FactoryFileError(source, [Problem("", f"expected a JSON object at the top level, got {show_value(raw)}")])
    fmt = raw.get("format")
    if fmt != FORMAT:
        got = "no format field" if fmt is None else f"format {show_value(fmt)}"
        raise FactoryFileError(source, [Problem("format", f'expected "{FORMAT}", got {got} — is this a floortwin factory file?')])
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise FactoryFileError(source, [Problem("version", f"expected a whole number, got {show_value(version)}")])
    if version > FORMAT_VERSION:
        raise FactoryFileError(
            source,
            [
                Problem(
                    "version",
                    f"this file is format version {version}, written by a newer floortwin; "
                    f"this one reads up to version {FORMAT_VERSION}",
                )
            ],
        )
    if version < 1:
        raise FactoryFileError(source, [Problem("version", f"unsupported format version {version}")])


def dumps_factory(factory: Factory) -> str:
    """The file text of a factory: stable key order, 2-space indent, defaults left out, newline at end."""
    body = factory.model_dump(mode="json", exclude_defaults=True)
    body.pop("format", None)
    body.pop("version", None)
    doc = {"format": FORMAT, "version": FORMAT_VERSION, **body}
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def save_factory(factory: Factory, path: str | os.PathLike[str]) -> None:
    """Write a factory file atomically (the old file stays intact if anything fails)."""
    atomic_write_text(path, dumps_factory(factory))


#: Other named places meshes may come from (``plugin-NAME:file.stl``): a plugin's folder.
_ASSET_ROOTS: dict[str, Path] = {}


def register_asset_root(prefix: str, folder: Path) -> None:
    """Let asset paths ``PREFIX:file`` name files in ``folder`` (plugins ship their meshes this way)."""
    _ASSET_ROOTS[prefix] = Path(folder)


def unregister_asset_root(prefix: str) -> None:
    """Forget a ``PREFIX:`` root (its plugin failed or was closed)."""
    _ASSET_ROOTS.pop(prefix, None)


def resolve_asset_path(asset_path: str, factory_path: str | os.PathLike[str] | None) -> Path:
    """Where an asset file is: ``builtin:…`` in the bundled assets, ``plugin-NAME:…`` in a plugin's folder,
    else relative to the factory file."""
    if asset_path.startswith(BUILTIN_PREFIX):
        return ASSETS_DIR / asset_path[len(BUILTIN_PREFIX) :]
    prefix, sep, rest = asset_path.partition(":")
    if sep and prefix in _ASSET_ROOTS:
        return _ASSET_ROOTS[prefix] / rest
    p = Path(asset_path)
    if p.is_absolute() or factory_path is None:
        return p
    return Path(factory_path).resolve().parent / p


def rebase_assets(factory: Factory, old_path: str | os.PathLike[str] | None, new_path: str | os.PathLike[str]) -> Factory:
    """A copy of ``factory`` whose relative asset paths still point at the same files once saved at ``new_path``."""
    if old_path is None:
        return factory
    new_dir = Path(new_path).resolve().parent
    assets = {}
    for key, ref in factory.assets.items():
        if ref.path.startswith(BUILTIN_PREFIX) or Path(ref.path).is_absolute():
            assets[key] = ref
            continue
        target = resolve_asset_path(ref.path, old_path)
        try:
            rel = os.path.relpath(target, new_dir)
        except ValueError:  # another drive on Windows
            rel = str(target)
        assets[key] = ref.model_copy(update={"path": Path(rel).as_posix()})
    return factory.model_copy(update={"assets": assets})
