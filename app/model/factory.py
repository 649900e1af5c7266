"""The factory file format: a versioned pydantic model of the floor, machines, transport and part flows.

Every length is in metres, every angle in degrees, every duration in seconds; field names carry the unit
(``x_m``, ``yaw_deg``, ``mtbf_s``). The model is plain data: it imports no GUI, 3D or physics library.
``docs/factory-format.md`` documents it for users and ``docs/factory.schema.json`` is its JSON Schema.

Examples
--------
>>> from app.model.factory import Factory, Floor, Machine, Pose, Footprint
>>> f = Factory(name="tiny", floor=Floor(width_m=20, depth_m=10),
...             assets={"cnc": {"path": "../meshes/cnc.glb"}},
...             machines=[Machine(id="M1", name="Mill 1", kind="cnc", asset="cnc",
...                               pose=Pose(x_m=5, y_m=5), footprint=Footprint(width_m=3, depth_m=2))])
>>> f.machines[0].pose.yaw_deg
0.0
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from app.model.calendar import (
    CLOCK_PATTERN,
    DATE_PATTERN,
    DAY_S,
    WEEKDAYS,
    days_of,
    describe_span,
    inner_span,
    parse_date,
    span,
    week_overlaps,
)
from app.model.distributions import DERIVED_MEAN, PARAMETERS, SHAPE_FIELDS, article, natural_mean
from app.model.hierarchy import Hierarchy

FORMAT: Final = "floortwin-factory"
FORMAT_VERSION: Final = 1

#: Largest length the format accepts anywhere (10 km): bigger values are typing errors, not factories.
MAX_LENGTH_M = 10_000.0
#: Largest number of machines in one file.
MAX_MACHINES = 200_000

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Coordinate = Annotated[float, Field(ge=-MAX_LENGTH_M, le=MAX_LENGTH_M)]
Length = Annotated[float, Field(gt=0, le=MAX_LENGTH_M)]
Margin = Annotated[float, Field(ge=0, le=100)]
Seconds = Annotated[float, Field(gt=0, le=1e9)]
NonNegSeconds = Annotated[float, Field(ge=0, le=1e9)]
Point2 = Annotated[list[Coordinate], Field(min_length=2, max_length=2)]


class _Data(BaseModel):
    """Base of every record: strict types, no unknown fields, no NaN/inf."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class Pose(_Data):
    """Where a machine stands: its footprint centre on the floor and its rotation about Z."""

    x_m: Coordinate = 0.0
    y_m: Coordinate = 0.0
    yaw_deg: Annotated[float, Field(ge=-3600, le=3600)] = 0.0


class Footprint(_Data):
    """The machine's size on the floor along its own X (width) and Y (depth) axes."""

    width_m: Annotated[float, Field(gt=0, le=1000)]
    depth_m: Annotated[float, Field(gt=0, le=1000)]
    height_m: Annotated[float, Field(gt=0, le=200)] | None = None


class Distribution(_Data):
    """A random duration.

    ``deterministic``: always ``mean_s``; ``exponential``: mean ``mean_s``; ``lognormal`` and ``gamma``:
    mean ``mean_s`` and coefficient of variation ``cv``; ``erlang``: mean ``mean_s`` in ``phases``
    exponential phases; ``empirical``: drawn from ``samples_s``; ``uniform``: between ``min_s`` and
    ``max_s``; ``triangular``: ``min_s``, most often ``mode_s``, ``max_s``; ``weibull``: ``shape`` and
    ``scale_s``. The last four and empirical derive ``mean_s`` from their parameters
    (``app.model.distributions``).
    """

    kind: Literal[
        "deterministic", "exponential", "lognormal", "empirical", "uniform", "triangular", "gamma", "erlang", "weibull"
    ] = "deterministic"
    mean_s: Seconds = 60.0
    cv: Annotated[float, Field(ge=0, le=10)] = 0.0
    samples_s: list[Seconds] = Field(default_factory=list, max_length=100_000)
    min_s: NonNegSeconds | None = None
    mode_s: NonNegSeconds | None = None
    max_s: Seconds | None = None
    phases: Annotated[int, Field(ge=1, le=1000)] | None = None
    shape: Annotated[float, Field(gt=0, le=100)] | None = None
    scale_s: Seconds | None = None

    # A field that a kind ignores is refused rather than silently ignored (a deterministic time with cv 0.7
    # would otherwise run with no variation at all).
    @field_validator("cv")
    @classmethod
    def _cv_only_for_lognormal(cls, cv: float, info: ValidationInfo) -> float:
        kind = info.data.get("kind")
        if cv != 0 and kind in ("erlang", "uniform", "triangular", "weibull"):
            raise PydanticCustomError(
                "ignored_field",
                f"{cv:g} is ignored by {article(kind)} {kind} time (its variation follows from "
                f"{' and '.join(p for p in PARAMETERS[kind] if p != 'mean_s')}): "
                'use kind "lognormal" or "gamma" for a time with this variation, or leave cv out',
            )
        if cv != 0 and kind in ("deterministic", "exponential", "empirical"):
            fixed = {"deterministic": "0", "exponential": "1", "empirical": "that of its samples"}[kind]
            raise PydanticCustomError(
                "ignored_field",
                f"{cv:g} is ignored by {article(kind)} {kind} time (its coefficient of variation is {fixed}): "
                'use kind "lognormal" for a time with this variation, or leave cv out',
            )
        return cv

    @field_validator("samples_s")
    @classmethod
    def _samples_only_for_empirical(cls, samples: list[float], info: ValidationInfo) -> list[float]:
        kind = info.data.get("kind")
        if samples and kind is not None and kind != "empirical":
            raise PydanticCustomError(
                "ignored_field",
                f'{article(kind)} {kind} time draws no samples: use kind "empirical" to draw from them, or leave samples_s out',
            )
        return samples

    @field_validator(*SHAPE_FIELDS)
    @classmethod
    def _only_for_its_kinds(cls, value: float | None, info: ValidationInfo) -> float | None:
        kind, name = info.data.get("kind"), info.field_name
        if value is not None and kind is not None and name not in PARAMETERS[kind]:
            users = " or ".join(f'"{k}"' for k, p in PARAMETERS.items() if name in p)
            raise PydanticCustomError(
                "ignored_field",
                f"{value:g} is ignored by {article(kind)} {kind} time (it takes {', '.join(PARAMETERS[kind])}): "
                f"use kind {users} for it, or leave {name} out",
            )
        return value

    @model_validator(mode="after")
    def _shape(self) -> Distribution:
        """Every parameter of a uniform, triangular, gamma, Erlang or Weibull time given and consistent; its
        ``mean_s`` derived (uniform, triangular, Weibull) — a different one given is refused."""
        if self.kind not in ("uniform", "triangular", "gamma", "erlang", "weibull"):
            return self
        given = {p: getattr(self, p) for p in PARAMETERS[self.kind]}
        missing = [p for p, v in given.items() if v is None or (p == "cv" and v == 0)]
        if missing:
            raise PydanticCustomError(
                "missing_parameter",
                f"{article(self.kind)} {self.kind} time needs {' and '.join(missing)}"
                + (" > 0" if missing == ["cv"] else "")
                + f" (it takes {', '.join(PARAMETERS[self.kind])})",
            )
        lo, mode, hi = self.min_s, self.mode_s, self.max_s
        if lo is not None and hi is not None and not lo < hi:
            raise PydanticCustomError("bad_range", f"min_s {lo:g} must be less than max_s {hi:g}")
        if mode is not None and lo is not None and hi is not None and not lo <= mode <= hi:
            raise PydanticCustomError("bad_range", f"mode_s {mode:g} must lie between min_s {lo:g} and max_s {hi:g}")
        if self.kind in DERIVED_MEAN:
            mean = natural_mean(self.kind, given)
            if "mean_s" in self.model_fields_set and abs(self.mean_s - mean) > 1e-9 * max(mean, 1.0):
                raise PydanticCustomError(
                    "ignored_field",
                    f"mean_s {self.mean_s:g} is not the mean of this {self.kind} time ({mean:.6g}): it follows from "
                    f"{' and '.join(PARAMETERS[self.kind])}, so leave mean_s out (or give that mean)",
                )
            self.__dict__["mean_s"] = mean  # past validation: the value follows from the parameters
        return self

    @model_validator(mode="after")
    def _empirical_mean(self) -> Distribution:
        """An empirical time's mean is its samples' mean: a different ``mean_s`` is refused, none is filled in."""
        if self.kind == "empirical" and self.samples_s:
            mean = sum(self.samples_s) / len(self.samples_s)
            if "mean_s" in self.model_fields_set and abs(self.mean_s - mean) > 1e-9 * max(mean, 1.0):
                raise PydanticCustomError(
                    "ignored_field",
                    f"mean_s {self.mean_s:g} is not the mean of samples_s ({mean:.6g}): an empirical time draws "
                    "from its samples, so leave mean_s out (or give their mean)",
                )
            self.__dict__["mean_s"] = mean  # past validation: the value is the samples' own mean
        return self


class Rework(_Data):
    """A share ``p`` of the parts a machine finishes go back to machine ``to`` (this one, or one their
    routing visited before) and follow their routing again from there."""

    p: Annotated[float, Field(gt=0, lt=1)]
    to: Identifier


class BomLine(_Data):
    """``n`` parts of type ``part`` go into each unit an assembly station makes."""

    part: Identifier
    n: Annotated[int, Field(ge=1, le=1000)] = 1


class Assembly(_Data):
    """An assembly station joins the parts of its bill of materials (``bom``: ``n`` of each type) into one unit,
    which goes on along the routing of the BOM's first part type; the other parts are used up there (their
    routings end at it). Checked by ``app.model.assembly.assembly_problems``."""

    bom: list[BomLine] = Field(min_length=1, max_length=100)


class MachineSim(_Data):
    """Parameters the production simulation uses for one machine."""

    cycle: Distribution = Field(default_factory=Distribution)
    setup_s: NonNegSeconds = 0.0
    mtbf_s: Seconds | None = None
    mttr_s: Seconds | None = None
    servers: Annotated[int, Field(ge=1, le=1000)] = 1
    input_buffer: Annotated[int, Field(ge=0, le=1_000_000)] = 10
    power_busy_kw: Annotated[float, Field(ge=0, le=1e5)] = 10.0
    power_idle_kw: Annotated[float, Field(ge=0, le=1e5)] = 2.0
    #: What the time between failures counts: ``calendar`` time (the machine can fail while idle or off
    #: shift) or ``operating`` time (only while it works: operation-dependent failures).
    failure_clock: Literal["calendar", "operating"] = "calendar"
    #: What a failure stops: the whole ``station`` (one failure clock, all its servers down together) or one
    #: server (``per_server``: each of the ``servers`` parallel machines fails and is repaired on its own, with
    #: ``mtbf_s`` and ``mttr_s`` its own; the others keep working).
    failures: Literal["station", "per_server"] = "station"
    #: A batch station: it waits for this many parts, processes them together in one cycle and releases them
    #: all (1: one part at a time); they gather in its ``input_buffer``, which must hold a batch.
    batch: Annotated[int, Field(ge=1, le=10_000)] = 1
    #: The share of the parts it finishes that leave the line as scrap (counted per part type).
    scrap: Annotated[float, Field(ge=0, lt=1)] = 0.0
    #: The share it sends back for rework, and where.
    rework: Rework | None = None
    #: An assembly station: the parts it joins into one (None: it works on one part at a time).
    assembly: Assembly | None = None

    @model_validator(mode="after")
    def _some_parts_go_on(self) -> MachineSim:
        if self.rework is not None and self.scrap + self.rework.p >= 1:
            raise PydanticCustomError(
                "no_good_parts",
                f"scrap {self.scrap:g} and rework.p {self.rework.p:g} add up to {self.scrap + self.rework.p:g}: "
                "no part would ever go on (together they must stay below 1)",
            )
        return self


StateName = Literal["running", "setup", "starved", "idle", "blocked", "down", "off_shift", "maintenance", "unknown"]
#: Built-in state mappings: ``auto`` (floortwin's words and codes 0–4, Booleans, and the texts of OPC UA for
#: Machinery and DI; enumerations recognised by their data type), OPC UA for Machinery's MachineryItemState
#: and MachineryOperationMode, DI's DeviceHealth, and a Boolean "running" flag.
BuiltinStateMap = Literal["auto", "machinery-item-state", "machinery-operation-mode", "di-device-health", "boolean"]
StateKey = Annotated[str, StringConstraints(min_length=1, max_length=256)]
StateMap = BuiltinStateMap | dict[StateKey, StateName]


class Machine(_Data):
    """One machine (or conveyor, rack, warehouse) on the floor."""

    id: Identifier
    name: Name
    kind: Identifier
    asset: Identifier
    line: Annotated[str, StringConstraints(max_length=64)] = ""
    #: Its place in the hierarchy (``Factory.hierarchy``): an area id, and a cell id of its line.
    area: Annotated[str, StringConstraints(max_length=64)] = ""
    cell: Annotated[str, StringConstraints(max_length=64)] = ""
    pose: Pose = Field(default_factory=Pose)
    footprint: Footprint
    clearance_m: Margin = 0.5
    sim: MachineSim = Field(default_factory=MachineSim)
    tags: dict[Identifier, Annotated[str, StringConstraints(min_length=1, max_length=512)]] = Field(
        default_factory=dict,
        description="OPC UA bindings: signal name → node id (nsu=<namespace URI>;… keeps pointing at the right "
        "node when the server's namespace order changes; ns=<index>;… is read too)",
    )
    states: dict[Identifier, StateMap] = Field(
        default_factory=dict,
        description="How a bound signal's values become machine states: signal name → a built-in mapping or a table "
        "of value or text → state (values not in the table are unknown); without one the State signal uses auto",
    )


class Wall(_Data):
    """A wall along a polyline."""

    id: Identifier
    points: list[Point2] = Field(min_length=2, max_length=10_000)
    thickness_m: Annotated[float, Field(gt=0, le=10)] = 0.25
    height_m: Annotated[float, Field(gt=0, le=100)] = 4.0


class Aisle(_Data):
    """A walkway or forklift lane along a polyline: must stay clear of machines."""

    id: Identifier
    points: list[Point2] = Field(min_length=2, max_length=10_000)
    width_m: Annotated[float, Field(gt=0, le=100)] = 3.0
    kind: Literal["walkway", "forklift", "emergency"] = "forklift"


class Zone(_Data):
    """A polygonal area with a rule: ``keepout`` (nothing may stand there) or ``exit`` (kept clear)."""

    id: Identifier
    name: Name
    polygon: list[Point2] = Field(min_length=3, max_length=10_000)
    kind: Literal["keepout", "exit"] = "keepout"


class Floor(_Data):
    """The floor: a rectangle from (0, 0) to (width_m, depth_m), its grid, walls, aisles and zones."""

    width_m: Length
    depth_m: Length
    grid_m: Annotated[float, Field(gt=0, le=100)] = 1.0
    walls: list[Wall] = Field(default_factory=list)
    aisles: list[Aisle] = Field(default_factory=list)
    zones: list[Zone] = Field(default_factory=list)


class AssetRef(_Data):
    """A mesh file: a path relative to the factory file, its length unit and its up axis.

    ``up_axis="auto"`` means Y for glTF (the glTF convention) and Z for every other format.
    """

    path: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    units: Literal["m", "cm", "mm", "in", "ft"] = "m"
    up_axis: Literal["auto", "y", "z"] = "auto"


class TransportPath(_Data):
    """How parts travel from one machine to the next: a conveyor, an AGV route, a forklift route."""

    id: Identifier
    kind: Literal["conveyor", "agv", "forklift", "manual"] = "forklift"
    from_machine: Identifier
    to_machine: Identifier
    waypoints: list[Point2] = Field(default_factory=list, max_length=10_000)
    speed_m_s: Annotated[float, Field(gt=0, le=100)] = 1.0


#: A branch option's ``to`` that takes the part out of the line (it counts as made).
EXIT: Final = "exit"
#: How far from 1 a branch's probabilities may add up (rounding in a hand-written file).
BRANCH_SUM_TOLERANCE: Final = 1e-6


class BranchOption(_Data):
    """One way on from a branching step: with probability ``p``, to step ``to`` of the routing (its index from
    0; an earlier step makes a loop) or out of the line (``"exit"``)."""

    p: Annotated[float, Field(gt=0, le=1)]
    to: Annotated[int, Field(ge=0, le=999)] | Literal["exit"]


class RouteBranch(_Data):
    """After step ``at`` of its routing (index from 0) a part goes on to one of ``to``, drawn with their
    probabilities, instead of to the next step (a Bernoulli or multinomial split of the stream)."""

    at: Annotated[int, Field(ge=0, le=999)]
    to: list[BranchOption] = Field(min_length=1, max_length=100)

    @field_validator("to")
    @classmethod
    def _probabilities_add_up(cls, options: list[BranchOption]) -> list[BranchOption]:
        total = sum(o.p for o in options)
        if abs(total - 1.0) > BRANCH_SUM_TOLERANCE:
            ps = " + ".join(f"{o.p:g}" for o in options)
            raise PydanticCustomError(
                "branch_sum",
                "the probabilities must add up to 1, they add up to {total} ({ps})",
                {"total": f"{total:g}", "ps": ps},
            )
        return options


class PartFlow(_Data):
    """A part type: how often it arrives and the machines it visits, in order (``branches``: where a part
    may go elsewhere than the next step)."""

    part: Identifier
    routing: list[Identifier] = Field(min_length=1, max_length=1000)
    interarrival: Distribution = Field(default_factory=Distribution)
    #: With a calendar: orders arrive only in working time (``on_shift``: the time between orders runs
    #: while the plant works) or around the clock (``always``: they wait for the next shift).
    arrivals: Literal["on_shift", "always"] = "on_shift"
    #: Steps after which a part's next step is drawn (at most one branch per step; checked by
    #: ``app.model.routing.branch_problems``: steps that exist, and a way out of every loop).
    branches: list[RouteBranch] = Field(default_factory=list, max_length=1000)


class OpcUaSettings(_Data):
    """Where the live plant is. Credentials are never stored here (they live in the system keyring)."""

    endpoint: Annotated[str, StringConstraints(max_length=1024)] | None = None
    security_policy: Literal["None", "Basic256Sha256"] = "None"
    security_mode: Literal["None", "Sign", "SignAndEncrypt"] = "None"
    username: Annotated[str, StringConstraints(max_length=256)] | None = None
    publishing_ms: Annotated[float, Field(ge=10, le=3_600_000)] = 250.0
    sampling_ms: Annotated[float, Field(ge=0, le=3_600_000)] = 250.0
    deadband: Annotated[float, Field(ge=0, le=1e12)] = 0.0
    stale_after_s: Annotated[float, Field(gt=0, le=86_400)] = 10.0


ClockTime = Annotated[str, StringConstraints(pattern=CLOCK_PATTERN)]
DateText = Annotated[str, StringConstraints(pattern=DATE_PATTERN)]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ShiftDays = Weekday | Literal["weekdays", "daily"]


def _date(text: str) -> str:
    try:
        parse_date(text)
    except ValueError as e:
        raise PydanticCustomError("date", str(e)) from None
    return text


class Break(_Data):
    """A pause inside a shift (``HH:MM``; times before the shift's start are the next day's)."""

    start: ClockTime
    end: ClockTime


class Shift(_Data):
    """A working period of a day, ``start`` to ``end`` (``HH:MM``); an end at or before the start is the
    next day's (a night shift), ``24:00`` is midnight at the end of the day."""

    name: Annotated[str, StringConstraints(max_length=64)] = ""
    start: ClockTime
    end: ClockTime
    breaks: list[Break] = Field(default_factory=list, max_length=100)

    @field_validator("breaks")
    @classmethod
    def _breaks_inside(cls, breaks: list[Break], info: ValidationInfo) -> list[Break]:
        start, end = info.data.get("start"), info.data.get("end")
        if start is None or end is None:
            return breaks
        s0, s1 = span(start, end)
        taken: list[tuple[int, int, int]] = []
        for k, b in enumerate(breaks):
            b0, b1 = inner_span(s0, b.start, b.end)
            if b0 < s0 or b1 > s1:
                raise PydanticCustomError(
                    "break_outside_shift",
                    f"breaks[{k}] ({describe_span(b0, b1)}) is not inside its shift ({describe_span(s0, s1)})"
                    + (" — it is longer than the shift" if b1 - b0 >= s1 - s0 else ""),
                )
            for j, t0, t1 in taken:
                if b0 < t1 and t0 < b1:
                    clash = f"breaks[{k}] ({describe_span(b0, b1)}) overlaps breaks[{j}] ({describe_span(t0, t1)})"
                    raise PydanticCustomError("overlapping_breaks", clash)
            taken.append((k, b0, b1))
        return breaks


class MaintenanceWindow(_Data):
    """Planned maintenance: ``machines`` (ids) are down from ``start`` to ``end`` (``HH:MM``) every ``weekday``
    or on one ``date`` (give one of the two); the machines stop as in a failure, but it is planned."""

    machines: list[Identifier] = Field(min_length=1, max_length=MAX_MACHINES)
    weekday: Weekday | None = None
    date: DateText | None = None
    start: ClockTime
    end: ClockTime

    @field_validator("date")
    @classmethod
    def _real_date(cls, value: str | None) -> str | None:
        return value if value is None else _date(value)

    @model_validator(mode="after")
    def _one_day(self) -> MaintenanceWindow:
        if (self.weekday is None) == (self.date is None):
            raise PydanticCustomError(
                "maintenance_day", "give the window's weekday (every week) or its date (once), one of the two"
            )
        return self


class Calendar(_Data):
    """When the plant works: shifts per weekday with their breaks, holidays, planned maintenance.

    Simulated time 0 is 00:00 on ``start_date`` (a Monday when no date is given). Outside the shifts,
    in breaks and on holidays no machine works: work under way stops and resumes at the next shift.
    """

    start_date: DateText | None = None
    shifts: dict[ShiftDays, list[Shift]] = Field(default_factory=dict)
    holidays: list[DateText] = Field(default_factory=list, max_length=10_000)
    maintenance: list[MaintenanceWindow] = Field(default_factory=list, max_length=100_000)

    @field_validator("start_date")
    @classmethod
    def _real_start(cls, value: str | None) -> str | None:
        return value if value is None else _date(value)

    @field_validator("shifts")
    @classmethod
    def _no_overlaps(cls, shifts: dict[str, list[Shift]]) -> dict[str, list[Shift]]:
        spans = []
        for key, day_shifts in shifts.items():
            for k, sh in enumerate(day_shifts):
                a, b = span(sh.start, sh.end)
                for day in days_of(key):
                    d0 = WEEKDAYS.index(day) * DAY_S
                    spans.append((f"{key}[{k}] ({describe_span(a, b)})" + (f" on {day}" if key != day else ""), d0 + a, d0 + b))
        clashes = week_overlaps(spans)
        if clashes:
            first, second = clashes[0]
            raise PydanticCustomError("overlapping_shifts", f"{second} overlaps {first}: a machine works one shift at a time")
        return shifts

    @field_validator("holidays")
    @classmethod
    def _holidays_are_dates(cls, holidays: list[str], info: ValidationInfo) -> list[str]:
        for k, h in enumerate(holidays):
            try:
                parse_date(h)
            except ValueError as e:
                raise PydanticCustomError("date", f"holidays[{k}]: {e}") from None
        if holidays and info.data.get("start_date") is None:
            raise PydanticCustomError(
                "holidays_need_date", "holidays are dates: give the calendar's start_date (the date of simulated time 0)"
            )
        return holidays

    @model_validator(mode="after")
    def _dated_windows_need_a_start(self) -> Calendar:
        if self.start_date is None and any(w.date is not None for w in self.maintenance):
            raise PydanticCustomError(
                "maintenance_needs_date",
                "a maintenance window on a date needs the calendar's start_date (the date of simulated time 0)",
            )
        return self


class SimulationSettings(_Data):
    """Defaults for what-if runs of this factory."""

    horizon_s: Seconds = 7 * 24 * 3600.0
    warmup_s: NonNegSeconds = 8 * 3600.0
    replications: Annotated[int, Field(ge=1, le=10_000)] = 10
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 1
    #: CONWIP: at most this many parts in the line at once; an order arriving at the cap waits at its source
    #: until a part leaves (None: no cap, parts enter while the first machine has room).
    wip_cap: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    #: Shifts, breaks, holidays and planned maintenance (None: the plant works around the clock).
    calendar: Calendar | None = None


class Factory(_Data):
    """A whole factory file."""

    format: Literal["floortwin-factory"] = FORMAT
    version: Literal[1] = FORMAT_VERSION
    name: Name
    description: Annotated[str, StringConstraints(max_length=10_000)] = ""
    floor: Floor
    assets: dict[Identifier, AssetRef] = Field(default_factory=dict)
    machines: list[Machine] = Field(default_factory=list, max_length=MAX_MACHINES)
    transports: list[TransportPath] = Field(default_factory=list)
    flows: list[PartFlow] = Field(default_factory=list)
    opcua: OpcUaSettings = Field(default_factory=OpcUaSettings)
    simulation: SimulationSettings = Field(default_factory=SimulationSettings)
    #: Enterprise, site, areas and their lines (ISA-95; None: the machines' lines under one implicit area).
    hierarchy: Hierarchy | None = None

    def machine(self, machine_id: str) -> Machine:
        """The machine with this id (KeyError if there is none)."""
        for m in self.machines:
            if m.id == machine_id:
                return m
        raise KeyError(machine_id)

    def machine_index(self) -> dict[str, int]:
        """Machine id → position in ``machines``."""
        return {m.id: i for i, m in enumerate(self.machines)}
