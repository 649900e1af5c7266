"""What the scenario (parameter) optimiser is asked, checked before any simulation.

The user picks **decision variables** among four kinds, each with bounds (and a step):

- ``input_buffer`` of a machine: places in front of it (a whole number);
- ``servers`` of a machine: parallel servers (a whole number ≥ 1);
- ``release_rate`` of a part flow: parts released per hour (its mean time between arrivals is 3600 / rate);
- ``transport_speed`` of a transport path, in m/s;
- ``wip_cap`` of the ``line``: CONWIP, at most this many parts in the line at once (a whole number ≥ 1).

An optional **budget** bounds what may be spent: total buffer places over the buffer variables
(``buffer_places``), and the price of the servers added above what each machine has now (``server_cost``
per server, ``max_cost`` in total). **Objectives** are chosen among throughput (parts/h, maximised), lead
time (s), WIP (parts) and energy per part (kWh/part), the last three minimised.

Bad input is refused here with one clear message (`ParamsInputError`): no decision variable, an unknown
machine, part or transport path, bounds reversed or not finite, a step that does not fit, a budget the
lower bounds already exceed, an unknown objective.

Examples
--------
>>> v = parse_variable("CNC-03:input_buffer=1..10")
>>> v.kind, v.target, v.low, v.high, v.step
('input_buffer', 'CNC-03', 1.0, 10.0, 1.0)
>>> v.values()[:3]
[1.0, 2.0, 3.0]
>>> parse_variable("P1:release_rate=20..40/5").values()
[20.0, 25.0, 30.0, 35.0, 40.0]
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from app.model.factory import Factory
from app.sim.numbers import format_number
from app.sim.scenario import Change, Demand, MachineParam, TransportSpeed, WipCap

__all__ = [
    "KINDS",
    "OBJECTIVES",
    "Budget",
    "ObjectiveSpec",
    "ParamsInputError",
    "ParamsRequest",
    "Variable",
    "check_request",
    "parse_budget",
    "parse_variable",
]

VariableKind = Literal["input_buffer", "servers", "release_rate", "transport_speed", "wip_cap"]
KINDS: Final[tuple[VariableKind, ...]] = ("input_buffer", "servers", "release_rate", "transport_speed", "wip_cap")
#: Kinds whose values are whole numbers.
INTEGER_KINDS: Final = ("input_buffer", "servers", "wip_cap")
#: The target a WIP cap names: the cap holds for the whole line (every part flow).
LINE: Final = "line"
KIND_WORDS: Final = {
    "input_buffer": ("input buffer", "places"),
    "servers": ("servers", "servers"),
    "release_rate": ("release rate", "parts/h"),
    "transport_speed": ("transport speed", "m/s"),
    "wip_cap": ("WIP cap (CONWIP)", "parts"),
}


class ParamsInputError(ValueError):
    """The scenario optimiser cannot start on this input (the message says why and what to do)."""


@dataclass(frozen=True)
class ObjectiveSpec:
    """One objective: its key, its words, its unit and whether more is better."""

    key: str
    words: str
    unit: str
    maximise: bool


OBJECTIVES: Final[dict[str, ObjectiveSpec]] = {
    "throughput": ObjectiveSpec("throughput", "throughput", "parts/h", True),
    "lead_time": ObjectiveSpec("lead_time", "lead time", "s", False),
    "wip": ObjectiveSpec("wip", "WIP", "parts", False),
    "energy": ObjectiveSpec("energy", "energy per part", "kWh/part", False),
}


@dataclass(frozen=True)
class Variable:
    """One decision variable: ``kind`` of ``target`` (a machine, part or transport id) within [low, high].

    ``step``: the grid of allowed values (low, low + step, …); 1 for whole numbers by default, None for a
    continuous one (release rate, transport speed).
    """

    kind: VariableKind
    target: str
    low: float
    high: float
    step: float | None = None

    def __post_init__(self) -> None:
        if self.step is None and self.kind in INTEGER_KINDS:
            object.__setattr__(self, "step", 1.0)

    @property
    def key(self) -> str:
        """``CNC-03:input_buffer``: how the command line and the result file name it."""
        return f"{self.target}:{self.kind}"

    @property
    def integer(self) -> bool:
        return self.kind in INTEGER_KINDS

    @property
    def words(self) -> str:
        return f"{self.target} {KIND_WORDS[self.kind][0]}"

    @property
    def unit(self) -> str:
        return KIND_WORDS[self.kind][1]

    def levels(self) -> int | None:
        """How many values the grid has (None: continuous)."""
        if self.step is None:
            return None
        return math.floor((self.high - self.low) / self.step + 1e-9) + 1

    def values(self) -> list[float]:
        """Every allowed value (a continuous variable: its two bounds)."""
        n = self.levels()
        if n is None:
            return [self.low, self.high]
        return [self.snap(self.low + k * self.step) for k in range(n)]  # type: ignore[operator]

    def snap(self, value: float) -> float:
        """The allowed value nearest ``value`` (on the grid, within the bounds)."""
        v = min(max(float(value), self.low), self.high)
        if self.step is None:
            return v
        k = round((v - self.low) / self.step)
        k = min(k, (self.levels() or 1) - 1)
        out = self.low + k * self.step
        return float(round(out)) if self.integer else float(round(out, 12))

    def change(self, value: float | None) -> Change:
        """The scenario change that sets this variable to ``value`` (None: a WIP cap removed)."""
        if self.kind == "wip_cap":
            return WipCap(parts=None if value is None else round(value))
        if value is None:
            raise ValueError(f"{self.key} needs a value")
        if self.kind in INTEGER_KINDS:
            return MachineParam(machine=self.target, param=self.kind, value=float(round(value)))
        if self.kind == "release_rate":
            return Demand(part=self.target, interarrival_mean_s=3600.0 / value)
        return TransportSpeed(transport=self.target, speed_m_s=float(value))

    def show(self, value: float) -> str:
        return f"{self.words} = {format_number(value, self.unit)}"


@dataclass(frozen=True)
class Budget:
    """What may be spent. ``buffer_places``: the buffer variables' places together at most this many.
    ``server_cost``: price of one added server per machine id (``"*"``: any machine); ``max_cost``: the
    servers added above what each machine has now cost at most this much together."""

    buffer_places: int | None = None
    server_cost: Mapping[str, float] = field(default_factory=dict)
    max_cost: float | None = None

    @property
    def empty(self) -> bool:
        return self.buffer_places is None and self.max_cost is None

    def price(self, machine: str) -> float:
        return float(self.server_cost.get(machine, self.server_cost.get("*", 0.0)))


@dataclass(frozen=True)
class ParamsRequest:
    """What to optimise and how hard to look.

    Parameters
    ----------
    variables
        The decision variables (at least one).
    objectives
        Keys of `OBJECTIVES`; one objective: the best setting; more: a Pareto front (NSGA-II).
    budget
        Optional spending limits (`Budget`), pymoo constraints in the search.
    replications, horizon_s, warmup_s, seed
        The simulation of each candidate: ``replications`` runs with the same seeds for every candidate
        (common random numbers); None: the factory's own settings.
    seconds, max_evaluations
        The search stops at the first of: this wall time, this many distinct candidates simulated, or a
        search that stops finding new candidates.
    population
        Candidates per generation.
    finalists
        How many of the best candidates go to the ranking-and-selection stage (the Pareto front is cut to
        this many, spread along it).
    delta, alpha
        Indifference zone (in the first objective's unit; None: 1% of the best search mean) and error
        probability: the selection claims "the best with ≥ 1 − alpha confidence, or within delta of it".
    max_selection_replications
        The selection stops adding replications here and says what it could not tell apart.
    """

    variables: tuple[Variable, ...]
    objectives: tuple[str, ...] = ("throughput",)
    budget: Budget = field(default_factory=Budget)
    replications: int | None = 5
    horizon_s: float | None = None
    warmup_s: float | None = None
    seed: int | None = None
    seconds: float = 60.0
    max_evaluations: int = 200
    population: int = 16
    finalists: int = 5
    delta: float | None = None
    alpha: float = 0.05
    max_selection_replications: int = 100


_VAR = re.compile(
    r"^\s*(?P<target>[^:=]+):(?P<kind>[a-z_]+)\s*=\s*(?P<low>[^.]+(?:\.\d+)?)\.\.(?P<high>[^/]+)(?:/(?P<step>.+))?$"
)


def parse_variable(text: str) -> Variable:
    """``ID:kind=LOW..HIGH[/STEP]`` as the command line writes a variable; ParamsInputError when not."""
    m = _VAR.match(text)
    if not m:
        raise ParamsInputError(
            f"--var {text!r}: write ID:KIND=LOW..HIGH[/STEP], e.g. CNC-03:input_buffer=1..10 (KIND one of {', '.join(KINDS)})"
        )
    kind = m["kind"]
    if kind not in KINDS:
        raise ParamsInputError(f"--var {text!r}: unknown kind {kind!r} (one of {', '.join(KINDS)})")
    try:
        low, high = float(m["low"]), float(m["high"])
        step = float(m["step"]) if m["step"] else None
    except ValueError:
        raise ParamsInputError(f"--var {text!r}: the bounds and the step must be numbers") from None
    return Variable(kind=kind, target=m["target"].strip(), low=low, high=high, step=step)  # type: ignore[arg-type]


def parse_budget(texts: Sequence[str], server_costs: Sequence[str] = ()) -> Budget:
    """``buffers<=B`` and ``cost<=C`` (repeatable ``--budget``) with ``--server-cost [ID=]PRICE``."""
    places: int | None = None
    cost: float | None = None
    for text in texts:
        m = re.match(r"^\s*(buffers|cost)\s*<=\s*(\S+)\s*$", text)
        if not m:
            raise ParamsInputError(f"--budget {text!r}: write buffers<=B (total buffer places) or cost<=C (added servers)")
        try:
            value = float(m[2])
        except ValueError:
            raise ParamsInputError(f"--budget {text!r}: {m[2]!r} is not a number") from None
        if not math.isfinite(value) or value < 0:
            raise ParamsInputError(f"--budget {text!r}: the limit must be a number ≥ 0")
        if m[1] == "buffers":
            if not value.is_integer():
                raise ParamsInputError(f"--budget {text!r}: buffer places are a whole number")
            places = int(value)
        else:
            cost = value
    prices: dict[str, float] = {}
    for text in server_costs:
        target, _, price = text.rpartition("=")
        try:
            value = float(price)
        except ValueError:
            raise ParamsInputError(f"--server-cost {text!r}: write [MACHINE=]PRICE, e.g. CNC-03=50000") from None
        if not math.isfinite(value) or value < 0:
            raise ParamsInputError(f"--server-cost {text!r}: the price must be a number ≥ 0")
        prices[target.strip() or "*"] = value
    return Budget(buffer_places=places, server_cost=prices, max_cost=cost)


def current_value(factory: Factory, v: Variable) -> float | None:
    """What the factory has now for variable ``v`` (its id known to exist; None: no WIP cap)."""
    if v.kind == "wip_cap":
        cap = factory.simulation.wip_cap
        return None if cap is None else float(cap)
    if v.kind in INTEGER_KINDS:
        return float(getattr(factory.machine(v.target).sim, v.kind))
    if v.kind == "release_rate":
        flow = next(f for f in factory.flows if f.part == v.target)
        return 3600.0 / flow.interarrival.mean_s
    return float(next(t for t in factory.transports if t.id == v.target).speed_m_s)


def budget_use(request: ParamsRequest, factory: Factory, values: Sequence[float | None]) -> dict[str, float]:
    """Buffer places and added-server cost of a setting (``values`` in the order of the variables)."""
    places = 0.0
    cost = 0.0
    for v, x in zip(request.variables, values, strict=True):
        if v.kind == "input_buffer" and x is not None:
            places += x
        elif v.kind == "servers" and x is not None:
            cost += request.budget.price(v.target) * max(0.0, x - (current_value(factory, v) or 0.0))
    return {"buffer_places": places, "cost": cost}


def check_request(factory: Factory, request: ParamsRequest) -> None:
    """Refuse what cannot be searched, with one message saying why; returns None when the request is good."""
    if not request.variables:
        raise ParamsInputError(
            "no decision variable: give at least one (e.g. --var CNC-03:input_buffer=1..10) — buffer sizes, servers, "
            "release rates or transport speeds"
        )
    if not factory.flows:
        raise ParamsInputError("nothing to optimise: the factory has no part flows, so nothing is produced to simulate")
    machines = {m.id for m in factory.machines}
    parts = {f.part for f in factory.flows}
    transports = {t.id for t in factory.transports}
    seen: set[str] = set()
    for v in request.variables:
        if v.key in seen:
            raise ParamsInputError(f"{v.key} is given twice: one range per variable")
        seen.add(v.key)
        _check_target(v, machines, parts, transports)
        _check_bounds(v)
    if not request.objectives:
        raise ParamsInputError(f"no objective: choose among {', '.join(OBJECTIVES)}")
    for o in request.objectives:
        if o not in OBJECTIVES:
            raise ParamsInputError(f"unknown objective {o!r}: choose among {', '.join(OBJECTIVES)}")
    if len(set(request.objectives)) != len(request.objectives):
        raise ParamsInputError("an objective is given twice")
    _check_budget(factory, request)
    _check_settings(request)


def _check_target(v: Variable, machines: set[str], parts: set[str], transports: set[str]) -> None:
    if v.kind in ("input_buffer", "servers") and v.target not in machines:
        raise ParamsInputError(f"{v.key}: no machine {v.target!r} in the factory")
    if v.kind == "release_rate" and v.target not in parts:
        raise ParamsInputError(f"{v.key}: no part flow {v.target!r} in the factory (part flows: {', '.join(sorted(parts))})")
    if v.kind == "transport_speed" and v.target not in transports:
        raise ParamsInputError(f"{v.key}: no transport path {v.target!r} in the factory")
    if v.kind == "wip_cap" and v.target != LINE:
        raise ParamsInputError(f"{v.key}: a WIP cap holds for the whole line: write {LINE}:wip_cap=LOW..HIGH")


def _check_bounds(v: Variable) -> None:
    if not (math.isfinite(v.low) and math.isfinite(v.high)):
        raise ParamsInputError(f"{v.key}: the bounds must be finite numbers, got {v.low:g}..{v.high:g}")
    if v.low > v.high:
        raise ParamsInputError(f"{v.key}: the bounds are reversed ({v.low:g}..{v.high:g}): write LOW..HIGH")
    if v.integer and not (float(v.low).is_integer() and float(v.high).is_integer()):
        raise ParamsInputError(f"{v.key}: {KIND_WORDS[v.kind][0]} is a whole number, got bounds {v.low:g}..{v.high:g}")
    least = {"input_buffer": 0.0, "servers": 1.0, "wip_cap": 1.0}.get(v.kind)
    if least is not None and v.low < least:
        raise ParamsInputError(f"{v.key}: {KIND_WORDS[v.kind][0]} must be ≥ {least:g}, got a lower bound of {v.low:g}")
    if v.kind in ("release_rate", "transport_speed") and v.low <= 0:
        raise ParamsInputError(f"{v.key}: {KIND_WORDS[v.kind][0]} must be > 0, got a lower bound of {v.low:g}")
    if v.kind == "transport_speed" and v.high > 100:
        raise ParamsInputError(f"{v.key}: a transport speed is at most 100 m/s, got {v.high:g}")
    if v.kind == "servers" and v.high > 1000:
        raise ParamsInputError(f"{v.key}: at most 1000 servers, got {v.high:g}")
    if v.step is not None:
        if not (math.isfinite(v.step) and v.step > 0):
            raise ParamsInputError(f"{v.key}: the step must be a number > 0, got {v.step:g}")
        if v.integer and not float(v.step).is_integer():
            raise ParamsInputError(f"{v.key}: the step of a whole number must be whole, got {v.step:g}")


def _check_budget(factory: Factory, request: ParamsRequest) -> None:
    b = request.budget
    lows = [v.low for v in request.variables]
    use = budget_use(request, factory, lows)
    if b.buffer_places is not None:
        if not any(v.kind == "input_buffer" for v in request.variables):
            raise ParamsInputError("a buffer budget (buffers<=B) needs at least one input_buffer variable")
        if use["buffer_places"] > b.buffer_places:
            raise ParamsInputError(
                f"the budget cannot be met: the buffer variables' lower bounds already take {use['buffer_places']:g} "
                f"places, the budget allows {b.buffer_places} (lower a bound or raise the budget)"
            )
    if b.max_cost is not None:
        servers = [v for v in request.variables if v.kind == "servers"]
        if not servers:
            raise ParamsInputError("a cost budget (cost<=C) needs at least one servers variable")
        unpriced = [v.target for v in servers if v.target not in b.server_cost and "*" not in b.server_cost]
        if unpriced:
            raise ParamsInputError(
                f"a cost budget needs the price of a server: none given for {', '.join(unpriced)} (set the server price; "
                "on the command line --server-cost ID=PRICE)"
            )
        if use["cost"] > b.max_cost:
            raise ParamsInputError(
                f"the budget cannot be met: the servers' lower bounds already cost {format_number(use['cost'])}, the budget "
                f"allows {format_number(b.max_cost)} (lower a bound or raise the budget)"
            )


def _check_settings(request: ParamsRequest) -> None:
    if not (math.isfinite(request.seconds) and request.seconds > 0):
        raise ParamsInputError(f"the time limit must be a positive number of seconds, not {request.seconds:g}")
    if request.replications is not None and request.replications < 2:
        raise ParamsInputError(
            f"replications per candidate must be ≥ 2 to compare candidates with intervals, got {request.replications}"
        )
    if request.max_evaluations < 1 or request.population < 2 or request.finalists < 1:
        raise ParamsInputError("max evaluations ≥ 1, population ≥ 2 and finalists ≥ 1, please")
    if not (0 < request.alpha < 0.5):
        raise ParamsInputError(f"alpha must be between 0 and 0.5 (confidence 1 − alpha), got {request.alpha:g}")
    if request.delta is not None and not (math.isfinite(request.delta) and request.delta > 0):
        raise ParamsInputError(f"the indifference zone delta must be a number > 0, got {request.delta:g}")
    for name, value in (("horizon", request.horizon_s), ("warm-up", request.warmup_s)):
        if value is not None and not (math.isfinite(value) and value >= 0 and (value > 0 or name == "warm-up")):
            raise ParamsInputError(f"the {name} must be a positive number of simulated seconds, not {value:g}")
