"""The plant simulator's writable setpoints: what they are called, where they live, their ranges, and how a
value maps onto the running simulation. The server (:mod:`app.plant.server`) serves them; the deployment
service (:mod:`app.deploy`) writes them. Defined once here.

- per machine ``Machines/<machine>/CycleTimeSetpoint`` (s): the mean cycle time the machine runs at. The
  engine draws cycles from the machine's distribution scaled by ``setpoint / model mean`` (the same
  mid-run rescaling drift injection uses): the mean moves, the variation (CV) stays.
- per part flow ``Sources/<part>/ReleaseRate`` (parts/h, under ``Objects/Sources``): how many orders of that
  part are released into the line per hour; the time between releases is drawn scaled by
  ``model rate / setpoint``.

Both accept values from a quarter to four times the factory's own (their EURange); the engine keeps
its buffer sizes fixed for a run, so buffers have no limit setpoint.

Examples
--------
>>> machine_setpoint_id("CNC-03"), source_setpoint_id("housing")
('Machines/CNC-03/CycleTimeSetpoint', 'Sources/housing/ReleaseRate')
>>> setpoint_range(300.0)
(75.0, 1200.0)
>>> round(release_rate_of(330.0), 3)
10.909
"""

from __future__ import annotations

import math
from typing import Final

#: The machine setpoint's browse name, unit (and UNECE code) and description.
CYCLE_SETPOINT: Final = "CycleTimeSetpoint"
CYCLE_SETPOINT_INFO: Final = ("s", "SEC", "Mean cycle time the machine runs at (writable by an engineer login)")
#: A part flow's release-rate setpoint.
RELEASE_RATE: Final = "ReleaseRate"
RELEASE_RATE_INFO: Final = ("1/h", "H10", "Orders of this part released into the line per hour (writable by an engineer login)")
#: A setpoint may be set from the factory's value divided by this to the factory's value times this.
RANGE_FACTOR: Final = 4.0
#: The plant simulator's clock (simulated seconds since it started serving), for a client that must measure
#: a window of plant time while the plant runs faster than the wall clock.
PLANT_CLOCK_ID: Final = "Plant/SimulatedTime"
#: The login roles ``--user NAME:PASSWORD:ROLE`` grants; ``NAME:PASSWORD`` alone is ``read``.
ROLES: Final = ("read", "write")


def machine_setpoint_id(machine: str) -> str:
    """The string node id of a machine's cycle-time setpoint (namespace ``urn:floortwin:plantsim``)."""
    return f"Machines/{machine}/{CYCLE_SETPOINT}"


def source_setpoint_id(part: str) -> str:
    """The string node id of a part flow's release-rate setpoint."""
    return f"Sources/{part}/{RELEASE_RATE}"


def release_rate_of(interarrival_mean_s: float) -> float:
    """Parts per hour released at a mean time between releases (s)."""
    return 3600.0 / interarrival_mean_s


def setpoint_range(model_value: float) -> tuple[float, float]:
    """The EURange of a setpoint whose factory value is ``model_value``: ÷4 … ×4, to 3 significant digits."""
    return _round3(model_value / RANGE_FACTOR), _round3(model_value * RANGE_FACTOR)


def _round3(x: float) -> float:
    if x <= 0 or not math.isfinite(x):
        return x
    return round(x, 2 - math.floor(math.log10(x)))


def write_refusal(value: object, low: float, high: float) -> str | None:
    """Why a client's write of ``value`` to a setpoint ranged [low, high] is refused: the name of the OPC UA
    status to answer with, None when it may be written.

    A setpoint is a Double, and OPC UA converts no types on a write (Part 4, Write service): anything that is
    not one — a String, a Boolean, an integer — is ``BadTypeMismatch``. A Double outside the EURange, NaN and
    ±inf included (none of them a cycle time or a rate the plant can run at), is ``BadOutOfRange``.

    >>> write_refusal("300", 75.0, 1200.0), write_refusal(float("nan"), 75.0, 1200.0), write_refusal(300.0, 75.0, 1200.0)
    ('BadTypeMismatch', 'BadOutOfRange', None)
    """
    if type(value) is not float:
        return "BadTypeMismatch"
    if not in_range(value, low, high):
        return "BadOutOfRange"
    return None


def in_range(value: object, low: float, high: float) -> bool:
    """True when ``value`` is a finite number within [low, high]."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and low <= value <= high
