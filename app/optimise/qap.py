"""The quadratic assignment problem (QAP) and a robust tabu search for it.

Placing ``n`` machines on ``n`` candidate slots so that Σ flow × distance is least is exactly the QAP
(Koopmans and Beckmann, 1957): minimise ``cost(p) = Σ_ij A[i, j] · B[p[i], p[j]]`` over permutations ``p``,
where ``A`` is the flow between facilities (machines) and ``B`` the distance between locations (slots); ``p[i]``
is the location of facility ``i``. This is the convention of QAPLIB, whose instances are the yardstick here.

The search is Taillard's robust tabu search (RoTS; Taillard, *Parallel Computing* 17, 1991) on the
2-exchange neighbourhood, with an iterated restart from the best solution when it stalls:

- the move values Δ(r, s) of all n(n−1)/2 swaps are kept in a matrix. After a swap (r, s) every other
  entry is corrected in O(1) (Taillard's update) and the rows r and s are recomputed in O(n) each, so one
  iteration costs O(n²) for n² moves, vectorised in numpy;
- a swap is tabu when it would put both facilities back on locations they left less than ``tenure``
  iterations ago; the tenure is redrawn at random in [0.9 n, 1.1 n] every 2.2 n iterations; a tabu swap is
  allowed when it beats the best solution found (aspiration); a swap that places both facilities on
  locations they have not held for ``aspiration`` iterations is forced (long-term diversification);
- after ``restart_after`` iterations without a new best (n²/2 for half the chains, n²/8 for the other
  half) a chain restarts: every other time from its best solution with a random perturbation of n/2 swaps
  (an iterated tabu search: short robust tabu walks between kicks found the optima of structured instances
  such as chr25a far more often than one long walk), otherwise from the answer of FAQ (Frank–Wolfe on the
  relaxation, `app.optimise.qap_faq`) from a random start, which lands near the best known value of
  geometric instances such as kra30a where the tabu walk is slow to get;
- several independent chains (32 for n ≤ 16, 16 for n ≤ 40, 8 for n ≤ 64) run side by side in the same
  numpy calls (`app.optimise.qap_moves`); the result is the best of them. For small n a numpy call costs
  about the same for one chain as for 32, so more chains cost little and reach a good solution sooner;
- the tabu list is kept as one matrix per chain in the terms of the current permutation (four writes
  per swap), and with symmetric matrices of zero diagonal (slot assignment, most of QAPLIB) the rows of Δ
  are recomputed with the short formula of `app.optimise.qap_moves.swap_hollow`.

Examples
--------
>>> import numpy as np
>>> flow = np.array([[0, 5, 2], [5, 0, 3], [2, 3, 0]])
>>> dist = np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0]])
>>> r = solve(flow, dist, seconds=1.0, seed=1)
>>> int(r.value), cost(flow, dist, r.permutation) == r.value, r.stopped_by
(24, True, 'exhaustive')
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.optimise.qap_faq import faq_start
from app.optimise.qap_moves import move_values, swap, swap_hollow

__all__ = ["Progress", "QapInstance", "QapResult", "cost", "delta_matrix", "read_qaplib", "solve"]


@dataclass(frozen=True)
class QapInstance:
    """A QAP instance: ``flow`` (A) between facilities and ``distance`` (B) between locations, both n×n."""

    flow: np.ndarray
    distance: np.ndarray
    name: str = ""

    @property
    def n(self) -> int:
        return int(self.flow.shape[0])


@dataclass(frozen=True)
class QapResult:
    """The best assignment found: ``permutation[i]`` is the location (0-based) of facility ``i``."""

    value: float
    permutation: np.ndarray
    seconds: float
    #: Tabu moves made, summed over the chains.
    iterations: int
    #: Why the search ended: "time", "iterations", "target", "cancelled" or "exhaustive" (n ≤ 3: every
    #: permutation was tried).
    stopped_by: str


@dataclass(frozen=True)
class Progress:
    """What the search reports while it runs (at most every ``report_every_s``)."""

    iteration: int
    best_value: float
    current_value: float
    seconds: float


def read_qaplib(path: str | Path) -> QapInstance:
    """Read a QAPLIB-format instance: n, then the n×n flow matrix A, then the n×n distance matrix B.

    Line breaks and spacing do not matter (QAPLIB files wrap long rows). Integer data stays integer, so
    costs are exact.

    Raises
    ------
    ValueError
        Naming the file, when it does not hold exactly 1 + 2 n² numbers or n < 1.
    """
    path = Path(path)
    tokens = path.read_text(encoding="utf-8").split()
    if not tokens:
        raise ValueError(f"{path}: empty file, expected n followed by two n×n matrices")
    try:
        n = int(tokens[0])
    except ValueError:
        raise ValueError(f"{path}: the first number must be the size n, found {tokens[0]!r}") from None
    if n < 1:
        raise ValueError(f"{path}: the size n must be at least 1, found {n}")
    if len(tokens) != 1 + 2 * n * n:
        raise ValueError(f"{path}: n = {n} needs {2 * n * n} matrix entries after it, found {len(tokens) - 1}")
    values: np.ndarray
    try:
        values = np.array([int(t) for t in tokens[1:]], dtype=np.int64)
    except ValueError:
        values = _floats(path, tokens[1:])
    return QapInstance(values[: n * n].reshape(n, n), values[n * n :].reshape(n, n), path.stem)


def _floats(path: Path, tokens: list[str]) -> np.ndarray:
    try:
        values = np.array([float(t) for t in tokens])
    except ValueError as e:
        raise ValueError(f"{path}: not a number: {e}") from None
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{path}: matrices must hold finite numbers")
    return values


def cost(flow: np.ndarray, distance: np.ndarray, permutation: np.ndarray) -> float:
    """``Σ_ij flow[i, j] · distance[p[i], p[j]]`` (an int for integer data)."""
    p = np.asarray(permutation)
    value = (np.asarray(flow) * np.asarray(distance)[np.ix_(p, p)]).sum()
    return value.item()  # type: ignore[no-any-return]


def delta_matrix(flow: np.ndarray, distance: np.ndarray, permutation: np.ndarray) -> np.ndarray:
    """(n, n) the change of cost when facilities r and s swap locations, for every pair (diagonal 0)."""
    a = np.asarray(flow, dtype=np.float64)
    p = np.asarray(permutation)
    bp = np.asarray(distance, dtype=np.float64)[np.ix_(p, p)][None]
    return move_values(a, bp, np.arange(len(p))[None], symmetric=False)[0]


def _exhaustive(a: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray]:
    from itertools import permutations

    perms = np.array(list(permutations(range(a.shape[0]))), dtype=np.int64)
    costs = (a[None, :, :] * b[perms[:, :, None], perms[:, None, :]]).sum(axis=(1, 2))
    k = int(np.argmin(costs))
    return costs[k].item(), perms[k]


def solve(
    flow: np.ndarray,
    distance: np.ndarray,
    *,
    seconds: float = 10.0,
    seed: int | None = None,
    max_iterations: int | None = None,
    target: float | None = None,
    start: np.ndarray | None = None,
    progress: Callable[[Progress], object] | None = None,
    report_every_s: float = 0.25,
    cancelled: Callable[[], bool] | None = None,
    restart_after: int | None = None,
    chains: int | None = None,
    on_best: Callable[[float, float], object] | None = None,
) -> QapResult:
    """Minimise ``cost(flow, distance, p)`` over permutations ``p`` by robust tabu search.

    Parameters
    ----------
    flow, distance
        The n×n matrices A and B (any real values; asymmetric and non-zero diagonals are fine).
    seconds
        Wall-time limit of the search.
    seed
        Seed of the random start, tenures and perturbations: the same seed and the same number of
        iterations give the same result.
    max_iterations
        Stop after this many tabu iterations of each chain (``None``: only the time limit).
    target
        Stop as soon as a solution with cost ≤ ``target`` is found (e.g. a known optimum).
    start
        A starting permutation (default: a random one).
    progress
        Called with a `Progress` at most every ``report_every_s`` seconds and once at the end.
    cancelled
        Polled with the progress reports (and every 64 iterations): ``True`` ends the search with the best
        solution so far.
    restart_after
        Iterations without a new best before a chain restarts (default: n²/2 for half the chains and n²/8
        for the other half; short tabu walks with strong kicks did best on structured QAPLIB instances such
        as chr25a, shorter ones with FAQ restarts on kra30a).
    chains
        Independent searches run side by side in the same numpy calls (default 32 for n ≤ 16, 16 for
        n ≤ 40, 8 for n ≤ 64, fewer above): for small n a numpy call costs about the same for one chain
        as for 32.
    on_best
        Called with (cost, seconds) whenever the search finds a better solution than any before, when
        it is found (a benchmark's "time to reach 1% of the best known value").

    Returns
    -------
    QapResult
    """
    a = np.asarray(flow)
    b = np.asarray(distance)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or b.shape != a.shape:
        raise ValueError(f"flow and distance must be two n×n matrices of one size, got {a.shape} and {b.shape}")
    n = a.shape[0]
    integer = np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer)
    dtype = np.int64 if integer else np.float64
    a = a.astype(dtype)
    b = b.astype(dtype)
    t0 = time.perf_counter()
    if n <= 3:
        value, perm = _exhaustive(a, b) if n else (0, np.zeros(0, dtype=np.int64))
        result = QapResult(value, perm, time.perf_counter() - t0, 0, "exhaustive")
        if progress is not None:
            progress(Progress(0, value, value, result.seconds))
        return result

    rng = np.random.default_rng(seed)
    K = chains if chains is not None else (32 if n <= 16 else 16 if n <= 40 else 8 if n <= 64 else 2 if n <= 256 else 1)
    if start is not None:
        first = np.array(start, dtype=np.int64)
        if sorted(first.tolist()) != list(range(n)):
            raise ValueError("start must be a permutation of 0 … n−1")
    p = np.array([rng.permutation(n) for _ in range(K)])
    if start is not None:
        p[0] = first
    flow0, dist0 = a, b
    # With one matrix symmetric, the other may be symmetrised (A + Aᵀ: costs double) and the cheaper
    # symmetric move evaluation used; ``scale`` turns internal costs back into the instance's.
    sym_a, sym_b = bool((a == a.T).all()), bool((b == b.T).all())
    scale = 1
    if sym_b and not sym_a:
        a, scale = a + a.T, 2
    elif sym_a and not sym_b:
        b, scale = b + b.T, 2
    symmetric = sym_a or sym_b
    # The search runs in float64 (numpy's matrix products use BLAS only for floats). Integer data stays
    # exact while every partial sum is below 2**53; beyond that the move values are rebuilt now and then.
    exact = integer and float(np.abs(a).sum()) * float(np.abs(b).max()) * 4 < 2.0**53
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    hollow = symmetric and not a.diagonal().any() and not b.diagonal().any()
    target_internal = None if target is None else target * scale

    chain = np.arange(K)
    all_rows = np.broadcast_to(np.arange(n), (K, n))
    off_diagonal = ~np.eye(n, dtype=bool)

    def rebuild(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        bp = b[p[:, :, None], p[:, None, :]]
        return bp, move_values(a, bp, all_rows[: len(p)], symmetric), (a[None] * bp).sum(axis=(1, 2))

    bp, delta, current = rebuild(p)
    best, best_p = current.copy(), p.copy()
    if on_best is not None:
        on_best(float(best.min()) / scale, time.perf_counter() - t0)
    last_best_it = np.zeros(K, dtype=np.int64)

    t_min, t_max = max(2, int(0.9 * n)), max(3, math.ceil(1.1 * n))
    tenure = rng.integers(t_min, t_max + 1, K)
    aspiration = 5 * n * n  # Taillard's long-term aspiration, for n ≤ ~100
    if restart_after is not None:
        patience = np.full(K, restart_after)
    else:
        patience = np.where(chain % 2 == 0, max(50, n * n // 2), max(25, n * n // 8))
    # left[k, i, l]: the iteration at which facility i last left location l in chain k. Taillard's start
    # values -(n·i + l): distinct, and nothing is forced before ``aspiration`` iterations. The search keeps
    # it as ``T[k, r, s] = left[k, r, p[k, s]]`` (when r last left the location s holds now): a swap (r, s)
    # is tabu when both T[r, s] and T[s, r] are recent. A swap then exchanges T's columns r and s and sets
    # T[r, s] = T[s, r] = now: four writes, no gather of n² entries per iteration. The diagonal (never a
    # move, and overwritten before it could be one) holds a value that is never recent nor old.
    fresh = -np.arange(n * n, dtype=np.int64).reshape(n, n)
    never = np.int64(2**62)

    def tabu_times(k: np.ndarray, it: int) -> np.ndarray:
        t = (fresh + it)[np.arange(n)[None, :, None], p[k][:, None, :]]
        t[:, np.arange(n), np.arange(n)] = never
        return t

    T = tabu_times(chain, 0)
    t_floor = int(T.min())  # no entry of T is older (until a restart writes fresh ones)
    pairs_r = np.empty((K, 4), dtype=np.int64)
    pairs_s = np.empty((K, 4), dtype=np.int64)
    stamps = np.full((K, 4), never)  # T[r, s] = T[s, r] = now; T[r, r] = T[s, s] = never
    it = 0
    restarts = 0
    last_report = t0
    stopped_by = "time"
    exact_every = 0 if exact else 16 * n  # inexact deltas drift: rebuild them now and then
    retune = max(1, int(2.2 * n))

    def overall() -> tuple[float, int]:
        k = int(np.argmin(best))
        return float(best[k]), k

    while True:
        if target_internal is not None and best.min() <= target_internal:
            stopped_by = "target"
            break
        if max_iterations is not None and it >= max_iterations:
            stopped_by = "iterations"
            break
        if it & 15 == 0:
            now = time.perf_counter()
            if now - t0 >= seconds:
                stopped_by = "time"
                break
            if cancelled is not None and cancelled():
                stopped_by = "cancelled"
                break
            if progress is not None and now - last_report >= report_every_s:
                last_report = now
                progress(Progress(it * K, overall()[0] / scale, float(current.min()) / scale, now - t0))
        it += 1

        Tt = T.transpose(0, 2, 1)
        recent = (it - tenure)[:, None, None]
        # allowed: not tabu (either facility may go where it goes), or better than the chain's best
        allowed = np.minimum(T, Tt) < recent
        allowed |= delta < (best - current)[:, None, None]
        old = it - aspiration
        if old > t_floor and old > (t_floor := int(T.min())):  # a pair unused for long is forced (Taillard's
            # long-term aspiration); T's least entry only grows between restarts, so it is looked up rarely
            forced = (np.maximum(T, Tt) < old) & off_diagonal
            has = forced.any(axis=(1, 2))
            allowed[has] = forced[has]
        # the whole matrix: Δ and T are symmetric, so the first least entry is the upper one, (r < s)
        flat = np.where(allowed, delta, np.inf).reshape(K, -1).argmin(axis=1)
        r, s = np.divmod(flat, n)
        stuck = ~allowed[chain, r, s]
        if stuck.any():  # every swap tabu: the best of all
            flat[stuck] = np.where(off_diagonal, delta[stuck], np.inf).reshape(int(stuck.sum()), -1).argmin(axis=1)
            r, s = np.divmod(flat, n)
        col_r = T[chain, :, r].copy()
        T[chain, :, r] = T[chain, :, s]
        T[chain, :, s] = col_r
        pairs_r[:, 0] = pairs_r[:, 2] = pairs_s[:, 1] = pairs_s[:, 2] = r
        pairs_r[:, 1] = pairs_r[:, 3] = pairs_s[:, 0] = pairs_s[:, 3] = s
        stamps[:, :2] = it
        T[chain[:, None], pairs_r, pairs_s] = stamps
        current = current + delta[chain, r, s]
        if hollow:
            swap_hollow(a, p, bp, delta, r, s)
        else:
            swap(a, p, bp, delta, r, s, symmetric)
        if exact_every and it % exact_every == 0:
            bp, delta, current = rebuild(p)
        better = current < best
        if better.any():
            if on_best is not None and current.min() < best.min():
                on_best(float(current.min()) / scale, time.perf_counter() - t0)
            best[better] = current[better]
            best_p[better] = p[better]
            last_best_it[better] = it
        if it % retune == 0:
            tenure = rng.integers(t_min, t_max + 1, K)
        stalled = np.nonzero(it - last_best_it >= patience)[0]
        if len(stalled):
            # Iterated tabu search: a stalled chain restarts from its best with a random kick of n/2 swaps,
            # every other time from FAQ's answer from a random start instead.
            for k in stalled:
                restarts += 1
                if restarts % 2 == 0:
                    q = faq_start(a, b, rng)
                else:
                    q = best_p[k].copy()
                    kicks = max(2, n // 2)
                    us = rng.integers(0, n, kicks)
                    vs = (us + rng.integers(1, n, kicks)) % n  # two different facilities
                    for u, v in zip(us.tolist(), vs.tolist(), strict=True):
                        q[u], q[v] = q[v], q[u]
                p[k] = q
                last_best_it[k] = it
            T[stalled] = tabu_times(stalled, it)
            t_floor = min(t_floor, int(T[stalled].min()))
            bp[stalled], delta[stalled], current[stalled] = rebuild(p[stalled])

    k_best = overall()[1]
    best_perm = best_p[k_best].copy()
    value = cost(flow0, dist0, best_perm)  # exact, in the instance's own terms
    result = QapResult(value, best_perm, time.perf_counter() - t0, it * K, stopped_by)
    if progress is not None:
        progress(Progress(it * K, value, float(current.min()) / scale, result.seconds))
    return result
