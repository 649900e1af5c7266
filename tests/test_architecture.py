"""The layers stay apart: domain code imports no GUI, 3D or physics library; the scene knows no widgets."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_import_linter_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    r = subprocess.run([str(lint)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    contracts = len(_pyproject()["tool"]["importlinter"]["contracts"])
    assert f"Contracts: {contracts} kept, 0 broken" in r.stdout and "Layers:" in r.stdout


def _loaded_after(code: str, watched: tuple[str, ...]) -> list[str]:
    """Which of ``watched`` modules a fresh interpreter has loaded after running ``code``."""
    probe = f"import sys; {code}; print([m for m in {watched!r} if m in sys.modules])"
    r = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60, env={"PATH": "/usr/bin:/bin"}
    )
    assert r.returncode == 0, r.stderr
    return ast.literal_eval(r.stdout.strip())


def test_domain_runs_without_qt_or_vtk_loaded():
    code = (
        "import app.model, app.assets, app.model.io, app.model.edits, app.scene.merge, app.scene.picking,"
        " app.live.netloop, app.heat.grid, app.sim.engine, app.sim.runner, app.sim.kpis, app.sim.results, app.plant.server;"
        "from app.model.io import load_factory; from app.paths import DEMO_FACTORY; load_factory(DEMO_FACTORY)"
    )
    assert _loaded_after(code, ("PySide6", "vtkmodules", "pyvista", "pybullet")) == []


def test_ruff_lint_is_clean():
    ruff = Path(sys.executable).parent / "ruff"
    r = subprocess.run(
        [str(ruff), "check", "app", "tests", "bench", "main.py", "assets/tools", "plugins"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr


# The Qt- and VTK-free packages are what `make lint` type-checks: pyproject's [tool.mypy] lists them.


def test_domain_packages_type_check_cleanly():
    r = subprocess.run(
        [sys.executable, "-m", "mypy"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_collision_world_runs_without_qt_or_vtk_loaded():
    assert _loaded_after("import app.physics.world", ("PySide6", "vtkmodules", "pyvista")) == []


def _pyproject() -> dict:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _top_level_packages() -> set[str]:
    app = ROOT / "app"
    out = {f"app.{p.name}" for p in app.iterdir() if (p / "__init__.py").is_file()}
    return out | {f"app.{p.stem}" for p in app.glob("*.py") if p.stem not in ("__init__", "__main__")}


def test_every_package_has_its_place_in_the_layers():
    """Issue 15, item 5: a package that is in no layer would escape the layering unnoticed."""
    contracts = _pyproject()["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    named = {name.strip().strip("()") for layer in layers for name in layer.replace(":", "|").split("|")}
    assert _top_level_packages() <= named, sorted(_top_level_packages() - named)


def test_every_qt_free_package_is_type_checked():
    """The packages the no-GUI contract covers are the ones mypy checks (both lists live in pyproject)."""
    settings = _pyproject()["tool"]
    qt_free = next(c for c in settings["importlinter"]["contracts"] if c["name"].startswith("Domain code"))["source_modules"]
    typed = {f.removesuffix(".py").replace("/", ".") for f in settings["mypy"]["files"]}
    assert set(qt_free) & _top_level_packages() <= typed, sorted(set(qt_free) & _top_level_packages() - typed)


def test_the_views_that_talk_to_services_are_type_checked():
    """Issue 15, item 6: the UI is typed where it crosses into services. Those views are in mypy's files and
    their errors are reported (the rest of app/ui and app/scene, reached through imports, is not reported)."""
    settings = _pyproject()["tool"]["mypy"]
    views = {f.removesuffix(".py").replace("/", ".") for f in settings["files"] if f.startswith("app/ui/")}
    reported = {m for o in settings["overrides"] if o.get("ignore_errors") is False for m in o["module"]}
    ignored = {m for o in settings["overrides"] if o.get("ignore_errors") is True for m in o["module"]}
    assert {"app.ui.gui_thread", "app.ui.actions", "app.ui.file_commands", "app.ui.heat_controller", "app.ui.plugin_ui"} <= views
    assert views == reported, sorted(views ^ reported)
    assert all((ROOT / f).is_file() for f in settings["files"] if f.startswith("app/ui/"))
    assert ignored <= {"app.ui.*", "app.scene.*"}  # never a domain package


def test_reports_reach_the_gui_thread_one_way():
    """Issue 15, item 3: every report from a worker or network thread reaches the GUI thread through
    app.ui.gui_thread (psygnal's queued connections) — no hand-made bridges, no second library."""
    import re

    other_ways = re.compile(r"ensure_main_thread|superqt|call_soon_threadsafe|QueuedConnection|thread=\"main\"|invokeMethod")
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "app" / "ui").rglob("*.py")
        if path.name != "gui_thread.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if other_ways.search(line.split("#")[0]) and not line.lstrip().startswith(("#", '"', "'"))
    ]
    assert found == []


def test_the_architecture_document_shows_the_layers_as_enforced():
    """docs/architecture.md draws the layers from the code: its list is the contract's, line for line."""
    contracts = _pyproject()["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = text.split("## Layers", 1)[1].split("```", 2)[1].strip().splitlines()
    assert block == layers
