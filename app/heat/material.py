"""Material heat maps of a factory: where WIP waits, how much flows along each transport path, hot spots.

Plain numpy on the factory model (no Qt, no VTK): the scene draws what these functions return, whether the
amounts came from the plant, from history at a time t, or from a simulation.

- WIP: every machine holds its ``Level`` (parts at it and in its input buffer). A machine is one holding
  point, or several along its long side when it is long (a conveyor, a rack), so a conveyor's parts lie
  along it. ``wip_spreader`` spreads them over the floor grid (see ``app.heat.grid``), walls blocking.
- Flow: parts per hour on each transport path = the measured output rate of its source machine (from its
  ``PartCount``) × the share of that machine's output the part flows send along the path. A rate is only
  given once it rests on enough parts (``MIN_PARTS``) or on the whole window: a few parts in the first
  seconds after connecting would extrapolate to rates many times the real one.
"""

from __future__ import annotations

import io
import math
import time
from collections import deque
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import maximum_filter

from app.heat.grid import WipSpreader
from app.model.factory import Factory

#: A machine longer than this spreads its WIP from points this far apart along its long side.
POINT_SPACING_M = 1.5
#: Parts a machine must have put out inside the window before its rate is given (unless the window is full):
#: a rate from k parts is uncertain by about 1/√k, and by up to one part in k from where the counting began.
MIN_PARTS = 10


def holding_points(factory: Factory) -> tuple[np.ndarray, np.ndarray]:
    """(P, 2) floor points where WIP is held and (P,) the index of the machine each belongs to."""
    pts, owners = [], []
    for i, m in enumerate(factory.machines):
        w, d = m.footprint.width_m, m.footprint.depth_m
        length = max(w, d)
        n = max(1, min(32, math.floor(length / POINT_SPACING_M)))
        along = (np.arange(n) + 0.5) / n * length - length / 2 if n > 1 else np.zeros(1)
        axis = 0.0 if w >= d else 90.0  # the long side, in the machine's own frame
        a = math.radians(m.pose.yaw_deg + axis)
        pts.append(np.c_[m.pose.x_m + along * math.cos(a), m.pose.y_m + along * math.sin(a)])
        owners.append(np.full(n, i))
    if not pts:
        return np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
    return np.concatenate(pts), np.concatenate(owners)


def wall_segments(factory: Factory) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Every straight piece of every wall."""
    out = []
    for wall in factory.floor.walls:
        for a, b in zip(wall.points[:-1], wall.points[1:], strict=True):
            out.append(((float(a[0]), float(a[1])), (float(b[0]), float(b[1]))))
    return out


def wip_spreader(factory: Factory, cell_m: float = 0.25, radius_m: float = 2.0) -> WipSpreader:
    """The WIP kernel of a layout: one amount per machine (factory order) → parts per floor cell."""
    pts, owners = holding_points(factory)
    return WipSpreader(
        factory.floor.width_m,
        factory.floor.depth_m,
        cell_m,
        pts,
        walls=wall_segments(factory),
        radius_m=radius_m,
        owners=owners,
        n_owners=len(factory.machines),
    )


@dataclass(frozen=True)
class HotSpot:
    """A place that stands out: a WIP peak on the floor or a machine, with where to look."""

    kind: str  # "wip" or "machine"
    label: str
    x_m: float
    y_m: float
    value: float


def wip_hot_spots(density: np.ndarray, cell_m: float, n: int, factory: Factory, min_value: float = 1e-9) -> list[HotSpot]:
    """The ``n`` highest local peaks of a density grid (parts/m²), each named after the nearest machine."""
    if density.size == 0 or n <= 0:
        return []
    size = max(3, round(2.0 / cell_m) | 1)  # peaks at least ~1 m apart
    peaks = (density == maximum_filter(density, size=size, mode="constant")) & (density > min_value)
    jj, ii = np.nonzero(peaks)
    if not len(ii):
        return []
    vals = density[jj, ii]
    order: list[int] = []
    taken: list[tuple[float, float]] = []
    for k in np.argsort(-vals, kind="stable"):  # greedy: a peak within 2 m of a higher one is the same spot
        x, y = ii[k] * cell_m, jj[k] * cell_m
        if all((x - a) ** 2 + (y - b) ** 2 > 4.0 for a, b in taken):
            order.append(k)
            taken.append((x, y))
            if len(order) == n:
                break
    centres = np.array([(m.pose.x_m, m.pose.y_m) for m in factory.machines]) if factory.machines else np.zeros((0, 2))
    out = []
    for k in order:
        x, y = (ii[k] + 0.5) * cell_m, (jj[k] + 0.5) * cell_m
        near = ""
        if len(centres):
            near = factory.machines[int(np.argmin(np.hypot(centres[:, 0] - x, centres[:, 1] - y)))].id
        out.append(HotSpot("wip", f"near {near}" if near else f"({x:.1f}, {y:.1f})", float(x), float(y), float(vals[k])))
    return out


def machine_hot_spots(factory: Factory, values: np.ndarray, known: np.ndarray, n: int) -> list[HotSpot]:
    """The ``n`` machines with the highest known values."""
    ok = np.nonzero(known & np.isfinite(values))[0]
    order = ok[np.argsort(-values[ok], kind="stable")][:n]
    return [
        HotSpot("machine", factory.machines[i].id, factory.machines[i].pose.x_m, factory.machines[i].pose.y_m, float(values[i]))
        for i in order
    ]


# -- flow -----------------------------------------------------------------------------------------------
def leg_rates(factory: Factory) -> dict[tuple[str, str], float]:
    """Parts per second from one machine to the next, summed over the part flows: each flow's arrival rate
    (1 / mean interarrival time) on every consecutive pair of its routing, as many times as it occurs.

    >>> from app.model.factory import Factory, Floor, PartFlow, Distribution
    >>> f = Factory(name="t", floor=Floor(width_m=9, depth_m=9), flows=[
    ...     PartFlow(part="a", routing=["M1", "M2", "M1"], interarrival=Distribution(mean_s=60.0))])
    >>> {k: round(v * 3600) for k, v in leg_rates(f).items()}
    {('M1', 'M2'): 60, ('M2', 'M1'): 60}
    """
    rate_of: dict[tuple[str, str], float] = {}
    for f in factory.flows:
        rate = 1.0 / f.interarrival.mean_s
        for a, b in zip(f.routing[:-1], f.routing[1:], strict=True):
            rate_of[(a, b)] = rate_of.get((a, b), 0.0) + rate
    return rate_of


def flow_shares(factory: Factory) -> np.ndarray:
    """(T,) for each transport path, the share of its source machine's output that travels along it.

    Part flows decide the shares, weighted by their arrival rates: a machine two flows leave, one to A at
    6 parts/h and one to B at 2 parts/h, sends 3/4 to A. A machine no flow leaves splits its output
    equally over its outgoing paths.
    """
    rate_of = leg_rates(factory)
    leaving: dict[str, float] = {}
    for (a, _b), r in rate_of.items():
        leaving[a] = leaving.get(a, 0.0) + r
    paths_from: dict[str, int] = {}
    for t in factory.transports:
        paths_from[t.from_machine] = paths_from.get(t.from_machine, 0) + 1
    shares = np.zeros(len(factory.transports))
    for k, t in enumerate(factory.transports):
        total = leaving.get(t.from_machine, 0.0)
        if total > 0:
            shares[k] = rate_of.get((t.from_machine, t.to_machine), 0.0) / total
        else:
            shares[k] = 1.0 / paths_from[t.from_machine]
    return shares


def path_sources(factory: Factory) -> np.ndarray:
    """(T,) index of each transport path's source machine (-1: not in the factory)."""
    index = {m.id: i for i, m in enumerate(factory.machines)}
    return np.array([index.get(t.from_machine, -1) for t in factory.transports], dtype=np.int64)


def path_flows(sources: np.ndarray, shares: np.ndarray, output_per_h: np.ndarray) -> np.ndarray:
    """(T,) parts per hour on each transport path (NaN where the source machine's rate is unknown), from
    ``path_sources``, ``flow_shares`` and the machines' output rates."""
    src = sources
    out = np.full(len(src), np.nan)
    ok = src >= 0
    out[ok] = output_per_h[src[ok]] * shares[ok]
    return out


class ThroughputMeter:
    """Output rates (parts per hour) of every machine from their cumulative part counters.

    Feed it the counters at regular times (``add``, NaN where unknown); ``rates`` compares each machine's
    newest reading with its oldest known one inside the window. A counter unknown now, known only once,
    or gone backwards (a reset) gives NaN for that machine, and so does one whose readings cover less than
    the whole window and fewer than ``min_parts`` parts (still counting: see ``counting``).

    >>> meter = ThroughputMeter(window_s=300.0, min_parts=10)
    >>> meter.add(0.0, np.array([100.0, 500.0]))
    >>> meter.add(15.0, np.array([102.0, 510.0]))  # 2 parts in 15 s would claim 480/h: not yet
    >>> meter.rates().round(), meter.counting()
    (array([  nan, 2400.]), array([ True, False]))
    >>> meter.add(300.0, np.array([103.0, 600.0]))  # the whole window: 3 parts in 5 min are 36/h
    >>> meter.rates().round()
    array([  36., 1200.])
    """

    def __init__(self, window_s: float = 300.0, min_parts: int = MIN_PARTS):
        self.window_s = window_s
        self.min_parts = min_parts
        self._samples: deque[tuple[float, np.ndarray]] = deque()
        self._rates: np.ndarray | None = None
        self._counting: np.ndarray | None = None

    def add(self, t: float, counts: np.ndarray) -> None:
        self._samples.append((t, np.array(counts, dtype=float)))
        while len(self._samples) > 2 and self._samples[1][0] <= t - self.window_s:
            self._samples.popleft()
        self._rates = None

    def clear(self) -> None:
        self._samples.clear()
        self._rates = None
        self._counting = None

    def reindex(self, rows: np.ndarray) -> None:
        """The machines changed (added or removed while live): machine ``n`` now is the one that was
        ``rows[n]`` (-1: a new machine, whose counter is not known yet). Kept machines keep their readings.

        >>> meter = ThroughputMeter(window_s=300.0, min_parts=1)
        >>> meter.add(0.0, np.array([100.0, 500.0]))
        >>> meter.add(300.0, np.array([103.0, 600.0]))
        >>> meter.reindex(np.array([1, -1]))
        >>> meter.rates().round()
        array([1200.,   nan])
        """
        rows = np.asarray(rows, dtype=int)
        kept = rows >= 0
        for n, (t, counts) in enumerate(self._samples):
            moved = np.full(len(rows), np.nan)
            moved[kept] = counts[rows[kept]]
            self._samples[n] = (t, moved)
        self._rates = None
        self._counting = None

    def counting(self) -> np.ndarray | None:
        """Machines whose counters are known but whose rate still waits for more parts or time."""
        self.rates()
        return self._counting

    def rates(self) -> np.ndarray | None:
        if len(self._samples) < 2:
            self._counting = None
            return None
        if self._rates is None:
            ts = np.array([t for t, _ in self._samples])
            counts = np.stack([c for _, c in self._samples])
            finite = np.isfinite(counts)
            first = finite.argmax(axis=0)  # each machine's oldest known reading
            cols = np.arange(counts.shape[1])
            seconds = ts[-1] - ts[first]
            with np.errstate(invalid="ignore", divide="ignore"):
                rates = counter_rates(counts[first, cols], counts[-1], 1.0) / seconds
            rates[seconds <= 0] = np.nan
            parts = counts[-1] - counts[first, cols]
            enough = (seconds >= self.window_s) | (parts >= self.min_parts)
            self._counting = np.isfinite(rates) & ~enough
            rates[~enough] = np.nan
            self._rates = rates
        return self._rates


def counter_rates(before: np.ndarray, after: np.ndarray, seconds: float) -> np.ndarray:
    """Parts per hour between two readings of cumulative counters ``seconds`` apart (NaN: unknown/reset)."""
    with np.errstate(invalid="ignore"):
        delta = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
        out = delta / seconds * 3600.0 if seconds > 0 else np.full(len(delta), np.nan)
        out[~np.isfinite(out) | (delta < 0)] = np.nan
    return out


# -- export ---------------------------------------------------------------------------------------------
def grid_csv(parts_per_cell: np.ndarray, no_data: np.ndarray, cell_m: float, title: str, at: float | None) -> str:
    """The WIP grid as CSV: one row per cell (centre x, y in metres; parts in the cell; parts per m²; 1
    where there is no data), after a few ``#`` comment lines saying what and when."""
    ny, nx = parts_per_cell.shape
    jj, ii = np.mgrid[0:ny, 0:nx]
    table = np.c_[
        ((ii + 0.5) * cell_m).ravel(),
        ((jj + 0.5) * cell_m).ravel(),
        parts_per_cell.ravel(),
        (parts_per_cell / (cell_m * cell_m)).ravel(),
        no_data.ravel().astype(float),
    ]
    when = "live" if at is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))
    buf = io.StringIO()
    buf.write(f"# floortwin WIP density of {title}, {when}\n")
    buf.write(f"# {nx} x {ny} cells of {cell_m:g} m; total {float(np.nansum(parts_per_cell)):.6g} parts\n")
    np.savetxt(
        buf,
        table,
        fmt=["%.3f", "%.3f", "%.6g", "%.6g", "%d"],
        delimiter=",",
        header="x_m,y_m,parts,parts_per_m2,no_data",
        comments="",
    )
    return buf.getvalue()
