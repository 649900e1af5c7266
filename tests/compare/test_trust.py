"""The trust score on long statistical runs: on a plant that behaves as its model about 95% of 15-minute
windows fall inside the model's prediction for 15-minute windows; after a drift the share falls.

The "plant" here is the simulation engine itself with other random streams (and, for the drift, a changed
cycle time): 128 windows of 15 minutes are 32 plant hours per case, which the engine runs in a second,
and it is the engine the plant simulator runs (``app.plant``), so its windows are what a recorded history
of the simulator would give without the minutes of waiting. The trust of a recorded history (windows cut
inside connected stretches) is checked in tests/whatif.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.compare.kpis import line_kpis, machine_kpis
from app.compare.trust import (
    MAX_SPREAD,
    MIN_WINDOWS,
    TrustScore,
    binomial_interval,
    prediction_band,
    simulated_windows,
    trust,
    window_edges,
)
from app.model.io import load_factory
from app.paths import DEMO_FACTORY
from app.sim.scenario import MachineParam, Scenario, apply
from tests.whatif.conftest import line


@pytest.fixture(scope="module")
def predicted():
    """The model's prediction: 10 replications × 32 windows of 15 min of the small line A → B."""
    return simulated_windows(line(), seed=1)


def _plant(cycle_a_s: float = 30.0, seed: int = 77):
    f = line()
    if cycle_a_s != 30.0:
        f = apply(Scenario(name="drift", factory=f, changes=[MachineParam(machine="A", param="cycle_mean_s", value=cycle_a_s)]))
    return simulated_windows(f, replications=4, seed=seed)  # 128 windows of 15 min


def test_on_a_plant_that_matches_its_model_trust_is_about_95_percent(predicted):
    # What share a matching plant should have inside: the band's coverage of another 640 simulated windows
    # (the percentile band of a count holds a little more than 95% of a discrete distribution).
    reference = simulated_windows(line(), replications=20, seed=2)
    util = lambda obs: [machine_kpis(o)["utilisation"][0] for o in obs]  # noqa: E731
    lo, hi = prediction_band(util(predicted))
    expected = float(np.mean([lo <= u <= hi for u in util(reference)]))
    assert 0.93 <= expected <= 0.99
    for seed in (77, 78):
        t = trust(predicted, _plant(seed=seed))
        a = t.machines["A"]["utilisation"]
        assert a.windows == 128 and a.enough
        # The tolerance the number of windows supports: the 99% binomial interval of the observed share
        # holds the expected one (±5 points at 128 windows).
        low, high = binomial_interval(a.inside, a.windows, 0.99)
        assert low <= expected <= high, (a.text(), expected)
        assert t.line.enough and t.line.share >= binomial_interval(int(0.95 * 128), 128, 0.99)[0]
        assert t.line.text() == f"trust {t.line.share:.0%} over 128 windows"


def test_after_a_drift_trust_falls(predicted):
    matching = trust(predicted, _plant()).machines["A"]["utilisation"]
    slower = trust(predicted, _plant(cycle_a_s=36.0)).machines["A"]["utilisation"]  # +20% cycle time on A
    much = trust(predicted, _plant(cycle_a_s=45.0)).machines["A"]["utilisation"]  # +50%
    floor = binomial_interval(int(0.95 * 128), 128, 0.99)[0]  # a matching plant stays above this
    assert matching.share >= floor
    assert slower.share < floor and much.share < slower.share and much.share < 0.5
    t = trust(predicted, _plant(cycle_a_s=45.0))
    assert t.lowest(1)[0][:2] == ("A", "utilisation")  # the summary names what fell
    assert "lowest: A utilisation" in t.summary()


def test_too_few_windows_or_too_wide_a_prediction_gives_no_figure(predicted):
    few = trust(predicted, _plant()[: MIN_WINDOWS - 1])
    assert not few.line.enough and np.isnan(few.line.share)
    assert few.line.text() == f"not enough data — needs ≥ {MIN_WINDOWS} windows of 15 min (has {MIN_WINDOWS - 1})"
    # The demo plant makes ~40 parts/h with cycles of minutes: a 15-minute window's prediction of the line's
    # throughput spans far more than ±50%, so no trust is claimed for it, and the text says what would do.
    demo = simulated_windows(load_factory(DEMO_FACTORY), replications=3, windows=16, seed=4)
    t = trust(demo, demo[:8])
    assert not t.line.testable and np.isnan(t.line.share) and t.line.spread > MAX_SPREAD
    assert t.line.text().startswith("prediction too wide to test in 15 min windows (±") and "needs windows of ≥" in t.line.text()
    thr = [line_kpis(o)["throughput_per_h"] for o in demo]
    assert prediction_band(thr)[0] <= 0.5 * np.mean(thr)  # what "too wide" means here
    assert TrustScore(0, 10, 900.0, spread=0.2).text() == "trust 0% over 10 windows"


def test_windows_never_span_a_gap():
    edges = window_edges([(0.0, 2000.0), (2500.0, 4200.0)], 900.0)  # 200 s and 800 s left over: no window
    assert edges == [(0.0, 900.0), (900.0, 1800.0), (2500.0, 3400.0)]
