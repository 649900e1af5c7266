"""A proposed layout drawn over the real one: moved machines as translucent ghosts at their new poses, with an
arrow on the floor from where each stands now to where it would go. Nothing of the document changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyvista as pv
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper, vtkRenderer

from app.assets import MeshAsset
from app.model.factory import Machine
from app.model.geometry import machine_matrix
from app.scene.merge import merge_instances

# Magenta: no machine kind, heat map or transport route uses it, so a proposal never reads as the layout.
GHOST_RGB = (0.88, 0.2, 0.8)
ARROW_RGB = (0.62, 0.0, 0.55)


class PreviewLayer:
    """Ghosts and arrows of one proposed layout (``show``); ``clear`` removes them."""

    def __init__(self, renderer: vtkRenderer):
        self.renderer = renderer
        self.ghost = self._actor(GHOST_RGB, opacity=0.55)
        self.arrows = self._actor(ARROW_RGB, opacity=1.0)
        self.ids: tuple[str, ...] = ()

    def _actor(self, rgb: tuple[float, float, float], opacity: float) -> vtkActor:
        actor = vtkActor()
        actor.SetMapper(vtkPolyDataMapper())
        prop = actor.GetProperty()
        prop.SetColor(*rgb)
        prop.SetOpacity(opacity)
        prop.SetAmbient(0.35)
        actor.PickableOff()
        actor.VisibilityOff()
        self.renderer.AddActor(actor)
        return actor

    @property
    def visible(self) -> bool:
        return bool(self.ghost.GetVisibility())

    def show(self, before: Sequence[Machine], after: Sequence[Machine], asset_of: Mapping[str, MeshAsset]) -> None:
        """Ghosts of ``after`` (the moved machines at their new poses), arrows from ``before`` (the same
        machines as they stand). Empty ``after``: nothing shown."""
        if not after:
            self.clear()
            return
        assets: list[MeshAsset] = []
        slot: dict[int, int] = {}
        template_of = np.empty(len(after), dtype=np.int64)
        matrices = np.empty((len(after), 4, 4))
        for i, m in enumerate(after):
            asset = asset_of[m.asset]
            template_of[i] = slot.setdefault(id(asset), len(slot))
            if template_of[i] == len(assets):
                assets.append(asset)
            matrices[i] = machine_matrix(m, asset.extents)
        pts, faces, _owner, _ = merge_instances([(a.vertices, a.faces) for a in assets], template_of, matrices)
        self.ghost.GetMapper().SetInputData(pv.PolyData.from_regular_faces(pts, faces.astype(np.int64)))
        self.arrows.GetMapper().SetInputData(_arrows(before, after))
        self.ghost.VisibilityOn()
        self.arrows.VisibilityOn()
        self.ids = tuple(m.id for m in after)

    def clear(self) -> None:
        self.ghost.VisibilityOff()
        self.arrows.VisibilityOff()
        self.ids = ()


def _arrows(before: Sequence[Machine], after: Sequence[Machine]) -> pv.PolyData:
    """Flat arrows just above the floor, one per machine that moves more than a few centimetres."""
    start = {m.id: (m.pose.x_m, m.pose.y_m) for m in before}
    parts: list[pv.PolyData] = []
    for m in after:
        x0, y0 = start.get(m.id, (m.pose.x_m, m.pose.y_m))
        d = np.array([m.pose.x_m - x0, m.pose.y_m - y0, 0.0])
        length = float(np.linalg.norm(d))
        if length < 0.05:
            continue
        # Sizes in metres (pv.Arrow's are shares of its length): a 0.3 m wide shaft, a 1.2 m long head.
        parts.append(
            pv.Arrow(
                start=(x0, y0, 0.15),
                direction=d,
                scale=length,
                tip_length=min(0.5, 1.2 / length),
                tip_radius=min(0.25, 0.5 / length),
                shaft_radius=min(0.08, 0.15 / length),
            )
        )
    return pv.merge(parts) if parts else pv.PolyData()
