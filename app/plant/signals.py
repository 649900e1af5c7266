"""Physical signals derived from the simulated machine states: temperature, power, loads, alarms.

Pure numpy, vectorised over machines, so a plant of thousands of machines updates in microseconds.
Temperatures follow a first-order thermal lag towards a state-dependent target; loads and power add a
little measurement noise, as real sensors do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.model.signals import MACHINE_STATES

#: The states the simulator reports, in code order (one definition: app.model.signals).
STATE_NAMES = MACHINE_STATES
VIBRATION_RUNNING_MM_S = 2.8
VIBRATION_IDLE_MM_S = 0.4
#: Temperature rise above ambient when running, per kind (°C).
HEAT_RISE = {"cnc": 28.0, "press": 22.0, "robot_cell": 14.0, "inspection": 3.0, "assembly": 2.0, "conveyor": 6.0}
AMBIENT_C = 21.0
TAU_S = 900.0  # thermal time constant (simulated seconds)
OVER_TEMPERATURE_C = 75.0


@dataclass
class SignalState:
    """What the signal model remembers between updates."""

    temperature: np.ndarray
    rng: np.random.Generator


def initial_state(n: int, seed: int = 0) -> SignalState:
    rng = np.random.default_rng(seed)
    return SignalState(temperature=AMBIENT_C + rng.normal(0, 0.5, n), rng=rng)


def derive(
    kinds: list[str],
    busy_kw: np.ndarray,
    idle_kw: np.ndarray,
    state: np.ndarray,
    dt_s: float,
    memory: SignalState,
    vibration_channels: int = 0,
) -> dict[str, np.ndarray]:
    """Signals for every machine after ``dt_s`` simulated seconds in ``state`` (codes as ``STATE_NAMES``)."""
    n = len(kinds)
    rng = memory.rng
    running = state <= 1
    down = state == 4
    rise = np.array([HEAT_RISE.get(k, 5.0) for k in kinds])
    target = AMBIENT_C + rise * running
    alpha = 1.0 - math.exp(-max(dt_s, 0.0) / TAU_S)
    memory.temperature += (target - memory.temperature) * alpha
    temperature = memory.temperature + rng.normal(0, 0.15, n)
    power = np.where(running, busy_kw, np.where(down, idle_kw * 0.3, idle_kw)) * (1 + rng.normal(0, 0.02, n))
    load = np.where(running, np.clip(rng.normal(65, 12, n), 5, 120), 0.0)
    force = np.where(running, np.clip(rng.normal(800, 40, n), 0, 2000), 0.0)
    out = {
        "Temperature": temperature,
        "Power": np.maximum(power, 0.0),
        "SpindleLoad": load,
        "PressForce": force,
        "AxisLoad": load * 0.8,
    }
    if vibration_channels:
        level = np.where(running, VIBRATION_RUNNING_MM_S, VIBRATION_IDLE_MM_S)
        noisy = level[:, None] * np.abs(1 + rng.normal(0, 0.1, (n, vibration_channels)))
        for k in range(vibration_channels):
            out[f"Vibration{k + 1}"] = noisy[:, k]
    return out
