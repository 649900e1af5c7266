"""Pure-numpy geometry of a layout: where a machine's mesh goes and what it covers on the floor.

The scene (VTK) and the collision world (pybullet) both place meshes with ``machine_matrix`` so that
what is drawn is what is checked.
"""

from __future__ import annotations

import math

import numpy as np

from app.model.factory import Machine, TransportPath


def machine_scale(machine: Machine, asset_extents: np.ndarray) -> np.ndarray:
    """Per-axis scale that fits a normalised asset (extents in metres) to the machine's footprint.

    X and Y stretch to the footprint; Z follows ``footprint.height_m`` when given, else the geometric
    mean of the X and Y scales so the machine keeps its proportions.
    """
    ex, ey, ez = (max(float(v), 1e-6) for v in asset_extents)
    sx = machine.footprint.width_m / ex
    sy = machine.footprint.depth_m / ey
    sz = machine.footprint.height_m / ez if machine.footprint.height_m else math.sqrt(sx * sy)
    return np.array([sx, sy, sz])


def pose_matrix(x_m: float, y_m: float, yaw_deg: float, scale: np.ndarray | None = None) -> np.ndarray:
    """4×4 matrix: scale, then rotate by ``yaw_deg`` about Z, then translate to (x, y, 0)."""
    c, s = math.cos(math.radians(yaw_deg)), math.sin(math.radians(yaw_deg))
    m = np.eye(4)
    m[:2, :2] = [[c, -s], [s, c]]
    m[0, 3], m[1, 3] = x_m, y_m
    if scale is not None:
        m[:3, :3] = m[:3, :3] * np.asarray(scale)[None, :]
    return m


def machine_matrix(machine: Machine, asset_extents: np.ndarray) -> np.ndarray:
    """4×4 matrix placing a normalised asset as ``machine`` (footprint fit, yaw, position)."""
    p = machine.pose
    return pose_matrix(p.x_m, p.y_m, p.yaw_deg, machine_scale(machine, asset_extents))


def footprint_corners(machine: Machine) -> np.ndarray:
    """The four floor corners (4×2, counter-clockwise) of a machine's footprint in world metres."""
    w, d = machine.footprint.width_m / 2, machine.footprint.depth_m / 2
    local = np.array([[-w, -d], [w, -d], [w, d], [-w, d]])
    c, s = math.cos(math.radians(machine.pose.yaw_deg)), math.sin(math.radians(machine.pose.yaw_deg))
    rot = np.array([[c, -s], [s, c]])
    return local @ rot.T + [machine.pose.x_m, machine.pose.y_m]


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 4×4 affine matrix to (n, 3) points."""
    return points @ matrix[:3, :3].T + matrix[:3, 3]


def transport_route(t: TransportPath, centre: dict[str, tuple[float, float]]) -> list[tuple[float, float]]:
    """The polyline a transport follows: from-machine centre, waypoints, to-machine centre ([] if unknown)."""
    a, b = centre.get(t.from_machine), centre.get(t.to_machine)
    if a is None or b is None:
        return []
    return [a, *[(float(x), float(y)) for x, y in t.waypoints], b]


def route_length_m(t: TransportPath, centre: dict[str, tuple[float, float]]) -> float:
    """Length in metres of a transport's route (its travel distance)."""
    pts = np.asarray(transport_route(t, centre), dtype=float)
    return float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum()) if len(pts) >= 2 else 0.0
