"""Material-flow ribbons on the floor (the Material flow dock): each stretch of the travel network that parts
cross, as wide as the parts/h along it and coloured by them, on a thin casing that sets it off the floor.

The stretches come from ``app.optimise.flow_view.ribbons`` (the same routes the distances are measured on).
Two actors, made once; ``show`` replaces their meshes. They lie above the floor's paint and the heat map's
flow ribbons and below the machines; machine labels are drawn over everything.
"""

from __future__ import annotations

import numpy as np
import pyvista as pv
from vtkmodules.vtkRenderingCore import vtkRenderer

from app.scene.heat import flat_actor

RIBBON_Z = 0.08  # above the heat map's flow ribbons (0.05) and the floor heat (0.015)
CASING_M = 0.05
CASING_RGB = {"light": (38, 40, 48), "dark": (225, 227, 232)}


class FlowRibbonLayer:
    """The ribbons of one material-flow analysis (``show``); ``clear`` hides them."""

    def __init__(self, renderer: vtkRenderer):
        self.casing = flat_actor()
        self.casing.GetMapper().ScalarVisibilityOff()
        self.ribbons = flat_actor()
        mapper = self.ribbons.GetMapper()
        mapper.SetScalarModeToUseCellFieldData()
        mapper.SelectColorArray("rgb")
        mapper.SetColorModeToDirectScalars()
        mapper.ScalarVisibilityOn()
        renderer.AddActor(self.casing)  # first: just below the ribbons
        renderer.AddActor(self.ribbons)
        self.count = 0
        self.set_theme("light")

    @property
    def visible(self) -> bool:
        return bool(self.ribbons.GetVisibility())

    def show(self, a: np.ndarray, b: np.ndarray, widths_m: np.ndarray, rgb: np.ndarray) -> None:
        """One flat quad per stretch from ``a`` to ``b`` ((P, 2) floor points), ``widths_m`` wide, coloured
        ``rgb`` ((P, 3) uint8); the widest drawn last, so that a busy aisle is not covered by a side step."""
        w = np.asarray(widths_m, dtype=float)
        keep = w > 0
        a, b, w, rgb = np.asarray(a, float)[keep], np.asarray(b, float)[keep], w[keep], np.asarray(rgb)[keep]
        if not len(a):
            self.clear()
            return
        order = np.argsort(w, kind="stable")
        a, b, w, rgb = a[order], b[order], w[order], rgb[order]
        self.ribbons.GetMapper().SetInputData(_quads(a, b, w / 2, RIBBON_Z, rgb))
        self.casing.GetMapper().SetInputData(_quads(a, b, w / 2 + CASING_M, RIBBON_Z - 0.01, None))
        self.ribbons.VisibilityOn()
        self.casing.VisibilityOn()
        self.count = len(a)

    def clear(self) -> None:
        self.ribbons.VisibilityOff()
        self.casing.VisibilityOff()
        self.count = 0

    def set_theme(self, theme: str) -> None:
        """The casing's colour for the ``light`` or ``dark`` floor."""
        self.casing.GetProperty().SetColor(*(c / 255 for c in CASING_RGB[theme]))


def _quads(a: np.ndarray, b: np.ndarray, half: np.ndarray, z: float, rgb: np.ndarray | None) -> pv.PolyData:
    """Flat rectangles around the segments a→b, ``half`` wide on each side, with square caps (so that
    consecutive stretches overlap at their corners instead of leaving a notch)."""
    d = b - a
    d = d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)
    n = np.c_[-d[:, 1], d[:, 0]]
    side, ext = n * half[:, None], d * half[:, None]
    pts = np.zeros((4 * len(a), 3))
    pts[0::4, :2] = a - ext + side
    pts[1::4, :2] = a - ext - side
    pts[2::4, :2] = b + ext - side
    pts[3::4, :2] = b + ext + side
    pts[:, 2] = z
    faces = np.c_[np.full(len(a), 4), np.arange(4 * len(a)).reshape(-1, 4)].ravel()
    mesh = pv.PolyData(pts, faces=faces)
    if rgb is not None:
        mesh.cell_data["rgb"] = np.asarray(rgb, dtype=np.uint8)
    return mesh
