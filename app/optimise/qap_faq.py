"""Starting assignments for the QAP search: Fast Approximate QAP (FAQ; Vogelstein et al., *PLoS ONE* 10,
2015), the Frank–Wolfe method on the relaxation over doubly stochastic matrices.

``cost(p) = Σ_ij A[i, j] · B[p[i], p[j]] = trace(Aᵀ P B Pᵀ)`` with ``P[i, p[i]] = 1``. FAQ starts from a
doubly stochastic ``P`` and repeats: the gradient ``A P Bᵀ + Aᵀ P B``; the permutation matrix ``Q`` that
minimises ``<gradient, Q>`` (a linear assignment); the exact minimum of the quadratic along ``P → Q``;
until ``P`` stops moving. The nearest permutation to the final ``P`` is the start.

On instances with geometric distances (nug, had, kra…) its results from random starts land within a few
per cent of the best known value, often within 1% — in a few milliseconds for n ≤ 30; a tabu walk started
there finds what a walk from a random permutation finds, sooner. On others (chr, whose flows form a tree)
it is no better than random, and the search's restarts from kicked best solutions do the work.

Examples
--------
>>> import numpy as np
>>> flow = np.array([[0, 5, 2], [5, 0, 3], [2, 3, 0]])
>>> dist = np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0]])
>>> sorted(faq_start(flow, dist, np.random.default_rng(1)).tolist())
[0, 1, 2]
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["faq_start"]


def faq_start(
    flow: np.ndarray, distance: np.ndarray, rng: np.random.Generator, max_iterations: int = 30, tolerance: float = 0.03
) -> np.ndarray:
    """The permutation (``p[i]``: location of facility ``i``) nearest to FAQ's relaxed solution, from a random
    start halfway between the barycentre and a random doubly stochastic matrix (as scipy's
    ``quadratic_assignment(method="faq", options={"P0": "randomized"})``).

    ``max_iterations`` and ``tolerance`` (of the change of ``P``, Frobenius norm over √n) are those of the
    method's authors and of scipy.
    """
    a = np.asarray(flow, dtype=np.float64)
    b = np.asarray(distance, dtype=np.float64)
    n = a.shape[0]
    symmetric = bool((a == a.T).all() and (b == b.T).all())
    at, bt = a.T, b.T
    m = rng.uniform(size=(n, n))
    for _ in range(10):  # Sinkhorn: near enough to doubly stochastic for a start
        m /= m.sum(axis=1, keepdims=True)
        m /= m.sum(axis=0, keepdims=True)
    p = (m + 1.0 / n) / 2
    rows = np.arange(n)
    for _ in range(max_iterations):
        pb = p @ b
        grad = 2 * (a @ pb) if symmetric else a @ p @ bt + at @ pb
        _, cols = linear_sum_assignment(grad)
        r = -p
        r[rows, cols] += 1.0  # R = Q − P
        # f(P + x R) = f(P) + x (tr(Aᵀ R B Pᵀ) + tr(Aᵀ P B Rᵀ)) + x² tr(Aᵀ R B Rᵀ): its least x in [0, 1]
        rb = r @ b
        quad = float(np.vdot(a, rb @ r.T))
        lin = 2 * float(np.vdot(a, rb @ p.T)) if symmetric else float(np.vdot(a, rb @ p.T) + np.vdot(a, pb @ r.T))
        vertex = -lin / (2 * quad) if quad > 0 else -1.0  # the parabola's least point, if it opens upwards
        step = (vertex if 0.0 <= vertex <= 1.0 else 1.0 if quad + lin < 0 else 0.0) * r
        p = p + step
        if np.linalg.norm(step) / np.sqrt(n) < tolerance:
            break
    _, perm = linear_sum_assignment(-p)
    return perm.astype(np.int64)
