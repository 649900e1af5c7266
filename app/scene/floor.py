"""The floor: slab, grid, aisles with safety markings, walls, keep-out and exit zones, transport paths."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyvista as pv
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper, vtkRenderer

from app.model.factory import Factory, Floor
from app.model.geometry import transport_route

Colour = tuple[float, float, float]


@dataclass(frozen=True)
class FloorStyle:
    """Colours of the floor layer for one theme (0–1 RGB)."""

    slab: Colour
    grid_minor: Colour
    grid_major: Colour
    wall: Colour


LIGHT = FloorStyle(slab=(0.80, 0.81, 0.82), grid_minor=(0.72, 0.73, 0.75), grid_major=(0.60, 0.62, 0.65), wall=(0.55, 0.57, 0.60))
DARK = FloorStyle(slab=(0.27, 0.28, 0.30), grid_minor=(0.33, 0.34, 0.37), grid_major=(0.42, 0.44, 0.48), wall=(0.45, 0.47, 0.52))

AISLE_COLOURS: dict[str, Colour] = {"forklift": (0.95, 0.80, 0.25), "walkway": (0.45, 0.75, 0.45), "emergency": (0.2, 0.7, 0.4)}
ZONE_COLOURS: dict[str, Colour] = {"keepout": (0.85, 0.22, 0.20), "exit": (0.10, 0.65, 0.40)}
TRANSPORT_COLOURS: dict[str, Colour] = {
    "conveyor": (0.35, 0.45, 0.60),
    "agv": (0.55, 0.35, 0.75),
    "forklift": (0.90, 0.50, 0.10),
    "manual": (0.5, 0.5, 0.5),
}


def segment_quads(points: Sequence[Sequence[float]], width: float, z: float) -> pv.PolyData:
    """A strip of quads ``width`` wide along a polyline, lying at height ``z``."""
    pts, faces = [], []
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        dx, dy = x1 - x0, y1 - y0
        length = math.hypot(dx, dy)
        if length < 1e-9:
            continue
        nx, ny = -dy / length * width / 2, dx / length * width / 2
        base = len(pts)
        pts += [(x0 + nx, y0 + ny, z), (x0 - nx, y0 - ny, z), (x1 - nx, y1 - ny, z), (x1 + nx, y1 + ny, z)]
        faces += [4, base, base + 1, base + 2, base + 3]
    return pv.PolyData(np.array(pts, dtype=float), faces=np.array(faces)) if pts else pv.PolyData()


def polyline(points: Sequence[Sequence[float]], z: float) -> pv.PolyData:
    """A polyline through 2-D points at height ``z``."""
    arr = np.array([[p[0], p[1], z] for p in points], dtype=float)
    return pv.lines_from_points(arr) if len(arr) >= 2 else pv.PolyData()


def grid_lines(width: float, depth: float, step: float, z: float) -> pv.PolyData:
    """Grid lines every ``step`` metres over the floor rectangle."""
    xs = np.arange(0.0, width + 1e-9, step)
    ys = np.arange(0.0, depth + 1e-9, step)
    pts = np.concatenate(
        [
            np.column_stack([xs, np.zeros_like(xs), np.full_like(xs, z)]),
            np.column_stack([xs, np.full_like(xs, depth), np.full_like(xs, z)]),
            np.column_stack([np.zeros_like(ys), ys, np.full_like(ys, z)]),
            np.column_stack([np.full_like(ys, width), ys, np.full_like(ys, z)]),
        ]
    )
    nx, ny = len(xs), len(ys)
    lines = [(2, i, nx + i) for i in range(nx)] + [(2, 2 * nx + j, 2 * nx + ny + j) for j in range(ny)]
    return pv.PolyData(pts, lines=np.array(lines).ravel())


def grid_steps(floor: Floor) -> tuple[float, float]:
    """Minor and major grid spacing: the file's grid, coarsened so no axis has more than ~300 lines."""
    minor = floor.grid_m
    while max(floor.width_m, floor.depth_m) / minor > 300:
        minor *= 5
    return minor, minor * 10


def wall_boxes(floor: Floor) -> pv.PolyData:
    """Walls as boxes along their segments."""
    parts = []
    for wall in floor.walls:
        for (x0, y0), (x1, y1) in zip(wall.points[:-1], wall.points[1:], strict=False):
            length = math.hypot(x1 - x0, y1 - y0)
            if length < 1e-9:
                continue
            box = pv.Cube(
                center=(0, 0, wall.height_m / 2),
                x_length=length + wall.thickness_m,
                y_length=wall.thickness_m,
                z_length=wall.height_m,
            )
            box.rotate_z(math.degrees(math.atan2(y1 - y0, x1 - x0)), inplace=True)
            box.translate(((x0 + x1) / 2, (y0 + y1) / 2, 0), inplace=True)
            parts.append(box)
    return pv.merge(parts) if parts else pv.PolyData()


class _Batch:
    """Geometry of one drawing style gathered from many records, drawn as one actor with per-cell colours."""

    def __init__(self) -> None:
        self.parts: list[pv.PolyData] = []
        self.colours: list[np.ndarray] = []

    def add(self, mesh: pv.PolyData, colour: Colour) -> None:
        if mesh.n_cells:
            self.parts.append(mesh)
            self.colours.append(np.tile(np.array(colour) * 255, (mesh.n_cells, 1)).astype(np.uint8))

    def mesh(self) -> pv.PolyData:
        if not self.parts:
            return pv.PolyData()
        merged = pv.merge(self.parts, merge_points=False) if len(self.parts) > 1 else self.parts[0].copy()
        merged.cell_data["rgb"] = np.concatenate(self.colours)
        return merged


class _LineBatch:
    """Many polylines gathered as numpy arrays and built into one line-segment mesh at the end.

    Transport routes number in the tens of thousands in large plants: one small mesh each would cost
    seconds to build, arrays cost milliseconds.
    """

    def __init__(self) -> None:
        self.points: list[np.ndarray] = []
        self.colours: list[tuple[Colour, int]] = []

    def add(self, points: Sequence[Sequence[float]], z: float, colour: Colour) -> None:
        if len(points) < 2:
            return
        arr = np.asarray(points, dtype=float)[:, :2]
        self.points.append(np.column_stack([arr, np.full(len(arr), z)]))
        self.colours.append((colour, len(arr) - 1))

    def mesh(self) -> pv.PolyData:
        if not self.points:
            return pv.PolyData()
        pts = np.concatenate(self.points)
        sizes = np.array([len(p) for p in self.points])
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        # Segment i joins point i and i+1 unless i is the last point of its polyline.
        first = np.ones(len(pts), dtype=bool)
        first[starts + sizes - 1] = False
        a = np.nonzero(first)[0]
        lines = np.column_stack([np.full(len(a), 2), a, a + 1]).ravel()
        mesh = pv.PolyData(pts, lines=lines)
        rgb = np.concatenate([np.tile(np.array(c) * 255, (k, 1)) for c, k in self.colours]).astype(np.uint8)
        mesh.cell_data["rgb"] = rgb
        return mesh


class FloorLayer:
    """Actors of the floor: a handful whatever the factory's size (each style is one merged actor)."""

    def __init__(self, renderer: vtkRenderer):
        self._renderer = renderer
        self._actors: list[vtkActor] = []
        self._style = LIGHT
        self._themed: list[tuple[vtkActor, str]] = []
        self._factory: Factory | None = None
        self._routes: vtkActor | None = None  # the transport routes: the one part that follows machine moves

    def _add(
        self, mesh: pv.PolyData, colour: Colour | None, opacity: float = 1.0, line_width: float = 1.0, lighting: bool = False
    ) -> vtkActor | None:
        """One actor: a single colour, or per-cell colours from the ``rgb`` cell array when colour is None."""
        if mesh.n_points == 0:
            return None
        mapper = vtkPolyDataMapper()
        mapper.SetInputData(mesh)
        if colour is None:
            mapper.SetScalarModeToUseCellFieldData()
            mapper.SelectColorArray("rgb")
            mapper.SetColorModeToDirectScalars()
            mapper.ScalarVisibilityOn()
        else:
            mapper.ScalarVisibilityOff()
        mapper.SetStatic(True)
        actor = vtkActor()
        actor.SetMapper(mapper)
        actor.PickableOff()
        prop = actor.GetProperty()
        if colour is not None:
            prop.SetColor(*colour)
        prop.SetOpacity(opacity)
        prop.SetLineWidth(line_width)
        if not lighting:
            prop.SetAmbient(1.0)
            prop.SetDiffuse(0.0)
        self._renderer.AddActor(actor)
        self._actors.append(actor)
        return actor

    def clear(self) -> None:
        for a in self._actors:
            self._renderer.RemoveActor(a)
        self._actors.clear()
        self._themed.clear()
        self._routes = None

    @property
    def n_actors(self) -> int:
        return len(self._actors)

    def set_style(self, style: FloorStyle) -> None:
        self._style = style
        for actor, field in self._themed:
            actor.GetProperty().SetColor(*getattr(style, field))

    def build(self, factory: Factory) -> None:
        self.clear()
        self._factory = factory
        floor = factory.floor
        st = self._style
        slab = pv.Plane(
            center=(floor.width_m / 2, floor.depth_m / 2, -0.02),
            direction=(0, 0, 1),
            i_size=floor.width_m,
            j_size=floor.depth_m,
            i_resolution=1,
            j_resolution=1,
        )
        minor, major = grid_steps(floor)
        themed = [
            (self._add(slab, st.slab, lighting=True), "slab"),
            (self._add(grid_lines(floor.width_m, floor.depth_m, minor, 0.002), st.grid_minor), "grid_minor"),
            (self._add(grid_lines(floor.width_m, floor.depth_m, major, 0.003), st.grid_major, line_width=1.5), "grid_major"),
            (self._add(wall_boxes(floor), st.wall, lighting=True), "wall"),
        ]
        self._themed = [(a, f) for a, f in themed if a is not None]

        fills, hatches = _Batch(), _Batch()
        markings = _LineBatch()
        for aisle in floor.aisles:
            colour = AISLE_COLOURS[aisle.kind]
            fills.add(segment_quads(aisle.points, aisle.width_m, 0.006), colour)
            for side in (-1, 1):  # painted safety lines along both edges
                markings.add(_offset_polyline(aisle.points, side * aisle.width_m / 2), 0.008, colour)
        for zone in floor.zones:
            pts = np.array([[x, y, 0.01] for x, y in zone.polygon], dtype=float)
            colour = ZONE_COLOURS[zone.kind]
            fills.add(pv.PolyData(pts, faces=np.array([len(pts), *range(len(pts))])).triangulate(), colour)
            markings.add([*zone.polygon, zone.polygon[0]], 0.012, colour)
            hatches.add(_hatch(zone.polygon, 0.011), colour)
        self._add(fills.mesh(), None, opacity=0.35)
        self._add(markings.mesh(), None, line_width=3.0)
        self._add(hatches.mesh(), None, line_width=1.5)
        self._routes = self._add_routes(_routes_mesh(factory))

    def update_routes(self, factory: Factory) -> None:
        """Machines moved: redraw only the transport routes between them (in place), not the whole floor."""
        if self._factory is None or self._factory.floor != factory.floor:
            self.build(factory)
            return
        self._factory = factory
        mesh = _routes_mesh(factory)
        if self._routes is None:
            self._routes = self._add_routes(mesh)  # the first route
            return
        if mesh.n_points:
            self._routes.GetMapper().SetInputData(mesh)
            self._routes.GetMapper().Modified()
        self._routes.SetVisibility(mesh.n_points > 0)

    def _add_routes(self, mesh: pv.PolyData) -> vtkActor | None:
        return self._add(mesh, None, opacity=0.9, line_width=2.0)

    @property
    def routes_actor(self) -> vtkActor | None:
        return self._routes


def _routes_mesh(factory: Factory) -> pv.PolyData:
    """The transport routes between the machines' centres, coloured by transport kind."""
    routes = _LineBatch()
    centre = {m.id: (m.pose.x_m, m.pose.y_m) for m in factory.machines}
    for t in factory.transports:
        routes.add(transport_route(t, centre), 0.04, TRANSPORT_COLOURS[t.kind])
    return routes.mesh()


def _offset_polyline(points: Sequence[Sequence[float]], offset: float) -> list[tuple[float, float]]:
    """The polyline shifted sideways by ``offset`` (per-segment normals; fine for straight aisles)."""
    out = []
    n = len(points)
    for i in range(n):
        a = points[max(i - 1, 0)]
        b = points[min(i + 1, n - 1)]
        dx, dy = b[0] - a[0], b[1] - a[1]
        length = math.hypot(dx, dy) or 1.0
        out.append((points[i][0] - dy / length * offset, points[i][1] + dx / length * offset))
    return out


def _hatch(polygon: Sequence[Sequence[float]], z: float, spacing: float = 1.0) -> pv.PolyData:
    """Diagonal hatch lines clipped to a convex or concave polygon (even–odd rule)."""
    poly = np.asarray(polygon, dtype=float)
    # Rotate by -45° so hatch lines become horizontal scanlines.
    c = s = math.sqrt(0.5)
    rot = poly @ np.array([[c, s], [-s, c]])
    ymin, ymax = rot[:, 1].min(), rot[:, 1].max()
    pts, lines = [], []
    edges = list(zip(rot, np.roll(rot, -1, axis=0), strict=False))
    for y in np.arange(ymin + spacing / 2, ymax, spacing):
        xs = sorted(p[0] + (y - p[1]) * (q[0] - p[0]) / (q[1] - p[1]) for p, q in edges if (p[1] <= y) != (q[1] <= y))
        for x0, x1 in zip(xs[0::2], xs[1::2], strict=False):
            for x in (x0, x1):
                wx, wy = np.array([x, y]) @ np.array([[c, -s], [s, c]])
                pts.append((wx, wy, z))
            lines += [2, len(pts) - 2, len(pts) - 1]
    return pv.PolyData(np.array(pts), lines=np.array(lines)) if pts else pv.PolyData()
