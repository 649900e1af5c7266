"""The form a scenario's changes are made from: the kinds of change, what each can change in a factory, the
values it starts from, the fields it needs, and the change the filled-in form stands for.

No widgets and no validation of its own: ``app.sim.scenario.apply`` names what is wrong with a change.

>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> f = load_factory(DEMO_FACTORY)
>>> target = targets(f, "move")[0][0]
>>> make_change("move", target, ChangeValues(x_m=1.0, y_m=2.0)).model_dump()["x_m"]
1.0
"""

from __future__ import annotations

from dataclasses import dataclass

from app.model.factory import Factory
from app.sim.scenario import (
    PARAMS,
    Change,
    Demand,
    MachineParam,
    MoveMachine,
    ParamName,
    RemoveMachine,
    ScenarioError,
    TransportSpeed,
)

#: The kinds of change the form makes: (key, label).
CHANGE_KINDS = (
    ("machine_param", "Machine parameter"),
    ("move", "Move machine"),
    ("remove", "Remove machine"),
    ("demand", "Demand of a part"),
    ("transport_speed", "Transport speed"),
)
#: The fields each kind needs besides its target ("param", "value", "x", "y", "yaw").
FIELDS: dict[str, tuple[str, ...]] = {
    "machine_param": ("param", "value"),
    "move": ("x", "y", "yaw"),
    "remove": (),
    "demand": ("value",),
    "transport_speed": ("value",),
}
#: What the value field means for kinds where it is not a machine parameter.
VALUE_LABELS = {"demand": "Seconds between parts", "transport_speed": "Speed (m/s)"}


@dataclass(frozen=True)
class ChangeValues:
    """What the form holds besides the kind and the target (only the kind's ``FIELDS`` are used)."""

    param: ParamName = "cycle_mean_s"
    value: float = 0.0
    x_m: float = 0.0
    y_m: float = 0.0
    yaw_deg: float = 0.0


def targets(f: Factory, kind: str) -> list[tuple[str, str]]:
    """What a change of ``kind`` can change in ``f``: (id, label) of machines, part flows or transports."""
    if kind in ("machine_param", "move", "remove"):
        return [(m.id, f"{m.id} — {m.name}") for m in f.machines]
    if kind == "demand":
        return [(fl.part, f"{fl.part} (one every {fl.interarrival.mean_s:g} s)") for fl in f.flows]
    if kind == "transport_speed":
        return [(t.id, f"{t.id}: {t.from_machine} → {t.to_machine}") for t in f.transports]
    raise ValueError(f"unknown kind of change {kind!r}")


def current_values(f: Factory, kind: str, target: str, param: ParamName = "cycle_mean_s") -> ChangeValues:
    """The form's values as ``f`` has them now for ``target`` (what the user changes from)."""
    if kind == "machine_param":
        sim: object = f.machine(target).sim.model_dump()
        for key in PARAMS[param]:
            sim = sim.get(key) if isinstance(sim, dict) else None
        return ChangeValues(param=param, value=float(sim) if isinstance(sim, (int, float)) else 0.0)
    if kind == "move":
        p = f.machine(target).pose
        return ChangeValues(x_m=p.x_m, y_m=p.y_m, yaw_deg=p.yaw_deg)
    if kind == "demand":
        return ChangeValues(value=next(fl.interarrival.mean_s for fl in f.flows if fl.part == target))
    if kind == "transport_speed":
        return ChangeValues(value=next(t.speed_m_s for t in f.transports if t.id == target))
    return ChangeValues()


def make_change(kind: str, target: str, values: ChangeValues) -> Change:
    """The change a filled-in form stands for."""
    if kind == "machine_param":
        return MachineParam(machine=target, param=values.param, value=float(values.value))
    if kind == "move":
        return MoveMachine(machine=target, x_m=values.x_m, y_m=values.y_m, yaw_deg=values.yaw_deg)
    if kind == "remove":
        return RemoveMachine(machine=target)
    if kind == "demand":
        return Demand(part=target, interarrival_mean_s=float(values.value))
    if kind == "transport_speed":
        return TransportSpeed(transport=target, speed_m_s=float(values.value))
    raise ValueError(f"unknown kind of change {kind!r}")


def failing_change(error: ScenarioError) -> int | None:
    """The index of the change the error's first problem names (``changes[2].value`` → 2), if any."""
    path = error.problems[0].path
    if not path.startswith("changes["):
        return None
    return int(path[len("changes[") : path.index("]")])
