"""What-if scenarios: a base factory plus a list of changes, saved as a file, applied before a simulation.

A scenario file holds the factory it starts from (so it runs the same wherever it is opened, whatever
happened to the factory file since) and the changes, one record each: move a machine, set a machine
parameter, add or remove a machine, change demand (a part's arrival rate) or a transport's speed, and the
run settings. ``apply`` makes the changed factory and refuses bad values with a message naming the field
(``changes[2].value: must be > 0, got -3``).

Examples
--------
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> s = Scenario(name="Faster CNC-01", factory=load_factory(DEMO_FACTORY),
...              changes=[MachineParam(machine="CNC-01", param="cycle_mean_s", value=200.0)])
>>> apply(s).machine("CNC-01").sim.cycle.mean_s
200.0
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import Field, ValidationError

from app.model.atomic import atomic_write_text
from app.model.checks import check_factory
from app.model.distributions import DERIVED_MEAN, SHAPE_FIELDS
from app.model.edits import layout_diff, without
from app.model.factory import Factory, Identifier, Machine, Name, Pose, _Data
from app.model.problems import Problem, problems_from_validation, show_value

FORMAT: Final = "floortwin-scenario"
FORMAT_VERSION: Final = 1

#: Machine parameters a scenario may change, and where each lives in ``Machine.sim``.
PARAMS: dict[str, tuple[str, ...]] = {
    "cycle_mean_s": ("cycle", "mean_s"),
    "cycle_cv": ("cycle", "cv"),
    "setup_s": ("setup_s",),
    "mtbf_s": ("mtbf_s",),
    "mttr_s": ("mttr_s",),
    "servers": ("servers",),
    "input_buffer": ("input_buffer",),
    "power_busy_kw": ("power_busy_kw",),
    "power_idle_kw": ("power_idle_kw",),
}
PARAM_LABELS = {
    "cycle_mean_s": "cycle time (s)",
    "cycle_cv": "cycle time variation (CV)",
    "setup_s": "setup time (s)",
    "mtbf_s": "MTBF (s)",
    "mttr_s": "MTTR (s)",
    "servers": "parallel servers",
    "input_buffer": "input buffer (parts)",
    "power_busy_kw": "power busy (kW)",
    "power_idle_kw": "power idle (kW)",
}
ParamName = Literal[
    "cycle_mean_s", "cycle_cv", "setup_s", "mtbf_s", "mttr_s", "servers", "input_buffer", "power_busy_kw", "power_idle_kw"
]


class MachineParam(_Data):
    """Set one simulation parameter of a machine (speed = a shorter cycle time)."""

    kind: Literal["machine_param"] = "machine_param"
    machine: Identifier
    param: ParamName
    value: float


class MoveMachine(_Data):
    """Place a machine elsewhere (transport distances to and from it change with it)."""

    kind: Literal["move"] = "move"
    machine: Identifier
    x_m: float
    y_m: float
    yaw_deg: float = 0.0


class AddMachine(_Data):
    """Add a machine (routings only use it when a part flow names it)."""

    kind: Literal["add"] = "add"
    machine: Machine


class RemoveMachine(_Data):
    """Remove a machine, with its transport paths; part flows skip it."""

    kind: Literal["remove"] = "remove"
    machine: Identifier


class Demand(_Data):
    """Change a part type's demand: its mean time between arrivals."""

    kind: Literal["demand"] = "demand"
    part: Identifier
    interarrival_mean_s: float


class TransportSpeed(_Data):
    """Change the speed of a transport path."""

    kind: Literal["transport_speed"] = "transport_speed"
    transport: Identifier
    speed_m_s: float


class WipCap(_Data):
    """Set the CONWIP cap: at most ``parts`` in the line at once (None: no cap)."""

    kind: Literal["wip_cap"] = "wip_cap"
    parts: int | None = None


Change = Annotated[
    MachineParam | MoveMachine | AddMachine | RemoveMachine | Demand | TransportSpeed | WipCap, Field(discriminator="kind")
]


class Scenario(_Data):
    """A factory and what to change in it, with the run's settings (None: the factory's own)."""

    format: Literal["floortwin-scenario"] = FORMAT
    version: Literal[1] = FORMAT_VERSION
    name: Name
    description: str = ""
    factory: Factory
    base_path: str | None = None  # where the factory came from (for information)
    changes: list[Change] = Field(default_factory=list)
    horizon_s: float | None = None
    warmup_s: float | None = None
    replications: int | None = None
    seed: int | None = None


class ScenarioError(Exception):
    """A scenario that cannot be applied or read; ``problems`` name the fields."""

    def __init__(self, problems: list[Problem], source: str = ""):
        self.problems = problems or [Problem("", "invalid scenario")]
        self.source = source
        super().__init__((f"{source}: " if source else "") + "; ".join(str(p) for p in self.problems))  # every one


def describe(change: Change) -> str:
    """One line a person reads: ``CNC-01: cycle time (s) = 200``."""
    if isinstance(change, MachineParam):
        return f"{change.machine}: {PARAM_LABELS[change.param]} = {change.value:g}"
    if isinstance(change, MoveMachine):
        return f"move {change.machine} to ({change.x_m:g}, {change.y_m:g}) m, {change.yaw_deg:g}°"
    if isinstance(change, AddMachine):
        m = change.machine
        return f"add {m.id} ({m.name}) at ({m.pose.x_m:g}, {m.pose.y_m:g}) m"
    if isinstance(change, RemoveMachine):
        return f"remove {change.machine}"
    if isinstance(change, WipCap):
        return "no WIP cap" if change.parts is None else f"WIP cap (CONWIP): at most {change.parts} parts in the line"
    if isinstance(change, Demand):
        return f"demand of {change.part}: one every {change.interarrival_mean_s:g} s ({3600 / change.interarrival_mean_s:.3g}/h)"
    return f"transport {change.transport}: {change.speed_m_s:g} m/s"


def _positive(value: float) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def apply(scenario: Scenario) -> Factory:
    """The factory with every change made, checked as a factory file is; raises ``ScenarioError``."""
    f = scenario.factory.model_copy(deep=True)
    machines = {m.id: i for i, m in enumerate(f.machines)}
    problems: list[Problem] = []
    removed: set[str] = set()
    wip_cap: list[int | None] = []  # the last WIP cap change's value, when there is one
    for k, ch in enumerate(scenario.changes):
        at = f"changes[{k}]"
        if isinstance(ch, (MachineParam, MoveMachine, RemoveMachine)) and (ch.machine not in machines or ch.machine in removed):
            problems.append(Problem(f"{at}.machine", f"no machine {show_value(ch.machine)} in the factory"))
            continue
        if isinstance(ch, MachineParam):
            i = machines[ch.machine]
            problems += _set_param(f, i, ch, at)
        elif isinstance(ch, MoveMachine):
            i = machines[ch.machine]
            try:
                pose = Pose(x_m=ch.x_m, y_m=ch.y_m, yaw_deg=ch.yaw_deg)
            except ValidationError as e:
                problems += [Problem(f"{at}.{p.path}", p.message) for p in problems_from_validation(e)]
                continue
            fl = f.floor
            if not (0 <= ch.x_m <= fl.width_m and 0 <= ch.y_m <= fl.depth_m):
                problems.append(
                    Problem(f"{at}.x_m", f"({ch.x_m:g}, {ch.y_m:g}) is off the {fl.width_m:g} × {fl.depth_m:g} m floor")
                )
                continue
            f.machines[i] = f.machines[i].model_copy(update={"pose": pose})
        elif isinstance(ch, AddMachine):
            if ch.machine.id in machines and ch.machine.id not in removed:
                problems.append(Problem(f"{at}.machine.id", f"a machine {show_value(ch.machine.id)} exists already"))
                continue
            if ch.machine.asset not in f.assets:
                problems.append(Problem(f"{at}.machine.asset", f"no asset {show_value(ch.machine.asset)} in the factory"))
                continue
            f.machines.append(ch.machine)
            machines[ch.machine.id] = len(f.machines) - 1
            removed.discard(ch.machine.id)
        elif isinstance(ch, RemoveMachine):
            removed.add(ch.machine)
        elif isinstance(ch, Demand):
            flows = [j for j, fl in enumerate(f.flows) if fl.part == ch.part]
            if not flows:
                problems.append(Problem(f"{at}.part", f"no part flow {show_value(ch.part)} in the factory"))
            elif not _positive(ch.interarrival_mean_s):
                problems.append(Problem(f"{at}.interarrival_mean_s", f"must be > 0, got {ch.interarrival_mean_s:g}"))
            else:
                for j in flows:
                    ia = f.flows[j].interarrival
                    if ia.kind == "empirical":  # the samples scale: the demand changes as the mean says
                        samples = scaled_samples(ia.samples_s, ch.interarrival_mean_s)
                        ia = ia.model_validate({"kind": "empirical", "samples_s": samples})
                    else:
                        ia = ia.model_copy(update={"mean_s": float(ch.interarrival_mean_s)})
                    f.flows[j] = f.flows[j].model_copy(update={"interarrival": ia})
        elif isinstance(ch, WipCap):
            if ch.parts is not None and not 1 <= ch.parts <= 1_000_000:
                problems.append(Problem(f"{at}.parts", f"must be ≥ 1 and ≤ 1000000 (or none), got {ch.parts}"))
            else:
                wip_cap = [ch.parts]
        elif isinstance(ch, TransportSpeed):
            paths = [j for j, t in enumerate(f.transports) if t.id == ch.transport]
            if not paths:
                problems.append(Problem(f"{at}.transport", f"no transport path {show_value(ch.transport)} in the factory"))
            elif not (_positive(ch.speed_m_s) and ch.speed_m_s <= 100):
                problems.append(Problem(f"{at}.speed_m_s", f"must be > 0 and ≤ 100, got {ch.speed_m_s:g}"))
            else:
                f.transports[paths[0]] = f.transports[paths[0]].model_copy(update={"speed_m_s": float(ch.speed_m_s)})
    if removed:
        f = without(f, removed)  # their transport paths go, and routings skip them
    if wip_cap:
        f = f.model_copy(update={"simulation": f.simulation.model_copy(update={"wip_cap": wip_cap[0]})})
    for name, value in (("horizon_s", scenario.horizon_s), ("warmup_s", scenario.warmup_s)):
        if value is not None and not (math.isfinite(value) and (value > 0 if name == "horizon_s" else value >= 0)):
            problems.append(Problem(name, f"must be {'> 0' if name == 'horizon_s' else '≥ 0'}, got {value:g}"))
    if scenario.replications is not None and scenario.replications < 1:
        problems.append(Problem("replications", f"must be ≥ 1, got {scenario.replications}"))
    if problems:
        raise ScenarioError(problems)
    problems = check_factory(f)
    if problems:
        raise ScenarioError([Problem(f"(changed factory) {p.path}", p.message) for p in problems])
    return f


def _set_param(f: Factory, i: int, ch: MachineParam, at: str) -> list[Problem]:
    m = f.machines[i]
    sim = m.sim.model_dump()
    path = PARAMS[ch.param]
    value: float | int = ch.value
    if ch.param in ("servers", "input_buffer"):
        if not float(ch.value).is_integer():
            return [Problem(f"{at}.value", f"{PARAM_LABELS[ch.param]} must be a whole number, got {ch.value:g}")]
        value = int(ch.value)
    if ch.param in ("servers",) and value < 1:
        return [Problem(f"{at}.value", f"{PARAM_LABELS[ch.param]} must be ≥ 1, got {value}")]
    if ch.param in ("mtbf_s", "mttr_s") and sim.get("mtbf_s") is None and sim.get("mttr_s") is None:
        other = "mttr_s" if ch.param == "mtbf_s" else "mtbf_s"
        sim[other] = 3600.0 if other == "mttr_s" else 86400.0  # a failure model needs both; the other starts plausible
    cycle = sim["cycle"]
    if ch.param == "cycle_cv":
        # the change means what it says: a time with this variation (a lognormal one keeps the mean)
        if cycle["kind"] == "empirical":
            return [Problem(f"{at}.param", "an empirical cycle time varies as its samples do: it has no CV to change")]
        if cycle["kind"] != "gamma" or value == 0:
            cycle["kind"] = "lognormal" if value > 0 else "deterministic"
        cycle.update(dict.fromkeys(SHAPE_FIELDS))  # its variation is now the cv (a uniform's bounds go)
    if ch.param == "cycle_mean_s" and cycle["kind"] == "empirical":
        return _scale_samples(f, i, cycle, float(value), at)
    if ch.param == "cycle_mean_s" and cycle["kind"] in DERIVED_MEAN:
        # a uniform, triangular or Weibull time made faster or slower: all its times scale alike
        if not _positive(value):
            return [Problem(f"{at}.value", f"{PARAM_LABELS['cycle_mean_s']} must be > 0, got {value:g}")]
        factor = float(value) / cycle.pop("mean_s")
        scaled = {k: v * factor if k in SHAPE_FIELDS and k.endswith("_s") and v is not None else v for k, v in cycle.items()}
        return _with_cycle(f, i, scaled, at)
    target = sim
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    try:
        new_sim = type(m.sim).model_validate(sim)
    except ValidationError as e:
        msgs = problems_from_validation(e)
        return [Problem(f"{at}.value", f"{PARAM_LABELS[ch.param]} {p.message}") for p in msgs]
    f.machines[i] = m.model_copy(update={"sim": new_sim})
    return []


def _scale_samples(f: Factory, i: int, cycle: dict, mean_s: float, at: str) -> list[Problem]:
    """An empirical cycle time with a new mean: every sample scaled by the same factor."""
    if not _positive(mean_s):
        return [Problem(f"{at}.value", f"{PARAM_LABELS['cycle_mean_s']} must be > 0, got {mean_s:g}")]
    cycle.pop("mean_s", None)
    return _with_cycle(f, i, {**cycle, "samples_s": scaled_samples(cycle["samples_s"], mean_s)}, at)


def _with_cycle(f: Factory, i: int, cycle: dict, at: str) -> list[Problem]:
    m = f.machines[i]
    try:
        new = type(m.sim.cycle).model_validate(cycle)
    except ValidationError as e:
        return [Problem(f"{at}.value", f"cycle time {p.message}") for p in problems_from_validation(e)]
    f.machines[i] = m.model_copy(update={"sim": m.sim.model_copy(update={"cycle": new})})
    return []


def scaled_samples(samples: list[float], mean_s: float) -> list[float]:
    """Samples scaled so that their mean is ``mean_s`` (an empirical time made faster or slower)."""
    factor = mean_s / (sum(samples) / len(samples))
    return [x * factor for x in samples]


def changes_from_layouts(base: Factory, edited: Factory) -> list[Change]:
    """The changes that turn ``base``'s layout into ``edited``'s: moves, additions and removals."""
    diff = layout_diff(base, edited)
    after = {m.id: m for m in edited.machines}
    out: list[Change] = []
    for mid in sorted(set(diff["moved"]) | set(diff["rotated"])):
        p = after[mid].pose
        out.append(MoveMachine(machine=mid, x_m=p.x_m, y_m=p.y_m, yaw_deg=p.yaw_deg))
    out += [AddMachine(machine=after[mid]) for mid in diff["added"]]
    out += [RemoveMachine(machine=mid) for mid in diff["removed"]]
    return out


# -- files -------------------------------------------------------------------------------------------------
def dumps_scenario(s: Scenario) -> str:
    body = s.model_dump(mode="json", exclude_defaults=True)
    body["factory"] = json.loads(s.factory.model_dump_json(exclude_defaults=True))
    body["changes"] = [{"kind": c.kind, **c.model_dump(mode="json", exclude_defaults=True)} for c in s.changes]
    doc = {"format": FORMAT, "version": FORMAT_VERSION, **{k: v for k, v in body.items() if k not in ("format", "version")}}
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def save_scenario(s: Scenario, path: str | os.PathLike[str]) -> None:
    """Write a scenario file atomically."""
    atomic_write_text(path, dumps_scenario(s))


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and check a scenario file; raises ``ScenarioError`` naming the file and the field."""
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ScenarioError([Problem("", f"file not found ({p})")], p.name) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError([Problem("", f"cannot read the file: {e}")], p.name) from None
    except json.JSONDecodeError as e:
        raise ScenarioError([Problem("", f"not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}")], p.name) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ScenarioError([Problem("format", f'expected "{FORMAT}" — is this a floortwin scenario file?')], p.name)
    if isinstance(raw.get("factory"), dict):
        raw["factory"].setdefault("format", "floortwin-factory")
        raw["factory"].setdefault("version", 1)
    try:
        return Scenario.model_validate(raw, strict=False)
    except ValidationError as e:
        raise ScenarioError(problems_from_validation(e), p.name) from None


def is_scenario_file(path: str | os.PathLike[str]) -> bool:
    """True when the file says it is a scenario (by its ``format`` field, read cheaply)."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return f'"{FORMAT}"' in head
