"""Ranking and selection: which of a few simulated systems is the best, with a stated guarantee.

After a search, the finalists look different by their sample means, but with few replications some of that
difference is noise. `kn_select` runs the **KN procedure** (Kim & Nelson 2001, "A fully sequential
procedure for indifference-zone selection in simulation", ACM TOMACS 11(3)): every finalist gets n0
replications, then one more at a time while the systems that are clearly worse than another are
screened out; it stops when one is left. It allows common random numbers: replication r of every system
uses the same seeds, and the procedure works on the variance of the *pairwise differences*, which CRN makes
small.

The guarantee, for normally distributed replication values (replication means of long runs are close to
normal): when the best system's mean is at least ``delta`` better than every other's, it is the one
selected with probability ≥ 1 − alpha. Systems within ``delta`` of the best are "as good" (the indifference
zone): the one selected is then the best or within ``delta`` of it. When the replication cap is reached
before one system is left, nothing is claimed: the survivors are reported as not significantly different,
with how many more replications the procedure would need.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> means = np.array([0.0, 0.0, 1.0])
>>> def draw(systems, reps):  # replication values of these systems for these replication numbers
...     return means[systems][:, None] + rng.normal(size=(len(systems), len(reps)))
>>> s = kn_select(["A", "B", "C"], draw, delta=0.5)
>>> s.best, s.proven
(2, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Selection", "kn_constants", "kn_select", "worse_everywhere"]

#: ``draw(systems, replications)`` → array (len(systems), len(replications)) of replication values.
Draw = Callable[[list[int], range], np.ndarray]


@dataclass(frozen=True)
class Selection:
    """What the selection found.

    ``best``: index of the system selected (None when none could be told apart from the others before the
    cap); ``proven``: True when the procedure ended with one system (the guarantee holds); ``survivors``: the
    systems still in contention (one when proven); ``eliminated``: system → replications it had when
    screened out; ``replications``: replications each system got; ``means``: their means (the orientation of
    the data as given: larger is better); ``needs_more``: when not proven, how many more replications per
    survivor the procedure would need at most (from its own stopping bound).
    """

    names: list[str]
    best: int | None
    proven: bool
    survivors: list[int]
    eliminated: dict[int, int]
    replications: list[int]
    means: list[float]
    delta: float
    alpha: float
    n0: int
    needs_more: int = 0
    exact: bool = False
    pair_sd: dict[tuple[int, int], float] = field(default_factory=dict)

    @property
    def confidence(self) -> float:
        return 1.0 - self.alpha


def kn_constants(k: int, n0: int, alpha: float) -> tuple[float, float]:
    """η and h² of the KN procedure for k systems, n0 first-stage replications and error probability alpha.

    >>> eta, h2 = kn_constants(2, 10, 0.05)
    >>> round(eta, 4), round(h2, 3)
    (0.3341, 6.013)
    """
    if k < 2:
        return 0.0, 0.0
    eta = 0.5 * ((2.0 * alpha / (k - 1)) ** (-2.0 / (n0 - 1)) - 1.0)
    return eta, 2.0 * eta * (n0 - 1)


def kn_select(
    names: Sequence[str],
    draw: Draw,
    delta: float,
    alpha: float = 0.05,
    n0: int = 10,
    max_replications: int = 200,
    batch: int = 1,
    first: int = 0,
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Selection:
    """Select the system with the largest mean (negate a KPI to minimise it) by the KN procedure.

    Parameters
    ----------
    names
        The systems' names (k ≥ 1).
    draw
        Simulates ``systems`` (indices) for the replication numbers ``replications`` and returns their values,
        shape (len(systems), len(replications)); the same replication number means the same random numbers
        for every system (common random numbers).
    delta, alpha
        Indifference zone (in the values' unit) and error probability.
    n0
        First-stage replications (≥ 2).
    max_replications
        A system gets at most this many; then the survivors are reported as not told apart.
    batch
        Replications drawn per survivor per round (more keeps parallel workers busy; the screening still
        looks at every replication count in turn, so the decisions are those of one at a time).
    first
        The first replication number to use (a search that ranked candidates by replications 0…n−1 passes
        n, so the selection runs on fresh random numbers).
    cancel
        Returning True stops with ``app.sim.engine.Cancelled``-like ``InterruptedError``.
    """
    k = len(names)
    if k == 0:
        raise ValueError("nothing to select from")
    if not (delta > 0 and math.isfinite(delta)):
        raise ValueError(f"delta must be > 0, got {delta}")
    if n0 < 2:
        raise ValueError("the KN procedure needs n0 ≥ 2 first-stage replications")
    max_replications = max(max_replications, n0)
    data = np.asarray(draw(list(range(k)), range(first, first + n0)), dtype=float)
    if data.shape != (k, n0):
        raise ValueError(f"draw returned shape {data.shape}, expected {(k, n0)}")
    if k == 1:
        return Selection(list(names), 0, True, [0], {}, [n0], [float(data[0].mean())], delta, alpha, n0)
    _eta, h2 = kn_constants(k, n0, alpha)
    diff_var = np.zeros((k, k))
    for i in range(k):
        for j in range(k):
            if i != j:
                diff_var[i, j] = np.var(data[i] - data[j], ddof=1)
    # no noise in any difference (a model without randomness, or systems that always agree): one stage decides
    exact = bool(np.all(diff_var == 0))
    columns = [data[:, r] for r in range(n0)]  # the values of replication r, one per system (NaN: not drawn)
    sums = data.sum(axis=1)
    reps = np.full(k, n0)
    alive = list(range(k))
    eliminated: dict[int, int] = {}
    # a system equal to an earlier one in every replication so far is that system again: keep the first
    for i in range(k):
        if any(diff_var[i, j] == 0 and sums[i] == sums[j] and j not in eliminated for j in range(i)):
            eliminated[i] = n0
    alive = [i for i in alive if i not in eliminated]
    r = n0
    while True:
        alive = _screen(alive, sums / r, diff_var, h2, delta, r, eliminated)
        if progress is not None:
            progress(min(1.0, (r - n0) / max(1, max_replications - n0)) if len(alive) > 1 else 1.0)
        if len(alive) == 1 or r >= max_replications:
            break
        if cancel is not None and cancel():
            raise InterruptedError("selection cancelled")
        take = min(batch, max_replications - r)
        more = np.asarray(draw(list(alive), range(first + r, first + r + take)), dtype=float)
        for step in range(take):
            col = np.full(k, np.nan)
            col[alive] = more[:, step]
            columns.append(col)
            sums[alive] += more[:, step]
            reps[alive] += 1
            r += 1
            if step < take - 1:  # screen at every replication count, as one at a time would
                alive = _screen(alive, sums / r, diff_var, h2, delta, r, eliminated)
                if len(alive) == 1:
                    break
    means = [float(sums[i] / reps[i]) for i in range(k)]
    proven = len(alive) == 1
    best = alive[0] if proven else None
    needs = 0
    if not proven:
        bound = max(math.ceil(h2 * diff_var[i, j] / delta**2) for i in alive for j in alive if i != j)
        needs = max(1, bound - r)
    sd = {(i, j): float(math.sqrt(diff_var[i, j])) for i in range(k) for j in range(i + 1, k)}
    return Selection(
        names=list(names),
        best=best,
        proven=proven,
        survivors=sorted(alive, key=lambda i: -means[i]),
        eliminated=eliminated,
        replications=[int(x) for x in reps],
        means=means,
        delta=delta,
        alpha=alpha,
        n0=n0,
        needs_more=needs,
        exact=exact,
        pair_sd=sd,
    )


def _screen(
    alive: list[int], means: np.ndarray, diff_var: np.ndarray, h2: float, delta: float, r: int, eliminated: dict[int, int]
) -> list[int]:
    """KN screening at r replications: i stays when its mean is not below any other survivor's by more than
    W_il(r) = max(0, δ/(2r) · (h² S²_il / δ² − r))."""
    keep = []
    for i in alive:
        ok = True
        for j in alive:
            if i == j:
                continue
            w = max(0.0, delta / (2.0 * r) * (h2 * diff_var[i, j] / delta**2 - r))
            if means[i] < means[j] - w:
                ok = False
                break
        if ok:
            keep.append(i)
        else:
            eliminated[i] = r
    return keep if keep else alive[:1]


def worse_everywhere(values: np.ndarray, alpha: float = 0.05) -> list[tuple[int, int]]:
    """Pairs (i, j): system j beats system i in **every** objective, the claim holding with ≥ 1 − alpha.

    ``values``: (systems, replications, objectives), larger is better in each (negate one to minimise it); the
    same replication index means the same random numbers. For each objective the paired difference j − i
    needs a one-sided lower confidence bound above 0 at level 1 − alpha/m (Bonferroni over the m objectives,
    so all m together hold with ≥ 1 − alpha). One winner is named per loser.

    >>> v = np.array([[[1.0, 5.0], [1.2, 5.1], [0.9, 4.8]], [[2.0, 6.0], [2.3, 6.2], [1.9, 5.7]]])
    >>> worse_everywhere(v)
    [(0, 1)]
    """
    values = np.asarray(values, dtype=float)
    k, n, m = values.shape
    if n < 2:
        return []
    from scipy import stats  # imported on first use, as app.sim.kpis does

    t = float(stats.t.ppf(1.0 - alpha / m, n - 1))
    out = []
    for i in range(k):
        for j in range(k):
            d = values[j] - values[i]
            if i == j or not np.isfinite(d).all():
                continue
            low = d.mean(axis=0) - t * d.std(axis=0, ddof=1) / math.sqrt(n)
            if np.all(low > 0):
                out.append((i, j))
                break
    return out
