"""From a factory to the arrays the simulation engine runs on, with input checks that name the field."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from app.model.assembly import assembly_problems
from app.model.checks import batch_problems, rework_problems
from app.model.factory import Distribution, Factory
from app.model.geometry import route_length_m
from app.model.problems import Problem
from app.model.routing import OUT, branch_problems, step_visits, successors
from app.sim.calendar import Timetable, timetable

#: Seconds of the time-series sampling grid when none is given.
DEFAULT_SAMPLE_S = 300.0
#: How run settings given by the caller rather than taken from the factory file are named in messages: a
#: scenario's own settings by default; the command line passes its options' names.
RUN_SETTING_NAMES = {"horizon": "horizon_s", "warmup": "warmup_s", "replications": "replications", "sample": "sample_s"}
OPTION_NAMES = {"horizon": "--horizon", "warmup": "--warmup", "replications": "--replications", "sample": "--sample"}


def _duration(seconds: float) -> str:
    from app.sim.numbers import format_duration

    return format_duration(seconds) if isinstance(seconds, (int, float)) and math.isfinite(seconds) else str(seconds)


class SimInputError(Exception):
    """Simulation input that cannot be run; ``problems`` name the fields, every one of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems or [Problem("", "invalid input")]
        super().__init__("; ".join(str(p) for p in self.problems))


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
    #: "calendar": time to failure runs whatever the machine does; "operating": only while it works.
    failure_clock: str = "calendar"
    #: Shares of finished parts scrapped and sent back for rework to station ``rework_to`` (an index; -1: none).
    scrap: float = 0.0
    rework_p: float = 0.0
    rework_to: int = -1
    #: An assembly station's bill of materials: (part type index, how many) per line, the carrier first (the
    #: part that goes on); empty: not an assembly station.
    bom: tuple[tuple[int, int], ...] = ()
    #: "station": a failure stops all its servers; "per_server": each server fails and is repaired on its own.
    failures: str = "station"
    #: Parts processed together in one cycle (a batch station; 1: one at a time).
    batch: int = 1


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
    #: Replications asked for: more than ``replications`` when the model has no randomness (they would be
    #: identical, so one is run).
    requested_replications: int = 0
    #: CONWIP: at most this many parts in the system; None: no cap.
    wip_cap: int | None = None
    #: The factory's calendar unrolled over the run (None: the plant works around the clock).
    timetable: Timetable | None = None
    #: Per source: orders arrive only in working time (with a calendar).
    on_shift: list[bool] = field(default_factory=list)
    #: Per source: the steps of its route after which the next step is drawn → (probability, next step or
    #: ``app.model.routing.OUT``) pairs (empty: the route is a line).
    branches: list[dict[int, list[tuple[float, int]]]] = field(default_factory=list)

    @property
    def deterministic(self) -> bool:
        """True when nothing in the model is random: every replication would give the same figures."""
        return has_no_randomness(self)


def _fixed(d: Distribution) -> bool:
    return (
        d.kind == "deterministic"
        or (d.kind == "lognormal" and d.cv == 0)
        or (d.kind == "empirical" and len(set(d.samples_s)) <= 1)
    )


def has_no_randomness(model: SimModel) -> bool:
    """Every time deterministic, no failures, no scrap or rework and no branches (drawn at random): replications
    of such a model are identical."""
    return (
        all(_fixed(s.cycle) and s.mtbf_s is None and not s.scrap and not s.rework_p for s in model.stations)
        and all(_fixed(d) for d in model.interarrival)
        and not any(model.branches)
    )


def offered_load(model: SimModel) -> dict[str, float]:
    """Per station, the share of its capacity the demand asks for: Σ arrival rate × visits × mean cycle
    time ÷ (servers × availability), setups left out. At 1 or more the station cannot keep up and the
    orders waiting at the sources grow without end.

    Examples
    --------
    >>> from app.model.io import load_factory
    >>> from app.paths import DEMO_FACTORY
    >>> load = offered_load(compile_model(load_factory(DEMO_FACTORY)))
    >>> 0 < max(load.values()) < 1
    True
    """
    tt = model.timetable
    span = model.horizon_s - model.warmup_s
    # With a calendar the capacity shrinks to the working share of the time (less each machine's maintenance),
    # and so does the demand of sources whose orders arrive only on shift.
    working = tt.working_s(model.warmup_s, model.horizon_s) / span if tt is not None else 1.0
    work = [0.0] * len(model.stations)
    kits: dict[int, list[float]] = {}  # assembly station → per BOM line, the kits its parts arriving would make per s
    for k, (route, dist) in enumerate(zip(model.routes, model.interarrival, strict=True)):
        share = working if tt is not None and model.on_shift[k] else 1.0
        for i, v in zip(route, visits(model, route, model.branches[k] if model.branches else None), strict=True):
            bom = model.stations[i].bom
            if bom:  # an assembly station works once per kit: as often as its scarcest part allows
                n = dict(bom).get(k, 1)
                kits.setdefault(i, []).append(share * v / dist.mean_s / n)
            elif model.stations[i].batch > 1:  # a batch station works once per batch
                work[i] += model.stations[i].cycle.mean_s / dist.mean_s * share * v / model.stations[i].batch
            else:
                work[i] += model.stations[i].cycle.mean_s / dist.mean_s * share * v
    for i, rates in kits.items():
        work[i] += model.stations[i].cycle.mean_s * min(rates)
    out = {}
    for i, s in enumerate(model.stations):
        up = s.mtbf_s / (s.mtbf_s + s.mttr_s) if s.mtbf_s and s.mttr_s else 1.0
        open_share = working
        if tt is not None and i in tt.maintenance:
            open_share -= sum(max(0.0, min(b, model.horizon_s) - max(a, model.warmup_s)) for a, b in tt.maintenance[i]) / span
        out[s.id] = work[i] / (s.servers * up * open_share) if open_share > 0 else (math.inf if work[i] else 0.0)
    return out


def visits(model: SimModel, route: list[int], branches: dict[int, list[tuple[float, int]]] | None = None) -> list[float]:
    """Mean visits per order to each position of a route: 1 on a line without scrap or rework; scrap thins
    the positions after a station, rework sends a share back, a branch (``branches``, as
    ``SimModel.branches`` holds them) splits the parts among its steps (the traffic equations v = e₀ + v P)."""
    st = model.stations
    branches = branches or {}
    if not branches and not any(st[i].scrap or st[i].rework_p for i in route):
        return [1.0] * len(route)
    n = len(route)
    moves: list[list[tuple[float, int]]] = []
    for pos, i in enumerate(route):
        s = st[i]
        on = 1.0 - s.scrap - s.rework_p
        nxt = branches.get(pos, [(1.0, pos + 1 if pos + 1 < n else OUT)])
        out = [(on * q, j) for q, j in nxt]
        if s.rework_p:
            back = max(q for q in range(pos + 1) if route[q] == s.rework_to)
            out.append((s.rework_p, back))
        moves.append(out)
    return step_visits(None, moves)


def overload_warnings(model: SimModel) -> list[str]:
    """A sentence per station whose offered load is 100% of its capacity or more (empty: demand fits)."""
    from app.sim.numbers import format_number

    return [
        (
            f"demand asks {f'{load:.0%} of' if load < 10 else f'{format_number(load, digits=2)} times'} {sid}'s capacity: "
            "it cannot keep up, so orders wait at the source and the backlog grows"
            if math.isfinite(load)
            else f"{sid} has parts to make but no working time in the run (its calendar: shifts, maintenance): "
            "orders for it wait to the end"
        )
        for sid, load in sorted(offered_load(model).items(), key=lambda kv: -kv[1])
        if load >= 1.0
    ]


def compile_model(
    factory: Factory,
    horizon_s: float | None = None,
    warmup_s: float | None = None,
    replications: int | None = None,
    seed: int | None = None,
    sample_s: float = DEFAULT_SAMPLE_S,
    names: dict[str, str] | None = None,
) -> SimModel:
    """Check a factory for simulation and compile it; raises ``SimInputError`` naming every bad field.

    A horizon, warm-up or number of replications given here (not None) is named in messages as ``names``
    says (default ``RUN_SETTING_NAMES``), one taken from the factory as its field ``simulation.…``.
    A model without randomness gets one replication whatever was asked (``requested_replications``).
    """
    names = {**RUN_SETTING_NAMES, **(names or {})}
    sim = factory.simulation
    horizon = sim.horizon_s if horizon_s is None else horizon_s
    warmup = sim.warmup_s if warmup_s is None else warmup_s
    reps = sim.replications if replications is None else replications
    problems: list[Problem] = []
    given = {"horizon": horizon_s is not None, "warmup": warmup_s is not None, "replications": replications is not None}
    # A value given by the caller (a command-line option, a scenario's run setting) is blamed as such,
    # not as the factory file's.
    where = {k: names[k] if v else f"simulation.{RUN_SETTING_NAMES[k]}" for k, v in given.items()}
    if not (isinstance(horizon, (int, float)) and math.isfinite(horizon) and horizon > 0):
        problems.append(Problem(where["horizon"], f"must be > 0, got {_duration(horizon)}"))
    elif not (math.isfinite(warmup) and 0 <= warmup < horizon):
        hint = (
            ""
            if given["warmup"]
            else "; give a shorter warm-up" + (f" with {names['warmup']}" if names["warmup"].startswith("--") else "")
        )
        culprit = where["warmup"] if given["warmup"] or not given["horizon"] else where["horizon"]
        problems.append(
            Problem(
                culprit,
                f"the warm-up ({_duration(warmup)}) must be ≥ 0 and shorter than the horizon ({_duration(horizon)}){hint}",
            )
        )
    if reps < 1:
        problems.append(Problem(where["replications"], f"must be ≥ 1, got {reps}"))
    if not (math.isfinite(sample_s) and sample_s > 0):
        problems.append(Problem(names["sample"], f"must be > 0, got {_duration(sample_s)}"))  # never the file's
    if not factory.flows:
        problems.append(Problem("flows", "no part flows: nothing to simulate"))
    index = {m.id: i for i, m in enumerate(factory.machines)}
    part_index = {f.part: k for k, f in enumerate(factory.flows)}
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
                s.failure_clock,
                s.scrap,
                s.rework.p if s.rework is not None else 0.0,
                index.get(s.rework.to, -1) if s.rework is not None else -1,
                tuple((part_index.get(b.part, -1), b.n) for b in s.assembly.bom) if s.assembly is not None else (),
                s.failures,
                s.batch,
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
        problems += branch_problems(flow, f"flows[{i}]")
    problems += rework_problems(factory)
    problems += assembly_problems(factory)
    problems += batch_problems(factory)
    calendar = sim.calendar
    if calendar is not None:
        for k, w in enumerate(calendar.maintenance):
            for j, ref in enumerate(w.machines):
                if ref not in index:
                    problems.append(Problem(f"simulation.calendar.maintenance[{k}].machines[{j}]", f'unknown machine "{ref}"'))
    if problems:
        raise SimInputError(problems)
    centre = {m.id: (m.pose.x_m, m.pose.y_m) for m in factory.machines}
    transport: dict[tuple[int, int], float] = {}
    for t in factory.transports:
        a, b = index.get(t.from_machine), index.get(t.to_machine)
        if a is None or b is None:
            continue
        transport[(a, b)] = route_length_m(t, centre) / t.speed_m_s
    model = SimModel(
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
        requested_replications=int(reps),
        wip_cap=sim.wip_cap,
        timetable=timetable(calendar, float(horizon), index) if calendar is not None else None,
        on_shift=[f.arrivals == "on_shift" for f in factory.flows],
        branches=[{b.at: successors(f)[b.at] for b in f.branches} for f in factory.flows],
    )
    if model.deterministic and model.replications > 1:
        return replace(model, replications=1)  # identical replications: one is the exact answer
    return model
