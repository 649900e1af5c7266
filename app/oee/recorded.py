"""The loss tree of recorded history: the same branches as a simulation's (``app.oee.losses``).

Over each connected stretch of a window (values are never carried across a link outage):

- the machine's ``State`` signal, read through its state mapping, gives the seconds in each state (time
  without a known state is left out: neither production nor loss);
- ``down`` time is split by reason: the reason an operator entered for that down period
  (``app.oee.reasons``), else the machine's ``DownReason`` signal at that moment when it has one bound, else
  ``unassigned`` — never a made-up reason;
- ``PartCount`` gives the parts made (its gain over the stretch), ``ScrapCount`` the parts scrapped when the
  machine has one bound; without it the quality is unknown (NaN), never assumed perfect.

A station of several servers reports one State (running while any server runs): its run time is that, so
servers standing idle while another runs show as speed loss.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.history.recorder import History, connect
from app.model.factory import Factory
from app.model.signals import MACHINE_STATES
from app.oee.losses import STATE_REASONS, UNASSIGNED, LossTimes
from app.oee.reasons import ReasonEntry, read_reasons
from app.oee.simulation import pooled
from app.state.machine_states import code_in, table_of

#: The signals the loss tree reads.
READ_SIGNALS = ("State", "DownReason", "PartCount", "ScrapCount")
_DOWN = MACHINE_STATES.index("down")
_PLANNED = {MACHINE_STATES.index("off_shift"), MACHINE_STATES.index("maintenance")}
_BY_CODE = {MACHINE_STATES.index(s): reason for s, reason in STATE_REASONS.items()}


@dataclass
class _Trace:
    """One machine's recorded samples in a stretch: (t, value) pieces of each signal, the start value first."""

    start: dict[str, object]
    samples: dict[str, list[tuple[float, object]]]


def _good(value, text, status) -> object:
    if status is None or (int(status) >> 30) != 0:
        return None
    return text if text is not None else value


def _read(path: str | os.PathLike[str], names: Sequence[str], a: float, b: float) -> dict[str, _Trace]:
    """The samples of ``READ_SIGNALS`` in (a, b] and each one's value at ``a`` (when received in this connection)."""
    history = History(path)
    link = history.link_at(a)
    since = link[0] if link is not None else -math.inf
    at_start = history.state_at(a)
    traces = {m: _Trace({}, defaultdict(list)) for m in names}
    for (mid, signal), (value, text, status, _t, received) in at_start.items():
        if mid in traces and signal in READ_SIGNALS and received >= since:
            traces[mid].start[signal] = _good(value, text, status)
    marks = ", ".join("?" * len(READ_SIGNALS))
    con = connect(path, readonly=True)
    try:
        rows = con.execute(
            "SELECT g.machine, g.signal, s.t, s.value, s.text, s.status FROM samples s JOIN signals g ON g.id = s.signal_id "
            f"WHERE g.signal IN ({marks}) AND s.t > ? AND s.t <= ? ORDER BY s.t",
            (*READ_SIGNALS, a, b),
        ).fetchall()
    finally:
        con.close()
    for mid, signal, t, value, text, status in rows:
        if mid in traces:
            traces[mid].samples[signal].append((float(t), _good(value, text, status)))
    return traces


def _gain(trace: _Trace, signal: str, a: float, b: float) -> float:
    """A counter's gain over [a, b]: from its value at ``a`` (else its first reading, the gain then stretched
    to the whole stretch), NaN without a usable count or when it went back (a plant restart)."""
    readings = [(t, float(v)) for t, v in trace.samples.get(signal, []) if isinstance(v, (int, float)) and math.isfinite(v)]
    start = trace.start.get(signal)
    if isinstance(start, (int, float)) and math.isfinite(start):
        t_first, first = a, float(start)
    elif readings:
        t_first, first = readings[0]
    else:
        return math.nan
    last = readings[-1][1] if readings else first
    if last < first or b - t_first <= 0:
        return math.nan
    return (last - first) * (b - a) / (b - t_first)


def _pieces(trace: _Trace, table, a: float, b: float) -> list[tuple[float, float, float, str]]:
    """(start, end, state code, plant's reason) pieces covering [a, b]; code NaN where the state is unknown."""
    events = sorted(
        [(t, 0, v) for t, v in trace.samples.get("State", [])] + [(t, 1, v) for t, v in trace.samples.get("DownReason", [])],
        key=lambda e: (e[0], e[1]),
    )
    state = trace.start.get("State")
    reason = trace.start.get("DownReason")
    out: list[tuple[float, float, float, str]] = []
    cursor = a

    def close(until: float) -> None:
        if until > cursor:
            code = code_in(state, table) if state is not None else math.nan
            code = code if math.isfinite(code) and 0 <= code < len(MACHINE_STATES) else math.nan
            out.append((cursor, until, code, reason.strip() if isinstance(reason, str) else ""))

    for t, kind, value in events:
        close(t)
        cursor = max(cursor, t)
        if kind == 0:
            state = value
        else:
            reason = value
    close(b)
    return out


def _down_by_reason(pieces, entries: list[ReasonEntry]) -> dict[str, float]:
    """Down seconds per reason: an operator's entry names its whole down period, else the plant's code."""
    out: dict[str, float] = defaultdict(float)
    k = 0
    while k < len(pieces):
        if pieces[k][2] != _DOWN:
            k += 1
            continue
        j = k
        while j + 1 < len(pieces) and pieces[j + 1][2] == _DOWN:
            j += 1
        t0, t1 = pieces[k][0], pieces[j][1]
        told = [e for e in entries if t0 <= e.t <= t1]
        for p in pieces[k : j + 1]:
            reason = told[-1].reason if told else (p[3] or UNASSIGNED)
            out[reason] += p[1] - p[0]
        k = j + 1
    return out


def stretch_losses(
    path: str | os.PathLike[str], factory: Factory, a: float, b: float, time_scale: float = 1.0,
    entries: Sequence[ReasonEntry] | None = None,
) -> LossTimes:
    """The loss tree of one connected stretch [a, b] of the history at ``path`` (seconds in plant time)."""
    names = [m.id for m in factory.machines]
    n = len(names)
    traces = _read(path, names, a, b)
    by_machine: dict[str, list[ReasonEntry]] = defaultdict(list)
    for e in entries if entries is not None else read_reasons(path):
        by_machine[e.machine].append(e)
    state_s = np.zeros((n, len(MACHINE_STATES)))
    down: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n))
    parts, scrap = np.full(n, np.nan), np.full(n, np.nan)
    for i, m in enumerate(factory.machines):
        trace = traces[m.id]
        pieces = _pieces(trace, table_of(m.states.get("State")), a, b)
        for t0, t1, code, _reason in pieces:
            if math.isfinite(code):
                state_s[i, int(code)] += t1 - t0
        for reason, s in _down_by_reason(pieces, by_machine.get(m.id, [])).items():
            down[reason][i] += s
        parts[i] = _gain(trace, "PartCount", a, b)
        scrap[i] = _gain(trace, "ScrapCount", a, b)
    cycle = np.array([m.sim.cycle.mean_s / m.sim.servers for m in factory.machines])
    for code, reason in _BY_CODE.items():
        down[reason] += state_s[:, code]
    state_s *= time_scale
    return LossTimes(
        names,
        known_s=state_s.sum(axis=1),
        planned_stop_s=state_s[:, sorted(_PLANNED)].sum(axis=1),
        run_s=state_s[:, MACHINE_STATES.index("running")],
        ideal_s=parts * cycle,  # NaN without a count: performance unknown, not zero
        scrap_ideal_s=scrap * cycle,
        parts=parts,
        scrap=scrap,
        downtime_s={r: v * time_scale for r, v in down.items()},
        window_s=(b - a) * time_scale,
        source="history",
    )


def history_losses(
    path: str | os.PathLike[str], factory: Factory, stretches: Sequence[tuple[float, float]], time_scale: float = 1.0
) -> LossTimes | None:
    """The loss tree over connected stretches of the history (None without any)."""
    if not stretches:
        return None
    entries = read_reasons(path)
    return pooled([stretch_losses(path, factory, a, b, time_scale, entries) for a, b in stretches])
