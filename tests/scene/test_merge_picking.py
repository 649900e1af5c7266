"""Merging instances and ray picking: pure numpy, no display."""

from __future__ import annotations

import numpy as np
import trimesh

from app.model.factory import Footprint, Machine, Pose
from app.model.geometry import footprint_corners, machine_matrix, pose_matrix
from app.scene.merge import merge_instances
from app.scene.picking import pick, ray_triangles


def _box():
    b = trimesh.creation.box(extents=(2.0, 1.0, 1.0))
    b.apply_translation([0, 0, 0.5])
    return np.asarray(b.vertices), np.asarray(b.faces)


def test_merge_places_each_instance_and_tags_its_cells():
    box = _box()
    tri = (np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], float), np.array([[0, 1, 2]]))
    mats = np.stack([pose_matrix(0, 0, 0), pose_matrix(10, 0, 90), pose_matrix(0, 5, 0)])
    pts, faces, owner, offset = merge_instances([box, tri], np.array([0, 1, 0]), mats)
    assert len(pts) == 8 + 3 + 8 and len(faces) == 12 + 1 + 12
    # Instances of one template are grouped: both boxes first, then the triangle.
    assert owner.tolist() == [0] * 12 + [2] * 12 + [1]
    assert offset.tolist() == [0, 16, 8]
    np.testing.assert_allclose(pts[16:19], [[10, 0, 0], [10, 1, 0], [9, 0, 0]], atol=1e-6)  # rotated 90°
    np.testing.assert_allclose(pts[8:16].mean(axis=0), [0, 5, 0.5], atol=1e-6)
    assert faces[24].tolist() == [16, 17, 18]
    assert faces.max() < len(pts)
    # Every triangle of instance i uses only instance i's points.
    for i, nv in enumerate([8, 3, 8]):
        used = faces[owner == i]
        assert used.min() >= offset[i] and used.max() < offset[i] + nv


def _world(poses):
    box = _box()
    mats = np.stack([pose_matrix(*p) for p in poses])
    inv = np.linalg.inv(mats)
    lo = np.repeat(box[0].min(axis=0)[None], len(poses), axis=0)
    hi = np.repeat(box[0].max(axis=0)[None], len(poses), axis=0)
    return inv, lo, hi, np.zeros(len(poses), dtype=int), [box]


def test_pick_returns_the_nearest_machine_along_the_ray():
    inv, lo, hi, t_of, temps = _world([(0, 0, 0), (5, 0, 0), (10, 0, 0)])
    hit = pick(np.array([-20.0, 0, 0.5]), np.array([1.0, 0, 0]), inv, lo, hi, t_of, temps)
    assert hit is not None and hit[0] == 0 and abs(hit[1] - 19.0) < 1e-9
    hit = pick(np.array([30.0, 0, 0.5]), np.array([-1.0, 0, 0]), inv, lo, hi, t_of, temps)
    assert hit[0] == 2
    assert pick(np.array([5.0, 0, 10]), np.array([0, 0, -1.0]), inv, lo, hi, t_of, temps)[0] == 1
    assert pick(np.array([5.0, 3, 10]), np.array([0, 0, -1.0]), inv, lo, hi, t_of, temps) is None


def test_pick_respects_rotation():
    # Box 2 m long in X rotated 90°: it now spans y ∈ [-1, 1] and x ∈ [-0.5, 0.5].
    inv, lo, hi, t_of, temps = _world([(0, 0, 90)])
    assert pick(np.array([0, 0.9, 5]), np.array([0, 0, -1.0]), inv, lo, hi, t_of, temps) is not None
    assert pick(np.array([0.9, 0, 5]), np.array([0, 0, -1.0]), inv, lo, hi, t_of, temps) is None


def test_pick_is_exact_inside_the_bounding_box():
    # An L-shaped template: the ray passes through its bounding box but misses the L itself.
    l_shape = trimesh.util.concatenate(
        [
            trimesh.creation.box(extents=(3, 1, 1), transform=trimesh.transformations.translation_matrix([0, -1, 0.5])),
            trimesh.creation.box(extents=(1, 3, 1), transform=trimesh.transformations.translation_matrix([-1, 0, 0.5])),
        ]
    )
    temps = [(np.asarray(l_shape.vertices), np.asarray(l_shape.faces))]
    inv = np.linalg.inv(np.eye(4))[None]
    lo, hi = l_shape.bounds[0][None], l_shape.bounds[1][None]
    assert pick(np.array([1.0, 1.0, 5]), np.array([0, 0, -1.0]), inv, lo, hi, np.zeros(1, int), temps) is None
    assert pick(np.array([-1.0, 1.0, 5]), np.array([0, 0, -1.0]), inv, lo, hi, np.zeros(1, int), temps) is not None


def test_ray_triangle_distance():
    tri = np.array([[[0, 0, 0], [1, 0, 0], [0, 1, 0]]], float)
    assert ray_triangles(np.array([0.2, 0.2, 3.0]), np.array([0, 0, -1.0]), tri) == 3.0
    assert ray_triangles(np.array([0.8, 0.8, 3.0]), np.array([0, 0, -1.0]), tri) == float("inf")


def test_machine_matrix_fits_footprint_and_corners():
    m = Machine(
        id="M", name="M", kind="cnc", asset="a", pose=Pose(x_m=10, y_m=5, yaw_deg=90), footprint=Footprint(width_m=4, depth_m=2)
    )
    mat = machine_matrix(m, np.array([2.0, 1.0, 1.0]))
    np.testing.assert_allclose(np.linalg.norm(mat[:3, :3], axis=0), [2, 2, 2])
    corners = footprint_corners(m)
    np.testing.assert_allclose(corners.min(axis=0), [9, 3])
    np.testing.assert_allclose(corners.max(axis=0), [11, 7])
