"""Which machine limits the line, and when: the shifting-bottleneck detection method (Roser, Nakano and Tanaka
2002, "Shifting bottleneck detection", Winter Simulation Conference).

The static bottleneck (``app.sim.kpis.bottleneck``) is the machine with the largest active share over a whole
run. Bottlenecks move, though: a breakdown makes a machine the constraint for an hour, then another takes
over. The method follows them in time, from each machine's **active periods**:

1. A machine is *active* while it is running, being set up or down (waiting for repair or being repaired):
   the states ``app.model.signals.ACTIVE_STATES``, in which it is occupied whatever its neighbours do. It is
   *inactive* while starved (waiting for a part) or blocked (waiting for its part to be taken). An active
   period is an uninterrupted stretch of active states (running, then down, then running again is *one*
   period); a state that is not known interrupts it.
2. At any instant, the machine whose active period around that instant is the **longest** (the whole
   period's length, known after the fact) is the momentary bottleneck. Equal lengths go to the period that
   began first (the machine already in charge), then to the machine listed first. When no machine is
   active, no machine is the bottleneck.
3. When the momentary bottleneck changes from one machine to another, the **overlap** of their two active
   periods is a *shifting* bottleneck: both machines are shifting bottlenecks during it — only while one of
   the two is the momentary bottleneck (time in which a third machine was belongs to that machine), and
   each moment shifts between exactly two machines. The rest of the time a machine is the momentary
   bottleneck, it is the *sole* bottleneck.

Each machine gets the share of the analysed time it was the sole bottleneck and the share it was a
shifting one, exactly as the timeline (``spans``) shows it: the shifting shares of all machines add up to
twice the time spent shifting (two machines share it), and sole + half the shifting is the time some machine
was active. The machine with the largest sole + shifting share limits the line most
(``app.sim.kpis.bottleneck`` picks it).

Inputs are exact state changes (recorded history: ``from_changes``) or a simulation's sampled state series
(``from_series``: each sample is taken to hold until the next, so nothing shorter than the sampling interval
is seen — the result says its resolution). Several windows (replications; or the connected stretches of a
history window) are summarised by ``summarise``: the mean share per machine with a 95% interval over
replications, or the shares of the stretches' summed time for history.

Examples
--------
Two machines; A is active 0–6 h, B 4–10 h (hours as seconds/3600 for brevity): A's period and B's are both
6 h long, so A (begun first) is the bottleneck until its period ends, then B; they overlap 4–6 h.

>>> A, B = np.array([[0.0, 6.0]]), np.array([[4.0, 10.0]])
>>> t = shifting_bottlenecks(["A", "B"], [A, B], 0.0, 10.0)
>>> t.sole_s.tolist(), t.shifting_s.tolist()
([4.0, 4.0], [2.0, 2.0])
>>> [(s.start_s, s.end_s, s.machine, s.shifting) for s in t.spans]
[(0.0, 4.0, 'A', False), (4.0, 6.0, 'A', True), (6.0, 10.0, 'B', False)]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from app.model.signals import ACTIVE_STATES, MACHINE_STATES
from app.sim.kpis import Estimate, bottleneck
from app.sim.numbers import format_duration
from app.sim.share_interval import MAX_HALF_WIDTH, ShareEstimate, share_estimate

#: State codes that make a machine active (running, setup, down).
ACTIVE_CODES = frozenset(MACHINE_STATES.index(s) for s in ACTIVE_STATES)
#: A window's shares are given only when it holds at least this many observations of the state: state
#: samples per machine for a simulation, state changes per machine (on average) for recorded history.
#: Fewer, and a share is one or two periods' story, not a measurement.
MIN_OBSERVATIONS = 24
_EPS = 1e-9
@dataclass(frozen=True)
class Span:
    """A piece of the bottleneck timeline: ``machine`` is the momentary bottleneck from ``start_s`` to
    ``end_s``, alone or (``shifting``) while the bottleneck shifts to or from ``partner``."""

    start_s: float
    end_s: float
    machine: str
    shifting: bool
    partner: str = ""


@dataclass(frozen=True)
class BottleneckTimeline:
    """The method's result for one window (a replication, or one connected stretch of history).

    ``resolution_s``: the sampling interval of the state series it was read from (None: exact state
    changes). ``observations``: state samples (sampled), or state changes per machine on average (exact).
    """

    machines: tuple[str, ...]
    start_s: float
    end_s: float
    sole_s: np.ndarray
    shifting_s: np.ndarray
    spans: tuple[Span, ...]
    resolution_s: float | None = None
    observations: float = math.inf

    @property
    def analysed_s(self) -> float:
        return max(self.end_s - self.start_s, 0.0)

    @property
    def sole_share(self) -> np.ndarray:
        return self.sole_s / self.analysed_s if self.analysed_s > 0 else np.full(len(self.machines), np.nan)

    @property
    def shifting_share(self) -> np.ndarray:
        return self.shifting_s / self.analysed_s if self.analysed_s > 0 else np.full(len(self.machines), np.nan)


def active_periods(times: Sequence[float] | np.ndarray, codes: Sequence[int] | np.ndarray, t0: float, t1: float) -> np.ndarray:
    """A machine's uninterrupted active periods in [t0, t1] as an (n, 2) array of (start, end).

    ``codes[k]`` (a ``MACHINE_STATES`` code; negative: not known) holds from ``times[k]`` until the next
    time, the last one until ``t1``; before the first time the state is not known. Touching active pieces
    merge into one period (running then down then running is one period).

    >>> active_periods([0, 2, 3, 5, 7], [0, 4, 0, 2, 1], 0, 10).tolist()  # run, down, run | starved | setup
    [[0.0, 5.0], [7.0, 10.0]]
    """
    t = np.clip(np.asarray(times, dtype=float), t0, t1)
    c = np.asarray(codes, dtype=int)
    ends = np.append(t[1:], t1)
    active = np.isin(c, list(ACTIVE_CODES)) & (ends > t)
    out: list[list[float]] = []
    for a, b in zip(t[active], ends[active], strict=True):
        if out and a <= out[-1][1] + _EPS:
            out[-1][1] = max(out[-1][1], float(b))
        else:
            out.append([float(a), float(b)])
    return np.array(out, dtype=float).reshape(-1, 2)


def _momentary(periods: Sequence[np.ndarray], edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each piece between consecutive ``edges``: the momentary bottleneck's index (−1: none) and the
    index of its active period."""
    mid = (edges[:-1] + edges[1:]) / 2
    n, m = len(periods), len(mid)
    length = np.full((n, m), -np.inf)
    begun = np.full((n, m), np.inf)
    which = np.full((n, m), -1)
    for i, p in enumerate(periods):
        if not len(p):
            continue
        j = np.searchsorted(p[:, 0], mid, side="right") - 1
        inside = (j >= 0) & (mid < p[np.clip(j, 0, None), 1])
        length[i, inside] = (p[j, 1] - p[j, 0])[inside]
        begun[i, inside] = p[j, 0][inside]
        which[i, inside] = j[inside]
    if not n:
        return np.full(m, -1), np.full(m, -1)
    longest = length.max(axis=0)
    tied = length >= longest - _EPS  # the longest, and any as long: the one begun first, then the first listed
    first = np.where(tied, begun, np.inf).argmin(axis=0)
    neck = np.where(np.isfinite(longest), first, -1)
    return neck, which[np.clip(neck, 0, None), np.arange(m)]


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float] | None:
    lo, hi = float(max(a[0], b[0])), float(min(a[1], b[1]))
    return (lo, hi) if hi > lo + _EPS else None


def shifting_bottlenecks(
    machines: Sequence[str],
    periods: Sequence[np.ndarray],
    t0: float,
    t1: float,
    resolution_s: float | None = None,
    observations: float = math.inf,
) -> BottleneckTimeline:
    """The shifting-bottleneck method (see the module's text) over [t0, t1], from each machine's active
    periods (``active_periods``; (n, 2) arrays of start, end, in time order, not overlapping).

    The timeline (``spans``) is the one account: each machine's sole seconds are its sole spans, its shifting
    seconds the shifting spans it is in (as the momentary bottleneck or as its partner). So the spans cover
    exactly the time some machine is active, sole + shifting over the spans is that time, and the shifting
    seconds of all machines add up to twice the time spent shifting.

    A shift from X to Y is the overlap of X's and Y's active periods *while X or Y is the momentary
    bottleneck* (Roser et al.: the overlap of the current and the next bottleneck): the part of the overlap
    during which a third machine was the momentary bottleneck belongs to that machine, not to this shift.
    When the shift into a short episode of X and the shift out of it would overlap (three machines active
    together), the shift out begins where it begins and the shift in ends there: each moment shifts between
    two machines, never three.
    """
    machines = tuple(machines)
    periods = [np.clip(np.asarray(p, dtype=float).reshape(-1, 2), t0, t1) for p in periods]
    edges = np.unique(np.concatenate([[t0, t1], *[p.ravel() for p in periods]]))
    edges = edges[(edges >= t0) & (edges <= t1)]
    sole, shifting = np.zeros(len(machines)), np.zeros(len(machines))
    if len(edges) < 2:
        return BottleneckTimeline(machines, t0, t1, sole, shifting, (), resolution_s, observations)
    neck, which = _momentary(periods, edges)
    # episodes: the same machine in the same active period, piece after piece
    episodes: list[list] = []  # [start, end, machine index, period index]
    for a, b, i, j in zip(edges[:-1], edges[1:], neck, which, strict=True):
        if i < 0:
            continue
        if episodes and episodes[-1][2] == i and episodes[-1][3] == j and abs(episodes[-1][1] - a) < _EPS:
            episodes[-1][1] = float(b)
        else:
            episodes.append([float(a), float(b), int(i), int(j)])
    # each episode's shift in (from the previous bottleneck) ends at shift_in[k]; its shift out (to the next)
    # begins at shift_out[k]; no shift: the episode's start / end
    shift_in = [e[0] for e in episodes]
    shift_out = [e[1] for e in episodes]
    for k, (e, f) in enumerate(itertools.pairwise(episodes)):
        if abs(e[1] - f[0]) >= _EPS or e[2] == f[2]:
            continue
        o = _overlap(tuple(periods[e[2]][e[3]]), tuple(periods[f[2]][f[3]]))
        if o is None:
            continue
        shift_out[k] = max(o[0], e[0])  # within the two episodes: never into a third machine's time
        shift_in[k + 1] = min(o[1], f[1])
    spans: list[Span] = []
    for k, (start, end, i, _j) in enumerate(episodes):
        out_at = shift_out[k]
        in_until = min(shift_in[k], out_at)  # the shift out begins where it begins; the shift in ends there
        before = machines[episodes[k - 1][2]] if in_until > start + _EPS else ""
        after = machines[episodes[k + 1][2]] if out_at < end - _EPS else ""
        for a, b, partner in ((start, in_until, before), (in_until, out_at, ""), (out_at, end, after)):
            if b > a + _EPS:
                spans.append(Span(a, b, machines[i], bool(partner), partner))
    for s in spans:
        length = s.end_s - s.start_s
        if s.shifting:
            shifting[machines.index(s.machine)] += length
            shifting[machines.index(s.partner)] += length
        else:
            sole[machines.index(s.machine)] += length
    return BottleneckTimeline(machines, float(t0), float(t1), sole, shifting, tuple(spans), resolution_s, observations)


def from_changes(
    machines: Sequence[str],
    changes: Sequence[tuple[np.ndarray, np.ndarray]],
    t0: float,
    t1: float,
) -> BottleneckTimeline:
    """The method on exact state changes over [t0, t1]: per machine, (times, codes) of its state from ``t0``
    on (a code holds until the next change; −1: not known), as recorded history keeps them."""
    periods = [active_periods(t, c, t0, t1) for t, c in changes]
    per_machine = [int(np.count_nonzero((np.asarray(t) > t0) & (np.asarray(t) < t1))) for t, _ in changes]
    observations = float(np.mean(per_machine)) if per_machine else 0.0
    return shifting_bottlenecks(machines, periods, t0, t1, None, observations)


def from_series(
    machines: Sequence[str], series_t: np.ndarray, series_state: np.ndarray, start_s: float, end_s: float
) -> BottleneckTimeline:
    """The method on a sampled state series (a simulation's: ``ReplicationResult.series_t`` and
    ``series_state``, dominant state code per station) over [start_s, end_s]: each sample holds until the
    next, the last until ``end_s``."""
    t = np.asarray(series_t, dtype=float)
    states = np.asarray(series_state).reshape(len(t), -1) if len(t) else np.zeros((0, len(machines)), dtype=int)
    keep = (t >= start_s - _EPS) & (t < end_s)
    t, states = t[keep], states[keep]
    step = float(np.median(np.diff(t))) if len(t) > 1 else math.nan
    if len(t) and t[0] > start_s:  # the state before the first sample after the warm-up is not known
        t, states = np.concatenate([[start_s], t]), np.vstack([np.full((1, states.shape[1]), -1), states])
    periods = [active_periods(t, states[:, i], start_s, end_s) for i in range(len(machines))]
    return shifting_bottlenecks(machines, periods, start_s, end_s, step, float(int(keep.sum())))


def from_replication(r, machines: Sequence[str], warmup_s: float) -> BottleneckTimeline:
    """One replication (``app.sim.engine.ReplicationResult``) after its warm-up."""
    return from_series(machines, r.series_t, r.series_state, warmup_s, warmup_s + r.measured_s)


@dataclass(frozen=True)
class BottleneckShares:
    """Sole and shifting bottleneck shares per machine over several windows.

    ``sole`` / ``shifting``: per machine, the mean share (0–1) with its 95% interval over replications (clipped
    to 0–1, ``ShareEstimate``); for
    recorded history (``source`` "history") the share of the stretches' summed time, measured (interval 0).
    ``needs``: "" when every window holds enough observations, else what is missing, in words.
    """

    machines: list[str]
    sole: dict[str, ShareEstimate]
    shifting: dict[str, ShareEstimate]
    timelines: tuple[BottleneckTimeline, ...]
    source: str = "simulation"
    needs: str = ""
    warmup_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def enough(self) -> bool:
        return not self.needs and bool(self.timelines)

    @property
    def resolution_s(self) -> float | None:
        steps = [t.resolution_s for t in self.timelines if t.resolution_s is not None and math.isfinite(t.resolution_s)]
        return max(steps) if steps else None

    @property
    def analysed_s(self) -> float:
        return float(sum(t.analysed_s for t in self.timelines))

    def total(self, machine: str) -> float:
        """Mean sole + shifting share of ``machine``."""
        return self.sole[machine].mean + self.shifting[machine].mean

    def leader(self) -> tuple[str, float]:
        """The machine that limits the line most (largest sole + shifting share) and that share, through the
        one bottleneck definition (``app.sim.kpis.bottleneck``); ("", nan) without enough data."""
        if not self.enough:
            return "", math.nan
        return bottleneck(self.machines, np.array([self.total(m) for m in self.machines]))

    def resolution_text(self) -> str:
        """How finely the timeline was read: "exact state changes" or "state sampled every 5 min"."""
        step = self.resolution_s
        return "exact state changes" if step is None else f"state sampled every {format_duration(step)}"


def summarise(
    timelines: Sequence[BottleneckTimeline], source: str = "simulation", warmup_s: float = 0.0, exact: bool = False
) -> BottleneckShares:
    """Shares over windows: replications (``source`` "simulation": a mean and a 95% interval per machine) or
    the connected stretches of recorded history (``source`` "history": the shares of their summed time).
    ``exact``: the model has no randomness, so its one replication is exact (interval 0, not "n/a")."""
    timelines = tuple(t for t in timelines if t.analysed_s > 0)
    machines = list(timelines[0].machines) if timelines else []
    if source == "history":
        total = sum(t.analysed_s for t in timelines)
        sole = {m: ShareEstimate(sum(float(t.sole_s[i]) for t in timelines) / total, 0.0, 1) for i, m in enumerate(machines)}
        shifting = {
            m: ShareEstimate(sum(float(t.shifting_s[i]) for t in timelines) / total, 0.0, 1) for i, m in enumerate(machines)
        }
        observations = float(sum(t.observations for t in timelines))
        unit = "state changes per machine"
    else:
        sole = {m: share_estimate([t.sole_share[i] for t in timelines], exact) for i, m in enumerate(machines)}
        shifting = {m: share_estimate([t.shifting_share[i] for t in timelines], exact) for i, m in enumerate(machines)}
        observations = min((t.observations for t in timelines), default=0.0)
        unit = "state samples per replication"
    needs = ""
    if not timelines:
        needs = "not enough data — no analysed time"
    elif observations < MIN_OBSERVATIONS:
        needs = f"not enough data — needs ≥ {MIN_OBSERVATIONS} {unit} (has {observations:.0f})"
    return BottleneckShares(machines, sole, shifting, timelines, source, needs, warmup_s)


def summarise_run(results: Sequence, machines: Sequence[str], warmup_s: float, exact: bool = False) -> BottleneckShares:
    """The replications of a simulation run (``ReplicationResult``s) after the warm-up (``exact``: a model
    without randomness, its one replication exact)."""
    return summarise([from_replication(r, machines, warmup_s) for r in results], "simulation", warmup_s, exact)


# -- what a view shows: texts and the timeline strip (no Qt) ----------------------------------------------------
def total_estimate(shares: BottleneckShares, machine: str) -> ShareEstimate:
    """Sole + shifting share of ``machine`` with its 95% interval over the windows (measured for history)."""
    i = shares.machines.index(machine)
    if shares.source == "history" or (len(shares.timelines) == 1 and shares.sole[machine].half_width == 0):
        return ShareEstimate(shares.total(machine), 0.0, 1)
    return share_estimate([t.sole_share[i] + t.shifting_share[i] for t in shares.timelines])


def share_text(e: ShareEstimate | Estimate | None) -> str:
    """A share in percent, rounded as its interval allows: ``62 ± 5%``, ``4% (0–9%)`` (the interval reaches
    0 or 100%), ``100%`` (measured or exact), or "not enough data — needs ≥ N replications"."""
    if e is None or not e.n:
        return "—"
    return e.format("%", 100.0)


def about_text(label: str, shares: BottleneckShares) -> str:
    """What a column of shares rests on: ``baseline: 4 replications of 8 h, state sampled every 5 min``."""
    if not shares.timelines:
        return f"{label}: no analysed time"
    if shares.source == "history":
        n = len(shares.timelines)
        what = f"{format_duration(shares.analysed_s)} of connected history in {n} stretch{'es' if n > 1 else ''}"
    else:
        n = len(shares.timelines)
        what = f"{n} replication{'s' if n > 1 else ''} of {format_duration(shares.analysed_s / n)}"
    return f"{label}: {what}, {shares.resolution_text()}" + (f" — {shares.needs}" if shares.needs else "")


def shift_text(baseline: BottleneckShares, scenario: BottleneckShares) -> str:
    """What a scenario does to the bottleneck, in one sentence: ``S2 sole 62 ± 5% → 18 ± 4%; the bottleneck
    moves to S3 (sole + shifting 55 ± 6%)``; the runner-up is named when the intervals cannot tell the two apart."""
    if not baseline.enough or not scenario.enough:
        missing = baseline if not baseline.enough else scenario
        return f"Bottlenecks: {'baseline' if missing is baseline else 'scenario'} — {missing.needs or 'no analysed time'}"
    was, _ = baseline.leader()
    now, _ = scenario.leader()
    shown = [baseline.sole[was], total_estimate(scenario, now)] + ([scenario.sole[was]] if was in scenario.sole else [])
    needed = max(e.needed for e in shown)
    if needed:
        has = min(len(baseline.timelines), len(scenario.timelines))
        return (
            f"Bottlenecks: not enough data — needs ≥ {needed} replications to tell which machine limits the line "
            f"(has {has}; each share within ± {MAX_HALF_WIDTH * 100:.0f} points)"
        )
    after = share_text(scenario.sole.get(was)) if was in scenario.sole else "not in the scenario"
    text = f"{was} sole {share_text(baseline.sole[was])} → {after}"
    if now != was:
        text += f"; the bottleneck moves to {now} (sole + shifting {share_text(total_estimate(scenario, now))})"
    else:
        text += f"; {was} stays the bottleneck (sole + shifting {share_text(total_estimate(scenario, now))})"
    close = runner_up(scenario)
    if close:
        text += f" — not told apart from {close} at 95%"
    return text


def runner_up(shares: BottleneckShares) -> str:
    """The machine whose sole + shifting share cannot be told apart from the leader's (their 95% intervals
    overlap), or "" when the leader is clear."""
    top, _ = shares.leader()
    if not top or shares.source == "history":
        return ""
    lead = total_estimate(shares, top)
    others = sorted((m for m in shares.machines if m != top), key=shares.total, reverse=True)
    if not others:
        return ""
    second = total_estimate(shares, others[0])
    return others[0] if second.n and lead.n and second.high >= lead.low else ""


def whisker_note() -> str:
    """What the bar chart's whiskers say."""
    return (
        "Whiskers: 95% intervals (within 0–100%). A dashed whisker without a bar: the share is not known to "
        f"within ± {MAX_HALF_WIDTH * 100:.0f} points, only its sole + shifting range is shown."
    )


def _cell(e: ShareEstimate | None, measured: bool = False) -> str:
    """A share's cell; a ``measured`` one (recorded history: no interval of its own) to whole per cent, as the
    comparison's Actual column rounds a share of time (docs/what-if.md): ``73%``, not ``73.34%``."""
    if e is None or not e.n:
        return "—"
    if measured and math.isfinite(e.mean):
        return "< 1%" if 0 < e.mean < 0.005 else f"{e.mean * 100:.0f}%"
    return e.short()


def table_note() -> str:
    """What a table cell reading "needs ≥ N replications" means."""
    return (
        f"“needs ≥ N replications”: not enough data — the share's 95% interval is wider than ± {MAX_HALF_WIDTH * 100:.0f} "
        "points; N replications would bring it within, at the spread seen. (a–b%): the interval, cut at 0 and 100%."
    )


def share_rows(sources: dict[str, BottleneckShares]) -> tuple[list[str], list[list[str]]]:
    """A table of shares side by side: machine, then sole and shifting per source (the machines any source
    saw as a bottleneck first, by their largest share)."""
    header = ["Machine"] + [f"{label} {kind}" for label in sources for kind in ("sole", "shifting")]
    machines: list[str] = []
    for s in sources.values():
        machines += [m for m in s.machines if m not in machines]
    best = {m: max((s.total(m) for s in sources.values() if m in s.sole and s.timelines), default=0.0) for m in machines}
    machines.sort(key=lambda m: -(best[m] if math.isfinite(best[m]) else 0.0))
    rows = []
    for m in machines:
        row = [m]
        for s in sources.values():
            measured = s.source == "history"
            row += [_cell(s.sole.get(m), measured) if s.enough else "—", _cell(s.shifting.get(m), measured) if s.enough else "—"]
        rows.append(row)
    return header, rows


def strip(shares: BottleneckShares) -> list[tuple[float, float, str, bool]]:
    """The timeline to draw, in hours: (from, to, machine, shifting). A simulation's first replication from
    the warm-up's end; recorded history's stretches laid end to end (connected hours, gaps left out)."""
    out: list[tuple[float, float, str, bool]] = []
    chosen = shares.timelines if shares.source == "history" else shares.timelines[:1]
    offset = 0.0
    for t in chosen:
        at = offset - t.start_s
        out += [((s.start_s + at) / 3600, (s.end_s + at) / 3600, s.machine, s.shifting) for s in t.spans]
        offset += t.analysed_s
    return out


#: The bar chart shows at most this many machines (the largest shares); the table lists them all.
CHART_MACHINES = 8


def chart_machines(sources: dict[str, BottleneckShares], limit: int = CHART_MACHINES) -> list[str]:
    """The machines worth a bar: those some source found the bottleneck at least 0.5% of the time, the largest
    share first, at most ``limit`` (the table lists every machine)."""
    _header, rows = share_rows(sources)
    best = {m: max((s.total(m) for s in sources.values() if s.enough and m in s.sole), default=0.0) for m, *_ in rows}
    return [m for m, *_ in rows if best[m] >= 0.005][:limit]


def timeline_machines(sources: dict[str, BottleneckShares], limit: int = CHART_MACHINES) -> list[str]:
    """The machines the timeline colours: those longest the bottleneck on the drawn strips, at most ``limit``
    (the rest share one colour, "other")."""
    time: dict[str, float] = {}
    for s in sources.values():
        for a, b, m, _shifting in strip(s):
            time[m] = time.get(m, 0.0) + (b - a)
    return sorted(time, key=lambda m: -time[m])[:limit]


def static_note(static: dict[str, str]) -> str:
    """How this analysis relates to the comparison's headline bottleneck (the largest active share over the
    whole run): ``The headline's bottleneck (baseline CNC-01, scenario CNC-01) is the machine active the
    largest share of the whole run; here the bottleneck is followed in time.``"""
    named = ", ".join(f"{k} {m}" for k, m in static.items() if m)
    if not named:
        return ""
    return (
        f"The headline's bottleneck ({named}) is the machine active the largest share of the whole run; "
        "here it is followed in time: at each moment the machine with the longest uninterrupted active period."
    )
