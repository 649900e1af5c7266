"""docs/make_images.py, the script that regenerates the documentation screenshots: its command line and the
sessions it plans (cheap checks; the script itself drives the real window and runs under ``make docs-images``)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "docs" / "make_images.py"


def _module():
    spec = importlib.util.spec_from_file_location("make_images", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_images", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_help_lists_the_images_and_options():
    out = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    for word in ("--out", "--only", "--size", "--theme", "--matrix", "layout-check", "whatif-comparison"):
        assert word in out.stdout


def test_an_unknown_image_is_a_usage_error_naming_the_choices():
    out = subprocess.run([sys.executable, str(SCRIPT), "--only", "demo,nope"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "nope" in out.stderr and "heat-material" in out.stderr


def test_every_image_in_the_docs_is_made_and_the_matrix_covers_two_sizes_and_both_themes(tmp_path):
    mi = _module()
    referenced = set()
    for md in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        text = md.read_text(encoding="utf-8")
        referenced |= {part.split(".png")[0].rsplit("/", 1)[-1] for part in text.split("images/")[1:] if ".png" in part[:40]}
    assert referenced == set(mi.IMAGES)

    sessions = mi.plan(mi.IMAGES, tmp_path / "out", (1600, 1000), "light", None)
    shots = [s for _stage, by_image in sessions for s in by_image.values()]
    assert sorted(s.path.name for s in shots) == sorted(f"{i}.png" for i in mi.IMAGES)
    assert len(sessions) == len(mi.IMAGES) - 1  # the what-if run gives both of its images

    sessions = mi.plan(mi.IMAGES, tmp_path / "out", (1600, 1000), "light", tmp_path / "m")
    names = {s.path.name for _stage, by_image in sessions for s in by_image.values()}
    assert len(names) == len(mi.IMAGES) * 4
    assert "demo-1366x768-dark.png" in names and "whatif-comparison-1920x1080-light.png" in names
