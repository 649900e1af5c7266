"""The machines of a factory as one merged mesh, recoloured through one lookup table.

Every triangle carries the index of its machine (cell data ``machine``); the mapper maps that index through
a lookup table with one RGBA entry per machine. Recolouring every machine writes N×4 bytes into that
table; nothing else is rebuilt. A second merged mesh of convex hulls is the level of detail shown while
the camera moves. Machines can be hidden (``set_hidden``: the tree's "Isolate"): the actors then draw only the
other machines' triangles (on the same points, so moves still show) and a faint hull of each hidden one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyvista as pv
from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkLookupTable, vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper, vtkRenderer

from app.assets import MeshAsset
from app.model.factory import Machine
from app.model.geometry import machine_matrix
from app.scene.merge import merge_instances
from app.scene.picking import pick


def _polydata(points: np.ndarray, faces: np.ndarray, owner: np.ndarray) -> pv.PolyData:
    mesh = pv.PolyData.from_regular_faces(points, faces.astype(np.int32 if len(points) < 2**31 else np.int64))
    mesh.cell_data["machine"] = owner
    return mesh


class _MergedActor:
    """One merged mesh drawn with the shared lookup table."""

    def __init__(self, renderer: vtkRenderer, lut: vtkLookupTable):
        self.mapper = vtkPolyDataMapper()
        self.mapper.SetLookupTable(lut)
        self.mapper.SetScalarModeToUseCellFieldData()
        self.mapper.SelectColorArray("machine")
        self.mapper.SetColorModeToMapScalars()
        self.mapper.SetUseLookupTableScalarRange(True)
        self.mapper.ScalarVisibilityOn()
        self.mapper.SetStatic(True)  # no pipeline updates: we modify arrays ourselves
        self.actor = vtkActor()
        self.actor.SetMapper(self.mapper)
        self.actor.PickableOff()
        prop = self.actor.GetProperty()
        prop.SetInterpolationToFlat()
        prop.SetAmbient(0.25)
        prop.SetDiffuse(0.75)
        prop.SetSpecular(0.05)
        renderer.AddActor(self.actor)
        self.mesh: pv.PolyData | None = None

    def set_mesh(self, mesh: pv.PolyData) -> None:
        self.mesh = mesh
        self.shown: vtkPolyData = mesh  # what the mapper draws: the mesh, or the part of it not hidden
        self.mapper.SetInputData(mesh)
        self.mapper.Modified()

    def show_part(self, part: vtkPolyData | None) -> None:
        """Draw only ``part`` (a subset of the mesh's triangles on the same points); None: the whole mesh."""
        self.shown = part if part is not None else self.mesh
        self.mapper.SetInputData(self.shown)
        self.mapper.Modified()


def _subset(mesh: pv.PolyData, faces: np.ndarray, owner: np.ndarray, keep: np.ndarray) -> vtkPolyData:
    """The triangles of ``mesh`` whose machine ``keep`` says, on the mesh's own points (shared, not copied)."""
    tri = np.ascontiguousarray(faces[keep], dtype=np.int64)
    cells = vtkCellArray()
    offsets = np.arange(0, 3 * len(tri) + 1, 3, dtype=np.int64)
    cells.SetData(numpy_to_vtk(offsets, deep=True), numpy_to_vtk(tri.ravel(), deep=True))
    part = vtkPolyData()
    part.SetPoints(mesh.GetPoints())
    part.SetPolys(cells)
    machine = numpy_to_vtk(np.ascontiguousarray(owner[keep]), deep=True)
    machine.SetName("machine")
    part.GetCellData().AddArray(machine)
    return part


class MachineLayer:
    """All machines of a factory: merged full-detail mesh, merged hull mesh, colours, picking.

    Parameters
    ----------
    renderer
        The renderer the actors are added to.
    """

    def __init__(self, renderer: vtkRenderer):
        self._renderer = renderer
        self.lut = vtkLookupTable()
        self.lut.SetNumberOfTableValues(1)
        self.lut.SetTableRange(-0.5, 0.5)
        self.lut.Build()
        self.full = _MergedActor(renderer, self.lut)
        self.lod = _MergedActor(renderer, self.lut)
        self.lod.actor.VisibilityOff()
        # Hidden machines as faint hulls, so the isolated ones keep their place among the others.
        self.ghost = _MergedActor(renderer, self.lut)
        self.ghost.mapper.ScalarVisibilityOff()
        ghost = self.ghost.actor.GetProperty()
        ghost.SetColor(0.55, 0.58, 0.62)
        ghost.SetOpacity(0.12)
        ghost.SetAmbient(0.6)
        self.ghost.actor.VisibilityOff()
        self.hidden = np.zeros(0, dtype=bool)
        self._faces: list[np.ndarray] = []
        self._owner: list[np.ndarray] = []
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        self.template_of = np.zeros(0, dtype=np.int64)
        self.matrices = np.zeros((0, 4, 4))
        self.inverse = np.zeros((0, 4, 4))
        self.templates: list[tuple[np.ndarray, np.ndarray]] = []
        self._hull_templates: list[tuple[np.ndarray, np.ndarray]] = []
        self._offsets: list[np.ndarray] = []
        self.bounds_lo = np.zeros((0, 3))
        self.bounds_hi = np.zeros((0, 3))
        self.top_z = np.zeros(0)
        self._colours = np.zeros((0, 4), dtype=np.uint8)
        self._lod_active = False

    # -- building -------------------------------------------------------------------------------
    def build(self, machines: Sequence[Machine], asset_of: dict[str, MeshAsset]) -> None:
        """(Re)build both merged meshes for ``machines``; ``asset_of`` maps a machine's asset id to its mesh."""
        assets: list[MeshAsset] = []
        key_to_t: dict[int, int] = {}
        template_of = np.empty(len(machines), dtype=np.int64)
        matrices = np.empty((len(machines), 4, 4))
        for i, m in enumerate(machines):
            asset = asset_of[m.asset]
            t = key_to_t.get(id(asset))
            if t is None:
                t = key_to_t[id(asset)] = len(assets)
                assets.append(asset)
            template_of[i] = t
            matrices[i] = machine_matrix(m, asset.extents)
        self.ids = [m.id for m in machines]
        self.index = {mid: i for i, mid in enumerate(self.ids)}
        self.template_of = template_of
        self.matrices = matrices
        self.inverse = np.linalg.inv(matrices) if len(matrices) else matrices
        self.templates = [(a.vertices, a.faces) for a in assets]
        hulls = [(a.hull_vertices, a.hull_faces) for a in assets]
        self.bounds_lo = np.array([a.vertices.min(axis=0) for a in assets])[template_of] if assets else np.zeros((0, 3))
        self.bounds_hi = np.array([a.vertices.max(axis=0) for a in assets])[template_of] if assets else np.zeros((0, 3))
        self.top_z = np.array([a.extents[2] for a in assets])[template_of] * matrices[:, 2, 2] if assets else np.zeros(0)
        self._hull_templates = hulls
        self._offsets, self._faces, self._owner = [], [], []
        for target, temps in ((self.full, self.templates), (self.lod, hulls)):
            pts, faces, owner, offsets = merge_instances(temps, template_of, matrices)
            target.set_mesh(_polydata(pts, faces, owner))
            self._offsets.append(offsets)
            self._faces.append(faces)
            self._owner.append(owner)
        self.hidden = np.zeros(len(machines), dtype=bool)
        self.ghost.actor.VisibilityOff()
        self._resize_lut(len(machines))

    def move(self, moves: dict[str, np.ndarray]) -> None:
        """Place machines with new 4×4 matrices by rewriting their points in the merged meshes (no
        rebuild: a drag moves one machine of thousands in microseconds)."""
        if not moves:
            return
        for (target, temps), offsets in zip(
            ((self.full, self.templates), (self.lod, self._hull_templates)), self._offsets, strict=True
        ):
            points = target.mesh.points
            for mid, matrix in moves.items():
                i = self.index[mid]
                verts = temps[self.template_of[i]][0]
                start = offsets[i]
                points[start : start + len(verts)] = verts @ matrix[:3, :3].T + matrix[:3, 3]
            target.mesh.GetPoints().Modified()  # the view shares VTK's memory: just say it changed
            target.mesh.Modified()
            target.shown.Modified()  # a part drawn on the same points
        if self.ghost.actor.GetVisibility():
            self.ghost.shown.Modified()
        for mid, matrix in moves.items():
            i = self.index[mid]
            self.matrices[i] = matrix
            self.inverse[i] = np.linalg.inv(matrix)

    def _resize_lut(self, n: int) -> None:
        n_entries = max(n, 1)
        self.lut.SetNumberOfTableValues(n_entries)
        self.lut.SetTableRange(-0.5, n_entries - 0.5)
        self._colours = vtk_to_numpy(self.lut.GetTable()).reshape(n_entries, 4)
        self._colours[:] = (160, 160, 160, 255)
        self._table_changed()

    def _table_changed(self) -> None:
        # SetTableValue marks the table as explicitly inserted, so Build() never regenerates it from the
        # hue/saturation ramp and overwrites our colours.
        r, g, b, a = (int(c) for c in self._colours[0])
        self.lut.SetTableValue(0, r / 255, g / 255, b / 255, a / 255)
        self.lut.GetTable().Modified()
        self.lut.Modified()

    # -- visibility -----------------------------------------------------------------------------
    def set_hidden(self, hidden: np.ndarray | None) -> None:
        """Hide the machines where ``hidden`` (one flag per machine, ``ids`` order) is set: they are drawn as
        faint hulls and are not picked; None, or no flag set, shows every machine again."""
        n = len(self.ids)
        mask = np.zeros(n, dtype=bool) if hidden is None else np.asarray(hidden, dtype=bool)
        if mask.shape != (n,):
            raise ValueError(f"expected {n} flags, got {mask.shape}")
        self.hidden = mask.copy()
        if not mask.any():
            self.full.show_part(None)
            self.lod.show_part(None)
            self.ghost.actor.VisibilityOff()
            return
        for target, faces, owner in zip((self.full, self.lod), self._faces, self._owner, strict=True):
            target.show_part(_subset(target.mesh, faces, owner, ~mask[owner]))
        self.ghost.show_part(_subset(self.lod.mesh, self._faces[1], self._owner[1], mask[self._owner[1]]))
        self.ghost.actor.VisibilityOn()

    # -- colours --------------------------------------------------------------------------------
    @property
    def colours(self) -> np.ndarray:
        """(N, 4) uint8 RGBA per machine, in ``ids`` order (a copy)."""
        return self._colours[: len(self.ids)].copy()

    def set_colours(self, rgba: np.ndarray) -> None:
        """Recolour every machine: one write of N RGB(A) values. Call ``render`` afterwards."""
        rgba = np.asarray(rgba)
        n = len(self.ids)
        if rgba.shape[0] != n:
            raise ValueError(f"expected {n} colours, got {rgba.shape[0]}")
        if rgba.shape[1] == 3:
            self._colours[:n, :3] = rgba
            self._colours[:n, 3] = 255
        else:
            self._colours[:n] = rgba
        self._table_changed()

    def set_colour(self, machine_id: str, rgba: Sequence[int]) -> None:
        """Recolour one machine."""
        i = self.index[machine_id]
        self._colours[i, : len(rgba)] = rgba
        self._table_changed()

    # -- level of detail ------------------------------------------------------------------------
    def set_lod(self, active: bool) -> None:
        """Show the convex hulls (cheap) instead of the full meshes, e.g. while the camera moves."""
        if active == self._lod_active:
            return
        self._lod_active = active
        self.full.actor.SetVisibility(not active)
        self.lod.actor.SetVisibility(active)

    @property
    def lod_active(self) -> bool:
        return self._lod_active

    @property
    def n_triangles(self) -> int:
        return int(self.full.mesh.n_cells) if self.full.mesh is not None else 0

    # -- queries --------------------------------------------------------------------------------
    def pick(self, origin: np.ndarray, direction: np.ndarray) -> tuple[str, float] | None:
        """The machine id a world ray hits first, with the hit distance, or None."""
        if self.hidden.any():  # only the machines on view can be picked
            keep = np.nonzero(~self.hidden)[0]
            hit = pick(origin, direction, self.inverse[keep], self.bounds_lo[keep], self.bounds_hi[keep],
                       self.template_of[keep], self.templates)
            return (self.ids[keep[hit[0]]], hit[1]) if hit else None
        hit = pick(origin, direction, self.inverse, self.bounds_lo, self.bounds_hi, self.template_of, self.templates)
        return (self.ids[hit[0]], hit[1]) if hit else None

    def world_box(self, machine_id: str, margin_m: float = 0.0) -> np.ndarray:
        """The 8 corners (8×3) of a machine's oriented bounding box in world metres."""
        return self.world_boxes([self.index[machine_id]], margin_m)[0]

    def world_boxes(self, indices: Sequence[int], margin_m: float = 0.0) -> np.ndarray:
        """(K, 8, 3): the corners of machines ``indices``' oriented bounding boxes in world metres, all at once
        (selecting a whole area of a big plant outlines thousands)."""
        idx = np.asarray(indices, dtype=np.int64)
        m = self.matrices[idx]
        # Margins are in world metres: undo the scale for the local offsets.
        scale = np.linalg.norm(m[:, :3, :3], axis=1)
        lo, hi = self.bounds_lo[idx] - margin_m / scale, self.bounds_hi[idx] + margin_m / scale
        # Corner k takes x from bit 0, y from bit 1, z from bit 2 (lo or hi), as the edges below expect.
        bits = (np.arange(8)[:, None] >> np.arange(3)) & 1  # (8, 3)
        corners = np.where(bits[None] == 1, hi[:, None, :], lo[:, None, :])  # (K, 8, 3)
        return np.einsum("kij,kcj->kci", m[:, :3, :3], corners) + m[:, None, :3, 3]

    def label_anchor(self) -> np.ndarray:
        """(N, 3) points just above each machine, for labels."""
        if not len(self.ids):
            return np.zeros((0, 3))
        return np.column_stack([self.matrices[:, 0, 3], self.matrices[:, 1, 3], self.top_z + 0.4])


def outline_polydata(boxes: Sequence[np.ndarray] | np.ndarray) -> vtkPolyData:
    """Line segments along the 12 edges of each 8-corner box (corner order as ``MachineLayer.world_box``),
    built as arrays (thousands of boxes in milliseconds)."""
    edges = np.array([(0, 1), (1, 3), (3, 2), (2, 0), (4, 5), (5, 7), (7, 6), (6, 4), (0, 4), (1, 5), (2, 6), (3, 7)])
    corners = np.asarray(boxes, dtype=np.float64).reshape(-1, 3)
    n = len(corners) // 8
    pts = vtkPoints()
    pts.SetData(numpy_to_vtk(np.ascontiguousarray(corners), deep=True))
    ends = (8 * np.arange(n, dtype=np.int64)[:, None, None] + edges[None]).reshape(-1)
    lines = vtkCellArray()
    lines.SetData(numpy_to_vtk(np.arange(0, len(ends) + 1, 2, dtype=np.int64), deep=True), numpy_to_vtk(ends, deep=True))
    pd = vtkPolyData()
    pd.SetPoints(pts)
    pd.SetLines(lines)
    return pd
