#!/usr/bin/env python3
"""Startup benchmark: from launching the process to the first rendered frame of the demo plant.

- **baseline**: ``bench/_startup_baseline.py``, a bare script that imports the same libraries, loads the
  same meshes with trimesh and shows one pyvistaqt QtInteractor with the demo's machines;
- **dev**: ``python main.py --demo --no-plant`` from the development install;
- **packaged**: the PyInstaller build (``dist/floortwin/floortwin``, from ``make package``) when present.

Each is started ``--runs`` times, alternating, at the same window size; the first round warms the disk
cache and is not counted. Figures: median seconds to the first frame, the ratios to the baseline (target:
within 1.3×), and the package's installed size (target ≤ 400 MB). Ends with one JSON line.

The installed size is also given by part (VTK, Qt, SciPy, NumPy, ...): what the target is up against.

Usage: ``python bench/startup.py [--runs 5] [--package dist/floortwin/floortwin] [--size-only]`` (needs an X
server, except with ``--size-only``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._harness import emit, ratio  # noqa: E402

SIZE = "1400x900"
INSTALLED_TARGET_MB = 400  # the installed application (the unpacked folder under /opt)


def first_frame_s(cmd: list[str], env: dict | None = None, timeout: float = 180) -> float:
    """Seconds from starting ``cmd`` to its "first frame" line (the process then quits by itself)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT, env=env)
    try:
        for line in proc.stdout:
            if "first frame" in line:
                elapsed = time.perf_counter() - t0
                proc.wait(timeout)
                return elapsed
        raise RuntimeError(f"{cmd[0]} ended without drawing a frame (exit {proc.wait(timeout)})")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


# What the installed size is made of: the bundle's top folders (and libraries) grouped by the project they are from.
PARTS = {
    "vtk": ("vtkmodules", "libvtk"),
    "qt": ("PySide6", "shiboken6", "libQt6", "libicu", "libpyside6", "libshiboken6"),
    "scipy": ("scipy", "scipy.libs"),
    "numpy": ("numpy", "numpy.libs", "libscipy_openblas64_"),
    "matplotlib_pillow": ("matplotlib", "PIL", "pillow.libs", "contourpy", "kiwisolver", "fontTools"),
    "pybullet": ("pybullet",),
    "python": ("libpython", "python3", "base_library.zip", "floortwin"),
}


def package_parts_mb(bundle: Path) -> dict[str, float]:
    """Megabytes of the installed folder by part (links counted once, where their target is)."""
    parts = dict.fromkeys([*PARTS, "other"], 0.0)
    for f in bundle.rglob("*"):
        if not f.is_file() or f.is_symlink():
            continue
        rel = f.relative_to(bundle).parts
        top = rel[1] if rel[0] == "_internal" and len(rel) > 1 else rel[0]
        part = next((k for k, prefixes in PARTS.items() if top.startswith(prefixes)), "other")
        parts[part] += f.stat().st_size / 1e6
    return {k: round(v, 1) for k, v in parts.items()}


def size_figures(binary: Path) -> dict:
    """The packaged build's installed size (the folder that goes under /opt), by part, and its .deb beside it."""
    bundle = binary.parent
    figures: dict = {"package_mb": round(folder_mb(bundle), 1), "package_parts_mb": package_parts_mb(bundle)}
    debs = sorted(bundle.parent.glob("floortwin_*.deb"))
    if debs:
        figures["deb_mb"] = round(debs[-1].stat().st_size / 1e6, 1)
    print(
        f"floortwin, packaged: {figures['package_mb']:.0f} MB installed (target ≤ {INSTALLED_TARGET_MB})"
        + (f", .deb {figures['deb_mb']:.0f} MB" if "deb_mb" in figures else "")
    )
    print("  installed size by part (MB): " + ", ".join(f"{k} {v:.0f}" for k, v in figures["package_parts_mb"].items()))
    return figures


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--package", type=Path, default=ROOT / "dist" / "floortwin" / "floortwin")
    p.add_argument("--size-only", action="store_true", help="only the packaged build's installed size, no start-ups")
    args = p.parse_args()
    packaged = args.package.is_file()
    if args.size_only:
        if not packaged:
            p.error(f"no packaged build at {args.package}: make package first")
        figures = size_figures(args.package)
        figures["targets"] = {"installed_at_most_400_mb": figures["package_mb"] <= INSTALLED_TARGET_MB}
        emit("startup", figures)
        return 0
    home = ROOT / "bench" / "out" / "startup-home"  # the same fresh user folders for every run
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data")}
    commands = {
        "baseline": [sys.executable, str(ROOT / "bench" / "_startup_baseline.py"), SIZE],
        "dev": [sys.executable, str(ROOT / "main.py"), "--demo", "--no-plant", "--first-frame-exit", "--size", SIZE],
    }
    if packaged:
        commands["packaged"] = [str(args.package), "--demo", "--no-plant", "--first-frame-exit", "--size", SIZE]
    times: dict[str, list[float]] = {k: [] for k in commands}
    for run in range(args.runs + 1):
        for name, cmd in commands.items():
            t = first_frame_s(cmd, env)
            if run:  # the first round only warms the disk cache
                times[name].append(t)
    med = {k: round(statistics.median(v), 3) for k, v in times.items()}
    figures = {"runs": args.runs, "window": SIZE, **{f"{k}_s": v for k, v in med.items()}}
    figures["dev_vs_baseline"] = ratio(med["dev"], med["baseline"])
    print(f"baseline (bare script, same libraries and meshes)  {med['baseline']:.2f} s")
    print(f"floortwin, development install                      {med['dev']:.2f} s   ", end="")
    print(f"{figures['dev_vs_baseline']:.2f}× (target ≤ 1.3)")
    targets = {"dev_within_1.3x_of_baseline": figures["dev_vs_baseline"] is not None and figures["dev_vs_baseline"] <= 1.3}
    if packaged:
        figures["packaged_vs_baseline"] = ratio(med["packaged"], med["baseline"])
        print(f"floortwin, packaged                                 {med['packaged']:.2f} s   ", end="")
        print(f"{figures['packaged_vs_baseline']:.2f}× (target ≤ 1.3)")
        figures.update(size_figures(args.package))
        targets["packaged_within_1.3x_of_baseline"] = (
            figures["packaged_vs_baseline"] is not None and figures["packaged_vs_baseline"] <= 1.3
        )
        targets["installed_at_most_400_mb"] = figures["package_mb"] <= INSTALLED_TARGET_MB
    else:
        print("(no packaged build: make package first to measure it)")
    figures["targets"] = targets
    emit("startup", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
