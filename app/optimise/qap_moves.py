"""Move values of the 2-exchange neighbourhood of the QAP, for K searches at once.

``cost(p) = Σ_ij A[i, j] · B[p[i], p[j]]``. With ``B' = B[p][:, p]`` (distances between the locations of
facilities i and j), swapping the locations of facilities r and s changes the cost by

    Δ(r,s) = (a_rr − a_ss)(b'_ss − b'_rr) + (a_rs − a_sr)(b'_sr − b'_rs)
             + Σ_{k≠r,s} (a_kr − a_ks)(b'_ks − b'_kr) + (a_rk − a_sk)(b'_sk − b'_rk),

and by ``(a_rr − a_ss)(b'_ss − b'_rr) + 2 Σ_{k≠r,s} (a_kr − a_ks)(b'_ks − b'_kr)`` when A and B are symmetric.
`move_values` computes rows of Δ in O(n) per entry (matrix products over all k, the k = r, s terms taken
back out); `swap` applies a swap and brings the whole Δ up to date in O(n²): Taillard's O(1) correction for
every pair disjoint from (r, s), the rows r and s anew.

Every array carries a leading axis of K independent searches (chains): one numpy call then serves K
searches, which is what makes a numpy tabu search fast for the small n of slot assignment, where the cost of
a call, not its arithmetic, dominates.
"""

from __future__ import annotations

import numpy as np


def move_values(a: np.ndarray, bp: np.ndarray, rows: np.ndarray, symmetric: bool) -> np.ndarray:
    """(K, m, n) Δ(r, s) for r in ``rows`` (K, m) and every s, given ``bp`` (K, n, n) = B[p][:, p] per chain."""
    k = np.arange(bp.shape[0])[:, None]
    R = rows
    ad = np.diagonal(a)
    bd = np.diagonal(bp, axis1=1, axis2=2)  # (K, n)
    aR, bR = a[R], bp[k, R]  # (K, m, n)
    ar, br = ad[R][..., None], bd[k, R][..., None]  # (K, m, 1)
    if symmetric:
        d = (a[None] * bp).sum(axis=1)  # Σ_k a_ks b'_ks
        full = aR @ bp + bR @ a - d[k, R][..., None] - d[:, None, :]
        ex_r = (ar - aR) * (bR - br)  # k = r
        ex_s = (aR - ad) * (bd[:, None, :] - bR)  # k = s
        out = (ar - ad) * (bd[:, None, :] - br) + 2 * (full - ex_r - ex_s)
    else:
        at = a.T
        bpt = bp.transpose(0, 2, 1)
        prod = a[None] * bp
        d_m, d_n = prod.sum(axis=1), prod.sum(axis=2)
        atR, btR = at[R], bpt[k, R]
        s1 = atR @ bp + btR @ a - d_m[k, R][..., None] - d_m[:, None, :]
        s2 = aR @ bpt + bR @ at - d_n[k, R][..., None] - d_n[:, None, :]
        term1 = (ar - ad) * (bd[:, None, :] - br)
        term2 = (aR - atR) * (btR - bR)
        ex1 = (ar - aR) * (bR - br) + (atR - ad) * (bd[:, None, :] - btR)
        ex2 = (ar - atR) * (btR - br) + (aR - ad) * (bd[:, None, :] - bR)
        out = term1 + term2 + s1 - ex1 + s2 - ex2
    m = R.shape[1]
    out[k, np.arange(m)[None, :], R] = 0
    return np.asarray(out)


def swap(a: np.ndarray, p: np.ndarray, bp: np.ndarray, delta: np.ndarray, r: np.ndarray, s: np.ndarray, symmetric: bool) -> None:
    """In chain k swap facilities r[k] and s[k]: update ``p`` (K, n), ``bp`` and ``delta`` (K, n, n) in place."""
    k = np.arange(p.shape[0])
    pr = p[k, r].copy()
    p[k, r] = p[k, s]
    p[k, s] = pr
    row_r = bp[k, r].copy()
    bp[k, r] = bp[k, s]
    bp[k, s] = row_r
    col_r = bp[k, :, r].copy()
    bp[k, :, r] = bp[k, :, s]
    bp[k, :, s] = col_r
    # Taillard's correction of every pair (u, v) disjoint from (r, s), with the new permutation
    alpha = a[r] - a[s]  # (K, n)
    beta = bp[k, s] - bp[k, r]
    corr = (alpha[:, :, None] - alpha[:, None, :]) * (beta[:, :, None] - beta[:, None, :])
    if symmetric:
        delta += 2 * corr
    else:
        gamma = a[:, r].T - a[:, s].T
        dlt = bp[k, :, s] - bp[k, :, r]
        delta += corr + (gamma[:, :, None] - gamma[:, None, :]) * (dlt[:, :, None] - dlt[:, None, :])
    rows = move_values(a, bp, np.stack([r, s], axis=1), symmetric)
    delta[k, r] = rows[:, 0]
    delta[k, s] = rows[:, 1]
    delta[k, :, r] = rows[:, 0]
    delta[k, :, s] = rows[:, 1]


def swap_hollow(a: np.ndarray, p: np.ndarray, bp: np.ndarray, delta: np.ndarray, r: np.ndarray, s: np.ndarray) -> None:
    """`swap` for symmetric A and B with zero diagonals (most QAPLIB instances, and every slot assignment:
    no flow from a machine to itself, no distance from a slot to itself), in about half the numpy calls.

    There the rows of Δ shorten to ``Δ(x, v) = 2 (Σ_k a_xk b'_kv + Σ_k b'_xk a_kv − d_x − d_v + 2 a_xv b'_xv)``
    with ``d_v = Σ_k a_kv b'_kv`` (the k = x, v terms of the sum taken back out), and Δ(x, x) comes out 0.
    """
    k = np.arange(p.shape[0])
    pr = p[k, r]
    p[k, r] = p[k, s]
    p[k, s] = pr
    row_r = bp[k, r]
    bp[k, r] = bp[k, s]
    bp[k, s] = row_r
    col_r = bp[k, :, r]
    bp[k, :, r] = bp[k, :, s]
    bp[k, :, s] = col_r
    alpha = a[r] - a[s]  # (K, n)
    alpha *= 2
    beta = bp[k, s] - bp[k, r]
    corr = alpha[:, :, None] - alpha[:, None, :]
    corr *= beta[:, :, None] - beta[:, None, :]
    delta += corr
    x = np.empty((len(k), 2), dtype=np.int64)
    x[:, 0] = r
    x[:, 1] = s
    kx = k[:, None]
    ax, bx = a[x], bp[kx, x]  # (K, 2, n)
    d = np.einsum("ij,kij->kj", a, bp)  # (K, n)
    rows = ax @ bp
    rows += bx @ a
    rows -= d[kx, x][..., None]
    rows -= d[:, None, :]
    ax *= bx
    ax *= 2
    rows += ax
    rows *= 2
    delta[k, r] = rows[:, 0]
    delta[k, s] = rows[:, 1]
    delta[k, :, r] = rows[:, 0]
    delta[k, :, s] = rows[:, 1]
