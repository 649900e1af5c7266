"""Convex parts of a machine mesh for collision checks.

A convex hull is a poor stand-in for a workbench, a fenced robot cell or a rack: it fills the space
between the legs and inside the fence. Machine meshes are usually built from separate pieces (legs, top,
posts, panels); each piece that is itself convex is checked exactly. So a mesh is split into its connected
pieces and, when their hulls fill clearly less than the whole hull, the pieces are used as a compound
shape. Otherwise (one piece, a single concave surface, or hundreds of pieces) the whole hull is used.

The parts go to an OBJ file (one object per part) in a cache folder, named by a hash of the mesh, which
pybullet loads as a compound of convex hulls.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, QhullError

log = logging.getLogger(__name__)

MAX_POINTS = 2000  # a convex shape with more points is reduced to this many (support points)
MAX_PARTS = 64  # more pieces than this: the whole hull (a compound of hundreds slows every query)
MAX_FACES_FOR_PIECES = 200_000  # bigger meshes are checked on their (simplified) hull: no piece analysis
TIGHTER = 0.9  # use the pieces when their hulls fill less than this share of the whole hull


def _merge_vertices(vertices: np.ndarray, faces: np.ndarray, decimals: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Weld vertices at the same position (meshes often split them for normals)."""
    keys = np.round(vertices, decimals)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    return unique, inverse.reshape(-1)[faces]


def _components(verts: np.ndarray, tris: np.ndarray) -> tuple[int, np.ndarray]:
    """Connected pieces: (count, piece of each vertex); unused vertices form pieces of their own."""
    edges = np.concatenate([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [2, 0]]])
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(len(verts), len(verts)))
    used = np.zeros(len(verts), dtype=bool)
    used[tris.reshape(-1)] = True
    n, labels = connected_components(graph, directed=False)
    kept = np.unique(labels[used])
    relabel = np.full(n, -1)
    relabel[kept] = np.arange(len(kept))
    return len(kept), relabel[labels]


def _hull(points: np.ndarray) -> ConvexHull | None:
    try:
        return ConvexHull(points)
    except (QhullError, ValueError):  # flat or too few points: no volume
        return None


def convex_parts(vertices: np.ndarray, faces: np.ndarray) -> list[np.ndarray]:
    """Vertex sets whose convex hulls make up the mesh: its connected pieces when that is clearly tighter
    than one hull of everything, else ``[all vertices]``."""
    vertices = np.asarray(vertices, dtype=float)
    faces = np.asarray(faces, dtype=np.int64)
    whole = [vertices]
    if len(vertices) < 4 or len(faces) == 0 or len(faces) > MAX_FACES_FOR_PIECES:
        return whole
    # Pieces as the file has them (shared vertices within a piece); files that store every triangle on its
    # own (STL) are welded first. Welding alone would also join pieces that merely touch at a corner.
    verts, tris = vertices, faces
    n, labels = _components(verts, tris)
    if n > MAX_PARTS:
        verts, tris = _merge_vertices(vertices, faces)
        n, labels = _components(verts, tris)
    if n <= 1 or n > MAX_PARTS:
        return whole
    parts = [verts[labels == k] for k in range(n)]
    parts = [p for p in parts if len(p) >= 3]
    whole_hull = _hull(verts)
    if whole_hull is None or whole_hull.volume <= 0:
        return whole
    filled = sum(h.volume for h in (_hull(p) for p in parts) if h is not None)
    if filled >= TIGHTER * whole_hull.volume:
        return whole
    return parts


def parts_obj(parts: list[np.ndarray], cache_dir: Path) -> Path:
    """An OBJ file with one object per part (its convex hull), in ``cache_dir``, named by content."""
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(p, dtype=np.float64).tobytes() + b"|" for p in parts)).hexdigest()[:24]
    target = cache_dir / f"{digest}.obj"
    if target.exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    lines, base = [], 1
    for k, p in enumerate(parts):
        hull = _hull(p)
        if hull is None:  # a flat piece: keep its points as a (flat) hull of their own
            pts, tris = p, np.array([[0, i, i + 1] for i in range(1, len(p) - 1)])
        else:
            pts, tris = p, hull.simplices
        lines.append(f"o part_{k}")
        lines += [f"v {x:.9g} {y:.9g} {z:.9g}" for x, y, z in pts]
        lines += [f"f {a + base} {b + base} {c + base}" for a, b, c in tris]
        base += len(pts)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="ascii")
    os.replace(tmp, target)
    return target


def reduce_points(points: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """At most ``max_points`` of ``points``: the farthest one in each of as many evenly spread directions
    (a huge mesh's hull, simplified for collision). The hull of the result lies inside the original one
    and touches it in every one of those directions."""
    points = np.asarray(points, dtype=np.float64)
    if len(points) <= max_points:
        return points
    if len(points) > 8 * max_points:  # first one point per cell of a coarse grid (the one farthest out)
        centre = points.mean(axis=0)
        cell = (points.max(axis=0) - points.min(axis=0)).max() / 64
        keys = np.floor((points - points.min(axis=0)) / cell).astype(np.int64)
        key = (keys[:, 0] * 65 + keys[:, 1]) * 65 + keys[:, 2]
        reach = np.einsum("ij,ij->i", points - centre, points - centre)
        order = np.lexsort((-reach, key))
        first = np.r_[True, key[order][1:] != key[order][:-1]]
        points = points[order[first]]
        if len(points) <= max_points:
            return points
    k = np.arange(max_points) + 0.5
    phi = np.arccos(1 - 2 * k / max_points)
    theta = np.pi * (1 + 5**0.5) * k
    dirs = np.c_[np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)].astype(np.float32)
    pts32 = points.astype(np.float32)
    chosen = np.empty(max_points, dtype=np.int64)
    for start in range(0, max_points, 64):  # a few directions at a time: bounded memory for any mesh
        chosen[start : start + 64] = np.argmax(pts32 @ dirs[start : start + 64].T, axis=0)
    return points[np.unique(chosen)]
