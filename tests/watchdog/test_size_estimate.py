"""The size of a change as first offered for recalibration (issue 16, F2): its 95% interval covers the
true size at its nominal rate, it says "settling" until it stands, and one click leaves no change the
watchdog finds again at once. Synthetic streams are drawn from the model's own cycle-time distribution
(CNC-03: lognormal, mean 270 s, CV 0.1); the plant simulator's signal path is ``SimulatedPlant``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.model.io import load_factory
from app.plant.drift import parse_drift
from app.state.store import GOOD, Update
from app.watchdog.changepoint import ChangeWindow, change_point
from app.watchdog.service import Watchdog
from app.watchdog.simfeed import SimulatedPlant
from tests.conftest import DEMO

NAMES = [("CNC-03", "CycleTime", "n")]
PRE, MEAN_S, CV = 300, 270.0, 0.1


@pytest.fixture(scope="module")
def factory():
    return load_factory(DEMO)


def _cycles(seed: int, ratio: float, post: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    s2 = math.log1p(CV * CV)
    draw = np.exp(rng.normal(math.log(MEAN_S) - s2 / 2, math.sqrt(s2), PRE + post))
    draw[PRE:] *= ratio
    return draw


def _first_sized(factory, seed: int, ratio: float, after: int = 0):
    """The first estimate offered for recalibration after a step at cycle ``PRE`` (None: a false alarm
    came first, or nothing within 200 cycles), and whether a second detection followed within ``after``
    cycles of recalibrating to it."""
    xs = _cycles(seed, ratio, 200 + after)
    dog = Watchdog(factory)
    dog.feed([Update(0, 1.0, GOOD, 0.0)] + [Update(0, float(x), GOOD, 300.0 * (i + 1)) for i, x in enumerate(xs[:PRE])], NAMES)
    if dog.detections:
        return None, False  # a false alarm before the step (about 3% of seeds): not what is measured here
    for i in range(PRE, len(xs)):
        dog.feed([Update(0, float(xs[i]), GOOD, 300.0 * (i + 1))], NAMES)
        if dog.detections:
            d = dog.latest(dog.detections[0])
            if d.size_known:
                dog.recalibrate(d)
                more = [Update(0, float(x), GOOD, 300.0 * (i + 2 + j)) for j, x in enumerate(xs[i + 1 : i + 1 + after])]
                dog.feed(more, NAMES)
                return d, len(dog.detections) > 1
    return None, False


@pytest.mark.parametrize("ratio", [1.2, 1.5])
def test_the_first_offered_size_covers_the_true_size_at_its_nominal_rate(factory, ratio):
    """200 seeds per step: at least 90% of the 95% intervals first offered hold the true ratio (before the
    change point was estimated, a +50% step was covered 83% of the time: pre-change cycles in the sum)."""
    sized = [_first_sized(factory, seed, ratio)[0] for seed in range(200)]
    found = [d for d in sized if d is not None]
    assert len(found) >= 180
    covered = sum(abs(d.ratio - ratio) <= d.half_width for d in found)
    assert covered >= 0.9 * len(found), f"{covered} of {len(found)} intervals hold {ratio}"
    assert all(d.n >= d.needs >= 16 for d in found)  # the settling rule: q/k = 1.96/0.5 → 16 cycles at least


def test_one_click_rarely_leaves_a_change_the_watchdog_finds_again(factory):
    """After recalibrating to the first offered size of a +50% step, a second detection within 100 cycles
    follows for at most one seed in five (on five cycles it was two in five: 83 of 195)."""
    runs = [_first_sized(factory, seed, 1.5, after=100) for seed in range(100)]
    found = [again for d, again in runs if d is not None]
    assert len(found) >= 90
    assert sum(found) <= 0.2 * len(found), f"{sum(found)} of {len(found)} found again"


def test_while_the_size_settles_the_row_says_so_and_nothing_is_offered(factory):
    xs = _cycles(7, 1.5, 40)
    dog = Watchdog(factory, clock=lambda t: "14:20")
    dog.feed([Update(0, 1.0, GOOD, 0.0)] + [Update(0, float(x), GOOD, 300.0 * (i + 1)) for i, x in enumerate(xs[:PRE])], NAMES)
    texts = []
    for i in range(PRE, len(xs)):
        dog.feed([Update(0, float(xs[i]), GOOD, 300.0 * (i + 1))], NAMES)
        if dog.detections:
            d = dog.latest(dog.detections[0])
            texts.append(d.text)
            if d.size_known:
                break
    assert texts and "size: settling — " in texts[0] and "needs ≥ 16 cycles, " in texts[0]
    assert not texts[-1].startswith("CNC-03 cycle time up") and "settling" not in texts[-1]
    with pytest.raises(ValueError, match="settling"):
        dog.detections[0].suggestion()  # as first found: not sized


def test_the_change_point_is_where_the_step_is_not_where_the_sum_last_stood_at_zero():
    z = [0.2, 1.1, 0.9, 0.7, 4.2, 3.9, 4.4, 3.7]  # three pre-change cycles above k = 0.5 kept the sum up
    assert change_point(z, 1) == 4
    assert change_point([-0.3, -4.5, -3.8], -1) == 1
    w = ChangeWindow(1, [(270.0 * (1 + zi / 10), zi, float(t)) for t, zi in enumerate(z)])
    n, sx, _sxx, since = w.post()
    assert (n, since) == (4, 4.0) and sx / n == pytest.approx(270.0 * 1.405)


def test_the_plant_simulators_signal_holds_the_new_duration_from_the_first_cycle_after_the_drift(factory):
    """The trial's seed (7), +50% ten minutes in: ``CycleTime`` is the duration drawn when a cycle starts, so
    the first value after the drift is already a drifted cycle (no lag) — the low first size (+29 ± 11%)
    came from two pre-change cycles in the CUSUM's window. Now its interval holds +50%, and after one
    recalibration to it no second detection follows within a plant day."""
    plant = SimulatedPlant(factory, seed=7, drifts=[parse_drift("CNC-03:cycle=+50%@10m")], step_s=60.0)
    dog = Watchdog(factory)
    cycle = next(i for i, n in enumerate(plant.names) if n[:2] == ("CNC-03", "CycleTime"))
    after_drift: list[float] = []
    sized = None
    for batch in plant.run(2 * 86400.0):
        after_drift += [float(u.value) for u in batch if u.binding == cycle and u.source_ts > 600.0]  # type: ignore[arg-type]
        dog.feed(batch, plant.names)
        found = [d for d in dog.detections if (d.machine, d.param) == ("CNC-03", "cycle")]
        if sized is None and found and dog.latest(found[0]).size_known:
            sized, n_found = dog.latest(found[0]), len(found)
            dog.recalibrate(sized)
            t_click = plant.time()
        if sized is not None and plant.time() > t_click + 86400.0:
            break
    assert after_drift[0] > 270.0 * 1.25  # the first value after the drift is a drifted cycle
    assert sized is not None and sized.since_ts >= 600.0  # the change point is not before the drift
    assert abs(sized.ratio - 1.5) <= sized.half_width
    again = [d for d in dog.detections if (d.machine, d.param) == ("CNC-03", "cycle")][n_found:]
    assert again == []
