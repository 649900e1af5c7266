"""From a factory to the arrays the simulation engine runs on, with input checks that name the field."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from app.model.factory import Distribution, Factory
from app.model.geometry import route_length_m
from app.model.problems import Problem

#: Seconds of the time-series sampling grid when none is given.
DEFAULT_SAMPLE_S = 300.0


class SimInputError(Exception):
    """Simulation input that cannot be run; ``problems`` name the fields."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        first = str(problems[0]) if problems else "invalid input"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(first + more)


@dataclass(frozen=True)
class Station:
    """One machine as the engine sees it."""

    id: str
    name: str
    kind: str
    line: str
    servers: int
    buffer: int
    cycle: Distribution
    setup_s: float
    mtbf_s: float | None
    mttr_s: float | None
    power_busy_kw: float
    power_idle_kw: float


@dataclass(frozen=True)
class SimModel:
    """Everything one replication needs; plain data, picklable for worker processes."""

    stations: list[Station]
    parts: list[str]
    routes: list[list[int]]
    interarrival: list[Distribution]
    transport_s: dict[tuple[int, int], float]
    horizon_s: float
    warmup_s: float
    sample_s: float
    seed: int
    replications: int
    index: dict[str, int] = field(default_factory=dict)


def compile_model(
    factory: Factory,
    horizon_s: float | None = None,
    warmup_s: float | None = None,
    replications: int | None = None,
    seed: int | None = None,
    sample_s: float = DEFAULT_SAMPLE_S,
) -> SimModel:
    """Check a factory for simulation and compile it; raises ``SimInputError`` naming the bad fields."""
    sim = factory.simulation
    horizon = sim.horizon_s if horizon_s is None else horizon_s
    warmup = sim.warmup_s if warmup_s is None else warmup_s
    reps = sim.replications if replications is None else replications
    problems: list[Problem] = []
    if not (isinstance(horizon, (int, float)) and math.isfinite(horizon) and horizon > 0):
        problems.append(Problem("simulation.horizon_s", f"must be > 0, got {horizon}"))
    if not (math.isfinite(warmup) and 0 <= warmup < max(horizon, 0)):
        problems.append(Problem("simulation.warmup_s", f"must be ≥ 0 and shorter than the horizon ({horizon} s), got {warmup}"))
    if reps < 1:
        problems.append(Problem("simulation.replications", f"must be ≥ 1, got {reps}"))
    if not (math.isfinite(sample_s) and sample_s > 0):
        problems.append(Problem("sample_s", f"must be > 0, got {sample_s}"))
    if not factory.flows:
        problems.append(Problem("flows", "no part flows: nothing to simulate"))
    index = {m.id: i for i, m in enumerate(factory.machines)}
    stations = []
    for i, m in enumerate(factory.machines):
        s = m.sim
        if s.servers < 1:
            problems.append(Problem(f"machines[{i}].sim.servers", f"must be ≥ 1, got {s.servers}"))
        if (s.mtbf_s is None) != (s.mttr_s is None):
            problems.append(Problem(f"machines[{i}].sim", "mtbf_s and mttr_s must be given together"))
        stations.append(
            Station(
                m.id,
                m.name,
                m.kind,
                m.line,
                s.servers,
                s.input_buffer,
                s.cycle,
                s.setup_s,
                s.mtbf_s,
                s.mttr_s,
                s.power_busy_kw,
                s.power_idle_kw,
            )
        )
    routes = []
    for i, flow in enumerate(factory.flows):
        route = []
        for j, ref in enumerate(flow.routing):
            if ref not in index:
                problems.append(Problem(f"flows[{i}].routing[{j}]", f'unknown machine "{ref}"'))
            else:
                route.append(index[ref])
        routes.append(route)
    if problems:
        raise SimInputError(problems)
    centre = {m.id: (m.pose.x_m, m.pose.y_m) for m in factory.machines}
    transport: dict[tuple[int, int], float] = {}
    for t in factory.transports:
        a, b = index.get(t.from_machine), index.get(t.to_machine)
        if a is None or b is None:
            continue
        transport[(a, b)] = route_length_m(t, centre) / t.speed_m_s
    return SimModel(
        stations=stations,
        parts=[f.part for f in factory.flows],
        routes=routes,
        interarrival=[f.interarrival for f in factory.flows],
        transport_s=transport,
        horizon_s=float(horizon),
        warmup_s=float(warmup),
        sample_s=float(sample_s),
        seed=int(sim.seed if seed is None else seed),
        replications=int(reps),
        index=index,
    )
