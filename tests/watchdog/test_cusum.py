"""The CUSUM's alarm level: Siegmund's approximation checked against simulated run lengths (no Qt)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from app.model.factory import Distribution
from app.watchdog.cusum import Cusum, arl_two_sided, threshold_for_arl
from app.watchdog.expectation import expectation_of, exponential


def _run_lengths(h: float, k: float, shift: float, chains: int, rng: np.random.Generator, cap: int) -> np.ndarray:
    """Run lengths of ``chains`` two-sided CUSUMs on N(shift, 1) data, simulated side by side."""
    hi = np.zeros(chains)
    lo = np.zeros(chains)
    length = np.full(chains, cap)
    alive = np.ones(chains, dtype=bool)
    for n in range(1, cap + 1):
        z = rng.normal(shift, 1.0, chains)
        hi = np.maximum(0.0, hi + z - k)
        lo = np.maximum(0.0, lo - z - k)
        hit = alive & ((hi >= h) | (lo >= h))
        length[hit] = n
        alive &= ~hit
        if not alive.any():
            break
    return length


@pytest.mark.parametrize("arl0", [200.0, 1000.0])
def test_the_threshold_from_siegmund_gives_the_average_run_length_asked_for(arl0):
    h = threshold_for_arl(arl0, k=0.5)
    assert arl_two_sided(h, 0.5) == pytest.approx(arl0, rel=1e-6)
    rl = _run_lengths(h, 0.5, 0.0, 4000, np.random.default_rng(1), int(20 * arl0))
    mean, se = rl.mean(), rl.std(ddof=1) / math.sqrt(len(rl))
    # Siegmund's approximation is within a few per cent for normal data; 4,000 runs measure the mean to ~1.6%.
    assert abs(mean - arl0) < 0.06 * arl0 + 3 * se, (mean, se)


def test_a_shifted_mean_is_found_about_as_fast_as_siegmund_says():
    h = threshold_for_arl(1000.0, k=0.5)
    rl = _run_lengths(h, 0.5, 1.0, 4000, np.random.default_rng(2), 10_000)
    assert rl.mean() == pytest.approx(arl_two_sided(h, 0.5, 1.0), rel=0.1)


def test_a_higher_false_alarm_period_raises_the_threshold_and_bad_input_is_refused():
    assert threshold_for_arl(100) < threshold_for_arl(1000) < threshold_for_arl(10_000)
    with pytest.raises(ValueError, match="average run length"):
        threshold_for_arl(1.0)
    with pytest.raises(ValueError, match="reference value"):
        threshold_for_arl(100, k=0)


def test_the_cusum_reports_the_side_the_change_point_and_the_moments_since():
    c = Cusum(k=0.5, h=3.5)
    for i in range(5):
        assert c.push(0.0, 100.0, float(i)) == 0
    sides = [c.push(-2.0, 80.0, 10.0 + i) for i in range(3)]
    assert sides == [0, 0, -1]
    n, since = c.side_since(-1)
    assert (n, since) == (3, 10.0)
    n, mean, sd = c.moments(-1)
    assert (n, mean, sd) == (3, 80.0, 0.0)
    c.reset()
    assert c.statistic(-1) == 0 and c.side_since(-1)[0] == 0


@pytest.mark.parametrize(
    "exp, draw",
    [
        (
            expectation_of(Distribution(kind="lognormal", mean_s=240.0, cv=0.1)),
            lambda r: r.lognormal(math.log(240) - math.log1p(0.01) / 2, math.sqrt(math.log1p(0.01)), 4000),
        ),
        (exponential(28_800.0), lambda r: r.exponential(28_800.0, 4000)),
    ],
)
def test_observations_of_a_plant_that_matches_its_model_are_standard_normal_scores(exp, draw):
    x = draw(np.random.default_rng(3))
    z = np.array([exp.z(v) for v in x])
    assert stats.kstest(z, "norm").pvalue > 0.001
    assert abs(z.mean()) < 0.06 and abs(z.std() - 1) < 0.05


def test_empirical_and_deterministic_times_have_scores_too():
    emp = expectation_of(Distribution(kind="empirical", samples_s=[10.0, 12.0, 14.0, 16.0]))
    assert emp.z(9.0) < emp.z(13.0) < emp.z(20.0)
    det = expectation_of(Distribution(kind="deterministic", mean_s=60.0))
    assert det.z(60.0) == 0.0 and det.z(66.0) == pytest.approx(5.0)  # +10% is five tolerances of 2%
