"""Where floortwin finds its bundled files and keeps the user's.

Bundled files (meshes, the demo factory, styles) live in ``assets/`` and ``resources/`` beside the ``app``
package in a source checkout, or inside the frozen bundle of a packaged build (PyInstaller's
``sys._MEIPASS``). Per-user folders come from platformdirs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs

APP_NAME = "floortwin"


def _bundle_root() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    return Path(frozen) if frozen else Path(__file__).resolve().parent.parent


ROOT = _bundle_root()
ASSETS_DIR = ROOT / "assets"
RESOURCES_DIR = ROOT / "resources"
DEMO_FACTORY = ASSETS_DIR / "factories" / "demo.json"


def user_cache_dir() -> Path:
    """Per-user cache folder (mesh caches); created on demand."""
    p = Path(platformdirs.user_cache_dir(APP_NAME))
    p.mkdir(parents=True, exist_ok=True)
    return p


def user_log_dir() -> Path:
    """Per-user log folder; created on demand."""
    p = Path(platformdirs.user_log_dir(APP_NAME))
    p.mkdir(parents=True, exist_ok=True)
    return p


def user_data_dir() -> Path:
    """Per-user data folder (autosaves, history); created on demand."""
    p = Path(platformdirs.user_data_dir(APP_NAME))
    p.mkdir(parents=True, exist_ok=True)
    return p
