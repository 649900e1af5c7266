"""From the live state to the state one replication starts from: what the plant said is kept, what it did
not say is drawn from the model, afresh for every replication.

What is known and what is drawn
-------------------------------
- **Parts at a station**: its ``Level`` (in process, waiting, on their way in), at most its capacity; the
  first ``servers`` of them are in service, the rest wait. A station without a level is taken as empty.
- **Which part types** they are (a plant's signals do not say): drawn among the flows that pass the
  station, in proportion to their arrival rates.
- **Work left on a running machine**: with one server and the time since its last part or its state
  change known (elapsed e), drawn from the cycle time's residual distribution ``X − e | X > e``; otherwise
  (several servers, or e not known) from its equilibrium residual — the work left at a random moment:
  ``U × X̃``, X̃ the length-biased cycle time (lognormal(μ + σ², σ) for a lognormal cycle).
- **Blocked** machines hold finished parts (no work left) until their next station has a place.
- **Setup**: the setup time not yet spent, then a fresh cycle.
- **Starved** machines that hold parts: those parts are on their way in; they start a fresh cycle now
  (their remaining travel is left out).
- **Down** machines: repaired after a draw from the repair-time distribution — the model's repairs are
  exponential, so the time already spent down does not change the time left (memorylessness). A machine
  reported down that the model never breaks down (a breakdown the model does not know) gets an
  exponential repair time whose mean is the time it has been down so far, at least ten minutes: the one
  piece of evidence there is. The work in service resumes after the repair, its left-over drawn as for
  several servers.
- **Orders waiting at the sources** are not published: none are assumed; the next order of each flow
  arrives after a fresh inter-arrival time.
- Parts already in the line count their lead time from the forecast's start.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr, ndtri

from app.forecast.live_state import LiveState, MachineNow
from app.model.factory import Distribution
from app.model.signals import MACHINE_STATES
from app.sim.model import SimModel, Station
from app.sim.start_state import StartState, StationStart
from app.sim.streams import draw as draw_durations

RUNNING, SETUP, STARVED, BLOCKED, DOWN = (MACHINE_STATES.index(n) for n in ("running", "setup", "starved", "blocked", "down"))
#: The least mean repair time assumed for a breakdown the model does not know (seconds).
MIN_UNKNOWN_REPAIR_S = 600.0


def _lognormal(d: Distribution) -> tuple[float, float]:
    sigma2 = math.log1p(d.cv * d.cv)
    return math.log(d.mean_s) - sigma2 / 2, math.sqrt(sigma2)


def _fixed(d: Distribution) -> bool:
    return d.kind == "deterministic" or (d.kind == "lognormal" and d.cv == 0)


def draw(d: Distribution, rng: np.random.Generator) -> float:
    """One duration from ``d``."""
    if _fixed(d):
        return float(d.mean_s)
    if d.kind == "exponential":
        return float(rng.exponential(d.mean_s))
    if d.kind == "lognormal":
        mu, sigma = _lognormal(d)
        return float(rng.lognormal(mu, sigma))
    if d.kind != "empirical":  # uniform, triangular, gamma, Erlang, Weibull
        return float(draw_durations(d, rng, 1)[0])
    return float(rng.choice(np.asarray(d.samples_s, dtype=float)))


def residual(d: Distribution, elapsed_s: float, rng: np.random.Generator) -> float:
    """Time left of a duration drawn from ``d`` that has already lasted ``elapsed_s``: ``X − e | X > e``
    (0 when the duration is overdue beyond what ``d`` allows).

    >>> rng = np.random.default_rng(0)
    >>> residual(Distribution(kind="deterministic", mean_s=60.0), 45.0, rng)
    15.0
    >>> d = Distribution(kind="lognormal", mean_s=100.0, cv=0.1)
    >>> all(residual(d, 90.0, rng) > 0 for _ in range(100))
    True
    """
    e = max(0.0, elapsed_s)
    if _fixed(d):
        return max(float(d.mean_s) - e, 0.0)
    if d.kind == "exponential":
        return float(rng.exponential(d.mean_s))  # memoryless
    if d.kind == "lognormal":
        mu, sigma = _lognormal(d)
        lo = float(ndtr((math.log(e) - mu) / sigma)) if e > 0 else 0.0
        if lo >= 1.0 - 1e-12:
            return 0.0
        u = lo + (1.0 - lo) * rng.random()
        return max(math.exp(mu + sigma * float(ndtri(u))) - e, 0.0)
    # The other kinds: drawn (a sample of them, the empirical ones), kept only when longer than e so far.
    samples = np.asarray(d.samples_s, dtype=float) if d.kind == "empirical" else draw_durations(d, rng, 256)
    longer = samples[samples > e]
    return float(rng.choice(longer)) - e if len(longer) else 0.0


def equilibrium_residual(d: Distribution, rng: np.random.Generator) -> float:
    """Time left of a duration from ``d`` looked at a random moment: ``U × X̃``, X̃ length-biased.

    >>> rng = np.random.default_rng(1)
    >>> d = Distribution(kind="deterministic", mean_s=60.0)
    >>> round(float(np.mean([equilibrium_residual(d, rng) for _ in range(20000)])))
    30
    """
    u = rng.random()
    if _fixed(d):
        return u * float(d.mean_s)
    if d.kind == "exponential":
        return float(rng.exponential(d.mean_s))
    if d.kind == "lognormal":
        mu, sigma = _lognormal(d)
        return u * float(rng.lognormal(mu + sigma * sigma, sigma))
    samples = np.asarray(d.samples_s, dtype=float) if d.kind == "empirical" else draw_durations(d, rng, 256)
    return u * float(rng.choice(samples, p=samples / samples.sum()))


def type_weights(model: SimModel) -> list[tuple[list[int], np.ndarray]]:
    """Per station: the part types that pass it and the share of its parts each is (arrival rate × visits)."""
    out = []
    for i in range(len(model.stations)):
        kinds = [k for k, r in enumerate(model.routes) if i in r]
        w = np.array([model.routes[k].count(i) / model.interarrival[k].mean_s for k in kinds], dtype=float)
        out.append((kinds, w / w.sum() if len(kinds) else w))
    return out


def start_state(live: LiveState, model: SimModel, rng: np.random.Generator) -> StartState:
    """One draw of the state to start a replication from (see the module's notes)."""
    weights = type_weights(model)
    stations = []
    for i, st in enumerate(model.stations):
        m = live.machines.get(st.id, MachineNow())
        kinds, w = weights[i]
        n = min(max(m.level, 0), st.servers + st.buffer) if kinds else 0
        types = [kinds[j] for j in np.searchsorted(np.cumsum(w)[:-1], rng.random(n), side="right")] if n else []
        busy = min(n, st.servers)
        state = m.state if m.state in range(len(MACHINE_STATES)) else (RUNNING if n else STARVED)
        down_for = None
        if state == DOWN:
            if st.mttr_s:
                down_for = float(rng.exponential(st.mttr_s))
            else:
                age = m.state_age_s if math.isfinite(m.state_age_s) else 0.0
                down_for = float(rng.exponential(max(age, MIN_UNKNOWN_REPAIR_S)))
        left = [_work_left(state, st, m, rng) for _ in range(busy)]
        stations.append(StationStart(tuple(zip(types[:busy], left, strict=True)), tuple(types[busy:]), down_for))
    return StartState(tuple(stations))


def _work_left(state: int, st: Station, m: MachineNow, rng: np.random.Generator) -> float:
    if state == BLOCKED:
        return 0.0
    if state == SETUP:
        spent = m.state_age_s if math.isfinite(m.state_age_s) else rng.random() * st.setup_s
        return max(st.setup_s - spent, 0.0) + draw(st.cycle, rng)
    if state == STARVED:
        return draw(st.cycle, rng)
    # The part in service started at the later of the last state change and the last part finished.
    ages = [a for a in (m.state_age_s, m.count_age_s) if math.isfinite(a)]
    if state == RUNNING and st.servers == 1 and ages:
        return residual(st.cycle, min(ages), rng)
    return equilibrium_residual(st.cycle, rng)


def unknowns(live: LiveState, model: SimModel) -> list[str]:
    """Sentences naming what the plant did not say and the forecast assumed (empty: everything was known)."""
    out = []
    no_level = [s.id for s in model.stations if live.machines.get(s.id, MachineNow()).level < 0]
    no_state = [s.id for s in model.stations if live.machines.get(s.id, MachineNow()).state not in range(len(MACHINE_STATES))]
    if no_level:
        out.append(f"no level from {_some(no_level)}: taken as empty")
    if no_state:
        out.append(f"no state from {_some(no_state)}: taken as running if it holds parts, else starved")
    unknown_down = [
        s.id for s in model.stations if live.machines.get(s.id, MachineNow()).state == DOWN and not s.mttr_s
    ]
    if unknown_down:
        out.append(f"{_some(unknown_down)} down without a repair time in the model: repaired after about as long again")
    if live.parts_out < 0:
        out.append("the parts out so far are not known")
    return out


def _some(ids: list[str], shown: int = 4) -> str:
    return ", ".join(ids[:shown]) + (f" and {len(ids) - shown} more" if len(ids) > shown else "")
