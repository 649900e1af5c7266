#!/usr/bin/env python3
"""The startup benchmark's baseline: a bare script that imports the libraries floortwin imports, loads the
demo's meshes with trimesh and shows one pyvistaqt QtInteractor with the demo's machines — nothing else.
Prints ``first frame`` when that interactor has drawn its first frame, then quits. (Run by
bench/startup.py; the underscore keeps ``make bench`` from running it alone.)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import asyncua  # noqa: F401
import keyring  # noqa: F401
import matplotlib  # noqa: F401
import numpy  # noqa: F401
import platformdirs  # noqa: F401
import psygnal  # noqa: F401
import pybullet  # noqa: F401
import pydantic  # noqa: F401
import pyqtgraph  # noqa: F401
import pyvista as pv
import qasync  # noqa: F401
import scipy  # noqa: F401
import trimesh
from PySide6 import QtCore, QtWidgets
from pyvistaqt import QtInteractor

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    qapp = QtWidgets.QApplication(sys.argv[:1])
    demo = json.loads((ROOT / "assets" / "factories" / "demo.json").read_text())
    win = QtWidgets.QMainWindow()
    win.resize(*(int(v) for v in (sys.argv[1] if len(sys.argv) > 1 else "1400x900").split("x")))
    plotter = QtInteractor(win, auto_update=False)
    win.setCentralWidget(plotter.interactor)
    meshes = {}
    for asset, ref in demo["assets"].items():
        path = ROOT / "assets" / ref["path"].removeprefix("builtin:")
        m = trimesh.load(path, force="mesh")
        meshes[asset] = pv.wrap(m)
    for m in demo["machines"]:
        mesh = meshes[m["asset"]].copy()
        mesh.translate((m["pose"]["x_m"], m["pose"]["y_m"], 0.0), inplace=True)
        plotter.add_mesh(mesh, color="steelblue")
    plotter.add_mesh(pv.Plane(center=(40, 25, 0), i_size=80, j_size=50), color="lightgrey")
    done = {"seen": False}

    def painted(*_args) -> None:
        if not done["seen"]:
            done["seen"] = True
            print(f"first frame {time.perf_counter():.3f}", flush=True)
            QtCore.QTimer.singleShot(0, qapp.quit)

    plotter.iren.interactor.AddObserver("EndEvent", painted)
    plotter.render_window.AddObserver("EndEvent", painted)
    win.show()
    QtCore.QTimer.singleShot(0, plotter.render)
    return qapp.exec()


if __name__ == "__main__":
    sys.exit(main())
