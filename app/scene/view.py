"""The 3D view of a factory: the only widget that holds VTK objects.

``FactoryView`` embeds a pyvistaqt ``QtInteractor`` and assembles the scene's layers (floor, machines,
labels, selection outline). The rest of the application talks to it through a small API — show a factory,
recolour machines, select, camera presets, grab a frame — and hears about clicks through Qt signals.
"""

from __future__ import annotations

import gc
import logging
import math
import time
from collections.abc import Mapping, Sequence

import numpy as np
import pyvista as pv
from PySide6 import QtCore, QtWidgets
from pyvistaqt import QtInteractor
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

from app.assets import MeshAsset
from app.model.factory import Factory, Machine
from app.model.geometry import machine_matrix
from app.model.kinds import PLACEHOLDER_RGB, get_kind, kind_rgb
from app.scene.floor import DARK, LIGHT, FloorLayer
from app.scene.flow_ribbons import FlowRibbonLayer
from app.scene.heat import FloorHeatLayer, FlowLayer
from app.scene.labels import LabelLayer
from app.scene.legend import LegendPanel
from app.scene.machines import MachineLayer, outline_polydata
from app.scene.preview import PreviewLayer

log = logging.getLogger(__name__)

# The selection is an outline in two tones — white over a dark halo — so it stands out on every fill colour
# (state yellow, kind colours, verdict red) and on both floors, and is never read as a machine state.
SELECTION_RGB = (1.0, 1.0, 1.0)
SELECTION_HALO_RGB = (0.05, 0.05, 0.08)
RING_RGB = (0.0, 0.45, 0.70)  # the rotation ring of edit mode
#: The colour bars the legend margin can hold: the machines' colouring, the floor's WIP, the flows (heat map)
#: and the material-flow ribbons (the Material flow dock).
BAR_SLOTS = ("machines", "floor", "flow", "ribbons")
#: Solid backgrounds: a gradient costs a full-screen pass per frame in software rendering.
BACKGROUNDS = {"light": (0.88, 0.90, 0.93), "dark": (0.13, 0.14, 0.16)}


class RenderScheduler(QtCore.QObject):
    """Coalesces render requests: always the latest state, at most one frame per ``min_interval_ms``, and
    frames take at most ``max_duty`` of the GUI thread's time (after a 60 ms frame the next waits 120 ms
    at 0.5), so a big scene in software rendering never starves the network and the user."""

    def __init__(self, render, min_interval_ms: int = 33, max_duty: float = 0.5, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._render = render
        self._min_interval_s = min_interval_ms / 1000
        self._max_duty = max_duty
        self._last = 0.0
        self._interval_s = self._min_interval_s
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.render_now)

    def request(self) -> None:
        if not self._timer.isActive():
            wait = max(0.0, self._interval_s - (time.perf_counter() - self._last))
            self._timer.start(int(wait * 1000))

    def render_now(self) -> None:
        self._timer.stop()
        self._last = time.perf_counter()
        self._render()

    def frame_took(self, seconds: float) -> None:
        """A frame was drawn in ``seconds``: space the next one by the duty limit."""
        self._interval_s = max(self._min_interval_s, seconds / self._max_duty)


class _Interactor(QtInteractor):
    """pyvistaqt's widget, drawing each frame once.

    pyvistaqt renders in ``paintGL`` and also schedules a paint after every render made elsewhere (the
    interactor's, when the user orbits), so each frame was drawn twice. Here the interactor only renders
    inside ``paintGL``; elsewhere its render requests become ``update()`` — one frame per Qt paint."""

    def __init__(self, *args, on_frame=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._on_frame = on_frame
        iren = self.iren.interactor
        iren.EnableRenderOff()
        iren.AddObserver("RenderEvent", self._render_requested)

    def _render_requested(self, *_args) -> None:
        if not getattr(self, "_in_paint", False) and not getattr(self, "_closed", False):
            self.update()

    def paintGL(self) -> None:
        iren = self.iren.interactor if getattr(self, "iren", None) is not None else None
        if iren is not None:
            iren.EnableRenderOn()
        t0 = time.perf_counter()
        try:
            super().paintGL()
        finally:
            if iren is not None:
                iren.EnableRenderOff()
        if self._on_frame is not None:
            self._on_frame(time.perf_counter() - t0)


class FactoryView(QtWidgets.QWidget):
    """A 3D view of one factory.

    Signals
    -------
    machine_clicked(str, bool)
        The user clicked a machine (its id; "" for empty floor) — second argument: Ctrl was held (toggle).
    """

    machine_clicked = QtCore.Signal(str, bool)
    #: A frame was drawn (seconds it took).
    frame_drawn = QtCore.Signal(float)
    #: Something was dropped on a machine: (machine id, the drag's MIME data).
    dropped_on_machine = QtCore.Signal(str, object)
    #: Edit mode: a machine is being dragged — (machine id, floor x, floor y of the grab point), then every
    #: move (floor x, floor y, modifiers), then release (floor x, floor y, modifiers); see ``set_edit_mode``.
    #: Something droppable on the floor (a MIME format in ``floor_drop_formats``) was dropped: (floor x,
    #: floor y, the drag's MIME data, keyboard modifiers).
    dropped_on_floor = QtCore.Signal(float, float, object, object)
    #: Edit mode: the rotation ring around the selection is being turned — started (centre x, centre y),
    #: then the angle turned so far in degrees (and modifiers), then release (modifiers).
    rotate_started = QtCore.Signal(float, float)
    rotate_moved = QtCore.Signal(float, object)
    rotate_finished = QtCore.Signal(object)
    drag_started = QtCore.Signal(str, float, float)
    drag_moved = QtCore.Signal(float, float, object)
    drag_finished = QtCore.Signal(float, float, object)

    #: Seconds of stillness after which the full-detail scene replaces the level of detail.
    STILL_DELAY_MS = 250

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.plotter = _Interactor(self, auto_update=False, multi_samples=0, on_frame=self._frame_drawn)
        layout.addWidget(self.plotter.interactor, 1)
        self.legend = LegendPanel(self)  # legends live in a margin of their own, never over the floor
        layout.addWidget(self.legend)
        self.renderer = self.plotter.renderer
        # Order-independent transparency costs two extra full-screen passes in software rendering; the only
        # translucent things here lie flat on the floor, where plain blending is correct.
        self.renderer.SetUseOIT(False)
        self.plotter.enable_terrain_style(mouse_wheel_zooms=True, shift_pans=True)
        # VTK's and pyvista's single-key bindings ('q' closes the plotter, 'w' wireframe, '3' stereo...)
        # would fire while typing; the application's action table owns the keyboard instead.
        self.plotter.iren.clear_key_event_callbacks()
        self.plotter.iren.interactor.RemoveObservers("CharEvent")
        # pyvista's first interactor style, replaced above, is left in a reference cycle (callbacks bound to
        # it): collected now, on the GUI thread. Python collects cycles on whichever thread allocates next, and
        # a VTK object deleted on the network thread while a frame is drawn deadlocks both (seen at start-up).
        gc.collect()
        self.plotter.add_axes(interactive=False, line_width=2, color="black")
        self.floor = FloorLayer(self.renderer)
        self.floor_heat = FloorHeatLayer(self.renderer)
        self.flow = FlowLayer(self.renderer)
        self.machines = MachineLayer(self.renderer)
        self.labels = LabelLayer(self.renderer)
        self.preview = PreviewLayer(self.renderer)  # a proposed layout's ghosts (Optimise ▸ Layout…)
        self.ribbons = FlowRibbonLayer(self.renderer)  # the material flow's ribbons (the Material flow dock)
        self._selection_actor = vtkActor()
        self._selection_mapper = vtkPolyDataMapper()
        self._selection_actor.SetMapper(self._selection_mapper)
        self._selection_actor.GetProperty().SetColor(*SELECTION_RGB)
        self._selection_actor.GetProperty().SetLineWidth(3.0)
        self._selection_actor.GetProperty().SetAmbient(1.0)
        self._selection_actor.GetProperty().SetDiffuse(0.0)
        self._selection_actor.VisibilityOff()
        self._selection_halo = vtkActor()
        self._selection_halo.SetMapper(self._selection_mapper)
        halo = self._selection_halo.GetProperty()
        halo.SetColor(*SELECTION_HALO_RGB)
        halo.SetLineWidth(7.0)
        halo.SetAmbient(1.0)
        halo.SetDiffuse(0.0)
        self._selection_halo.VisibilityOff()
        self.renderer.AddActor(self._selection_halo)  # drawn first, so the white line lies on it
        self.renderer.AddActor(self._selection_actor)
        self._factory: Factory | None = None
        self.legend_title: str | None = None
        self._selected: tuple[str, ...] = ()
        self._theme = "light"
        self.scheduler = RenderScheduler(self._render, parent=self)
        self._still_timer = QtCore.QTimer(self)
        self._still_timer.setSingleShot(True)
        self._still_timer.timeout.connect(self.end_interaction)
        self._press_pos: tuple[float, float] | None = None
        self._edit_mode = False
        self._turning: float | None = None  # the ring's angle where a turn started
        self._ring: tuple[float, float, float] | None = None  # centre x, y and radius of the rotation ring
        self._ring_actor = vtkActor()
        self._ring_mapper = vtkPolyDataMapper()
        self._ring_actor.SetMapper(self._ring_mapper)
        self._ring_actor.GetProperty().SetColor(*RING_RGB)
        self._ring_actor.GetProperty().SetLineWidth(4.0)
        self._ring_actor.GetProperty().SetAmbient(1.0)
        self._ring_actor.GetProperty().SetDiffuse(0.0)
        self._ring_actor.PickableOff()
        self._ring_actor.VisibilityOff()
        self.renderer.AddActor(self._ring_actor)
        self.floor_drop_formats: set[str] = set()  # MIME formats that may be dropped anywhere on the floor
        self._dragging: str | None = None
        self._drag_moved = False
        self._fitted = False  # the camera is as a preset left it: refit the floor when the render area resizes
        self._covered_right = 0.0  # share of the render area's width a window stands over, on its right
        self._install_observers()
        self.set_theme("light")

    # -- lifecycle ------------------------------------------------------------------------------
    def close_scene(self) -> None:
        """Release the render window and its OpenGL context (call before the widget is destroyed)."""
        self._still_timer.stop()
        self.scheduler._timer.stop()
        for obj, tag in self._observers:
            obj.RemoveObserver(tag)
        self._observers.clear()
        self.plotter.removeEventFilter(self)
        self.plotter.close()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.legend.set_view_height(self.height())  # legend text follows the window's size

    @property
    def render_widget(self) -> QtWidgets.QWidget:
        """The widget the 3D frame is drawn in (the view less its legend margin)."""
        return self.plotter.interactor

    # -- rendering ------------------------------------------------------------------------------
    def _render(self) -> None:
        if getattr(self.plotter, "_closed", False):
            return  # shutting down: the render window is gone
        self.plotter.update()  # drawn once, in the widget's next paint

    def _frame_drawn(self, seconds: float) -> None:
        self.scheduler.frame_took(seconds)
        self.frame_drawn.emit(seconds)

    def request_render(self) -> None:
        """Ask for a render soon (coalesced, at most ~30 per second)."""
        self.scheduler.request()

    def render_now(self) -> None:
        """Render immediately (tests, screenshots, benchmarks)."""
        self.scheduler._timer.stop()
        if getattr(self.plotter, "_closed", False):
            return
        if self.plotter.isVisible():
            self.plotter.repaint()  # paints (and so renders) before returning
        else:
            self.plotter.render()

    def frame(self) -> np.ndarray:
        """The current frame as an (h, w, 3) uint8 RGB image, rendered at full detail."""
        self.end_interaction(render=False)
        self.plotter.render()
        return np.asarray(self.plotter.screenshot(return_img=True, transparent_background=False))[:, :, :3]

    # -- interaction: level of detail and clicks ------------------------------------------------
    def _install_observers(self) -> None:
        style = self.plotter.iren.interactor.GetInteractorStyle()
        # VTK keeps these callbacks alive from C++, where Python's collector cannot see the cycle back to
        # this widget: they are removed again in close_scene.
        self._observers = [
            (style, style.AddObserver("StartInteractionEvent", lambda *_: self.begin_interaction())),
            (style, style.AddObserver("EndInteractionEvent", lambda *_: self._still_timer.start(self.STILL_DELAY_MS))),
        ]
        # Clicks are recognised on the Qt side: VTK's camera styles grab the event focus on button-down,
        # so interactor observers would never see the matching button-up.
        self.plotter.installEventFilter(self)
        self.plotter.setAcceptDrops(True)

    def begin_interaction(self) -> None:
        """Switch to the cheap level of detail (hull meshes, no labels) while the camera moves."""
        self._still_timer.stop()
        self._fitted = False  # the user moves the camera: resizes keep their view from now on
        if not self.machines.lod_active:
            self.machines.set_lod(True)
            self.labels.set_visible(False)

    def end_interaction(self, render: bool = True) -> None:
        """Back to full detail once the camera is still."""
        self._still_timer.stop()
        if self.machines.lod_active:
            self.machines.set_lod(False)
            self.labels.update_for_camera()
            self.labels.set_visible(True)
            if render:
                self.request_render()

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        kind = event.type()
        if kind == QtCore.QEvent.Type.Resize and self._fitted and self._factory is not None:
            # The render area changed (the window, a dock, the legend margin appearing): a camera the user
            # has not moved since a preset keeps the whole floor in view.
            QtCore.QTimer.singleShot(0, self._refit)
        if kind in (QtCore.QEvent.Type.DragEnter, QtCore.QEvent.Type.DragMove, QtCore.QEvent.Type.Drop):
            pos = event.position()
            ratio = self.plotter.devicePixelRatioF()
            mime = event.mimeData()
            if any(mime.hasFormat(f) for f in self.floor_drop_formats):
                at = self.floor_point(pos.x() * ratio, (self.plotter.height() - pos.y() - 1) * ratio)
                if at is None:
                    event.ignore()
                    return True
                event.acceptProposedAction()
                if kind == QtCore.QEvent.Type.Drop:
                    self.dropped_on_floor.emit(at[0], at[1], mime, event.modifiers())
                return True
            over = self.machine_at(pos.x() * ratio, (self.plotter.height() - pos.y() - 1) * ratio)
            if over is None:
                event.ignore()
                return True
            event.acceptProposedAction()
            if kind == QtCore.QEvent.Type.Drop:
                self.dropped_on_machine.emit(over, event.mimeData())
            return True
        if (
            self._edit_mode
            and kind
            in (
                QtCore.QEvent.Type.MouseButtonPress,
                QtCore.QEvent.Type.MouseMove,
                QtCore.QEvent.Type.MouseButtonRelease,
            )
            and self._edit_drag(event)
        ):
            return True  # a machine is being dragged: the camera stays where it is
        if kind == QtCore.QEvent.Type.MouseButtonPress and event.button() == QtCore.Qt.MouseButton.LeftButton:
            self._press_pos = (event.position().x(), event.position().y())
        elif kind == QtCore.QEvent.Type.MouseButtonRelease and event.button() == QtCore.Qt.MouseButton.LeftButton:
            press, self._press_pos = self._press_pos, None
            x, y = event.position().x(), event.position().y()
            if press is not None and abs(x - press[0]) + abs(y - press[1]) <= 4:  # a click, not a drag
                ratio = self.plotter.devicePixelRatioF()
                mid = self.machine_at(x * ratio, (self.plotter.height() - y - 1) * ratio)
                toggle = bool(event.modifiers() & QtCore.Qt.KeyboardModifier.ControlModifier)
                self.machine_clicked.emit(mid or "", toggle)
        return False

    # -- edit mode: dragging machines along the floor ---------------------------------------------------
    def set_edit_mode(self, on: bool) -> None:
        """In edit mode a left drag that starts on a machine moves it (signals ``drag_*``) instead of
        orbiting; elsewhere the camera works as always."""
        self._edit_mode = on
        self._dragging = None
        self._turning = None
        self._update_selection_actor()
        self.request_render()

    def _edit_drag(self, event) -> bool:
        kind = event.type()
        ratio = self.plotter.devicePixelRatioF()
        x, y = event.position().x() * ratio, (self.plotter.height() - event.position().y() - 1) * ratio
        if kind == QtCore.QEvent.Type.MouseButtonPress:
            if event.button() != QtCore.Qt.MouseButton.LeftButton:
                return False
            at = self.floor_point(x, y)
            if at is not None and self._on_ring(at):
                cx, cy, _r = self._ring
                self._turning = math.degrees(math.atan2(at[1] - cy, at[0] - cx))
                self.rotate_started.emit(cx, cy)
                return True
            mid = self.machine_at(x, y)
            if mid is None or at is None:
                return False
            self._dragging = mid
            self._drag_moved = False
            self._press_pos = (event.position().x(), event.position().y())
            self.drag_started.emit(mid, at[0], at[1])
            return True
        if self._turning is not None:
            at = self.floor_point(x, y)
            if kind == QtCore.QEvent.Type.MouseMove and at is not None:
                cx, cy, _r = self._ring
                turned = math.degrees(math.atan2(at[1] - cy, at[0] - cx)) - self._turning
                self.rotate_moved.emit((turned + 180.0) % 360.0 - 180.0, event.modifiers())
            elif kind == QtCore.QEvent.Type.MouseButtonRelease and event.button() == QtCore.Qt.MouseButton.LeftButton:
                self._turning = None
                self.rotate_finished.emit(event.modifiers())
            return True
        if self._dragging is None:
            return False
        at = self.floor_point(x, y)
        if kind == QtCore.QEvent.Type.MouseMove:
            if at is not None:
                self._drag_moved = True
                self.drag_moved.emit(at[0], at[1], event.modifiers())
            return True
        if kind == QtCore.QEvent.Type.MouseButtonRelease and event.button() == QtCore.Qt.MouseButton.LeftButton:
            mid, self._dragging = self._dragging, None
            if at is None:
                at = (math.nan, math.nan)
            self.drag_finished.emit(at[0], at[1], event.modifiers())
            if not self._drag_moved:  # a click in edit mode still selects
                toggle = bool(event.modifiers() & QtCore.Qt.KeyboardModifier.ControlModifier)
                self.machine_clicked.emit(mid, toggle)
            self._press_pos = None
            return True
        return False

    def floor_point(self, x: float, y: float) -> tuple[float, float] | None:
        """Where display pixel (x, y) (origin bottom-left) meets the floor plane, or None above the horizon."""
        origin, direction = self.display_ray(x, y)
        if abs(direction[2]) < 1e-9:
            return None
        t = -origin[2] / direction[2]
        if t < 0:
            return None
        p = origin + t * direction
        return float(p[0]), float(p[1])

    def move_machines(self, machines: Sequence[Machine], asset_of: Mapping[str, MeshAsset]) -> None:
        """Show ``machines`` at their poses (a drag step, an undo): their points are rewritten in place,
        labels and the selection outline follow; transport routes follow with ``refresh_floor``."""
        moves = {m.id: machine_matrix(m, asset_of[m.asset].extents) for m in machines}
        self.machines.move(moves)
        self.labels.move_anchors(self.machines.label_anchor())
        self._update_selection_actor()
        self.request_render()

    def refresh_floor(self, factory: Factory) -> None:
        """Machines moved: the transport routes follow them (the rest of the floor is rebuilt only when the
        floor itself changed)."""
        self._factory = factory
        self.floor.update_routes(factory)
        self.request_render()

    def display_ray(self, x: float, y: float) -> tuple[np.ndarray, np.ndarray]:
        """World ray (origin, unit direction) through display pixel (x, y), origin bottom-left."""
        ren = self.renderer
        pts = []
        for z in (0.0, 1.0):
            ren.SetDisplayPoint(x, y, z)
            ren.DisplayToWorld()
            w = ren.GetWorldPoint()
            pts.append(np.array(w[:3]) / (w[3] if w[3] else 1.0))
        d = pts[1] - pts[0]
        return pts[0], d / np.linalg.norm(d)

    def machine_at(self, x: float, y: float) -> str | None:
        """The machine under display pixel (x, y) (VTK coordinates: origin bottom-left), or None."""
        origin, direction = self.display_ray(x, y)
        hit = self.machines.pick(origin, direction)
        return hit[0] if hit else None

    def display_position(self, machine_id: str) -> tuple[float, float]:
        """Where a machine's top centre appears on screen (VTK display coordinates)."""
        i = self.machines.index[machine_id]
        m = self.machines.matrices[i]
        ren = self.renderer
        ren.SetWorldPoint(m[0, 3], m[1, 3], self.machines.top_z[i] * 0.6, 1.0)
        ren.WorldToDisplay()
        x, y, _ = ren.GetDisplayPoint()
        return x, y

    # -- content ---------------------------------------------------------------------------------
    def show_factory(self, factory: Factory, asset_of: Mapping[str, MeshAsset], reset_camera: bool = True) -> None:
        """Build the scene for ``factory``; ``asset_of`` maps asset ids to loaded meshes."""
        t0 = time.perf_counter()
        self._factory = factory
        self.preview.clear()  # a proposal for the layout shown before no longer applies
        self.floor.build(factory)
        self.machines.build(factory.machines, dict(asset_of))
        self.machines.set_colours(self.kind_colours(factory, asset_of))
        self.set_colour_bar(None)
        self.set_legend(self.kind_legend(factory, asset_of), "Machine kind")
        areas = np.array([m.footprint.width_m * m.footprint.depth_m for m in factory.machines])
        spans = np.array([max(m.footprint.width_m, m.footprint.depth_m) for m in factory.machines])
        self.labels.set_labels(self.machines.label_anchor(), [m.id for m in factory.machines], areas, spans)
        self._selected = ()
        self._update_selection_actor()
        if reset_camera:
            self.camera_preset("iso")
        log.info(
            "scene: %d machines, %d triangles built in %.0f ms",
            len(factory.machines),
            self.machines.n_triangles,
            (time.perf_counter() - t0) * 1000,
        )
        self.request_render()

    @staticmethod
    def kind_colours(factory: Factory, asset_of: Mapping[str, MeshAsset]) -> np.ndarray:
        """(N, 3) default colours: the machine kind's colour, magenta for placeholder meshes."""
        out = np.empty((len(factory.machines), 3), dtype=np.uint8)
        for i, m in enumerate(factory.machines):
            out[i] = kind_rgb(m.kind, asset_of[m.asset].placeholder)
        return out

    @staticmethod
    def kind_legend(factory: Factory, asset_of: Mapping[str, MeshAsset]) -> list[tuple[str, tuple[int, ...]]]:
        """The legend of ``kind_colours``: each kind present, by label, and the placeholder colour if used."""
        kinds: dict[str, tuple[int, ...]] = {}
        placeholder = False
        for m in factory.machines:
            if asset_of[m.asset].placeholder:
                placeholder = True
                continue
            kind = get_kind(m.kind)
            kinds.setdefault(kind.label if kind else "other", kind_rgb(m.kind))
        entries = sorted(kinds.items())
        if placeholder:
            entries.append(("mesh missing (placeholder)", PLACEHOLDER_RGB))
        return entries

    def show_kind_colours(self, factory: Factory, asset_of: Mapping[str, MeshAsset]) -> None:
        """Colour machines by kind, with the kinds' legend (what the view shows without live data)."""
        self.set_colour_bar(None)
        self.set_machine_colours(self.kind_colours(factory, asset_of))
        self.set_legend(self.kind_legend(factory, asset_of), "Machine kind")

    def set_machine_colours(self, rgb: np.ndarray) -> None:
        """Recolour all machines ((N, 3) or (N, 4) uint8, in factory order): one array write, one render."""
        self.machines.set_colours(rgb)
        self.request_render()

    def set_label_texts(self, texts: Sequence[str]) -> None:
        """Replace the machine labels' texts (factory order), e.g. ``"CNC-01 · 41.2 °C"``."""
        self.labels.set_texts(texts)
        self.request_render()

    def set_legend(self, entries: Sequence[tuple[str, Sequence[int]]] | None, title: str = "") -> None:
        """Show a colour legend (label, RGB 0–255) in the legend margin; None hides it."""
        self.legend_title = title if entries else None  # what the legend on view explains (None: none)
        self.legend.set_entries(title, entries)

    @property
    def has_legend(self) -> bool:
        return self.legend.has_content

    def set_colour_bar(
        self, title: str | None, lo: float = 0.0, hi: float = 1.0, table: np.ndarray | None = None, slot: str = "machines"
    ) -> None:
        """A continuous legend for values lo…hi coloured with ``table`` ((n, 3) uint8) in one of the ``BAR_SLOTS``
        (``machines``, ``floor``, ``flow``); None hides it. The machines' bar replaces the categorical legend
        while shown: machines have one colouring at a time."""
        if slot not in BAR_SLOTS:
            raise ValueError(f"unknown colour bar slot {slot!r}")
        if slot == "machines" and title is not None and table is not None:
            self.set_legend(None)
        self.legend.set_bar(slot, title, lo, hi, table)

    def show_flow_ribbons(
        self, a: np.ndarray, b: np.ndarray, widths_m: np.ndarray, rgb: np.ndarray, bar: tuple[str, float, np.ndarray] | None
    ) -> None:
        """Material-flow ribbons (stretches a→b, their widths and colours; empty: none) with their colour bar
        ``(title, top value, table)`` from 0 in the legend margin's ``ribbons`` slot (None: no bar)."""
        self.ribbons.show(a, b, widths_m, rgb)
        if bar is not None and self.ribbons.count:
            self.set_colour_bar(bar[0], 0.0, bar[1], bar[2], slot="ribbons")
        else:
            self.set_colour_bar(None, slot="ribbons")
        self.request_render()

    def colour_bar(self, slot: str = "machines") -> str | None:
        """The title of the colour bar in ``slot`` (None: none shown)."""
        bar = self.legend.item(slot)
        return bar.title if bar is not None else None

    @property
    def colour_bar_title(self) -> str | None:
        return self.colour_bar("machines")

    # -- visibility ----------------------------------------------------------------------------------
    def isolate(self, ids: Sequence[str]) -> None:
        """Show only the machines ``ids`` (the others as faint hulls, not picked, not labelled)."""
        index = self.machines.index
        hidden = np.ones(len(self.machines.ids), dtype=bool)
        hidden[[index[i] for i in ids if i in index]] = False
        self.machines.set_hidden(hidden)
        self.labels.set_hidden(hidden)
        self.request_render()

    def show_all(self) -> None:
        """Show every machine again (after ``isolate``)."""
        self.machines.set_hidden(None)
        self.labels.set_hidden(None)
        self.request_render()

    @property
    def hidden_machines(self) -> tuple[str, ...]:
        """Ids of the machines hidden by ``isolate`` (empty: every machine shows)."""
        ids = self.machines.ids
        return tuple(ids[i] for i in np.nonzero(self.machines.hidden)[0])

    def set_selection(self, ids: Sequence[str]) -> None:
        """Outline the selected machines."""
        self._selected = tuple(i for i in ids if i in self.machines.index)
        self._update_selection_actor()
        self.request_render()

    def _update_selection_actor(self) -> None:
        self._update_ring()
        index = self.machines.index
        self.labels.set_emphasis([index[mid] for mid in self._selected if mid in index])  # its label on top
        if not self._selected:
            self._selection_actor.VisibilityOff()
            self._selection_halo.VisibilityOff()
            return
        boxes = self.machines.world_boxes([index[mid] for mid in self._selected], margin_m=0.08)
        self._selection_mapper.SetInputData(outline_polydata(boxes))
        self._selection_actor.VisibilityOn()
        self._selection_halo.VisibilityOn()

    def _update_ring(self) -> None:
        """In edit mode, a ring around the selection on the floor: drag it to turn the selection."""
        if not (self._edit_mode and self._selected):
            self._ring = None
            self._ring_actor.VisibilityOff()
            return
        idx = [self.machines.index[m] for m in self._selected]
        centres = self.machines.matrices[idx][:, :2, 3]
        cx, cy = centres.mean(axis=0)
        reach = [
            float(
                np.hypot(*(c - (cx, cy)))
                + np.hypot(*(self.machines.bounds_hi[i][:2] - self.machines.bounds_lo[i][:2]))
                / 2
                * max(np.linalg.norm(self.machines.matrices[i][:2, 0]), np.linalg.norm(self.machines.matrices[i][:2, 1]))
            )
            for c, i in zip(centres, idx, strict=True)
        ]
        radius = max(reach) + 0.6
        self._ring = (float(cx), float(cy), radius)
        t = np.linspace(0, 2 * np.pi, 97)
        pts = np.c_[cx + radius * np.cos(t), cy + radius * np.sin(t), np.full(len(t), 0.06)]
        ring = pv.lines_from_points(pts)
        knob = pv.Disc(center=(cx + radius, cy, 0.07), inner=0.0, outer=0.35, c_res=24)
        self._ring_mapper.SetInputData(ring.append_polydata(knob))
        self._ring_actor.VisibilityOn()

    def _on_ring(self, at: tuple[float, float]) -> bool:
        if self._ring is None:
            return False
        cx, cy, r = self._ring
        return abs(math.hypot(at[0] - cx, at[1] - cy) - r) <= max(0.4, 0.05 * r)

    @property
    def selection(self) -> tuple[str, ...]:
        return self._selected

    # -- camera ------------------------------------------------------------------------------------
    def camera_preset(self, name: str) -> None:
        """``top``, ``iso``, ``front`` or ``fit`` (fit everything, keep the direction)."""
        cam = self.renderer.GetActiveCamera()
        if self._factory is not None:
            w, d = self._factory.floor.width_m, self._factory.floor.depth_m
        else:
            w = d = 10.0
        cx, cy = w / 2, d / 2
        span = max(w, d)
        if name == "top":
            cam.SetFocalPoint(cx, cy, 0)
            cam.SetPosition(cx, cy, span * 1.5)
            cam.SetViewUp(0, 1, 0)
        elif name == "iso":
            cam.SetFocalPoint(cx, cy, 0)
            cam.SetPosition(cx - 0.45 * span, cy - 0.75 * span, 0.65 * span)
            cam.SetViewUp(0, 0, 1)
        elif name == "front":
            cam.SetFocalPoint(cx, cy, 0)
            cam.SetPosition(cx, cy - 1.1 * span, 0.3 * span)
            cam.SetViewUp(0, 0, 1)
        elif name != "fit":
            raise ValueError(f"unknown camera preset {name!r}")
        self._fit_floor()
        self._fitted = True
        self.labels.update_for_camera()
        self.request_render()

    @property
    def covered_right(self) -> float:
        """The share of the render area's width kept clear on the right (``keep_clear_right``)."""
        return self._covered_right

    def keep_clear_right(self, share: float) -> None:
        """Something stands over the right ``share`` of the render area (a dialog beside the floor): the
        floor is fitted into the part left in sight and centred there; 0 gives the whole area back."""
        share = min(max(float(share), 0.0), 0.8)
        if abs(share - self._covered_right) < 0.01:
            return
        self._covered_right = share
        self.renderer.GetActiveCamera().SetWindowCenter(share, 0.0)  # the picture moves left by that share
        self._refit_now()

    def _refit_now(self) -> None:
        if self._factory is not None and not getattr(self.plotter, "_closed", False):
            self._fit_floor()
            self.labels.update_for_camera()
            self.request_render()

    def _refit(self) -> None:
        if self._fitted and self._factory is not None and not getattr(self.plotter, "_closed", False):
            self._fit_floor()
            self.labels.update_for_camera()
            self.request_render()

    def _fit_floor(self, margin: float = 0.06) -> None:
        """Move the camera along its view direction so the floor (and what stands on it) just fills the view."""
        ren = self.renderer
        cam = ren.GetActiveCamera()
        if self._factory is None:
            ren.ResetCamera()
            return
        w, d = self._factory.floor.width_m, self._factory.floor.depth_m
        top = float(self.machines.top_z.max()) if len(self.machines.top_z) else 3.0
        corners = np.array([[x, y, z] for x in (0, w) for y in (0, d) for z in (0, top)], dtype=float)
        ren.ResetCamera(0, w, 0, d, 0, top)
        fp = np.array(cam.GetFocalPoint())
        for _ in range(4):  # converge: perspective makes the fraction depend on the distance
            ren.ResetCameraClippingRange()
            xs, ys = [], []
            for c in corners:
                ren.SetWorldPoint(*c, 1.0)
                ren.WorldToView()
                vx, vy, _ = ren.GetViewPoint()
                xs.append(vx)
                ys.append(vy)
            # View coordinates run from -1 to 1 in both directions; keep the box centred.
            frac = max(max(abs(min(xs)), abs(max(xs))), max(abs(min(ys)), abs(max(ys))))
            if frac <= 0:
                break
            scale = frac / (1.0 - margin)
            pos = np.array(cam.GetPosition())
            cam.SetPosition(*(fp + (pos - fp) * scale))
            if abs(scale - 1.0) < 0.01:
                break
        if self._covered_right > 0:  # only the left part is in sight: fit the floor into its width
            pos = np.array(cam.GetPosition())
            cam.SetPosition(*(fp + (pos - fp) / (1.0 - self._covered_right)))
        ren.ResetCameraClippingRange()

    def fly_to(self, machine_id: str) -> None:
        """Frame a machine: centre the camera on it and come close enough that it fills about a third of
        the view (keeping the viewing direction)."""
        box = self.machines.world_box(machine_id)
        size = float(np.linalg.norm(box.max(axis=0) - box.min(axis=0)))
        i = self.machines.index[machine_id]
        cam = self.renderer.GetActiveCamera()
        half_angle = np.radians(max(cam.GetViewAngle(), 1.0) / 2)
        distance = max(size * 1.5 / np.tan(half_angle), 4.0)
        self.fly_to_point(float(self.machines.matrices[i, 0, 3]), float(self.machines.matrices[i, 1, 3]), distance)

    def fly_to_point(self, x: float, y: float, distance_m: float | None = None) -> None:
        """Centre the camera on a floor point, keeping the viewing direction (and the distance, unless
        ``distance_m`` is given)."""
        cam = self.renderer.GetActiveCamera()
        fp = np.array(cam.GetFocalPoint())
        pos = np.array(cam.GetPosition())
        offset = pos - fp
        if distance_m is not None and np.linalg.norm(offset) > 0:
            offset = offset / np.linalg.norm(offset) * distance_m
        target = np.array([x, y, 0.0])
        self._fitted = False
        cam.SetFocalPoint(*target)
        cam.SetPosition(*(target + offset))
        self.renderer.ResetCameraClippingRange()
        self.labels.update_for_camera()
        self.request_render()

    def set_theme(self, theme: str) -> None:
        """``light`` or ``dark`` background, floor and labels."""
        self._theme = theme
        self.renderer.SetBackground(*BACKGROUNDS[theme])
        self.renderer.GradientBackgroundOff()
        self.floor.set_style(DARK if theme == "dark" else LIGHT)
        self.labels.set_theme(theme == "dark")
        self.legend.set_theme(theme)
        self.flow.set_theme(theme)
        self.ribbons.set_theme(theme)
        self.request_render()
