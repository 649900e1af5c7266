"""Material (WIP) density on the floor: amounts held at points spread over a grid of cells.

Each holding point (a buffer, a conveyor, a machine's input) spreads its amount over the cells around it
with a Gaussian kernel cut off at ``radius_m``. Walls block the spreading: a cell whose line of sight to the
point crosses a wall gets nothing. What a point spreads always sums to its amount (the weights of each
point are normalised after the cut-off and the walls), so the grid sums to the WIP it shows.

The weights depend only on the geometry, so they are computed once into a sparse matrix; a live update is
one sparse matrix–vector product.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.sparse import csr_matrix


def _segments_cross(p: np.ndarray, q: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether segments p→q (arrays (..., 2)) properly cross segment a→b (2,) — touching does not count."""

    def side(u, v, w):  # sign of the turn u→v→w
        return np.sign((v[..., 0] - u[..., 0]) * (w[..., 1] - u[..., 1]) - (v[..., 1] - u[..., 1]) * (w[..., 0] - u[..., 0]))

    d1 = side(a, b, p)
    d2 = side(a, b, q)
    d3 = side(p, q, a)
    d4 = side(p, q, b)
    return (d1 * d2 < 0) & (d3 * d4 < 0)


class WipSpreader:
    """Spreads amounts held at fixed points over the floor grid.

    Parameters
    ----------
    width_m, depth_m
        The floor, from (0, 0).
    cell_m
        Cell size; the grid has ``ceil(depth/cell)`` rows and ``ceil(width/cell)`` columns, row 0 at y = 0.
    points
        (N, 2) holding points in metres.
    walls
        Wall segments ((x0, y0), (x1, y1)) that block spreading.
    radius_m
        How far an amount spreads (the kernel's cut-off); the Gaussian's sigma is a third of it.
    owners, n_owners
        Optional: point k holds a share of owner ``owners[k]``'s amount (a conveyor is several points along
        its length); ``grid`` then takes one amount per owner, split equally over its points.
    """

    def __init__(
        self,
        width_m: float,
        depth_m: float,
        cell_m: float,
        points: np.ndarray,
        walls: Sequence[tuple[tuple[float, float], tuple[float, float]]] = (),
        radius_m: float = 2.0,
        owners: np.ndarray | None = None,
        n_owners: int | None = None,
    ):
        self.cell_m = cell_m
        self.nx = max(1, math.ceil(width_m / cell_m))
        self.ny = max(1, math.ceil(depth_m / cell_m))
        self.points = np.asarray(points, dtype=float).reshape(-1, 2).copy()
        self.n_points = len(self.points)
        reach = max(1, math.ceil(radius_m / cell_m))
        self._offsets = np.array([(i, j) for j in range(-reach, reach + 1) for i in range(-reach, reach + 1)])
        self._radius_m = radius_m
        self._walls = np.asarray(walls, dtype=float).reshape(-1, 2, 2)
        self._kernels = [self._kernel(x, y) for x, y in self.points]
        self._split = None
        if owners is not None:
            owners = np.asarray(owners, dtype=np.int64).reshape(-1)
            if len(owners) != self.n_points:
                raise ValueError(f"expected {self.n_points} owners, got {len(owners)}")
            n_owners = int(n_owners if n_owners is not None else (owners.max() + 1 if len(owners) else 0))
            share = 1.0 / np.maximum(np.bincount(owners, minlength=n_owners), 1)[owners]
            self._split = csr_matrix((share, (np.arange(self.n_points), owners)), shape=(self.n_points, n_owners))
        self._assemble()
        self.ignored = 0

    def _kernel(self, x: float, y: float) -> tuple[np.ndarray, np.ndarray]:
        """The cells an amount held at (x, y) spreads to and their shares (summing to 1), walls blocking."""
        cell_m, radius_m = self.cell_m, self._radius_m
        sigma = radius_m / 3
        ci = min(max(int(x // cell_m), 0), self.nx - 1)
        cj = min(max(int(y // cell_m), 0), self.ny - 1)
        ii, jj = ci + self._offsets[:, 0], cj + self._offsets[:, 1]
        inside = (ii >= 0) & (ii < self.nx) & (jj >= 0) & (jj < self.ny)
        ii, jj = ii[inside], jj[inside]
        centres = np.c_[(ii + 0.5) * cell_m, (jj + 0.5) * cell_m]
        d2 = ((centres - (x, y)) ** 2).sum(axis=1)
        w = np.exp(-d2 / (2 * sigma * sigma)) * (d2 <= radius_m * radius_m)
        if len(self._walls):
            src = np.broadcast_to((x, y), centres.shape)
            blocked = np.zeros(len(centres), dtype=bool)
            for a, b in self._walls:
                blocked |= _segments_cross(src, centres, a, b)
            w = np.where(blocked, 0.0, w)
        total = w.sum()
        if total <= 0:  # nothing reachable (a point on a wall, a tiny radius): all in its own cell
            return np.array([cj * self.nx + ci]), np.array([1.0])
        keep = w > 0
        return jj[keep] * self.nx + ii[keep], w[keep] / total

    def _assemble(self) -> None:
        if self._kernels:
            r = np.concatenate([cells for cells, _w in self._kernels])
            v = np.concatenate([w for _cells, w in self._kernels])
            c = np.repeat(np.arange(self.n_points), [len(cells) for cells, _w in self._kernels])
        else:
            r = c = np.zeros(0, dtype=np.int64)
            v = np.zeros(0)
        weights = csr_matrix((v, (r, c)), shape=(self.nx * self.ny, self.n_points))
        if self._split is not None:
            weights = (weights @ self._split).tocsr()
        self.weights = weights
        self.n_inputs = weights.shape[1]

    def move_points(self, points: np.ndarray) -> int:
        """The holding points moved (same number, same owners): only the kernels of points that changed are
        recomputed — a dragged machine costs its own few points, not the whole plant. Returns how many."""
        points = np.asarray(points, dtype=float).reshape(-1, 2)
        if len(points) != self.n_points:
            raise ValueError(f"expected {self.n_points} points, got {len(points)}")
        changed = np.nonzero(np.any(points != self.points, axis=1))[0]
        for k in changed:
            self._kernels[k] = self._kernel(*points[k])
        self.points[changed] = points[changed]
        if len(changed):
            self._assemble()
        return len(changed)

    def grid(self, amounts: np.ndarray) -> np.ndarray:
        """(ny, nx) density (parts per cell) for the amounts held at the points; NaN or infinite amounts
        are left out and counted in ``ignored``."""
        amounts = np.asarray(amounts, dtype=float).reshape(-1)
        if len(amounts) != self.n_inputs:
            raise ValueError(f"expected {self.n_inputs} amounts, got {len(amounts)}")
        bad = ~np.isfinite(amounts)
        self.ignored = int(bad.sum())
        return (self.weights @ np.where(bad, 0.0, amounts)).reshape(self.ny, self.nx)

    def no_data(self, known: np.ndarray) -> np.ndarray:
        """(ny, nx) bool: cells whose WIP would come mostly from inputs with no (or stale) data — shown as
        "no data", never as zero."""
        k = np.asarray(known, dtype=bool).reshape(-1)
        return (self.weights @ np.where(k, 1.0, -1.0) < 0).reshape(self.ny, self.nx)
