"""The plant's vocabulary, defined once: machine states, the signals a machine reports, and their units.

The factory format, the simulation engine, the plant simulator, the OPC UA client, the state store, the
heat maps, the trends and the comparisons all read these tables; none keeps a copy of its own.

Examples
--------
>>> MACHINE_STATES[4], ACTIVE_STATES
('down', ('running', 'setup', 'down'))
>>> unit_of("Temperature"), unit_of("Vibration2"), unit_of("Anything")
('°C', 'mm/s', '')
"""

from __future__ import annotations

from typing import Final

#: The machine states, in the order of their codes (0 running … 4 down, 5 off shift, 6 maintenance); "idle" is
#: another word for starved. ``off_shift`` (outside the shifts, in a break, on a holiday) and ``maintenance``
#: (a planned window) are planned stops, not losses: a failure is ``down``.
MACHINE_STATES: Final = ("running", "setup", "starved", "blocked", "down", "off_shift", "maintenance")
#: The states in which a machine is occupied whatever its neighbours do (active-period method, Roser et al.
#: 2001): the machine with the largest active share is the line's bottleneck.
ACTIVE_STATES: Final = ("running", "setup", "down")

#: Signal name → (unit, UNECE code, description): what the plant simulator serves and the client binds.
SIGNALS: Final[dict[str, tuple[str, str, str]]] = {
    "State": ("", "", "Machine state: running, setup, starved, blocked, down, off_shift or maintenance"),
    "StateCode": ("", "", "Machine state code: 0 running, 1 setup, 2 starved, 3 blocked, 4 down, 5 off shift, 6 maintenance"),
    "PartCount": ("", "", "Parts finished since the plant started"),
    "CycleTime": ("s", "SEC", "Duration of the current or last processing cycle"),
    "Temperature": ("°C", "CEL", "Machine body temperature"),
    "Power": ("kW", "KWT", "Electrical power drawn"),
    "Level": ("", "", "Parts held: in process, waiting and on their way in"),
    "Capacity": ("", "", "Parts the machine and its input buffer can hold"),
    "Alarm": ("", "", "True while an alarm is active"),
    "AlarmText": ("", "", "Text of the active alarm (empty when none)"),
    "DownReason": ("", "", "Why the machine is down (a reason code such as breakdown; empty while it is not down)"),
    "SpindleLoad": ("%", "P1", "Spindle load relative to rated torque"),
    "PressForce": ("kN", "B73", "Ram force of the last stroke"),
    "AxisLoad": ("%", "P1", "Highest robot axis load"),
}
#: Downtime reasons an operator may enter for a down machine (a plant's own reason codes are kept as it sends them).
DOWN_REASONS: Final = ("breakdown", "tool change", "no operator", "no material", "quality problem", "other")

#: Optional vibration channels ("Vibration1", "Vibration2", ...): velocity RMS as ISO 10816 measures it.
VIBRATION: Final = ("mm/s", "C16", "Vibration velocity (RMS) at measuring point {k}")
#: The kind-specific extra signal of a machine kind.
EXTRA_SIGNAL: Final = {"cnc": "SpindleLoad", "press": "PressForce", "robot_cell": "AxisLoad"}

#: The signals the live console subscribes to for every machine that binds them.
LIVE_SIGNALS: Final = (
    "State", "Temperature", "Power", "PartCount", "Level", "Alarm", "AlarmText", "SpindleLoad", "PressForce", "AxisLoad",
)
#: Signals with a number worth colouring machines by (heat maps) — others bound by the user come after them.
NUMERIC_SIGNALS: Final = ("Temperature", "Power", "SpindleLoad", "PressForce", "AxisLoad", "Level", "PartCount")
#: Signals plotted by the trends, in their order.
TREND_SIGNALS: Final = ("Temperature", "Power", "SpindleLoad", "PressForce", "AxisLoad")


def signal_info(name: str) -> tuple[str, str, str]:
    """(unit, UNECE code, description) of a signal, vibration channels included (KeyError when unknown)."""
    if name.startswith("Vibration") and name[9:].isdigit():
        unit, code, text = VIBRATION
        return unit, code, text.format(k=name[9:])
    return SIGNALS[name]


def unit_of(name: str) -> str:
    """The unit a signal is reported in when its server says nothing ("" for counts, states and unknowns)."""
    try:
        return signal_info(name)[0]
    except KeyError:
        return ""
