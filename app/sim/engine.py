"""The discrete-event engine: one replication of a production system.

Semantics
---------
- A **station** has ``servers`` parallel servers and an input buffer of ``buffer`` places; it holds at
  most ``servers + buffer`` parts (in service, blocked, waiting, or travelling to it).
- **Blocking after service**: a finished part whose next station is full stays on its server, which is
  then *blocked*, until a place frees; a place is reserved before a part starts travelling.
- **Transport** between consecutive stations takes the route length divided by the transport speed.
- **Sources** receive orders for parts of one type with their inter-arrival distribution, whatever the
  line is doing; an order whose first station is full waits at the source (the **backlog**, first come
  first served) until a place frees. Demand beyond capacity is so never lost silently: it is the backlog's
  growth. Lead time is measured from entering the first station and, separately, from the order's arrival.
- **CONWIP** (``wip_cap``): with a cap, an order is admitted only while fewer parts than the cap are in the
  system; at the cap it waits at its source, and each part that leaves lets the longest-waiting source in.
- **Failures** are exponential (MTBF, MTTR) in calendar time, or with ``failure_clock`` "operating" in
  the station's working time (operation-dependent: the clock runs only while a server runs); a failure
  interrupts work, which resumes where it stopped after repair (pre-emptive resume).
- **Calendar** (``model.timetable``): outside the working intervals (off shift, in a break, on a holiday)
  and in a station's planned maintenance window no work progresses: it stops where it is and resumes at
  the next working time (pre-emptive resume). Sources whose orders arrive on shift draw the time between
  orders in working time; the others keep receiving orders, which wait.
- **Setups**: a server that changes part type spends ``setup_s`` before processing.
- **Scrap and rework**: a finished part is scrapped (it leaves the system, counted per part type) with
  the station's ``scrap`` share, or sent back with its ``rework_p`` share to station ``rework_to``, whose
  position on its route it continues from (rework on the same station is done at once by the same server).
- Statistics restart at the end of the **warm-up**; parts are counted when they leave the system.
- A run may start from a given state (``app.sim.start_state.StartState``: parts at each station, work left
  on each server, machines down) instead of an empty line; it then has no warm-up. Parts placed at the
  start count their lead time from time 0.

States of a server: ``starved`` (idle, nothing to do), ``setup``, ``running``, ``blocked``; a station
that is stopped counts all its servers as ``maintenance`` (a planned window), else ``off_shift``, else
``down`` (a failure).
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from app.model.signals import MACHINE_STATES
from app.sim.assembly import kit_buffers
from app.sim.batch import releasing
from app.sim.failures import ServerFailures
from app.sim.model import SimModel
from app.sim.orders import waiting_orders
from app.sim.routing import BRANCH as _BRANCH
from app.sim.routing import OUT as _OUT
from app.sim.routing import route_tables
from app.sim.start_state import StartState
from app.sim.streams import exponential, sampler, uniform

if TYPE_CHECKING:
    from app.sim.trace import StateTrace

STATES = MACHINE_STATES  # one definition: app.model.signals
_RUN, _SETUP, _IDLE, _BLOCKED = 0, 1, 2, 3
# Codes of a stopped station, by precedence: planned maintenance, then off shift, then a failure.
_DOWN, _OFF, _MAINT = (MACHINE_STATES.index(n) for n in ("down", "off_shift", "maintenance"))
_N_STATES = len(MACHINE_STATES)
#: What a station of several servers *shows* (the plant's one State tag): why it is stopped, else the first of
#: these states any of its servers is in, else starved — running while any server runs. One definition for the
#: plant's tag (``Engine.snapshot``) and the engine's books of shown time (``ReplicationResult.shown_state_s``).
SHOWN_PRECEDENCE = (_RUN, _SETUP, _BLOCKED)
# Rank of each state code in that precedence (starved last; a stop's code is never outranked by a server's).
_SHOWN_RANK = [SHOWN_PRECEDENCE.index(c) if c in SHOWN_PRECEDENCE else len(SHOWN_PRECEDENCE) for c in range(4)]
_SHOWN_RANK += [-1] * (_N_STATES - 4)
# A server of its own down (failures per server) ranks below starved: its station shows down only when all are.
_SHOWN_RANK[_DOWN] = len(SHOWN_PRECEDENCE) + 1
# Event codes (small ints compare fast in heap tuples)
_ARRIVAL, _SETUP_DONE, _DONE, _ENTER, _FAIL, _REPAIR, _SAMPLE, _WARMUP, _SHIFT, _MAINTAIN, _SRV_FAIL, _SRV_REPAIR = range(12)


class Cancelled(Exception):
    """The run was cancelled through its ``cancel`` callback."""


@dataclass
class ReplicationResult:
    """What one replication measured after the warm-up."""

    replication: int
    seed_entropy: int
    measured_s: float
    throughput: list[int]  # parts that left, per part type
    lead_time_sum_s: list[float]  # summed lead times of those parts, per part type
    wip_area: float  # ∫ parts in system dt (exact, from every change)
    state_s: np.ndarray  # (stations, states) server-seconds per state (MACHINE_STATES order), normalised by servers
    completed_ops: np.ndarray  # (stations,) operations finished
    energy_kwh: np.ndarray  # (stations,)
    events: int
    wall_s: float
    series_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    series_wip: np.ndarray = field(default_factory=lambda: np.zeros(0))
    series_out: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # cumulative exits per part type
    series_queue: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # parts at each station
    series_state: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int8))  # dominant state code
    # Exact time integrals and counts after the warm-up (NaN in results stored before they were kept):
    station_wip_area: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (stations,) ∫ parts held dt
    order_lead_sum_s: list[float] = field(default_factory=list)  # per part type: Σ (exit − order arrival)
    orders: list[float] = field(default_factory=list)  # per part type: orders that arrived
    backlog_start: list[float] = field(default_factory=list)  # per part type: orders waiting at the warm-up's end
    backlog_end: list[float] = field(default_factory=list)  # per part type: orders waiting at the end
    backlog_area: list[float] = field(default_factory=list)  # per part type: ∫ orders waiting dt
    scrap: list[int] = field(default_factory=list)  # per part type: parts scrapped
    scrap_time_sum_s: list[float] = field(default_factory=list)  # per part type: their summed times in the system
    used: list[int] = field(default_factory=list)  # per part type: parts used up in an assembly (not made)
    used_time_sum_s: list[float] = field(default_factory=list)  # per part type: their summed times in the system
    #: (stations, states) seconds the *station* showed each state (``shown_state``: running while any server
    #: runs) — what a plant's one State tag records; equal to ``state_s`` for a station of one server. Empty:
    #: not kept (results stored before it was).
    shown_state_s: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    @property
    def total_throughput(self) -> int:
        return int(sum(self.throughput))


def shown_state(states: list[int], halted: int) -> int:
    """The state code a station shows: ``halted`` (why it is stopped) if set, else running while any server
    runs, else setup, else blocked (``SHOWN_PRECEDENCE``), else down if every server is down (failures per
    server: with one up the station can take work), else starved.

    >>> shown_state([_IDLE, _BLOCKED, _RUN], 0), shown_state([_IDLE, _BLOCKED], 0), shown_state([_RUN], _DOWN)
    (0, 3, 4)
    >>> shown_state([_DOWN, _IDLE], 0), shown_state([_DOWN, _DOWN], 0)
    (2, 4)
    """
    if halted:
        return halted
    for code in SHOWN_PRECEDENCE:
        if code in states:
            return code
    if states and states.count(_DOWN) == len(states):
        return _DOWN
    return _IDLE


def _dominant(states: list[int], halted: int) -> int:
    """The state shown for a station in the time series: why it is stopped, else the most common server state."""
    if halted:
        return halted
    return max(set(states), key=states.count)


def replication_seeds(seed: int, n: int) -> list[np.random.SeedSequence]:
    """Independent seed sequences for replications 0..n-1 of a run (same seed → same streams)."""
    return np.random.SeedSequence(seed).spawn(n)


def simulate(
    model: SimModel,
    replication: int = 0,
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    start: StartState | None = None,
    trace: StateTrace | None = None,
) -> ReplicationResult:
    """Run one replication of ``model`` to its horizon and return what it measured.

    ``progress(fraction)`` is called now and then; ``cancel()`` returning True stops the run with
    ``Cancelled``. Same model and replication number → same result. ``start``: begin from this state
    instead of an empty line (the model must then have no warm-up). ``trace``: note every state change in
    its window (``app.sim.trace``; off by default, and then free).
    """
    eng = Engine(model, replication, start, trace)
    eng.run_until(model.horizon_s, progress, cancel)
    return eng.finish()


class _RunUntil(Protocol):
    def __call__(
        self, t_stop: float, progress: Callable[[float], None] | None = None, cancel: Callable[[], bool] | None = None
    ) -> None: ...


class Engine:
    """One replication that can be advanced step by step (the live plant runs it against the clock).

    Attributes set by the builder: ``run_until(t, progress=None, cancel=None)``, ``snapshot()``,
    ``force_down(station, duration_s)``, ``rescale(param, index, factor)``, ``finish()`` and ``time()``.
    """

    run_until: _RunUntil
    force_down: Callable[[int, float], None]
    rescale: Callable[[str, int, float], None]
    snapshot: Callable[[], dict]
    finish: Callable[[], ReplicationResult]
    time: Callable[[], float]

    def __init__(
        self, model: SimModel, replication: int = 0, start: StartState | None = None, trace: StateTrace | None = None
    ):
        self.model = model
        self.replication = replication
        if start is not None:
            problems = start.problems(model)
            if model.warmup_s > 0:
                problems.append(f"a run from a start state has no warm-up, the model has {model.warmup_s:g} s")
            if problems:
                raise ValueError("; ".join(problems))
        _assemble(self, model, replication, start, trace)


def _assemble(
    eng: Engine, model: SimModel, replication: int, initial: StartState | None = None, trace: StateTrace | None = None
) -> None:
    # One closure scope for all state: cell-variable access keeps the event loop about twice as fast as attributes.
    wall0 = time.perf_counter()
    seq_root = replication_seeds(model.seed, replication + 1)[replication]
    st = model.stations
    ns, npart = len(st), len(model.routes)
    children = seq_root.spawn(3 * ns + npart)
    rngs = [np.random.default_rng(c) for c in children]
    proc = [sampler(s.cycle, rngs[i]) for i, s in enumerate(st)]
    fail = [exponential(s.mtbf_s, rngs[ns + i]) if s.mtbf_s else None for i, s in enumerate(st)]
    repair = [exponential(s.mttr_s, rngs[2 * ns + i]) if s.mttr_s else None for i, s in enumerate(st)]
    inter = [sampler(d, rngs[3 * ns + k]) for k, d in enumerate(model.interarrival)]
    # Scrap and rework draw from streams of their own, spawned after the others (which so stay as they were).
    judged = [i for i, s in enumerate(st) if s.scrap or s.rework_p]
    quality: list[Callable[[], float] | None] = [None] * ns
    for i, child in zip(judged, seq_root.spawn(len(judged)) if judged else [], strict=True):
        quality[i] = uniform(np.random.default_rng(child))
    scrap_p = [s.scrap for s in st]
    rework_cut = [s.scrap + s.rework_p for s in st]
    rework_to = [s.rework_to for s in st]
    # The model's own samplers: ``rescale`` wraps them, so a drifted stream draws the same random numbers.
    base: dict[str, list[Callable[[], float] | None]] = {
        "cycle": list(proc),
        "mtbf": list(fail),
        "mttr": list(repair),
        "arrival": list(inter),
    }
    streams: dict[str, list] = {"cycle": proc, "mtbf": fail, "mttr": repair, "arrival": inter}
    routes = model.routes
    # After each step of each route: the next step (OUT: leave; BRANCH: drawn) and the travel time to it.
    tables = route_tables(model)
    next_step, next_travel, branch_at = tables.next_step, tables.next_travel_s, tables.branches
    # Each source with branches draws its parts' ways from a stream of its own, spawned after all the others.
    branching = [k for k in range(npart) if branch_at[k]]
    way: list[Callable[[], float] | None] = [None] * npart
    for k, child in zip(branching, seq_root.spawn(len(branching)) if branching else [], strict=True):
        way[k] = uniform(np.random.default_rng(child))
    setup_s = [s.setup_s for s in st]
    servers = [s.servers for s in st]
    # a batch station's parts wait in its batch buffer (added below): it holds only the batches on its servers
    capacity = [s.servers * s.batch if s.batch > 1 else s.servers + s.buffer for s in st]

    horizon, warmup = model.horizon_s, model.warmup_s
    heap: list[tuple] = []
    push, pop = heapq.heappush, heapq.heappop
    counter = itertools.count()

    # Parts: type, when it entered the first station, when its order arrived, position in its route.
    p_type: list[int] = []
    p_born: list[float] = []
    p_order: list[float] = []
    p_pos: list[int] = []

    # Assembly stations: each line of a bill of materials gets a kit buffer of its own, a station of no servers
    # after the real ones (index ns + …) that the routes of that part type lead to instead; a kit complete in
    # every buffer goes onto a free server of the assembly station (app.sim.assembly).
    kits = kit_buffers(model)
    routes = kits.routes
    nq = ns + len(kits.owner)  # stations and kit buffers
    is_assembly = kits.is_assembly
    capacity += kits.capacity

    # Stations (and kit buffers)
    occupancy = [0] * nq  # parts held: in service/blocked + queued + reserved in transit
    queue: list[deque[int]] = [deque() for _ in range(nq)]
    free = [list(range(servers[i])) if i < ns else [] for i in range(nq)]  # idle server indices
    srv_part = [[-1] * servers[i] for i in range(ns)]
    srv_state = [[_IDLE] * servers[i] for i in range(ns)]
    srv_ver = [[0] * servers[i] for i in range(ns)]
    srv_end = [[0.0] * servers[i] for i in range(ns)]
    srv_left = [[0.0] * servers[i] for i in range(ns)]
    srv_last_type = [[-1] * servers[i] for i in range(ns)]
    srv_rest: list[list[deque[int]]] = [[deque() for _ in range(servers[i])] if st[i].batch > 1 else [] for i in range(ns)]
    halt = [0] * ns  # why the station is stopped (a state code: _MAINT, _OFF, _DOWN), 0 while it may work
    failed = [False] * ns
    in_maint = [False] * ns
    off = [False]  # the plant is outside its working time (a calendar)
    last_cycle = [s.cycle.mean_s for s in st]
    # (station, server) blocked on this station, or (-1, source)
    waiters: list[deque[tuple[int, int]]] = [deque() for _ in range(nq)]
    # Orders: each source's next order to admit arrives at order_t[k] (already, when the source is waiting).
    # Orders waiting at a source are not stored one by one: they are the arrivals between order_t[k] and now,
    # drawn from the source's stream when they are admitted (or counted at the end).
    order_t = [0.0] * npart
    wip_cap = model.wip_cap
    cap_waiting: deque[int] = deque()  # sources whose next order waits for a part to leave (CONWIP)

    # Statistics
    acc_l = [[0.0] * _N_STATES for _ in range(ns)]
    since = [[0.0] * servers[i] for i in range(ns)]  # when each server entered its current state
    ops = [0] * ns
    ops_total = [0] * ns  # operations before the warm-up reset (live part counters never go back)
    out_n = [0] * npart
    lead_sum = [0.0] * npart
    order_lead = [0.0] * npart
    admitted_by_w = [0] * npart  # admissions at or before the warm-up's end
    admitted_ordered_by_w = [0] * npart  # admitted orders that had arrived by the warm-up's end
    admitted = [0] * npart
    backlog_area = [0.0] * npart  # ∫ waiting orders dt after the warm-up, of the orders admitted so far
    wip = 0
    wip_area = 0.0
    wip_last = 0.0
    occ_area = [0.0] * nq  # ∫ occupancy dt per station after the warm-up
    occ_last = [0.0] * nq
    used_n = [0] * npart  # parts used up in an assembly, per part type
    used_time = [0.0] * npart
    cum_out = [0] * npart  # exits since t=0 (for the series)
    scrap_n = [0] * npart
    scrap_time = [0.0] * npart
    # part → (step, travel time) it goes to next, once decided otherwise than by a lookup: a blocked part keeps the
    # way it drew, a reworked one goes back
    decided: dict[int, tuple[int, float]] = {}
    series_t, series_wip, series_out, series_queue, series_state = [], [], [], [], []

    def account(i: int, now: float) -> None:
        """Book every server's time in its current state up to ``now`` (before down/up switches, at the end)."""
        a, sn, ss, h = acc_l[i], since[i], srv_state[i], halt[i]
        for s in range(servers[i]):
            a[h or ss[s]] += now - sn[s]
            sn[s] = now

    # What a station of several servers shows (one server: its state is the station's, no books needed): the
    # servers in each state are counted at every change of one; the shown state changes only when a server
    # enters a state that outranks it, or the last server leaves it, and only then is its time booked.
    multi = [c > 1 for c in servers]
    rank = _SHOWN_RANK
    n_in = [[0] * _N_STATES for _ in range(ns)]  # servers of the station in each state
    shown = [_IDLE] * ns
    shown_since = [0.0] * ns
    acc_shown = [[0.0] * _N_STATES for _ in range(ns)]

    def reshow(i: int, now: float) -> None:
        """Station i's servers or its halt changed: book the time of the state it showed if that changes."""
        code = halt[i]
        if not code:
            cnt = n_in[i]
            code = _IDLE
            for c in SHOWN_PRECEDENCE:  # shown_state's definition, on the counts
                if cnt[c]:
                    code = c
                    break
            else:
                if cnt[_DOWN] == servers[i]:
                    code = _DOWN
        was = shown[i]
        if code != was:
            acc_shown[i][was] += now - shown_since[i]
            shown[i] = code
            shown_since[i] = now

    def set_state(i: int, s: int, new: int, now: float) -> None:
        sn = since[i]
        ss = srv_state[i]
        was = ss[s]
        acc_l[i][halt[i] or was] += now - sn[s]
        sn[s] = now
        ss[s] = new
        if multi[i]:
            cnt = n_in[i]
            cnt[was] -= 1
            cnt[new] += 1
            cur = shown[i]
            if (was == cur and not cnt[was]) or rank[new] < rank[cur]:
                reshow(i, now)

    def start(i: int, s: int, part: int, now: float) -> None:
        """Server s of station i takes part (setup first if the part type changed)."""
        srv_part[i][s] = part
        t = p_type[part]
        sn = since[i]
        ss = srv_state[i]
        was = ss[s]
        acc_l[i][halt[i] or was] += now - sn[s]
        sn[s] = now
        if setup_s[i] > 0 and srv_last_type[i][s] not in (-1, t):
            new = ss[s] = _SETUP
            end = now + setup_s[i]
            srv_end[i][s] = end
            push(heap, (end, next(counter), _SETUP_DONE, i, s, srv_ver[i][s]))
        else:
            new = ss[s] = _RUN
            d = proc[i]()
            last_cycle[i] = d
            end = now + d
            srv_end[i][s] = end
            push(heap, (end, next(counter), _DONE, i, s, srv_ver[i][s]))
        srv_last_type[i][s] = t
        if multi[i]:
            cnt = n_in[i]
            cnt[was] -= 1
            cnt[new] += 1
            cur = shown[i]
            if (was == cur and not cnt[was]) or rank[new] < rank[cur]:
                reshow(i, now)

    def enter(j: int, part: int, now: float) -> None:
        """Part arrives at station j (its place is already counted in occupancy)."""
        if free[j] and not halt[j]:
            start(j, free[j].pop(), part, now)
        else:
            queue[j].append(part)
            if j >= ns:  # a kit buffer: perhaps a kit is complete
                assemble(kits.owner[j - ns], now)

    def assemble(a: int, now: float) -> None:
        """Assembly station a starts a kit on each free server while every kit buffer holds its parts: the
        first part of the first line goes on as the unit, the others are used up; their places free."""
        kit = kits.lines[a]
        gathers = kits.batched[a]  # a batch station: the others ride along on the server (app.sim.batch)
        while free[a] and not halt[a] and all(len(queue[q]) >= n for q, n in kit):
            unit = -1
            rest: deque[int] = deque()
            for q, n in kit:
                for _ in range(n):
                    part = queue[q].popleft()
                    if unit < 0:
                        unit = part
                    elif gathers:
                        rest.append(part)
                    else:
                        use_up(part, now)
                occupy(q, -n, now)
            occupy(a, 1 + len(rest), now)
            s = free[a].pop()
            if gathers:
                srv_rest[a][s] = rest
            start(a, s, unit, now)
            for q, n in kit:  # the places freed let waiting parts in
                for _ in range(n):
                    if not waiters[q]:
                        break
                    wi, ws = waiters[q].popleft()
                    if wi < 0:
                        admit(ws, now)
                    else:
                        move_on(wi, ws, srv_part[wi][ws], now)

    def leave(part: int, now: float, count: list, time_sum: list) -> None:
        """A part leaves the system before its routing's end (used up in an assembly, scrapped): counted per
        part type in ``count`` and ``time_sum`` after the warm-up. (The routing's end is inlined in ``move_on``.)"""
        nonlocal wip, wip_area, wip_last
        wip_area += wip * (now - wip_last)
        wip_last = now
        wip -= 1
        if now >= warmup:
            k = p_type[part]
            count[k] += 1
            time_sum[k] += now - p_born[part]

    def free_cards(now: float) -> None:
        """Cards freed (a part left): the longest-waiting sources go in while the WIP cap allows."""
        while cap_waiting and wip < (wip_cap or 0):
            admit(cap_waiting.popleft(), now)

    def use_up(part: int, now: float) -> None:
        """A part goes into an assembled unit: it leaves the system (counted per part type, not as made)."""
        leave(part, now, used_n, used_time)
        free_cards(now)

    def occupy(i: int, delta: int, now: float) -> None:
        """Station i holds ``delta`` more parts from now (its exact time-average follows)."""
        occ_area[i] += occupancy[i] * (now - occ_last[i])
        occ_last[i] = now
        occupancy[i] += delta

    def depart(i: int, s: int, now: float) -> None:
        """Server s of station i has handed its part on: free it, refill it, and release one place."""
        srv_part[i][s] = -1
        occ_area[i] += occupancy[i] * (now - occ_last[i])  # occupy(i, -1, now), inlined: the hottest path
        occ_last[i] = now
        occupancy[i] -= 1
        if queue[i] and not halt[i]:
            start(i, s, queue[i].popleft(), now)
        else:
            set_state(i, s, _IDLE, now)
            free[i].append(s)
            if is_assembly[i]:  # its parts wait in its kit buffers (no one waits for its own place)
                assemble(i, now)
        if waiters[i]:
            wi, ws = waiters[i].popleft()
            if wi < 0:
                admit(ws, now)
            else:
                move_on(wi, ws, srv_part[wi][ws], now)

    def move_on(i: int, s: int, part: int, now: float) -> None:
        """Part finished at station i, server s: leave the system, travel on, or block."""
        nonlocal wip, wip_area, wip_last
        if decided and part in decided:
            pos, travel = decided.pop(part)
        else:
            k, at = p_type[part], p_pos[part]
            pos = next_step[k][at]
            if pos == _BRANCH:
                draw = way[k]
                assert draw is not None  # a source with branches has its stream
                pos, travel = branch_at[k][at].draw(draw())
            else:
                travel = next_travel[k][at]
        if pos == _OUT:
            wip_area += wip * (now - wip_last)
            wip_last = now
            wip -= 1
            k = p_type[part]
            cum_out[k] += 1
            if now >= warmup:
                out_n[k] += 1
                lead_sum[k] += now - p_born[part]
                order_lead[k] += now - p_order[part]
            depart(i, s, now)
            while cap_waiting and wip < (wip_cap or 0):  # a card is free: the longest-waiting source goes in
                admit(cap_waiting.popleft(), now)
            return
        j = routes[p_type[part]][pos]
        if occupancy[j] < capacity[j]:
            occ_area[j] += occupancy[j] * (now - occ_last[j])  # occupy(j, 1, now), inlined
            occ_last[j] = now
            occupancy[j] += 1
            p_pos[part] = pos
            if travel > 0:
                push(heap, (now + travel, next(counter), _ENTER, j, part, 0))
            depart(i, s, now)
            if travel <= 0:
                enter(j, part, now)
        else:
            decided[part] = (pos, travel)  # it waits for that place, whatever it drew
            if srv_state[i][s] < _BLOCKED:  # not already blocked, nor down (a batch handed on by a down server)
                set_state(i, s, _BLOCKED, now)
            waiters[j].append((i, s))

    def scrap(i: int, s: int, part: int, now: float) -> None:
        """The part finished at station i, server s, is scrapped: it leaves the system."""
        leave(part, now, scrap_n, scrap_time)
        depart(i, s, now)
        free_cards(now)

    def judge(i: int, s: int, part: int, now: float) -> None:
        """Station i's quality check of a finished part: scrapped, reworked or passed on."""
        check = quality[i]
        assert check is not None  # only stations with a check are judged
        u = check()
        if u < scrap_p[i]:
            scrap(i, s, part, now)
        elif u < rework_cut[i]:
            j = rework_to[i]
            if j == i:  # reworked at once by the same server
                start(i, s, part, now)
                return
            route, pos = routes[p_type[part]], p_pos[part]
            while route[pos] != j:  # back to the route's last step at j before this one (checked to exist)
                pos -= 1
            decided[part] = (pos, model.transport_s.get((i, j), 0.0))
            move_on(i, s, part, now)
        else:
            move_on(i, s, part, now)

    def admit(k: int, now: float) -> None:
        """Source k puts its due orders into the first station of its route while there is a place, then
        waits for the next order (or, with the station full, for a place)."""
        nonlocal wip, wip_area, wip_last
        j = routes[k][0]
        while True:
            if wip_cap is not None and wip >= wip_cap:
                cap_waiting.append(k)
                return
            if occupancy[j] >= capacity[j]:
                waiters[j].append((-1, k))
                return
            a = order_t[k]
            part = len(p_type)
            p_type.append(k)
            p_born.append(now)  # lead time runs from entering the line…
            p_order.append(a)  # …and, separately, from the order's arrival
            p_pos.append(0)
            admitted[k] += 1
            if now <= warmup:
                admitted_by_w[k] += 1
            if a <= warmup:
                admitted_ordered_by_w[k] += 1
            backlog_area[k] += max(now, warmup) - max(a, warmup)
            occupy(j, 1, now)
            wip_area += wip * (now - wip_last)
            wip_last = now
            wip += 1
            enter(j, part, now)
            gap = inter[k]()
            order_t[k] = cal_after(a, gap) if shifted[k] else a + gap
            if order_t[k] > now:
                push(heap, (order_t[k], next(counter), _ARRIVAL, k, 0, 0))
                return

    def place(initial: StartState) -> None:
        """Put the start state's parts on their servers and in their buffers, and its machines down."""
        nonlocal wip

        def new_part(k: int, i: int) -> int:
            p_type.append(k)
            p_born.append(0.0)
            p_order.append(0.0)
            p_pos.append(model.routes[k].index(i))  # a station visited twice: its first visit
            return len(p_type) - 1

        for i, s0 in enumerate(initial.stations):
            is_down = s0.down_for_s is not None
            for k, left in s0.in_service:
                s = free[i].pop()
                srv_part[i][s] = new_part(k, i)
                srv_state[i][s] = _RUN
                srv_last_type[i][s] = k
                if is_down:
                    srv_left[i][s] = left  # resumed at the repair
                else:
                    srv_end[i][s] = left
                    push(heap, (left, next(counter), _DONE, i, s, srv_ver[i][s]))
            for k in s0.waiting:
                q = routes[k][model.routes[k].index(i)]  # an assembly station's parts wait in their kit buffers
                queue[q].append(new_part(k, i))
                occupancy[q] += 1
            occupancy[i] += len(s0.in_service)
            wip += s0.parts
            if is_down:
                failed[i] = True
                halt[i] = _DOWN
                push(heap, (s0.down_for_s, next(counter), _REPAIR, i, 0, 0))  # its repair starts the failure clock

    def rehalt(i: int, now: float) -> None:
        """Station i's reasons to stop changed: book its time, then stop its work or resume it."""
        new = _MAINT if in_maint[i] else _OFF if off[0] else _DOWN if failed[i] else 0
        was = halt[i]
        if new == was:
            return
        account(i, now)
        halt[i] = new
        if not was:  # work stops where it is
            for s in range(servers[i]):
                if srv_state[i][s] in (_RUN, _SETUP):
                    srv_left[i][s] = srv_end[i][s] - now
                    srv_ver[i][s] += 1
        elif not new:  # and resumes
            for s in range(servers[i]):
                state = srv_state[i][s]
                if state in (_RUN, _SETUP):
                    end = now + srv_left[i][s]
                    srv_end[i][s] = end
                    push(heap, (end, next(counter), _DONE if state == _RUN else _SETUP_DONE, i, s, srv_ver[i][s]))
            while free[i] and queue[i]:
                start(i, free[i].pop(), queue[i].popleft(), now)
            if is_assembly[i]:
                assemble(i, now)
        if multi[i]:
            reshow(i, now)
        if op_clock[i]:
            op_update(i, now)
        if srv_op[i]:
            srvf.watch_station(i, now)

    # Operation-dependent failures: the time to failure (ttf_left) runs only while a server of the station
    # runs; each stop of that clock invalidates the failure event scheduled for it (fail_ver).
    per_server = [s.failures == "per_server" and fail[i] is not None for i, s in enumerate(st)]
    op_clock = [s.failure_clock == "operating" and fail[i] is not None and not per_server[i] for i, s in enumerate(st)]
    srv_op = [s.failure_clock == "operating" and per_server[i] for i, s in enumerate(st)]
    ttf_left = [0.0] * ns
    busy_since = [-1.0] * ns  # when the failure clock last started (-1: stopped)
    fail_ver = [0] * ns

    def op_update(i: int, now: float) -> None:
        busy = not halt[i] and _RUN in srv_state[i]
        if busy and busy_since[i] < 0:
            busy_since[i] = now
            fail_ver[i] += 1
            push(heap, (now + ttf_left[i], next(counter), _FAIL, i, 0, fail_ver[i]))
        elif not busy and busy_since[i] >= 0:
            ttf_left[i] -= now - busy_since[i]
            busy_since[i] = -1.0
            fail_ver[i] += 1

    if any(op_clock):  # only then do state changes pay for watching the failure clock
        plain_start, plain_set_state = start, set_state

        def start_watched(i: int, s: int, part: int, now: float) -> None:
            plain_start(i, s, part, now)
            if op_clock[i]:
                op_update(i, now)

        def set_state_watched(i: int, s: int, new: int, now: float) -> None:
            plain_set_state(i, s, new, now)
            if op_clock[i]:
                op_update(i, now)

        start, set_state = start_watched, set_state_watched

    # Failures per server (app.sim.failures): only a model with such stations pays for them.
    def _schedule(t: float, code: int, i: int, s: int, ver: int) -> None:
        push(heap, (t, next(counter), code, i, s, ver))

    srvf = ServerFailures(
        per_server,
        srv_op,
        fail,
        repair,
        srv_state,
        srv_end,
        srv_left,
        srv_ver,
        free,
        queue,
        halt,
        _schedule,
        (_SRV_FAIL, _SRV_REPAIR, _DONE, _SETUP_DONE),
        lambda i, s, new, now: set_state(i, s, new, now),  # looked up at each call: the trace's wrappers see it
        lambda i, s, part, now: start(i, s, part, now),
        lambda i, now: assemble(i, now),
        is_assembly,
    )
    if any(per_server):
        plain_depart = depart

        def depart_watched(i: int, s: int, now: float) -> None:
            if srv_state[i][s] != _DOWN:
                plain_depart(i, s, now)
                return
            # a down server's finished part went on: it frees its place, the server stays down
            srv_part[i][s] = -1
            srvf.released(i, s)
            occupy(i, -1, now)
            if waiters[i]:
                wi, ws = waiters[i].popleft()
                if wi < 0:
                    admit(ws, now)
                else:
                    move_on(wi, ws, srv_part[wi][ws], now)

        depart = depart_watched
    if any(kits.batched):  # batch stations hand their parts on one by one before the server is free

        def hand_on(i: int, s: int, part: int, now: float) -> None:
            (move_on if quality[i] is None else judge)(i, s, part, now)

        depart = releasing(depart, hand_on, occupy, srv_part, srv_rest)
    if any(srv_op):  # operation-dependent clocks per server watch each server's state changes
        plain_start2, plain_set_state2 = start, set_state

        def start_srv_watched(i: int, s: int, part: int, now: float) -> None:
            plain_start2(i, s, part, now)
            if srv_op[i]:
                srvf.watch(i, s, now)

        def set_state_srv_watched(i: int, s: int, new: int, now: float) -> None:
            plain_set_state2(i, s, new, now)
            if srv_op[i]:
                srvf.watch(i, s, now)

        start, set_state = start_srv_watched, set_state_srv_watched

    tt = model.timetable
    cal_after = tt.after if tt is not None else (lambda t, w: t + w)
    shifted = [tt is not None and bool(model.on_shift[k]) for k in range(npart)]

    # Initial events
    if initial is not None:
        place(initial)
    for i in range(ns):
        if multi[i]:
            n_in[i] = [srv_state[i].count(c) for c in range(_N_STATES)]
            shown[i] = shown_state(srv_state[i], halt[i])
    if tt is not None:
        if not tt.working_at(0.0):
            push(heap, (0.0, next(counter), _SHIFT, 0, 0, 0))
        for a, b in tt.intervals:
            if a > 0:
                push(heap, (a, next(counter), _SHIFT, 1, 0, 0))
            push(heap, (b, next(counter), _SHIFT, 0, 0, 0))
        for i, windows in tt.maintenance.items():
            for a, b in windows:
                push(heap, (a, next(counter), _MAINTAIN, i, 1, 0))
                push(heap, (b, next(counter), _MAINTAIN, i, 0, 0))
    for k in range(npart):
        gap = inter[k]()
        order_t[k] = cal_after(0.0, gap) if shifted[k] else gap
        push(heap, (order_t[k], next(counter), _ARRIVAL, k, 0, 0))
    srvf.begin(0.0)
    for i, time_to_fail in enumerate(fail):
        if per_server[i]:
            continue  # its servers' clocks are started (srvf.begin)
        if time_to_fail is not None and op_clock[i]:
            ttf_left[i] = time_to_fail()
            op_update(i, 0.0)
        elif time_to_fail is not None and not failed[i]:
            push(heap, (time_to_fail(), next(counter), _FAIL, i, 0, 0))
    if warmup > 0:
        push(heap, (warmup, next(counter), _WARMUP, 0, 0, 0))
    sample_s = model.sample_s
    one_server = all(c == 1 for c in servers)  # a station's dominant state is its server's
    push(heap, (0.0, next(counter), _SAMPLE, 0, 0, 0))
    if trace is not None:  # only a traced run pays for noting each state change
        start, set_state, rehalt = trace.watch(start, set_state, rehalt, srv_state, halt)

    events = 0
    now = 0.0
    next_check = 8192

    def run_until(
        t_stop: float, progress: Callable[[float], None] | None = None, cancel: Callable[[], bool] | None = None
    ) -> None:
        """Process every event up to simulated time ``t_stop``; the clock then stands at ``t_stop``."""
        nonlocal now, events, next_check, wip_area, wip_last
        t_stop = min(t_stop, horizon)
        while heap and heap[0][0] <= t_stop:
            now, _, code, a, b, c = pop(heap)
            events += 1
            if code == _DONE:
                if c != srv_ver[a][b]:
                    continue  # interrupted by a failure; rescheduled at repair
                ops[a] += 1
                if quality[a] is None:
                    move_on(a, b, srv_part[a][b], now)
                else:
                    judge(a, b, srv_part[a][b], now)
            elif code == _ENTER:
                enter(a, b, now)
            elif code == _ARRIVAL:
                admit(a, now)
            elif code == _SETUP_DONE:
                if c != srv_ver[a][b]:
                    continue
                set_state(a, b, _RUN, now)
                d = proc[a]()
                last_cycle[a] = d
                end = now + d
                srv_end[a][b] = end
                push(heap, (end, next(counter), _DONE, a, b, srv_ver[a][b]))
            elif code == _FAIL:
                if b == 0 and c != fail_ver[a]:
                    continue  # an operating-time failure whose clock stopped meanwhile
                if failed[a]:  # already down (a forced breakdown): the regular failure clock just moves on
                    if b == 0 and not op_clock[a]:
                        push(heap, (now + fail[a](), next(counter), _FAIL, a, 0, 0))
                    continue
                failed[a] = True
                rehalt(a, now)
                if b > 0:  # forced breakdown of a given duration (b = milliseconds)
                    push(heap, (now + b / 1000.0, next(counter), _REPAIR, a, 1, 0))
                else:
                    push(heap, (now + repair[a](), next(counter), _REPAIR, a, 0, 0))
            elif code == _REPAIR:
                failed[a] = False
                if b == 0 and op_clock[a]:
                    ttf_left[a] = fail[a]()  # a new time to failure, counted from the next work (rehalt)
                rehalt(a, now)
                if b == 0 and fail[a] is not None and not op_clock[a]:  # forced repairs leave the failure clock alone
                    push(heap, (now + fail[a](), next(counter), _FAIL, a, 0, 0))
            elif code == _SHIFT:
                off[0] = not a
                for i in range(ns):
                    rehalt(i, now)
            elif code == _MAINTAIN:
                in_maint[a] = bool(b)
                rehalt(a, now)
            elif code == _SRV_FAIL:
                srvf.fail(a, b, c, now)
            elif code == _SRV_REPAIR:
                srvf.repair(a, b, now)
            elif code == _SAMPLE:
                series_t.append(now)
                series_wip.append(wip)
                series_out.append(list(cum_out))
                series_queue.append(kits.held(occupancy) if nq > ns else occupancy[:])
                series_state.append(
                    [h or ss[0] for ss, h in zip(srv_state, halt, strict=True)]
                    if one_server
                    else [_dominant(ss, h) for ss, h in zip(srv_state, halt, strict=True)]
                )
                push(heap, (now + sample_s, next(counter), _SAMPLE, 0, 0, 0))
            elif code == _WARMUP:
                for i in range(ns):
                    account(i, now)
                    acc_l[i][:] = [0.0] * _N_STATES
                    acc_shown[i][:] = [0.0] * _N_STATES
                    shown_since[i] = now
                    ops_total[i] += ops[i]
                    ops[i] = 0
                wip_area = 0.0
                wip_last = now
                for i in range(nq):
                    occ_last[i] = now
                    occ_area[i] = 0.0
            if events >= next_check:
                next_check += 8192
                if progress is not None:
                    progress(now / horizon)
                if cancel is not None and cancel():
                    raise Cancelled()
        now = max(now, t_stop)
        if progress is not None:
            progress(now / horizon)

    def force_down(i: int, duration_s: float) -> None:
        """Break station ``i`` down now for ``duration_s`` (fault injection); ignored if it is down."""
        push(heap, (now, next(counter), _FAIL, i, max(1, int(duration_s * 1000)), 0))

    def rescale(param: str, i: int, factor: float) -> None:
        """From now on draw ``param`` — ``"cycle"``, ``"mtbf"`` or ``"mttr"`` of station ``i``, ``"arrival"``
        (inter-arrival time) of source ``i`` — as the model says, times ``factor`` (1: the model again).

        Each stream keeps its own seeded random numbers, scaled: a drifted run is reproducible and differs
        from the undrifted one by the drift only. Durations already drawn (a cycle under way, the time to
        the next failure) are left as they are; the change applies from the next draw.
        """
        if param not in base:
            raise ValueError(f"unknown parameter {param!r}: expected one of {', '.join(base)}")
        if not (math.isfinite(factor) and factor > 0):
            raise ValueError(f"the factor must be > 0, got {factor}")
        draw = base[param][i]
        if draw is None:
            raise ValueError(f"station {st[i].id} has no failures: its {param} cannot change")
        scaled = draw if factor == 1.0 else (lambda: draw() * factor)
        streams[param][i] = scaled

    def snapshot() -> dict:
        """The live state of every station (for the plant server), as plain lists."""
        return {
            "t": now,
            "state": [shown_state(srv_state[i], halt[i]) for i in range(ns)],
            "busy": [sum(1 for x in srv_state[i] if x <= _SETUP) for i in range(ns)],
            "servers": list(servers),
            "operations": [ops_total[i] + ops[i] for i in range(ns)],
            "occupancy": kits.held(occupancy),
            "capacity": kits.held(capacity),
            "last_cycle_s": list(last_cycle),
            "wip": wip,
            "out": list(cum_out),
        }

    def finish() -> ReplicationResult:
        """Close the books at the current time and return the measurements since the warm-up."""
        nonlocal wip_area, wip_last
        end_t = now
        for i in range(ns):
            account(i, end_t)
            if multi[i]:
                acc_shown[i][shown[i]] += end_t - shown_since[i]
                shown_since[i] = end_t
        wip_area += wip * (end_t - wip_last)
        wip_last = end_t
        for i in range(nq):
            occupy(i, 0, end_t)
        measured = max(end_t - warmup, 1e-9)
        state = np.array(acc_l) / np.array(servers, dtype=float)[:, None]
        busy = (state[:, 0] + state[:, 1]) / measured
        busy_kw = np.array([x.power_busy_kw for x in st])
        idle_kw = np.array([x.power_idle_kw for x in st])
        energy = (busy * busy_kw + (1 - busy) * idle_kw) * measured / 3600.0
        shown_s = state.copy()  # a station of one server shows its server's state
        for i in range(ns):
            if multi[i]:
                shown_s[i] = acc_shown[i]
        return _result(measured, state, energy, shown_s)

    eng.run_until = run_until
    eng.force_down = force_down
    eng.rescale = rescale
    eng.snapshot = snapshot
    eng.finish = finish
    eng.time = lambda: now

    def _orders(end_t: float) -> tuple[list[float], list[float], list[float], list[float]]:
        """Per source: orders that arrived after the warm-up, waiting at its end and at the end, and ∫ waiting dt."""
        orders, start, end, area = [], [], [], []
        for k in range(npart):
            n, n_by_w, pending_area = waiting_orders(order_t[k], end_t, warmup, inter[k], model.interarrival[k].mean_s)
            arrived, arrived_by_w = admitted[k] + n, admitted_ordered_by_w[k] + n_by_w
            orders.append(float(arrived - arrived_by_w))
            start.append(float(arrived_by_w - admitted_by_w[k]))
            end.append(float(n))
            area.append(backlog_area[k] + pending_area)
        return orders, start, end, area

    def _result(measured, state, energy, shown_s):
        orders, backlog_start, backlog_end, area = _orders(now)
        return ReplicationResult(
            replication=replication,
            seed_entropy=int(seq_root.entropy) if isinstance(seq_root.entropy, int) else 0,
            measured_s=measured,
            throughput=out_n,
            lead_time_sum_s=lead_sum,
            wip_area=wip_area,
            state_s=state,
            completed_ops=np.array(ops),
            energy_kwh=energy,
            events=events,
            wall_s=time.perf_counter() - wall0,
            series_t=np.array(series_t),
            # counts as 32-bit integers: a quarter of the bytes to hand back and store than floats
            series_wip=np.array(series_wip, dtype=np.int32),
            series_out=np.array(series_out, dtype=np.int32).reshape(len(series_t), npart),
            series_queue=np.array(series_queue, dtype=np.int32).reshape(len(series_t), ns),
            series_state=np.array(series_state, dtype=np.int8).reshape(len(series_t), ns),
            station_wip_area=np.array(kits.held(occ_area)),
            order_lead_sum_s=list(order_lead),
            orders=orders,
            backlog_start=backlog_start,
            backlog_end=backlog_end,
            backlog_area=area,
            scrap=list(scrap_n),
            scrap_time_sum_s=list(scrap_time),
            shown_state_s=shown_s,
            used=list(used_n),
            used_time_sum_s=list(used_time),
        )
