"""Pure-numpy merging of many placed copies of a few template meshes into one triangle soup.

The scene draws every machine of a factory from one merged mesh whose cells carry the index of the machine
they belong to, so recolouring all machines is one array write, not one call per actor.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def merge_instances(
    templates: Sequence[tuple[np.ndarray, np.ndarray]],
    template_of: np.ndarray,
    matrices: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Place instance ``i`` of ``templates[template_of[i]]`` with ``matrices[i]`` and merge them all.

    Instances of one template are laid out next to each other (so each template is one block write);
    ``point_offset`` says where each instance's points start.

    Parameters
    ----------
    templates
        (vertices (n, 3), faces (m, 3)) per template.
    template_of
        (N,) template index of each instance.
    matrices
        (N, 4, 4) affine placement of each instance.

    Returns
    -------
    points : (P, 3) float32
    faces : (C, 3) int64, indices into ``points``
    cell_owner : (C,) int32, the instance each triangle belongs to
    point_offset : (N,) int64, instance ``i`` owns points ``point_offset[i]`` onwards
        (as many as its template has vertices)

    Examples
    --------
    >>> import numpy as np
    >>> tri = (np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], float), np.array([[0, 1, 2]]))
    >>> m = np.stack([np.eye(4), np.eye(4)]); m[1, 0, 3] = 5
    >>> p, f, owner, offset = merge_instances([tri], np.array([0, 0]), m)
    >>> p[3].tolist(), f[1].tolist(), owner.tolist(), offset.tolist()
    ([5.0, 0.0, 0.0], [3, 4, 5], [0, 1], [0, 3])
    """
    template_of = np.asarray(template_of, dtype=np.int64)
    n = len(template_of)
    counts = np.bincount(template_of, minlength=len(templates)) if n else np.zeros(len(templates), dtype=np.int64)
    nv = np.array([len(t[0]) for t in templates], dtype=np.int64)
    nf = np.array([len(t[1]) for t in templates], dtype=np.int64)
    points = np.empty((int((counts * nv).sum()), 3), dtype=np.float32)
    faces = np.empty((int((counts * nf).sum()), 3), dtype=np.int64)
    owner = np.empty(len(faces), dtype=np.int32)
    point_offset = np.zeros(n, dtype=np.int64)
    p0 = f0 = 0
    for t, (tv, tf) in enumerate(templates):
        members = np.nonzero(template_of == t)[0]
        k = len(members)
        if k == 0:
            continue
        tv = np.asarray(tv, dtype=np.float64)
        tf = np.asarray(tf, dtype=np.int64)
        rot_t = matrices[members, :3, :3].transpose(0, 2, 1)
        placed = np.matmul(tv[None], rot_t)  # (k, nv, 3)
        placed += matrices[members, None, :3, 3]
        p1, f1 = p0 + k * len(tv), f0 + k * len(tf)
        points[p0:p1] = placed.reshape(-1, 3)
        starts = p0 + np.arange(k, dtype=np.int64) * len(tv)
        point_offset[members] = starts
        faces[f0:f1] = (tf[None, :, :] + starts[:, None, None]).reshape(-1, 3)
        owner[f0:f1] = np.repeat(members.astype(np.int32), len(tf))
        p0, f0 = p1, f1
    return points, faces, owner, point_offset
