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
    assert "Contracts: 3 kept, 0 broken" in r.stdout


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


# The Qt- and VTK-free packages: what `make lint` type-checks (pyproject's [tool.mypy] holds the settings).
TYPED_PACKAGES = ["app/model", "app/sim", "app/compare", "app/heat", "app/history", "app/state", "app/live", "app/physics"]


def test_domain_packages_type_check_cleanly():
    r = subprocess.run(
        [sys.executable, "-m", "mypy", *TYPED_PACKAGES],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_collision_world_runs_without_qt_or_vtk_loaded():
    assert _loaded_after("import app.physics.world", ("PySide6", "vtkmodules", "pyvista")) == []
