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
    point_start : (N + 1,) int64, instance ``i`` owns points ``point_start[i]:point_start[i + 1]``

    Examples
    --------
    >>> import numpy as np
    >>> tri = (np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], float), np.array([[0, 1, 2]]))
    >>> m = np.stack([np.eye(4), np.eye(4)]); m[1, 0, 3] = 5
    >>> p, f, owner, start = merge_instances([tri], np.array([0, 0]), m)
    >>> p[3].tolist(), f[1].tolist(), owner.tolist()
    ([5.0, 0.0, 0.0], [3, 4, 5], [0, 1])
    """
    template_of = np.asarray(template_of, dtype=np.int64)
    n = len(template_of)
    nv = np.array([len(templates[t][0]) for t in template_of], dtype=np.int64)
    nf = np.array([len(templates[t][1]) for t in template_of], dtype=np.int64)
    point_start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(nv, out=point_start[1:])
    face_start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(nf, out=face_start[1:])
    points = np.empty((int(point_start[-1]), 3), dtype=np.float32)
    faces = np.empty((int(face_start[-1]), 3), dtype=np.int64)
    owner = np.empty(int(face_start[-1]), dtype=np.int32)
    for t, (tv, tf) in enumerate(templates):
        members = np.nonzero(template_of == t)[0]
        if len(members) == 0:
            continue
        tv = np.asarray(tv, dtype=np.float64)
        tf = np.asarray(tf, dtype=np.int64)
        rot = matrices[members, :3, :3]
        shift = matrices[members, :3, 3]
        placed = np.einsum("kij,nj->kni", rot, tv) + shift[:, None, :]  # (k, nv, 3)
        # Instances of one template are not contiguous in general: scatter each block to its slot.
        p_idx = (point_start[members][:, None] + np.arange(len(tv))[None, :]).ravel()
        points[p_idx] = placed.reshape(-1, 3)
        f_idx = (face_start[members][:, None] + np.arange(len(tf))[None, :]).ravel()
        faces[f_idx] = (tf[None, :, :] + point_start[members][:, None, None]).reshape(-1, 3)
        owner[f_idx] = np.repeat(members.astype(np.int32), len(tf))
    return points, faces, owner, point_start
