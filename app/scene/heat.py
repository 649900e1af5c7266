"""Heat map layers of the scene: WIP density draped on the floor, material flow along transport paths.

Both are built once per layout and then updated in place: the floor layer is one textured quad whose
RGBA texture is written straight from numpy (one texture upload per update); the flow layer is one mesh
of ribbons whose point coordinates (width) and cell colours are rewritten in place. No actor is made or
removed per update.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyvista as pv
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkUnsignedCharArray
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkFiltersSources import vtkPlaneSource
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper, vtkRenderer, vtkTexture

FLOOR_HEAT_Z = 0.015  # above aisle paint and zones, below transport routes
FLOW_Z = 0.05
#: Each ribbon lies on a casing this much wider on each side, in a colour that contrasts with the floor (dark
#: on the light floor, light on the dark one): the colour map's pale and dark ends stay visible on both.
CASING_M = 0.12
CASING_RGB = {"light": (38, 40, 48), "dark": (225, 227, 232)}


class FloorHeatLayer:
    """A colour grid of ``ny × nx`` cells of ``cell_m`` draped over the floor from (0, 0)."""

    def __init__(self, renderer: vtkRenderer):
        self._renderer = renderer
        self.shape = (0, 0)
        self.cell_m = 1.0
        self._image = vtkImageData()
        self._scalars = vtkUnsignedCharArray()
        self._scalars.SetNumberOfComponents(4)
        self._scalars.SetName("rgba")
        self._plane = vtkPlaneSource()
        self._texture = vtkTexture()
        self._texture.SetInputData(self._image)
        self._texture.InterpolateOn()  # smooth between cell centres
        self._texture.SetColorModeToDirectScalars()
        mapper = vtkPolyDataMapper()
        mapper.SetInputConnection(self._plane.GetOutputPort())
        mapper.ScalarVisibilityOff()
        self.actor = vtkActor()
        self.actor.SetMapper(mapper)
        self.actor.SetTexture(self._texture)
        self.actor.PickableOff()
        self.actor.ForceTranslucentOn()
        prop = self.actor.GetProperty()
        prop.SetAmbient(1.0)
        prop.SetDiffuse(0.0)
        self.actor.VisibilityOff()
        renderer.AddActor(self.actor)
        self.rgba = np.zeros((0, 0, 4), dtype=np.uint8)

    def build(self, nx: int, ny: int, cell_m: float) -> None:
        """Size the grid (call when the floor or the cell size changes); it starts transparent."""
        if (ny, nx) != self.shape or cell_m != self.cell_m:
            self.shape, self.cell_m = (ny, nx), cell_m
            self._scalars.SetNumberOfTuples(nx * ny)
            self._image.SetDimensions(nx, ny, 1)
            self._image.GetPointData().SetScalars(self._scalars)
            self._plane.SetOrigin(0.0, 0.0, FLOOR_HEAT_Z)
            self._plane.SetPoint1(nx * cell_m, 0.0, FLOOR_HEAT_Z)
            self._plane.SetPoint2(0.0, ny * cell_m, FLOOR_HEAT_Z)
            self.rgba = vtk_to_numpy(self._scalars).reshape(ny, nx, 4)  # a view: writes go straight to VTK
        self.rgba[:] = 0
        self.changed()

    def changed(self) -> None:
        """``rgba`` was written: upload it with the next frame."""
        self._scalars.Modified()
        self._image.Modified()

    def set_visible(self, on: bool) -> None:
        self.actor.SetVisibility(bool(on) and self.shape[0] > 0)

    @property
    def visible(self) -> bool:
        return bool(self.actor.GetVisibility())


def flat_actor(mesh: pv.PolyData | None = None) -> vtkActor:
    """A hidden, unpickable, unlit actor drawing ``mesh`` (lying on the floor, its colours as given; None:
    the mesh is set on its mapper later)."""
    mapper = vtkPolyDataMapper()
    if mesh is not None:
        mapper.SetInputData(mesh)
    actor = vtkActor()
    actor.SetMapper(mapper)
    actor.PickableOff()
    prop = actor.GetProperty()
    prop.SetAmbient(1.0)
    prop.SetDiffuse(0.0)
    actor.VisibilityOff()
    return actor


class FlowLayer:
    """Ribbons along transport paths; ``set_flows`` sets each path's width and colour in place."""

    def __init__(self, renderer: vtkRenderer):
        self.mesh = pv.PolyData()
        self.actor = flat_actor(self.mesh)
        mapper = self.actor.GetMapper()
        mapper.SetScalarModeToUseCellFieldData()
        mapper.SelectColorArray("rgb")
        mapper.SetColorModeToDirectScalars()
        mapper.ScalarVisibilityOn()
        self.casing = pv.PolyData()
        self.casing_actor = flat_actor(self.casing)
        self.casing_actor.GetMapper().ScalarVisibilityOff()
        self.set_theme("light")
        renderer.AddActor(self.casing_actor)  # drawn first, just below the ribbons
        renderer.AddActor(self.actor)
        self.n_paths = 0
        self._a = self._b = self._n = self._d = np.zeros((0, 2))
        self._owner = np.zeros(0, dtype=np.int64)

    def build(self, routes: Sequence[Sequence[tuple[float, float]]]) -> None:
        """One ribbon per route (transport order; an empty route draws nothing)."""
        a, b, owner = [], [], []
        for k, pts in enumerate(routes):
            p = np.asarray(pts, dtype=float).reshape(-1, 2)
            if len(p) < 2:
                continue
            seg = np.linalg.norm(np.diff(p, axis=0), axis=1) > 1e-9
            a.append(p[:-1][seg])
            b.append(p[1:][seg])
            owner.append(np.full(int(seg.sum()), k))
        self.n_paths = len(routes)
        if a:
            self._a, self._b, self._owner = np.concatenate(a), np.concatenate(b), np.concatenate(owner)
        else:
            self._a = self._b = np.zeros((0, 2))
            self._owner = np.zeros(0, dtype=np.int64)
        d = self._b - self._a
        self._d = d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)
        self._n = np.c_[-self._d[:, 1], self._d[:, 0]]
        s = len(self._a)
        mesh = pv.PolyData(np.zeros((4 * s, 3)), faces=np.c_[np.full(s, 4), np.arange(4 * s).reshape(s, 4)].ravel())
        mesh.points[:, 2] = FLOW_Z
        mesh.cell_data["rgb"] = np.zeros((s, 3), dtype=np.uint8)
        self.mesh.shallow_copy(mesh)
        casing = pv.PolyData(np.zeros((4 * s, 3)), faces=mesh.faces.copy())
        casing.points[:, 2] = FLOW_Z - 0.01
        self.casing.shallow_copy(casing)
        self.set_flows(np.zeros(self.n_paths), np.zeros((self.n_paths, 3), dtype=np.uint8))

    def set_flows(self, widths_m: np.ndarray, rgb: np.ndarray) -> None:
        """Each path's ribbon width (metres; 0 hides it) and colour ((T, 3) uint8)."""
        if not len(self._a):
            return
        half = (np.asarray(widths_m, dtype=float)[self._owner] / 2)[:, None]
        self._place(self.mesh.points, half)
        self._place(self.casing.points, np.where(half > 0, half + CASING_M, 0.0))  # no ribbon, no casing
        self.casing.GetPoints().Modified()
        self.casing.Modified()
        self.mesh.cell_data["rgb"][:] = np.asarray(rgb, dtype=np.uint8)[self._owner]
        self.mesh.GetPoints().Modified()
        self.mesh.GetCellData().GetArray("rgb").Modified()
        self.mesh.Modified()

    def _place(self, pts: np.ndarray, half: np.ndarray) -> None:
        side, ext = self._n * half, self._d * half  # square caps: segments overlap at the corners
        pts[0::4, :2] = self._a - ext + side
        pts[1::4, :2] = self._a - ext - side
        pts[2::4, :2] = self._b + ext - side
        pts[3::4, :2] = self._b + ext + side

    def set_theme(self, theme: str) -> None:
        """The casing's colour for the ``light`` or ``dark`` floor."""
        self.casing_actor.GetProperty().SetColor(*(c / 255 for c in CASING_RGB[theme]))

    def set_visible(self, on: bool) -> None:
        self.actor.SetVisibility(bool(on) and self.n_paths > 0)
        self.casing_actor.SetVisibility(bool(on) and self.n_paths > 0)

    @property
    def visible(self) -> bool:
        return bool(self.actor.GetVisibility())
