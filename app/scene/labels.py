"""Machine name labels that stay readable: placed without overlap, larger machines first."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonCore import vtkPoints, vtkStringArray
from vtkmodules.vtkCommonDataModel import vtkPolyData
from vtkmodules.vtkRenderingCore import vtkActor2D, vtkRenderer
from vtkmodules.vtkRenderingLabel import vtkLabelPlacementMapper, vtkPointSetToLabelHierarchy

#: At most this many labels are handed to VTK's label placement: each costs ~0.25 ms
#: per still frame in software rendering, and a 1080p view holds about a hundred readable labels.
MAX_LABELS = 120


def visible_subset(
    anchors: np.ndarray,
    priority: np.ndarray,
    projection: np.ndarray,
    limit: int,
    viewport_px: tuple[int, int] = (1920, 1080),
    sizes_m: np.ndarray | None = None,
    widths_px: np.ndarray | None = None,
    min_size_px: float = 12.0,
    height_px: float = 20.0,
) -> np.ndarray:
    """Indices of the labels worth drawing, best first: inside the view, not overlapping, at most ``limit``.

    ``projection`` is the camera's 4×4 world → clip matrix. Importance is ``priority`` divided by the
    distance from the camera, so near and large machines win. With ``sizes_m``, machines smaller than
    ``min_size_px`` on screen get no label; with ``widths_px``, labels are placed greedily in importance
    order and one that would overlap an already placed label, or reach past the edge of the view, is skipped.
    """
    if len(anchors) == 0:
        return np.zeros(0, dtype=np.int64)
    hom = anchors @ projection[:3, :3].T + projection[:3, 3]
    w = anchors @ projection[3, :3] + projection[3, 3]
    with np.errstate(divide="ignore", invalid="ignore"):
        ndc = hom[:, :2] / w[:, None]
    ok = (w > 0) & (np.abs(ndc) <= 1.02).all(axis=1)
    vw, vh = viewport_px
    if sizes_m is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            size_px = sizes_m * abs(projection[1, 1]) / w * vh / 2
        ok &= size_px >= min_size_px
    inside = np.nonzero(ok)[0]
    order = inside[np.argsort(-(priority[inside] / w[inside]), kind="stable")]
    if widths_px is None:
        return order[:limit]
    # Greedy placement on an occupancy grid of 4 px cells; a label's box starts at its anchor.
    cell = 4.0
    cols, rows = int(vw / cell) + 2, int(vh / cell) + 2
    occupied = np.zeros((rows, cols), dtype=bool)
    px = (ndc[:, 0] + 1) / 2 * vw
    py = (ndc[:, 1] + 1) / 2 * vh
    chosen: list[int] = []
    for i in order:
        if px[i] < 0 or px[i] + widths_px[i] > vw or py[i] < 0 or py[i] + height_px > vh:
            continue  # it would be cut off at the edge of the view ("WH-OU…"): no label rather than half of one
        c0 = int(px[i] / cell)
        c1 = int(np.ceil((px[i] + widths_px[i]) / cell))
        r0 = int(py[i] / cell)
        r1 = int(np.ceil((py[i] + height_px) / cell))
        c0, c1 = max(c0, 0), min(c1, cols)
        r0, r1 = max(r0, 0), min(r1, rows)
        if occupied[r0:r1, c0:c1].any():
            continue
        occupied[r0:r1, c0:c1] = True
        chosen.append(int(i))
        if len(chosen) >= limit:
            break
    return np.array(chosen, dtype=np.int64)


class LabelLayer:
    """One 2-D actor drawing machine labels; only the ones in view, and the most important first.

    Call ``update_for_camera`` when the camera comes to rest; while it moves, labels are hidden.
    """

    def __init__(self, renderer: vtkRenderer):
        self._renderer = renderer
        self._anchors = np.zeros((0, 3))
        self._texts: list[str] = []
        self._hidden = np.zeros(0, dtype=bool)
        self._priority = np.zeros(0)
        self._sizes = np.zeros(0)
        self._widths = np.zeros(0)
        self._shown = np.zeros(0, dtype=np.int64)
        self._points = vtkPolyData()
        self._hierarchy = vtkPointSetToLabelHierarchy()
        self._hierarchy.SetInputData(self._points)
        self._hierarchy.SetLabelArrayName("label")
        self._hierarchy.SetPriorityArrayName("priority")
        self._hierarchy.SetMaximumDepth(12)
        tp = self._hierarchy.GetTextProperty()
        tp.SetFontSize(13)
        tp.SetBold(True)
        self.mapper = vtkLabelPlacementMapper()
        self.mapper.SetInputConnection(self._hierarchy.GetOutputPort())
        self.mapper.SetShapeToRoundedRect()
        self.mapper.SetStyleToFilled()
        self.mapper.SetMargin(3)
        self.mapper.SetBackgroundOpacity(0.75)
        # Which labels to draw is decided by visible_subset (no overlaps, best first), so VTK draws them all.
        self.mapper.SetPlaceAllLabels(True)
        self.mapper.UseDepthBufferOn()  # labels behind machines are hidden
        self.actor = vtkActor2D()
        self.actor.SetMapper(self.mapper)
        self.actor.PickableOff()
        renderer.AddViewProp(self.actor)
        self.set_theme(dark=False)

    def set_theme(self, dark: bool) -> None:
        tp = self._hierarchy.GetTextProperty()
        if dark:
            tp.SetColor(0.95, 0.95, 0.95)
            self.mapper.SetBackgroundColor(0.12, 0.13, 0.15)
        else:
            tp.SetColor(0.08, 0.08, 0.10)
            self.mapper.SetBackgroundColor(1.0, 1.0, 1.0)

    def set_labels(
        self, anchors: np.ndarray, texts: Sequence[str], priority: np.ndarray, sizes_m: np.ndarray | None = None
    ) -> None:
        """Label ``anchors[i]`` with ``texts[i]``; higher ``priority`` wins where labels would overlap.

        ``sizes_m`` (the labelled objects' sizes) hides labels of objects too small on screen to matter.
        """
        self._anchors = np.ascontiguousarray(anchors, dtype=np.float64)
        self._texts = list(texts)
        self._base_priority = np.asarray(priority, dtype=np.float64)
        self._priority = self._base_priority.copy()
        self._base_sizes = np.asarray(sizes_m, dtype=np.float64) if sizes_m is not None else None
        self._sizes = self._base_sizes.copy() if self._base_sizes is not None else None
        # Bold 13 px text: about 8.5 px per character plus the rounded box's margins.
        self._widths = np.array([8.5 * len(t) + 10 for t in self._texts])
        self._shown = np.zeros(0, dtype=np.int64)
        self._hidden = np.zeros(len(self._texts), dtype=bool)
        self.update_for_camera()

    def set_hidden(self, hidden: np.ndarray | None) -> None:
        """Labels never shown (their machines are hidden); None: none hidden."""
        self._hidden = np.zeros(len(self._texts), dtype=bool) if hidden is None else np.asarray(hidden, dtype=bool)
        self._shown = np.zeros(0, dtype=np.int64)
        self.update_for_camera()

    def set_emphasis(self, indices: Sequence[int]) -> None:
        """Labels that must show whatever their neighbours (the selection): they win every overlap and are
        not hidden for being small on screen."""
        if not len(self._texts):
            return
        self._priority = self._base_priority.copy()
        top = float(self._priority.max()) if len(self._priority) else 1.0
        idx = np.asarray(list(indices), dtype=np.int64)
        if len(idx):
            self._priority[idx] = top * 1e6 + 1.0
        if self._base_sizes is not None:
            self._sizes = self._base_sizes.copy()
            if len(idx):
                self._sizes[idx] = 1e9
        self._shown = np.zeros(0, dtype=np.int64)  # place again with the new order
        self.update_for_camera()

    def set_texts(self, texts: Sequence[str]) -> None:
        """Change the label texts (same anchors), e.g. to show live values; redraws only the shown ones."""
        if len(texts) != len(self._texts):
            raise ValueError(f"expected {len(self._texts)} texts, got {len(texts)}")
        self._texts = list(texts)
        self._widths = np.array([8.5 * len(t) + 10 for t in self._texts])
        self._shown = np.zeros(0, dtype=np.int64)
        self.update_for_camera()

    def move_anchors(self, anchors: np.ndarray) -> None:
        """Machines moved: same labels at new anchors."""
        self._anchors = np.ascontiguousarray(anchors, dtype=np.float64)
        self._shown = np.zeros(0, dtype=np.int64)
        self.update_for_camera()

    @property
    def shown(self) -> list[str]:
        """Texts currently handed to the label placement (for tests)."""
        return [self._texts[i] for i in self._shown]

    def update_for_camera(self) -> None:
        """Pick the labels worth placing for the current camera."""
        cam = self._renderer.GetActiveCamera()
        m = cam.GetCompositeProjectionTransformMatrix(self._renderer.GetTiledAspectRatio(), -1, 1)
        projection = np.array([[m.GetElement(r, c) for c in range(4)] for r in range(4)])
        size = self._renderer.GetSize()
        viewport = (max(int(size[0]), 1), max(int(size[1]), 1))
        subset = visible_subset(self._anchors, self._priority, projection, MAX_LABELS, viewport, self._sizes, self._widths)
        if len(self._hidden) == len(self._texts) and self._hidden.any():
            subset = subset[~self._hidden[subset]]
        if np.array_equal(subset, self._shown):
            return
        self._shown = subset
        self._set_points(self._anchors[subset], [self._texts[i] for i in subset], self._priority[subset])

    def _set_points(self, anchors: np.ndarray, texts: Sequence[str], priority: np.ndarray) -> None:
        pts = vtkPoints()
        pts.SetData(numpy_to_vtk(np.ascontiguousarray(anchors, dtype=np.float64), deep=True))
        names = vtkStringArray()
        names.SetName("label")
        names.SetNumberOfValues(len(texts))
        for i, t in enumerate(texts):
            names.SetValue(i, t)
        pr = numpy_to_vtk(np.ascontiguousarray(priority, dtype=np.float64), deep=True)
        pr.SetName("priority")
        pd = vtkPolyData()
        pd.SetPoints(pts)
        pd.GetPointData().AddArray(names)
        pd.GetPointData().AddArray(pr)
        self._points = pd
        self._hierarchy.SetInputData(pd)
        self._hierarchy.Modified()

    def set_visible(self, visible: bool) -> None:
        self.actor.SetVisibility(visible)
