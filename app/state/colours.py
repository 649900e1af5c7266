"""What colour a machine shows for its live state: one vectorised mapping for the whole plant.

Okabe–Ito colours, distinguishable with every common colour-vision deficiency; "no data" is a neutral
grey so a missing signal never looks like a state.
"""

from __future__ import annotations

import numpy as np

from app.model import kinds
from app.state.machine_states import UNKNOWN
from app.state.store import is_good

STATE_RGB = np.array(
    [
        (0, 158, 115),  # 0 running: bluish green
        (86, 180, 233),  # 1 setup: sky blue
        (240, 228, 66),  # 2 starved / idle: yellow
        (230, 159, 0),  # 3 blocked: orange
        (213, 94, 0),  # 4 down: vermilion
        (70, 80, 100),  # 5 off shift: dark slate, the plant asleep (darker than "no data" grey)
        (0, 114, 178),  # 6 planned maintenance: blue
    ],
    dtype=np.uint8,
)
NO_DATA_RGB = np.array(kinds.NO_DATA_RGB, dtype=np.uint8)
UNKNOWN_RGB = np.array((204, 121, 167), dtype=np.uint8)  # reddish purple: a value no mapping knows
ALARM_RGB = np.array((204, 0, 0), dtype=np.uint8)
ALARM_DIM_RGB = np.array((90, 0, 0), dtype=np.uint8)
#: The state legend's entries: (label, RGB).
LEGEND: tuple[tuple[str, tuple[int, ...]], ...] = tuple(
    (label, tuple(int(c) for c in rgb))
    for label, rgb in (
        ("running", STATE_RGB[0]),
        ("setup", STATE_RGB[1]),
        ("starved / idle", STATE_RGB[2]),
        ("blocked", STATE_RGB[3]),
        ("down", STATE_RGB[4]),
        ("off shift", STATE_RGB[5]),
        ("maintenance", STATE_RGB[6]),
        ("unknown state", UNKNOWN_RGB),
        ("alarm", ALARM_RGB),
        ("no data / stale", NO_DATA_RGB),
    )
)


def state_colours(
    codes: np.ndarray, status: np.ndarray, age_s: np.ndarray, max_age_s: float, alarm: np.ndarray, blink_on: bool
) -> np.ndarray:
    """(N, 3) colours from state codes (0–6, ``UNKNOWN``, NaN for none), their status codes and ages, and
    alarm flags.

    A machine without a good state of at most ``max_age_s`` shows "no data"; one whose value its mapping
    does not know (or any code outside 0–6) shows "unknown state", never a neighbouring state; an alarm
    blinks between two reds (``blink_on`` alternates on a timer).
    """
    n = len(codes)
    out = np.empty((n, 3), dtype=np.uint8)
    out[:] = NO_DATA_RGB
    current = np.isfinite(codes) & is_good(status) & (age_s <= max_age_s)
    whole = np.nan_to_num(codes, nan=UNKNOWN)
    known = current & (whole >= 0) & (whole <= len(STATE_RGB) - 1) & (whole == np.round(whole))
    out[current & ~known] = UNKNOWN_RGB
    out[known] = STATE_RGB[whole[known].astype(int)]
    out[alarm] = ALARM_RGB if blink_on else ALARM_DIM_RGB
    return out
