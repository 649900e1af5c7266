"""The drift watchdog: is the plant still the plant the model describes? One CUSUM per machine and parameter.

Fed the live value updates the state store receives (``feed``) — or a recorded history (``replay``), or
the history's samples (``feed_samples``) — it derives per machine

- **cycle times**: every new value of the ``CycleTime`` signal (the plant publishes the current or last
  processing time; a new value is a new cycle);
- **times between failures**: from leaving ``down`` to entering it again (``State``);
- **repair times**: time spent ``down``;

turns each into a z-score against the factory's simulation parameters (:mod:`app.watchdog.expectation`)
and runs two rules on it: a two-sided CUSUM (:mod:`app.watchdog.cusum`) for small and moderate changes,
and a single-observation (Shewhart) limit from the exact tail of the model's distribution for a large
one, found on its first observation. The false-alarm budget — one per ``false_alarm_every_s`` per machine
and parameter — is split between them (``WatchdogConfig.shewhart_share``), so together they give no
more. A detection names what moved, which way, since when (the change point: the alarming sum's last
zero, or the overwhelming observation) and with what confidence; by how much (the mean since the change
point over the model's, with its 95% interval) once ``min_observations`` are in since the change point —
until then it says "not enough data"; it is logged at once (:mod:`app.watchdog.log`) and
announced with the ``detected`` signal. ``recalibrate`` turns it into a scenario change
(``app.sim.scenario.MachineParam``) and starts that channel again from the new value.

Everything runs on the caller's thread, O(1) per value; signals are emitted there too (a GUI slot that
receives them from a network thread connects with psygnal's ``thread="main"``: ``app.ui.gui_thread``).
Feeding holds a lock per batch, so one thread may feed (the live session's network thread) while another
re-arms, recalibrates, follows a new factory version or closes it (the GUI thread).

Examples
--------
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> dog = Watchdog(load_factory(DEMO_FACTORY))
>>> dog.status("CNC-03", "cycle")
'not enough data — needs ≥ 5 cycles (0 so far)'
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from psygnal import Signal
from scipy.special import ndtr, ndtri
from scipy.stats import t as student_t

from app.history.recorder import Sample
from app.model.factory import Factory
from app.sim.numbers import round_to_interval
from app.sim.scenario import Change, Demand, Scenario, apply
from app.state.machine_states import code_in, table_of
from app.state.store import Update
from app.watchdog.changepoint import ChangeWindow
from app.watchdog.cusum import Cusum, arl_two_sided, moments_of, threshold_for_arl
from app.watchdog.detection import (
    OBSERVATION_WORDS,
    PARAM_WORDS,
    Detection,
    WatchdogConfig,
    clock_time,
)
from app.watchdog.expectation import Expectation, expectation_of, exponential, poisson_count
from app.watchdog.log import LogEntry, WatchdogLog

#: The signals the watchdog reads (a live session must subscribe to them for the watched machines).
WATCHED_SIGNALS = ("State", "CycleTime", "PartCount")
#: Arrivals are counted in windows holding this many arrivals on average (and at least ``MIN_WINDOW_S``).
ARRIVALS_PER_WINDOW = 10.0
MIN_WINDOW_S = 600.0
_DOWN = 4.0
_BLOCKED = 3.0
#: From this many observations on, a change's interval uses their own spread (before: the model's).
SAMPLE_SD_FROM = 10
#: Recent observations a channel keeps for a change point's estimate (:mod:`app.watchdog.changepoint`).
RECENT = 512
_STATES = table_of("auto")


class _Channel:
    """One machine's one parameter: its expectation, its two rules (a CUSUM; single-observation limits)
    and what it has seen. ``arl0`` is the whole channel's in-control run length; the CUSUM is set for
    ``arl0 / (1 − share)`` observations, the limits for a probability ``share / arl0`` per observation, so
    their false-alarm rates add up to ``1 / arl0`` at most."""

    __slots__ = (
        "arl0", "cusum", "detection", "exp", "lower", "machine", "min_obs", "n_obs", "param", "recent", "upper", "window",
        "z_limit",
    )  # fmt: skip

    def __init__(self, machine: str, param: str, exp: Expectation, arl0: float, config: WatchdogConfig):
        self.machine, self.param, self.exp, self.arl0 = machine, param, exp, arl0
        share = config.shewhart_share
        self.cusum = Cusum(config.k, threshold_for_arl(arl0 / (1.0 - share), config.k))
        if share > 0.0:
            self.lower, self.upper = exp.limits(share / arl0)
            self.z_limit = -float(ndtri(share / arl0 / 2.0))
        else:
            self.lower, self.upper, self.z_limit = -math.inf, math.inf, math.inf
        self.min_obs = config.min_observations.get(param, 5)
        self.n_obs = 0
        self.detection: Detection | None = None
        self.recent: deque[tuple[float, float, float]] = deque(maxlen=RECENT)  # (x, z, t) of the last observations
        self.window: ChangeWindow | None = None  # the detection's observations, for its change point and size


class _MachineState:
    """What the watchdog remembers of a machine's state signal: down or not, and since when (NaN: the
    start of that state was not seen, so its duration is unknown)."""

    __slots__ = ("down", "held", "held_until", "since")

    def __init__(self) -> None:
        self.down: bool | None = None
        self.since = math.nan
        self.held = False  # blocked or down now (parts wait before it)
        self.held_until = -math.inf  # when it last stopped being held


_MISSING = object()


def arrival_windows(factory: Factory) -> dict[str, tuple[float, float]]:
    """Per station where part flows enter: (arrivals per second the model expects, counting window in
    seconds). Arrivals are seen as the station's part count: while it keeps up, every arrival passes it."""
    rate: dict[str, float] = {}
    for f in factory.flows:
        if f.routing:
            rate[f.routing[0]] = rate.get(f.routing[0], 0.0) + 1.0 / f.interarrival.mean_s
    return {m: (r, max(MIN_WINDOW_S, ARRIVALS_PER_WINDOW / r)) for m, r in rate.items()}


class Watchdog:
    """Change detection on a factory's machines against its simulation parameters.

    Parameters
    ----------
    factory
        The model the plant is compared with (a snapshot: pass a new one with ``set_factory``).
    config
        Sensitivity (``WatchdogConfig``).
    log_path
        Where detections and recalibrations are logged (a history file, or a file of their own); None
        keeps no log.
    time_scale
        Simulated seconds per second of the timestamps (a plant simulator run with ``--speed``; 1 for a
        real plant).
    clock
        How a time is written in a detection's text (the local time of day by default).

    Signals
    -------
    detected(Detection)
        A channel found a change (emitted on the thread that called ``feed``).
    recalibrated(list)
        ``recalibrate`` turned a detection into these scenario changes (``MachineParam`` or ``Demand``).
    """

    detected = Signal(object)
    recalibrated = Signal(object)

    def __init__(
        self,
        factory: Factory,
        config: WatchdogConfig | None = None,
        log_path: str | Path | None = None,
        time_scale: float = 1.0,
        clock: Callable[[float], str] = clock_time,
    ):
        self.config = config or WatchdogConfig()
        self.lock = threading.RLock()  # feeding (one thread) against control and reading (another)
        self.time_scale = time_scale
        self.clock = clock
        self.log = WatchdogLog(log_path) if log_path is not None else None
        self.detections: list[Detection] = []
        self.channels: dict[tuple[str, str], _Channel] = {}
        self._states: dict[str, _MachineState] = {}
        self.factory = factory
        self._build(factory)
        self.running = True
        self._routes: dict[int, object] = {}
        self._names: Sequence | None = None
        self.values_fed = 0
        self._quantiles: dict[int, float] = {}

    # -- model ------------------------------------------------------------------------------------
    def _expectations(self, factory: Factory) -> dict[tuple[str, str], tuple[Expectation, float]]:
        """(expectation, in-control run length in observations) of every channel the factory has."""
        every = self.config.false_alarm_every_s
        out = {}
        for m in factory.machines:
            s = m.sim
            out[m.id, "cycle"] = (expectation_of(s.cycle), max(3.0, every * s.servers / s.cycle.mean_s))
            if s.mtbf_s and s.mttr_s:
                per_s = 1.0 / (s.mtbf_s + s.mttr_s)
                out[m.id, "mtbf"] = (exponential(s.mtbf_s), max(3.0, every * per_s))
                out[m.id, "mttr"] = (exponential(s.mttr_s), max(3.0, every * per_s))
        for station, (rate, window_s) in arrival_windows(factory).items():
            out[station, "arrival"] = (poisson_count(rate * window_s), max(3.0, every / window_s))
        return out

    def _build(self, factory: Factory) -> None:
        for key, (exp, arl0) in self._expectations(factory).items():
            self.channels[key] = _Channel(key[0], key[1], exp, arl0, self.config)
        for m in factory.machines:
            self._states.setdefault(m.id, _MachineState())

    def set_factory(self, factory: Factory) -> set[tuple[str, str]]:
        """Compare with a new version of the factory: channels whose expectation changed start again
        (their detection cleared), the others keep their sums; a machine removed is forgotten (its channels
        and its state: one added again later starts afresh), a machine added gets fresh channels. Returns the
        (machine, parameter) of every channel that started again or went (a view marks their detections)."""
        restarted: set[tuple[str, str]] = set()
        with self.lock:
            new = self._expectations(factory)
            for key in list(self.channels):
                if key not in new:
                    del self.channels[key]
                    restarted.add(key)
            for machine in self._states.keys() - {m.id for m in factory.machines}:
                del self._states[machine]
            for key, (exp, arl0) in new.items():
                ch = self.channels.get(key)
                if ch is None or ch.exp != exp or ch.arl0 != arl0:
                    self.channels[key] = _Channel(key[0], key[1], exp, arl0, self.config)
                    if ch is not None:
                        restarted.add(key)
            for m in factory.machines:
                self._states.setdefault(m.id, _MachineState())
            self.factory = factory
            self._routes.clear()
        return restarted

    # -- control ----------------------------------------------------------------------------------
    def start(self) -> None:
        """Watch the values fed from now on."""
        self.running = True

    def stop(self) -> None:
        """Ignore values fed from now on (the sums are kept); state durations in progress are forgotten."""
        self.running = False
        self.interrupted()

    def close(self) -> None:
        """Stop and close the log."""
        with self.lock:
            self.stop()
            if self.log is not None:
                self.log.close()
                self.log = None

    def interrupted(self) -> None:
        """The values stopped for a while (link lost, plant restarted): a state whose start or end was
        not seen gives no duration, an arrival window not watched to its end no count."""
        with self.lock:
            for st in self._states.values():
                st.down, st.since = None, math.nan
            self._routes.clear()  # new handlers: their windows start again

    def rearm(self, machine: str, param: str) -> None:
        """Forget a channel's detection and start its sums again, with the same expectation."""
        with self.lock:
            ch = self.channels[machine, param]
            ch.detection = ch.window = None
            ch.cusum.reset()
            ch.recent.clear()

    def changes_for(self, detection: Detection) -> list[Change]:
        """The scenario changes that make the model match a detection: the machine's parameter set to its
        observed mean, or — for arrivals — every part flow entering at that station with its time between
        arrivals divided by the observed rate ratio (rounded to the interval's precision). Refused
        (``ValueError``) while the size is not known."""
        if detection.param != "arrival" or not detection.size_known:
            return [detection.suggestion()]
        out: list[Change] = []
        for f in self.factory.flows:
            if f.routing and f.routing[0] == detection.machine:
                mean = f.interarrival.mean_s / detection.ratio
                value, _ = round_to_interval(mean, mean * detection.half_width / detection.ratio)
                out.append(Demand(part=f.part, interarrival_mean_s=float(value)))
        return out

    def latest(self, detection: Detection) -> Detection:
        """The detection re-estimated from every observation since it began: the change point where a
        shift is most likely (:mod:`app.watchdog.changepoint`), the size from the observations since it,
        and what that size still needs (``_size_needs``). The detection itself when its channel has moved
        on (re-armed, recalibrated), or when it is a snapshot already (what a button showed)."""
        with self.lock:
            ch = self.channels.get((detection.machine, detection.param))
            if ch is None or ch.detection is not detection or ch.window is None:
                return detection
            return self._sized(ch, detection, ch.window)

    def _sized(self, ch: _Channel, detection: Detection, window: ChangeWindow) -> Detection:
        count, sx, sxx, since = window.post()
        n, mean, sd = moments_of(count, sx, sxx)
        ratio, half = self._estimate(ch, n, mean, sd)
        needs = self._size_needs(ch, ratio)
        return dataclasses.replace(detection, ratio=ratio, half_width=half, n=n, since_ts=since, needs=needs)

    def confirmed(self, detection: Detection) -> bool | None:
        """Whether a detection still stands once it rests on ``min_observations``: True when the interval of
        their mean excludes the model in the detection's direction; False when it does not (the channel is
        re-armed); None while fewer are in. A CUSUM detection counts the observations since its change
        point; one found on a single extreme observation counts only those after it — that one observation
        is never part of the evidence. What a deployment's watch rolls back on: never a single cycle."""
        with self.lock:
            ch = self.channels.get((detection.machine, detection.param))
            if ch is None or ch.detection is not detection or ch.window is None:
                return None
            if detection.rule == "shewhart":
                n, mean, sd = moments_of(*ch.window.later())
                ratio, half = self._estimate(ch, n, mean, sd) if n else (1.0, math.inf)
            else:
                d = self.latest(detection)
                n, ratio, half = d.n, d.ratio, d.half_width
            if n < ch.min_obs:
                return None
            if (ratio - half > 1.0) if detection.direction > 0 else (ratio + half < 1.0):
                return True
            self.rearm(detection.machine, detection.param)
            return False

    def recalibrate(self, detection: Detection, t: float | None = None) -> list[Change]:
        """Accept a detection: the channel expects what was observed from now on (the latest estimate), the
        recalibration is logged, and the scenario changes that make the model match are announced and
        returned (the caller applies them; ``set_factory`` with the new version then finds nothing changed).
        Refused (``ValueError``) while the size is not known: too few observations since the change point."""
        with self.lock:
            detection = self.latest(detection)
            if not detection.size_known:
                raise ValueError(f"{detection.text}: nothing to recalibrate to yet")
            changes = self.changes_for(detection)
            old = self.channels[detection.machine, detection.param].exp.mean_s
            self.set_factory(apply(Scenario(name="recalibrated", factory=self.factory, changes=changes)))
            new = self.channels[detection.machine, detection.param].exp.mean_s
            unit = " arrivals per window" if detection.param == "arrival" else " s"
            words = f"{detection.machine} {PARAM_WORDS[detection.param]} recalibrated from {old:g}{unit} to {new:g}{unit}"
            self._log("recalibration", detection, time.time() if t is None else t, old, new, words)
        self.recalibrated.emit(changes)
        return changes

    def log_undo(self, detection: Detection, undone: bool, t: float | None = None) -> None:
        """Log that the user undid (``undone``) or redid a recalibration of this detection: the document's
        new version reaches the watchdog through ``set_factory``; the log says what happened to the model."""
        with self.lock:
            what = "undone" if undone else "redone"
            words = f"{detection.machine} {PARAM_WORDS[detection.param]} recalibration {what}"
            mean = detection.model_mean_s
            self._log(f"recalibration {what}", detection, time.time() if t is None else t, mean, mean, words)

    # -- status -----------------------------------------------------------------------------------
    def status(self, machine: str, param: str) -> str:
        """What the channel can say now, in words."""
        with self.lock:
            return self._status(machine, param)

    def _status(self, machine: str, param: str) -> str:
        ch = self.channels.get((machine, param))
        if ch is None:
            return f"not watched: {machine} has no {PARAM_WORDS.get(param, param)} in the model"
        what = OBSERVATION_WORDS[param]
        if ch.detection is not None:
            return self.latest(ch.detection).text
        c = ch.cusum
        for side in (1, -1):
            n, _ = c.side_since(side)
            if c.statistic(side) >= c.h:
                need = max(self._needed(ch, side), n + 1)
                return f"possible change, not enough data — needs ≥ {need} {what} since it began ({n} so far)"
        if ch.n_obs < ch.min_obs:
            return f"not enough data — needs ≥ {ch.min_obs} {what} ({ch.n_obs} so far)"
        return f"as modelled ({ch.n_obs} {what} watched)"

    def pending(self) -> list[tuple[str, str, str]]:
        """Channels that saw a possible change too recently to say more: (machine, param, status)."""
        with self.lock:
            out = []
            for (machine, param), ch in self.channels.items():
                if ch.detection is None:
                    words = self._status(machine, param)
                    if words.startswith("possible change"):
                        out.append((machine, param, words))
            return out

    def withdraw_if_unfounded(self, detection: Detection, t: float | None = None) -> Detection | None:
        """Once a detection's size is known, withdraw it when its interval holds no change at all (``+3 ± 4%``:
        a run of long cycles that the cycles since its change point do not bear out): the channel is watched
        again and the log says why (a ``withdrawal``). Returns the sized detection when withdrawn; None while
        it stands or its size is still settling."""
        with self.lock:
            ch = self.channels.get((detection.machine, detection.param))
            if ch is None or ch.detection is not detection:
                return None
            d = self.latest(detection)
            if not d.size_known or not math.isfinite(d.half_width) or abs(d.ratio - 1.0) > d.half_width:
                return None
            self.rearm(detection.machine, detection.param)
            mean = detection.model_mean_s
            why = f"{d.machine} {PARAM_WORDS[d.param]} {d.change_text}: no change once sized on {d.n} observations"
            self._log("withdrawal", d, time.time() if t is None else t, mean, mean, why)
            return d

    def dismiss(self, detection: Detection, t: float | None = None) -> None:
        """The user judged a detection not worth a recalibration: log it and watch that channel again."""
        with self.lock:
            if (detection.machine, detection.param) in self.channels:
                self.rearm(detection.machine, detection.param)
            mean = detection.model_mean_s
            self._log("dismissal", detection, time.time() if t is None else t, mean, mean, f"{detection.text}: dismissed")

    # -- feeding ----------------------------------------------------------------------------------
    def feed(self, updates: Iterable[Update], names: Sequence[tuple[str, str, str]]) -> None:
        """Take a batch of received values, as the state store does; ``names[binding]`` is the binding's
        (machine, signal, node id). O(1) per value."""
        with self.lock:
            self._feed(updates, names)

    def _feed(self, updates: Iterable[Update], names: Sequence[tuple[str, str, str]]) -> None:
        if not self.running:
            return
        if names is not self._names:
            self._names = names
            self._routes.clear()
        routes = self._routes
        n = 0
        for u in updates:
            n += 1
            b = u.binding
            handler = routes.get(b, _MISSING)
            if handler is _MISSING:
                if b >= len(names):
                    continue  # a binding added while this batch was on its way: not named yet
                handler = routes[b] = self._route(*names[b][:2])
            if handler is None:
                continue
            t = u.source_ts if u.source_ts == u.source_ts else u.received_ts
            handler(u.value if (u.status >> 30) == 0 else None, t)  # type: ignore[operator]
        self.values_fed += n

    def feed_samples(self, samples: Iterable[Sample]) -> None:
        """Take recorded samples (``app.history.recorder.Sample``) in time order."""
        with self.lock:
            self._feed_samples(samples)

    def _feed_samples(self, samples: Iterable[Sample]) -> None:
        if not self.running:
            return
        routes: dict[tuple[str, str], Callable | None] = {}
        for s in samples:
            self.values_fed += 1
            key = (s.machine, s.signal)
            handler = routes.get(key, _MISSING)  # type: ignore[arg-type]
            if handler is _MISSING:
                handler = routes[key] = self._route(*key)
            if handler is None:
                continue
            good = (s.status >> 30) == 0
            handler((s.text if s.text is not None else s.value) if good else None, s.t)  # type: ignore[operator]

    def replay(self, history_path: str | Path, t0: float = -math.inf, t1: float = math.inf) -> int:
        """Feed what a history file recorded in [t0, t1] (the watched signals, in time order; the link's
        outages interrupt state durations). Returns the number of values fed."""
        from app.watchdog.replay import recorded_samples

        before = self.values_fed
        for batch in recorded_samples(history_path, t0, t1, WATCHED_SIGNALS):
            if batch is None:
                self.interrupted()
            else:
                self.feed_samples(batch)
        return self.values_fed - before

    def _route(self, machine: str, signal: str) -> Callable[[object, float], None] | None:
        if signal == "CycleTime":
            ch = self.channels.get((machine, "cycle"))
            return None if ch is None else self._cycle_handler(machine)
        if signal == "State" and machine in self._states:
            return self._state_handler(machine)
        if signal == "PartCount" and (machine, "arrival") in self.channels:
            return self._count_handler(machine)
        return None

    def _count_handler(self, station: str) -> Callable[[object, float], None]:
        """Arrivals at a flow's first station: its part count's increments, counted per window (a window
        with no increment counts 0; a counter that goes back, or a gap, starts the windows again). A window
        in which the station was blocked or down (its ``State``), or that follows one, counts nothing:
        arrivals then wait before it and pass later in a burst."""
        key = (station, "arrival")
        st = self._states.get(station) or _MachineState()
        window_s = arrival_windows(self.factory)[station][1]
        win: list[float] = [math.nan, math.nan, 0.0]  # window start, last count, count in this window

        def on_count(value: object, t: float) -> None:
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                win[0] = win[1] = math.nan  # a bad reading: the windows start again
                return
            start, last = win[0], win[1]
            if math.isnan(start) or value < last:
                win[0], win[1], win[2] = t, float(value), 0.0
                return
            width = window_s / self.time_scale
            ch = self.channels.get(key)
            while t >= win[0] + width:
                if ch is not None and not st.held and st.held_until < win[0] - width:
                    self._observe(ch, win[2], win[0] + width)
                win[0] += width
                win[2] = 0.0
            win[2] += float(value) - last
            win[1] = float(value)

        return on_count

    def _cycle_handler(self, machine: str) -> Callable[[object, float], None]:
        last: list[float] = [math.nan]  # the first value seen may be an old cycle: it is not counted
        key = (machine, "cycle")

        def on_cycle(value: object, t: float) -> None:
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0 or value == last[0]:
                return
            seen = last[0] == last[0]
            last[0] = float(value)
            if seen:
                ch = self.channels.get(key)
                if ch is not None:
                    self._observe(ch, float(value), t)

        return on_cycle

    def _state_handler(self, machine: str) -> Callable[[object, float], None]:
        st = self._states[machine]
        up_key, down_key = (machine, "mtbf"), (machine, "mttr")

        def on_state(value: object, t: float) -> None:
            code = code_in(value, _STATES) if value is not None else math.nan
            held = not (code >= 0) or code >= _BLOCKED
            if held != st.held:
                st.held = held
                if not held:
                    st.held_until = t
            if not (code >= 0):  # no value, a bad reading, a state nobody knows: its duration is lost
                st.down, st.since = None, math.nan
                return
            down = code == _DOWN
            if st.down is None:
                st.down, st.since = down, math.nan
                return
            if down == st.down:
                return
            if st.since == st.since:
                ch = self.channels.get(down_key if st.down else up_key)
                if ch is not None:
                    self._observe(ch, (t - st.since) * self.time_scale, t)
            st.down, st.since = down, t

        return on_state

    # -- detection --------------------------------------------------------------------------------
    def _observe(self, ch: _Channel, x: float, t: float) -> None:
        ch.n_obs += 1
        z = ch.exp.z(x)
        side = ch.cusum.push(z, x, t)
        ch.recent.append((x, z, t))
        if ch.detection is not None:
            if ch.window is not None:  # what the detection's change point and size are re-estimated from
                ch.window.add(x, z, t)
            return
        if side and ch.cusum.side_since(side)[0] >= ch.min_obs:
            ratio, half = self._estimate(ch, *ch.cusum.moments(side))
            if (ratio - half > 1.0) if side > 0 else (ratio + half < 1.0):  # the interval says which way it moved
                self._detect(ch, side, t, ratio, half)
                return
        if x >= ch.upper or x <= ch.lower:  # one observation beyond the model's single-observation limits
            self._detect_one(ch, 1 if x >= ch.upper else -1, x, z, t)

    def _quantile(self, dof: int) -> float:
        """The two-sided ``interval`` quantile of Student's t with ``dof`` degrees (0: the normal's)."""
        q = self._quantiles.get(dof)
        if q is None:
            p = 0.5 + self.config.interval / 2
            q = self._quantiles[dof] = float(student_t.ppf(p, dof) if dof else ndtri(p))
        return q

    def _estimate(self, ch: _Channel, n: int, mean: float, sd: float) -> tuple[float, float]:
        """The ratio of the mean of ``n`` observations since the change point to the model's, and its
        interval's half-width. Under ``SAMPLE_SD_FROM`` observations the spread is the model's at the
        observed mean (its CV: a drift that scales the times keeps it) and the quantile the normal's; from
        then on the sample's own standard deviation ``sd`` with Student's t."""
        if n >= SAMPLE_SD_FROM and sd == sd:
            half = self._quantile(n - 1) * sd / math.sqrt(n)
        else:
            half = self._quantile(0) * ch.exp.cv * mean / math.sqrt(n)
        return mean / ch.exp.mean_s, half / ch.exp.mean_s

    def _size_needs(self, ch: _Channel, ratio: float) -> int:
        """Observations since the change point its size needs (the settling rule, docs/closed-loop.md):
        ``min_observations``, and as many as make a 95% interval at the model's spread narrower than the
        change itself — ``(q · CV · r / |r − 1|)²``. A small change's point is found late and loosely (its
        error grows like ``1 / shift²`` observations), so its size waits for as many more."""
        q = self._quantile(0)
        least = max(ch.min_obs, math.ceil((q / self.config.k) ** 2 - 1e-9))
        if abs(ratio - 1.0) < 1e-9:
            return least
        need = (q * ch.exp.cv * ratio / abs(ratio - 1.0)) ** 2
        return max(least, math.ceil(min(need, 1e6)))

    def _window(self, ch: _Channel, side: int) -> ChangeWindow:
        """The observations since ``side``'s sum last stood at 0 (at least the last one)."""
        n = max(1, min(ch.cusum.side_since(side)[0], len(ch.recent)))
        recent = ch.recent
        return ChangeWindow(side, (recent[i] for i in range(len(recent) - n, len(recent))))

    def _needed(self, ch: _Channel, side: int) -> int:
        """Observations since the change point a detection of the change seen so far would need."""
        n, mean, _ = ch.cusum.moments(side)
        ratio = mean / ch.exp.mean_s if n else 1.0
        if abs(ratio - 1.0) < 1e-9:
            return max(ch.min_obs, n + 1)
        return max(ch.min_obs, math.ceil((self._quantile(0) * ch.exp.cv * ratio / abs(ratio - 1.0)) ** 2))

    def _detect(self, ch: _Channel, side: int, t: float, ratio: float, half: float) -> None:
        c = ch.cusum
        n = c.side_since(side)[0]
        since = c.side_since(side)[1]
        level = c.statistic(side)
        confidence = math.exp(-n / arl_two_sided(level, c.k))
        ch.window = self._window(ch, side)
        d = Detection(
            ch.machine,
            ch.param,
            side,
            ratio,
            half,
            since,
            t,
            n,
            confidence,
            ch.exp.mean_s,
            level,
            c.h,
            self.clock,
            needs=ch.min_obs,
        )
        self._announce(ch, self._sized(ch, d, ch.window), t)

    def _detect_one(self, ch: _Channel, side: int, x: float, z: float, t: float) -> None:
        """A change found on one observation beyond a single-observation limit: its change point is that
        observation, its size waits for ``min_observations`` since it."""
        ch.window = self._window(ch, side)
        ratio, half = self._estimate(ch, 1, x, math.nan)
        confidence = 1.0 - 2.0 * float(ndtr(-abs(z)))  # a matching plant gives one as far out this rarely
        d = Detection(
            ch.machine, ch.param, side, ratio, half, t, t, 1, confidence, ch.exp.mean_s, z, ch.z_limit, self.clock,
            needs=ch.min_obs, rule="shewhart",
        )  # fmt: skip
        self._announce(ch, self._sized(ch, d, ch.window), t)

    def _announce(self, ch: _Channel, d: Detection, t: float) -> None:
        self.detections.append(d)
        if self.config.rearm:
            ch.cusum.reset()
        else:
            ch.detection = d
        self._log("detection", d, t, ch.exp.mean_s, d.estimate_s if d.size_known else None, d.text)
        self.detected.emit(d)

    def _log(self, kind: str, d: Detection, t: float, old: float, new: float | None, text: str) -> None:
        if self.log is not None:
            ratio, half = (d.ratio, d.half_width) if d.size_known else (None, None)
            entry = LogEntry(t, kind, d.machine, d.param, ratio, half, d.since_ts, d.confidence, d.n, old, new, text)
            self.log.append(entry)


def plant_time_scale(plant_args: Sequence[str]) -> float:
    """Simulated seconds per second of a plant simulator started with these arguments (its ``--speed``).

    >>> plant_time_scale(("--speed", "600", "--seed", "3")), plant_time_scale(())
    (600.0, 1.0)
    """
    args = list(plant_args)
    for i, a in enumerate(args):
        if a == "--speed" and i + 1 < len(args):
            return float(args[i + 1])
        if a.startswith("--speed="):
            return float(a.split("=", 1)[1])
    return 1.0
