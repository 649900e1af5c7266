"""Machine name labels that stay readable: placed without overlap, larger machines first."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonCore import vtkPoints, vtkStringArray
from vtkmodules.vtkCommonDataModel import vtkPolyData
from vtkmodules.vtkRenderingCore import vtkActor2D, vtkRenderer
from vtkmodules.vtkRenderingLabel import vtkLabelPlacementMapper, vtkPointSetToLabelHierarchy


class LabelLayer:
    """One 2-D actor drawing every machine's label; overlapping labels of smaller machines are hidden."""

    def __init__(self, renderer: vtkRenderer):
        self._renderer = renderer
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
        self.mapper.SetPlaceAllLabels(False)
        self.mapper.SetMaximumLabelFraction(0.2)
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

    def set_labels(self, anchors: np.ndarray, texts: Sequence[str], priority: np.ndarray) -> None:
        """Show ``texts[i]`` above ``anchors[i]``; higher ``priority`` wins where labels would overlap."""
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
