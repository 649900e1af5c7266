"""Drift injection for the plant simulator: a machine or a part flow that slowly stops matching its model.

``--drift "CNC-03:cycle=+20%@10m"`` makes CNC-03's cycles 20% longer from 10 simulated minutes after the
start; ``--drift "CNC-03:cycle=+20%@10m..40m"`` ramps the change in linearly from 10 to 40 minutes (tool
wear). Parameters: ``cycle`` (processing time), ``mtbf`` (time between failures), ``mttr`` (repair time)
of a machine, and ``arrival`` (time between arrivals) of a part flow, named by its part. The change is
relative to the factory's value: ``+20%`` multiplies the time by 1.2, ``-10%`` by 0.9 (so ``arrival=+25%``
is a slower arrival stream). Times are simulated: ``90`` or ``90s``, ``10m``, ``1.5h``, ``2d``.

Examples
--------
>>> d = parse_drift("CNC-03:cycle=+20%@10m..40m")
>>> d.target, d.param, d.factor, d.start_s, d.end_s
('CNC-03', 'cycle', 1.2, 600.0, 2400.0)
>>> [(round(t), round(f, 3)) for t, f in d.steps(3)]
[(600, 1.067), (1500, 1.133), (2400, 1.2)]
>>> parse_drift("CNC-03:speed=+20%@10m")
Traceback (most recent call last):
...
ValueError: CNC-03:speed=+20%@10m: unknown parameter "speed": expected cycle, mtbf, mttr or arrival
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.model.factory import Factory

#: What a drift can change, and what the engine calls it (``Engine.rescale``).
PARAMS = ("cycle", "mtbf", "mttr", "arrival")
#: The words of each parameter in messages.
PARAM_LABELS = {"cycle": "cycle time", "mtbf": "time between failures", "mttr": "repair time", "arrival": "time between arrivals"}
#: A ramp is applied in this many equal steps (at fixed simulated times: the run stays reproducible).
RAMP_STEPS = 100
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_SPEC = re.compile(r"(?P<target>[^:=@]+):(?P<param>[^=]+)=(?P<change>[^@]+)@(?P<when>.+)")


@dataclass(frozen=True)
class Drift:
    """One injected drift: ``param`` of ``target`` (a machine, or a part for ``arrival``) multiplied by
    ``factor``, from ``start_s`` (a step) or ramped in from ``start_s`` to ``end_s`` (simulated seconds
    after the plant simulator starts serving)."""

    target: str
    param: str
    factor: float
    start_s: float
    end_s: float
    spec: str = ""

    def steps(self, n: int = RAMP_STEPS) -> list[tuple[float, float]]:
        """(simulated time, factor) pairs that apply the drift: one for a step, ``n`` along a ramp."""
        if self.end_s <= self.start_s:
            return [(self.start_s, self.factor)]
        span = self.end_s - self.start_s
        return [(self.start_s + span * k / (n - 1), 1.0 + (self.factor - 1.0) * (k + 1) / n) for k in range(n - 1)] + [
            (self.end_s, self.factor)
        ]

    def describe(self) -> str:
        """The drift in words: ``CNC-03 cycle time +20% at 600 s``."""
        ramp = self.end_s > self.start_s
        when = f"ramped in from {self.start_s:g} s to {self.end_s:g} s" if ramp else f"at {self.start_s:g} s"
        return f"{self.target} {PARAM_LABELS[self.param]} {100 * (self.factor - 1):+g}% {when}"


def _seconds(text: str, spec: str) -> float:
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*(s|m|min|h|d)?\s*", text)
    if not m:
        raise ValueError(f'{spec}: "{text}" is not a simulated time: expected e.g. 90, 90s, 10m, 1.5h or 2d')
    return float(m.group(1)) * _UNITS[m.group(2) or ""]


def parse_drift(spec: str) -> Drift:
    """A drift from its command-line form ``TARGET:PARAM=±P%@AT`` or ``…@FROM..TO``; ``ValueError`` naming
    the part that is wrong."""
    m = _SPEC.fullmatch(spec.strip())
    if not m:
        raise ValueError(f'{spec}: expected TARGET:PARAM=±P%@AT or TARGET:PARAM=±P%@FROM..TO, e.g. "CNC-03:cycle=+20%@10m"')
    target, param, change, when = (m.group(k).strip() for k in ("target", "param", "change", "when"))
    if param not in PARAMS:
        raise ValueError(f'{spec}: unknown parameter "{param}": expected cycle, mtbf, mttr or arrival')
    pct = re.fullmatch(r"([+-])\s*([0-9]+(?:\.[0-9]*)?)\s*%", change)
    if not pct:
        raise ValueError(f'{spec}: "{change}" is not a relative change: expected a signed percentage such as +20% or -15%')
    factor = 1.0 + (1 if pct.group(1) == "+" else -1) * float(pct.group(2)) / 100.0
    if factor <= 0:
        raise ValueError(f"{spec}: {change} would leave no time at all: a decrease must be less than 100%")
    start, sep, end = when.partition("..")
    start_s = _seconds(start, spec)
    end_s = _seconds(end, spec) if sep else start_s
    if sep and end_s <= start_s:
        raise ValueError(f"{spec}: the ramp must end after it starts ({start.strip()}..{end.strip()})")
    return Drift(target, param, factor, start_s, end_s, spec.strip())


def check_drifts(drifts: Sequence[Drift], factory: Factory) -> list[str]:
    """Messages for drifts the factory cannot take (unknown machine or part, a machine without failures
    given an MTBF or MTTR drift); empty when all fit."""
    machines = {m.id: m for m in factory.machines}
    parts = [f.part for f in factory.flows]
    problems = []
    for d in drifts:
        if d.param == "arrival":
            if d.target not in parts:
                problems.append(f'{d.spec}: unknown part flow "{d.target}" (arrival drifts name a part: {", ".join(parts)})')
        elif d.target not in machines:
            problems.append(f'{d.spec}: unknown machine "{d.target}"')
        elif d.param in ("mtbf", "mttr") and machines[d.target].sim.mtbf_s is None:
            problems.append(f"{d.spec}: {d.target} has no failures in the factory (no mtbf_s/mttr_s): nothing to drift")
    return problems


@dataclass(frozen=True)
class DriftStep:
    """One change the plant applies to its engine at a simulated time (seconds after it starts serving)."""

    at_s: float
    param: str
    index: int  # the station (cycle, mtbf, mttr) or the source (arrival) in the compiled model
    factor: float
    drift: Drift


def schedule(drifts: Sequence[Drift], factory: Factory) -> list[DriftStep]:
    """Every step of every drift in time order (drifts must have passed ``check_drifts``)."""
    machines = {m.id: i for i, m in enumerate(factory.machines)}
    parts = {f.part: k for k, f in enumerate(factory.flows)}
    out = []
    for d in drifts:
        index = parts[d.target] if d.param == "arrival" else machines[d.target]
        out += [DriftStep(t, d.param, index, f, d) for t, f in d.steps()]
    return sorted(out, key=lambda s: s.at_s)
