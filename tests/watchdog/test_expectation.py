"""The watchdog's z transform and single-cycle limits for every kind of time the format knows: while the
plant draws from the model's own distribution, z is standard normal and each limit is passed at its rate."""

from __future__ import annotations

import numpy as np
import pytest

from app.model.factory import Distribution
from app.sim.streams import draw
from app.watchdog.expectation import expectation_of

KINDS = [
    Distribution(kind="lognormal", mean_s=240.0, cv=0.2),
    Distribution(kind="exponential", mean_s=100.0),
    Distribution(kind="gamma", mean_s=120.0, cv=0.4),
    Distribution(kind="erlang", mean_s=90.0, phases=3),
    Distribution(kind="uniform", min_s=100.0, max_s=200.0),
    Distribution(kind="triangular", min_s=10.0, mode_s=20.0, max_s=60.0),
    Distribution(kind="weibull", shape=1.5, scale_s=300.0),
    # a what-if's new cycle time (a copy with another mean, as app.sim.scenario makes it): the whole time scales
    Distribution(kind="weibull", shape=2.0, scale_s=100.0).model_copy(update={"mean_s": 120.0}),
]


@pytest.mark.parametrize("dist", KINDS, ids=lambda d: d.kind + ("_scaled" if d.kind == "weibull" and d.shape == 2.0 else ""))
def test_scores_of_the_models_own_draws_are_standard_normal_and_limits_hold_their_rate(dist):
    x = draw(dist, np.random.default_rng(11), 8_000)
    e = expectation_of(dist)
    assert e.kind == dist.kind and e.mean_s == pytest.approx(float(x.mean()), rel=0.02)
    z = np.array([e.z(float(v)) for v in x])
    assert abs(z.mean()) < 0.04 and abs(z.std() - 1.0) < 0.04  # not a deterministic time's tolerance
    lo, hi = e.limits(0.02)
    assert (x <= lo).mean() == pytest.approx(0.01, abs=0.004) and (x >= hi).mean() == pytest.approx(0.01, abs=0.004)
