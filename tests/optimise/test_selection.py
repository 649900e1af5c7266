"""Ranking and selection (KN procedure) on synthetic normal data with known means: the probability of correct
selection it promises, what it says when it cannot tell systems apart, common random numbers."""

from __future__ import annotations

import numpy as np
import pytest

from app.optimise.selection import kn_constants, kn_select, worse_everywhere


def normal_systems(means, sd=1.0, common=0.0, seed=0):
    """``draw`` for systems with these means: replication r of every system shares a common normal term of
    standard deviation ``common`` (common random numbers) plus its own noise of ``sd``."""
    means = np.asarray(means, float)

    def draw(systems, reps):
        out = np.empty((len(systems), len(reps)))
        for b, r in enumerate(reps):
            noise = np.random.default_rng([seed, r]).normal(size=len(means) + 1)  # fixed per replication number
            for a, i in enumerate(systems):
                out[a, b] = means[i] + common * noise[-1] + sd * noise[i]
        return out

    return draw


@pytest.mark.parametrize("common", [0.0, 3.0])
def test_the_best_is_selected_with_the_promised_probability_in_the_least_favourable_configuration(common):
    # slippage configuration: the best exactly delta above four equal others (the hardest case the guarantee covers)
    delta, alpha, trials = 0.5, 0.05, 300
    means = [0.0, 0.0, delta, 0.0, 0.0]
    correct = 0
    for seed in range(trials):
        draw = normal_systems(means, common=common, seed=seed)
        s = kn_select(list("ABCDE"), draw, delta, alpha=alpha, n0=10, max_replications=10_000)
        assert s.proven
        correct += s.best == 2
    # the promise is ≥ 95%; the binomial standard error at 300 trials is 1.3%: allow it once
    assert correct / trials >= 1 - alpha - 0.013


def test_systems_within_the_indifference_zone_are_not_claimed_apart_before_the_cap():
    draw = normal_systems([0.0, 0.01, 0.0], sd=1.0, seed=3)
    s = kn_select(["A", "B", "C"], draw, delta=0.1, alpha=0.05, n0=10, max_replications=20)
    assert not s.proven and s.best is None
    assert len(s.survivors) >= 2 and s.needs_more > 0
    assert max(s.replications) == 20


def test_common_random_numbers_need_fewer_replications_than_independent_ones():
    # the same means and own noise; a large shared term only cancels in the pairwise differences
    def replications(sd: float, common: float) -> int:
        draws = [normal_systems([0.0, 1.0], sd=sd, common=common, seed=s) for s in range(20)]
        return sum(kn_select(list("AB"), d, 0.5).replications[0] for d in draws)

    reps_crn, reps_ind = replications(0.5, 5.0), replications(5.0, 0.0)
    assert reps_crn < reps_ind / 5


def test_fresh_replication_numbers_and_batches_change_nothing_in_the_decisions():
    seen: list[range] = []
    base = normal_systems([0.0, 0.3, 1.0], seed=7)

    def draw(systems, reps):
        seen.append(reps)
        return base(systems, reps)

    one = kn_select(list("ABC"), draw, 0.5, first=10)
    assert seen[0] == range(10, 20)  # the first stage starts at the given replication number
    batched = kn_select(list("ABC"), normal_systems([0.0, 0.3, 1.0], seed=7), 0.5, first=10, batch=4)
    assert (one.best, one.eliminated) == (batched.best, batched.eliminated)


def test_nothing_random_is_decided_by_one_replication_and_a_single_system_by_itself():
    exact = kn_select(["A", "B"], lambda systems, reps: np.array([[float(i)] * len(reps) for i in systems]), 0.1)
    assert exact.proven and exact.exact and exact.best == 1
    alone = kn_select(["A"], normal_systems([1.0]), 0.1)
    assert alone.proven and alone.best == 0


def test_constants_and_bad_arguments():
    eta, h2 = kn_constants(3, 10, 0.05)
    assert eta == pytest.approx(0.5 * ((2 * 0.05 / 2) ** (-2 / 9) - 1)) and h2 == pytest.approx(2 * eta * 9)
    with pytest.raises(ValueError, match="n0"):
        kn_select(["A", "B"], normal_systems([0, 1]), 0.1, n0=1)
    with pytest.raises(ValueError, match="delta"):
        kn_select(["A", "B"], normal_systems([0, 1]), 0.0)


def test_worse_in_every_objective_is_claimed_only_with_the_stated_confidence():
    rng = np.random.default_rng(5)
    shared = rng.normal(0.0, 3.0, size=(300, 12, 2))  # common random numbers: the same for both systems
    false_claims = 0
    for trial in range(300):
        same = np.stack([shared[trial] + rng.normal(0, 1, (12, 2)), shared[trial] + rng.normal(0, 1, (12, 2))])
        false_claims += bool(worse_everywhere(same, alpha=0.05))
    assert false_claims / 300 <= 0.05  # equal systems: at most alpha of the trials claim a difference
    base = rng.normal(0.0, 3.0, size=(12, 2))
    better = np.array([2.0, 2.0])
    mixed = np.array([2.0, -2.0])
    systems = np.stack([base + rng.normal(0, 0.3, (12, 2)), base + better + rng.normal(0, 0.3, (12, 2)),
                        base + mixed + rng.normal(0, 0.3, (12, 2))])
    assert worse_everywhere(systems) == [(0, 1)]  # better in one and worse in the other is no domination
    assert worse_everywhere(systems[:, :1]) == []  # one replication: no claim
