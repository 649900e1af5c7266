"""The forecast's 95% band against what then happened, over many independent trials.

Each trial is a plant — the same engine, an independent seed — stopped at a random moment between one and
four hours in and watched for ten minutes the way its server publishes it (``EngineObserver``); a forecast
is made from that live state alone, then the plant runs on to the horizon and its parts out are checked
against the band. With a band that means 95%, the share of trials covered is Binomial(n, 0.95) / n: for
n = 100 it lies in 90–99% with probability 0.98 (seeded, so the test is reproducible).
"""

from __future__ import annotations

import numpy as np
import pytest

from app.forecast.forecast import ForecastRequest, forecast_model, run_forecast
from app.forecast.live_state import EngineObserver
from app.model.io import load_factory
from app.sim.engine import Engine
from app.sim.model import compile_model
from tests.conftest import DEMO

TRIALS = 100
HORIZON_S = 3600.0
REPLICATIONS = 20  # what the forecast service runs by default


def trial(factory, model, k: int) -> tuple[int, float, float]:
    rng = np.random.default_rng([77, k])
    plant = Engine(compile_model(factory, horizon_s=86400.0, warmup_s=0.0, seed=10_000 + k, sample_s=1e12))
    plant.run_until(float(rng.uniform(3600.0, 4 * 3600.0)))
    watch = EngineObserver(plant)
    watch.advance(600.0)
    before = watch.parts_out()
    forecast = run_forecast(model, ForecastRequest(watch.state(), HORIZON_S, REPLICATIONS, seed=k))
    watch.step_s = HORIZON_S  # the counts at the horizon are all that is read now
    watch.advance(HORIZON_S)
    band = forecast.band()
    assert band is not None
    return watch.parts_out() - before, float(band[0][-1]), float(band[1][-1])


@pytest.mark.slow
def test_the_95_percent_band_covers_what_then_happened_in_90_to_99_percent_of_trials():
    factory = load_factory(DEMO)
    model = forecast_model(factory, HORIZON_S, seed=0)
    results = [trial(factory, model, k) for k in range(TRIALS)]
    covered = sum(lo <= actual <= hi for actual, lo, hi in results)
    print(f"covered {covered} of {TRIALS}")
    assert 0.90 <= covered / TRIALS <= 0.99, results
    # The band is informative, not merely wide: about ±1.96 sd of an hour's output, far narrower than the output.
    widths = [hi - lo for _, lo, hi in results]
    actuals = [a for a, _, _ in results]
    assert np.median(widths) < 0.8 * np.median(actuals)
