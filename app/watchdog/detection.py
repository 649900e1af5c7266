"""What the watchdog reports: its settings, and a detection — what moved, by how much, since when, how sure.

Examples
--------
>>> d = Detection("CNC-03", "cycle", 1, 1.183, 0.052, 0.0, 3600.0, 12, 0.998, 270.0, 9.1, 8.0, clock=lambda t: "14:20")
>>> d.text
'CNC-03 cycle time +18.3 ± 5.2% since 14:20 (99.8% confidence)'
>>> d.suggestion()
MachineParam(kind='machine_param', machine='CNC-03', param='cycle_mean_s', value=319.0)

A detection made on one overwhelming observation knows the direction before the size:

>>> fast = Detection("CNC-03", "cycle", 1, 1.6, 0.3, 0.0, 3600.0, 1, 0.999, 270.0, 6.0, 4.1, clock=lambda t: "14:20",
...                  needs=5, rule="shewhart")
>>> fast.text
'CNC-03 cycle time up since 14:20 (size: settling — needs ≥ 5 cycles, 1 so far; > 99.9% confidence)'
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.sim.numbers import round_to_interval
from app.sim.scenario import MachineParam

#: The parameters watched, their words, what one observation is called, and the scenario parameter each
#: recalibrates.
PARAMS = ("cycle", "mtbf", "mttr", "arrival")
PARAM_WORDS = {"cycle": "cycle time", "mtbf": "time between failures", "mttr": "repair time", "arrival": "arrival rate"}
OBSERVATION_WORDS = {"cycle": "cycles", "mtbf": "failures", "mttr": "repairs", "arrival": "counting windows"}
SCENARIO_PARAM = {"cycle": "cycle_mean_s", "mtbf": "mtbf_s", "mttr": "mttr_s"}


@dataclass(frozen=True)
class WatchdogConfig:
    """How sensitive the watchdog is.

    false_alarm_every_s
        Mean time between false alarms of one machine's one parameter on a plant that matches its model
        (30 simulated days by default); sets each CUSUM's alarm level ``h``.
    k
        Half the shift, in standard deviations of one observation, that the CUSUM is tuned to find fastest.
    min_observations
        Observations since the change point the size of a change needs at least (its estimate rests on
        them). The CUSUM detects a change only with that many, and with as many as make the interval of
        its size exclude "no change" (a few for a large change, more for a small one); the single-observation
        rule detects on one overwhelming observation, and its size waits for that many since it.
    shewhart_share
        The share of the false-alarm budget given to the single-observation (Shewhart) rule; the CUSUM gets
        the rest (its alarm level is set for ``1 / (1 − share)`` times the run length). The two rules' false
        alarm rates add up to at most the configured one (docs/closed-loop.md: the split).
    interval
        Coverage of the interval given with the size of a change.
    rearm
        Start a channel again right after it has reported (for counting false alarms); by default a
        channel that reported stays quiet until it is recalibrated or ``rearm`` is called.
    """

    false_alarm_every_s: float = 30 * 86_400.0
    k: float = 0.5
    min_observations: dict[str, int] = field(default_factory=lambda: {"cycle": 5, "mtbf": 5, "mttr": 5})
    interval: float = 0.95
    rearm: bool = False
    shewhart_share: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.shewhart_share < 1.0:
            raise ValueError(f"the Shewhart rule's share of the false alarms must be in [0, 1), got {self.shewhart_share}")


def clock_time(t: float) -> str:
    """A UNIX time as the local wall-clock time of day (``14:20``)."""
    return time.strftime("%H:%M", time.localtime(t))


@dataclass(frozen=True)
class Detection:
    """A change found in one machine's parameter.

    ``ratio`` is the mean observed since ``since_ts`` (the change point) over the model's mean, with the
    half-width ``half_width`` of its ``interval`` (95%) interval; ``confidence`` is the probability that a
    plant matching its model would *not* have raised this alarm within the ``n`` observations behind it
    — ``exp(−n / ARL₀(S))``, with ARL₀(S) the in-control run length of a CUSUM alarming at the level S
    the statistic reached (run lengths are close to geometric); for the single-observation rule (``rule``
    ``"shewhart"``) one minus the probability of an observation as far out (its z-score is ``statistic``,
    the limit ``threshold``).

    The size (``ratio``, ``half_width``) is known once ``n`` reaches ``needs`` observations since the change
    point (``size_known``; the settling rule, ``Watchdog._size_needs``); before, the text says it is still
    settling and how many it needs, and nothing is offered to recalibrate.
    """

    machine: str
    param: str
    direction: int  # +1 longer, −1 shorter than the model
    ratio: float
    half_width: float
    since_ts: float
    detected_ts: float
    n: int
    confidence: float
    model_mean_s: float
    statistic: float
    threshold: float
    clock: Callable[[float], str] = field(default=clock_time, compare=False, repr=False)
    needs: int = 0
    rule: str = "cusum"

    @property
    def size_known(self) -> bool:
        """Enough observations since the change point for its size (``needs``)."""
        return self.n >= self.needs

    @property
    def change_text(self) -> str:
        """The relative change rounded to what its interval supports: ``+18 ± 5%``."""
        m, h = round_to_interval(100.0 * (self.ratio - 1.0), 100.0 * self.half_width)
        return f"{'+' if not m.startswith('-') else ''}{m} ± {h}%"

    @property
    def confidence_text(self) -> str:
        c = self.confidence
        return "> 99.9%" if c >= 0.999 else f"{math.floor(c * 1000) / 10:g}%"

    @property
    def text(self) -> str:
        """``CNC-03 cycle time +18 ± 5% since 14:20 (99.8% confidence)``, or, before the size is known,
        ``CNC-03 cycle time up since 14:20 (size: settling — needs ≥ 5 cycles, 1 so far; > 99.9% confidence)``"""
        if not self.size_known:  # what is missing first: a narrow column cuts the confidence, not the reason
            return (
                f"{self.machine} {PARAM_WORDS[self.param]} {'up' if self.direction > 0 else 'down'} since "
                f"{self.clock(self.since_ts)} (size: {self.size_wanted}; {self.confidence_text} confidence)"
            )
        return (
            f"{self.machine} {PARAM_WORDS[self.param]} {self.change_text} since {self.clock(self.since_ts)} "
            f"({self.confidence_text} confidence)"
        )

    @property
    def size_wanted(self) -> str:
        """``settling — needs ≥ 16 cycles, 4 so far``: what the size still waits for, counted since the change
        point (what is missing first: a narrow column cuts the count, not the need)."""
        return f"settling — needs ≥ {self.needs} {OBSERVATION_WORDS[self.param]}, {self.n} so far"

    @property
    def estimate_s(self) -> float:
        """The parameter's new mean as observed (seconds)."""
        return self.model_mean_s * self.ratio

    def suggestion(self) -> MachineParam:
        """The recalibration as a scenario change: the parameter set to its observed mean, rounded to the
        precision of its interval. (An arrival rate is a change of demand: ``Watchdog.changes_for``.)"""
        if not self.size_known:
            raise ValueError(f"{self.machine} {PARAM_WORDS[self.param]}: the size is not known yet — {self.size_wanted}")
        if self.param not in SCENARIO_PARAM:
            raise ValueError(f"a change of the {PARAM_WORDS[self.param]} is a change of demand: see Watchdog.changes_for")
        value, _ = round_to_interval(self.estimate_s, self.model_mean_s * self.half_width)
        return MachineParam(machine=self.machine, param=SCENARIO_PARAM[self.param], value=float(value))  # type: ignore[arg-type]
