"""What a deployment's watch rolls back on (issue 16, F12): a drift resting on enough cycles since its change
point, never one cycle. A trial's 3× slower CNC-02 was rolled back 6 plant hours in for "cycle time down …
1 so far": one genuine cycle of 510 s (the seeded draw 3.95 σ below the changed model's mean; the single-cycle
limit is 521 s) — not a stale pre-write value (the watchdog never counts the first value it sees)."""

from __future__ import annotations

from app.model.io import load_factory
from app.sim.scenario import MachineParam, Scenario, apply
from app.state.store import GOOD, Update
from app.watchdog.service import Watchdog
from tests.conftest import DEMO

NAMES = [("CNC-02", "CycleTime", "n")]


def _changed():
    before = load_factory(DEMO)
    slower = MachineParam(machine="CNC-02", param="cycle_mean_s", value=765.0)
    return apply(Scenario(name="slow", factory=before, changes=[slower]))


def _feed(dog: Watchdog, cycles: list[float], t0: float = 0.0) -> None:
    dog.feed([Update(0, x, GOOD, t0 + 765.0 * (i + 1)) for i, x in enumerate(cycles)], NAMES)


def test_one_extreme_cycle_then_modelled_ones_rolls_nothing_back():
    dog = Watchdog(_changed())
    assert dog.channels["CNC-02", "cycle"].lower > 510.333  # the trial's cycle is beyond the single-cycle limit
    _feed(dog, [282.695, 796.4, 785.1, 884.0, 858.0, 769.4, 510.333])  # first: the cycle under way at the write
    (d,) = dog.detections
    assert (d.direction, d.rule, d.n) == (-1, "shewhart", 1)
    assert dog.confirmed(d) is None  # one cycle: not yet a reason to roll back
    _feed(dog, [791.9, 708.0, 705.4, 769.9, 798.1], t0=10_000.0)  # five after it
    assert dog.confirmed(d) is False  # the plant runs as changed: forgotten, watched again
    assert dog.channels["CNC-02", "cycle"].detection is None
    _feed(dog, [887.1, 750.0, 815.9, 765.8], t0=20_000.0)
    assert len(dog.detections) == 1


def test_one_long_cycle_in_the_direction_of_the_change_rolls_nothing_back():
    dog = Watchdog(_changed())
    _feed(dog, [796.4, 785.1, 1200.0])  # far beyond the upper limit: the way the change was meant to go
    (d,) = dog.detections
    assert d.direction == 1 and dog.confirmed(d) is None
    _feed(dog, [770.0, 760.0, 780.0, 750.0, 772.0], t0=10_000.0)
    assert dog.confirmed(d) is False


def test_a_plant_that_did_not_follow_the_write_is_rolled_back_on_five_cycles_after_the_first():
    dog = Watchdog(_changed())
    _feed(dog, [255.0, 250.0, 262.0])  # still the old 255 s cycles
    (d,) = dog.detections
    _feed(dog, [258.0, 249.0, 256.0, 251.0], t0=10_000.0)  # five after the one that raised it
    assert dog.confirmed(d) is True and dog.latest(d).n >= 5
