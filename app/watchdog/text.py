"""What the watchdog's views say: the recalibration button's label, the log's rows, the watch summary.

Qt-free, so the alarms dock and the log view only display these texts.

Examples
--------
>>> from app.watchdog.detection import Detection
>>> d = Detection("CNC-03", "cycle", 1, 1.183, 0.052, 0.0, 3600.0, 12, 0.998, 45.6, 9.1, 8.0, clock=lambda t: "14:20")
>>> recalibration_label(d, [d.suggestion()])
'Recalibrate CNC-03 cycle time to 1.183× (53.9 s)'
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence

from app.sim.numbers import format_number, round_to_interval
from app.sim.scenario import Change, Demand, MachineParam
from app.watchdog.detection import PARAM_WORDS
from app.watchdog.log import LogEntry

#: The columns of the watchdog log's table.
LOG_COLUMNS = ("Time", "Machine", "Parameter", "Size", "Confidence", "Action")
#: A detection made against the model as it was, once the model changed (a deployment, an edit): its channel
#: compares with the new model from then on.
MODEL_CHANGED = "model changed: watched again"
#: A detection whose size, once known, holds no change (``Watchdog.withdraw_if_unfounded``).
UNFOUNDED = "withdrawn: no change"
#: What each kind of log entry was (the "Action" column).
ACTIONS = {
    "detection": "detected",
    "recalibration": "recalibrated",
    "dismissal": "dismissed",
    "withdrawal": UNFOUNDED,
}


def ratio_text(ratio: float, half_width: float) -> str:
    """The ratio of the new mean to the model's, rounded to what its interval supports: ``1.18×``."""
    return f"{round_to_interval(ratio, half_width)[0]}×"


def _value(change: Change, relative: float = math.nan) -> str:
    """The new value, rounded to its interval when ``relative`` (its half-width as a share of it) is known:
    ``400 s`` for 400.5 s ± 3.7%, never ``400.5 s``."""

    def shown(x: float) -> str:
        if math.isfinite(relative) and relative > 0:
            return round_to_interval(x, x * relative)[0]
        return format_number(x)

    if isinstance(change, MachineParam):
        return f"{shown(float(change.value))} s"
    if isinstance(change, Demand):
        return f"{change.part} every {shown(change.interarrival_mean_s)} s"
    return type(change).__name__


def recalibration_label(detection, changes: Sequence[Change]) -> str:
    """The one-click recalibration's label: ``Recalibrate CNC-03 cycle time to 1.18× (54 s)``. An arrival
    rate names the part flows whose time between arrivals changes (the first, and how many more)."""
    what = f"{detection.machine} {PARAM_WORDS[detection.param]}"
    relative = detection.half_width / detection.ratio if detection.ratio else math.nan
    values = ", ".join(_value(c, relative) for c in changes[:2])
    if len(changes) > 2:  # a station where many flows enter: the button stays readable, the tooltip has all
        values = f"{_value(changes[0], relative)} and {len(changes) - 1} more part flows"
    return f"Recalibrate {what} to {ratio_text(detection.ratio, detection.half_width)} ({values})"


def size_text(ratio: float | None, half_width: float | None) -> str:
    """A logged change's size, ``+18 ± 5%``, rounded to its interval (blank when not logged)."""
    if ratio is None or half_width is None or not math.isfinite(ratio) or not math.isfinite(half_width):
        return ""
    m, h = round_to_interval(100.0 * (ratio - 1.0), 100.0 * half_width)
    return f"{'' if m.startswith('-') else '+'}{m} ± {h}%"


def confidence_text(confidence: float | None) -> str:
    """As a detection says it: a whole per cent, one decimal from 99%, ``> 99.9%`` beyond."""
    if confidence is None or not math.isfinite(confidence):
        return ""
    return "> 99.9%" if confidence >= 0.999 else f"{math.floor(confidence * 1000) / 10:g}%"


def log_rows(entries: Iterable[LogEntry], clock: Callable[[float], str] | None = None) -> list[tuple[str, ...]]:
    """The watchdog log as table rows (``LOG_COLUMNS``), newest first. An action's row repeats the size
    and confidence of the detection it acted on, and says from what to what. Times are local, with the
    date (the log outlives sessions and days)."""
    show = clock or (lambda t: time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if math.isfinite(t) else "")
    rows: list[tuple[str, ...]] = []
    for e in sorted(entries, key=lambda e: -e.t):
        action = ACTIONS.get(e.kind, e.kind)
        if e.kind == "recalibration" and e.old is not None and e.new is not None:
            unit = "" if e.param == "arrival" else " s"
            relative = e.half_width / e.ratio if e.half_width is not None and e.ratio else math.nan
            known = math.isfinite(relative) and relative > 0
            new = round_to_interval(e.new, e.new * relative)[0] if known else format_number(e.new)
            action = f"recalibrated {format_number(e.old)}{unit} → {new}{unit}"
        param = PARAM_WORDS.get(e.param, e.param)
        rows.append((show(e.t), e.machine, param, size_text(e.ratio, e.half_width), confidence_text(e.confidence), action))
    return rows


def without_cycle_time(factory) -> list[str]:
    """Machines whose cycle time cannot be watched: their ``CycleTime`` signal is not bound."""
    return [m.id for m in factory.machines if "CycleTime" not in m.tags]


def withdrawn_text(d) -> str:
    """A withdrawn detection's row: the size it was judged on, and no confidence claim it does not support —
    ``PR-04 cycle time +7.8 ± 8.9% since 17:44: no change once sized (16 cycles)``."""
    return f"{d.machine} {PARAM_WORDS[d.param]} {d.change_text} since {d.clock(d.since_ts)}: no change once sized ({d.n} so far)"


def watch_summary(channels: int, machines: int, pending: Sequence[str], detections: int, unbound: int = 0) -> str:
    """One line on what the watchdog does now: what it watches, what it cannot (``unbound`` machines
    without a bound ``CycleTime``), and what waits for more data."""
    if channels == 0:
        return "Drift watchdog: nothing to watch (no machine has simulation parameters)"
    head = f"Drift watchdog: {machines} machines, {channels} parameters watched"
    if unbound:
        head += f" (cycle times of {unbound} not: no CycleTime bound)"
    if detections:
        head += f"; {detections} change{'s' if detections != 1 else ''} found"
    if pending:
        more = f" (+{len(pending) - 1} more)" if len(pending) > 1 else ""
        return f"{head}; {pending[0]}{more}"
    return head


def pending_text(machine: str, param: str, status: str) -> str:
    """A channel's status that is not a detection, named: ``CNC-03 cycle time: possible change, …``."""
    return f"{machine} {PARAM_WORDS.get(param, param)}: {status}"


__all__ = [
    "LOG_COLUMNS",
    "confidence_text",
    "log_rows",
    "pending_text",
    "ratio_text",
    "recalibration_label",
    "size_text",
    "watch_summary",
]
