"""Material-flow analysis: the from-to matrix of part flows and the transport effort Σ flow × distance.

- **From-to matrix**: parts per hour from each machine to the next, from the part flows' arrival rates and
  routings (the same legs the flow heat map uses, `app.heat.material.leg_rates`).
- **Distance** is measured along the travel network when the floor has one: aisles and transport paths
  (their waypoints) form a graph, split where they cross. A machine steps from its centre straight onto
  the nearest point of the network, and onto the first/last waypoint of the transport paths it is an end
  of; a transport path without waypoints joins its two machines directly. Shortest paths come from
  ``scipy.sparse.csgraph.dijkstra``. Without any network, or for two machines it does not connect, the
  distance is rectilinear (|Δx| + |Δy| between centres) and the leg is marked ``routed=False``.
- **Transport effort** = Σ over legs of parts/h × metres, in part·m/h, per leg and in total.

`EffortModel` answers "what if this machine stood there?" in O(S + flows of that machine) (S network
segments, for the nearest-point search): the Δ shown while a machine is dragged.

Examples
--------
>>> from app.model.factory import Aisle, Distribution, Factory, Floor, Footprint, Machine, PartFlow, Pose
>>> def m(i, x, y):
...     return Machine(id=i, name=i, kind="cnc", asset="cnc", pose=Pose(x_m=x, y_m=y),
...                    footprint=Footprint(width_m=1.0, depth_m=1.0))
>>> f = Factory(name="t", floor=Floor(width_m=30.0, depth_m=20.0,
...             aisles=[Aisle(id="A", points=[[0.0, 0.0], [20.0, 0.0]])]),
...             machines=[m("M1", 2.0, 3.0), m("M2", 10.0, 3.0)],
...             flows=[PartFlow(part="p", routing=["M1", "M2"], interarrival=Distribution(mean_s=60.0))])
>>> model = EffortModel(f)
>>> model.analysis().total_effort  # 60 parts/h × (3 + 8 + 3) m
840.0
>>> model.moved("M2", 10.0, 1.0)  # 2 m closer to the aisle: 60 × −2
-120.0
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from app.heat.material import leg_rates
from app.model.factory import Factory

__all__ = ["EffortModel", "FlowAnalysis", "FlowLeg", "Piece", "TravelNetwork", "from_to_matrix", "route_points"]

#: One straight piece of a leg's route: ``("seg", s, t0, t1)`` along network segment s from fraction t0 to t1,
#: or ``("line", (x0, y0), (x1, y1))`` off the network (a machine stepping onto it, a conveyor, a rectilinear leg).
Piece = tuple

_SNAP_M = 1e-6  # points closer than this are one network node


def from_to_matrix(factory: Factory) -> tuple[tuple[str, ...], np.ndarray, tuple[str, ...]]:
    """(machine ids in factory order, (M, M) parts per hour from row to column, ids in routings that name
    no machine of the factory — their legs are left out)."""
    ids = tuple(m.id for m in factory.machines)
    index = {mid: i for i, mid in enumerate(ids)}
    matrix = np.zeros((len(ids), len(ids)))
    unknown: set[str] = set()
    for (a, b), per_s in leg_rates(factory).items():
        if a in index and b in index:
            matrix[index[a], index[b]] += per_s * 3600.0
        else:
            unknown.update(x for x in (a, b) if x not in index)
    return ids, matrix, tuple(sorted(unknown))


@dataclass(frozen=True)
class FlowLeg:
    """Parts moving from one machine to the next: intensity, distance and effort (parts/h × m)."""

    from_id: str
    to_id: str
    parts_per_h: float
    distance_m: float
    effort: float
    #: True when measured along the travel network, False when rectilinear (no network, or not connected).
    routed: bool


@dataclass(frozen=True)
class FlowAnalysis:
    """The material flow of one factory version."""

    machine_ids: tuple[str, ...]
    #: (M, M) parts per hour from row machine to column machine.
    from_to: np.ndarray
    legs: tuple[FlowLeg, ...]
    #: Σ parts/h × m over the legs, in part·m/h.
    total_effort: float
    #: Whether the floor has a travel network (aisles or transport paths); if not, every distance is rectilinear.
    network: bool
    #: Ids named in routings that are not machines of the factory (their legs are left out).
    unknown_machines: tuple[str, ...]
    #: Per part flow (in factory order): its parts/h × the metres along its whole routing, in part·m/h.
    #: They add up to ``total_effort`` (legs on unknown machines left out of both).
    part_efforts: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class _Attach:
    """How a machine standing at a point joins the network: (node, metres to it) pairs, plus the segment its
    nearest point lies on (s, fraction t along it, metres to that point) for two machines on one segment."""

    nodes: tuple[tuple[int, float], ...]
    segment: tuple[int, float, float] | None


class TravelNetwork:
    """The floor's aisles and transport-path waypoints as a graph of straight segments, split where they cross.

    Distances between network nodes are computed lazily, one Dijkstra run per node asked for, and kept.
    """

    def __init__(self, polylines: list[np.ndarray], points: list[np.ndarray] | None = None):
        raw = [(p[k], p[k + 1]) for p in polylines for k in range(len(p) - 1) if np.hypot(*(p[k + 1] - p[k])) > _SNAP_M]
        pieces = _split_at_crossings(raw)
        nodes: dict[tuple[int, int], int] = {}
        coords: list[np.ndarray] = []

        def node(pt: np.ndarray) -> int:
            key = (round(float(pt[0]) / _SNAP_M), round(float(pt[1]) / _SNAP_M))
            if key not in nodes:
                nodes[key] = len(coords)
                coords.append(np.asarray(pt, dtype=float))
            return nodes[key]

        edges = [(node(a), node(b), float(np.hypot(*(b - a)))) for a, b in pieces]
        edges = [e for e in edges if e[0] != e[1]]
        for pt in points or []:  # places machines step onto (a lone waypoint is a node of no segment)
            node(pt)
        self.coords = np.array(coords).reshape(-1, 2)
        self.seg_u = np.array([e[0] for e in edges], dtype=np.int64)
        self.seg_v = np.array([e[1] for e in edges], dtype=np.int64)
        self.seg_len = np.array([e[2] for e in edges])
        n = len(self.coords)
        self._edge: dict[tuple[int, int], int] = {}  # (u, v) with u < v → the shortest segment joining them
        for s in np.argsort(-self.seg_len, kind="stable"):
            u, v = int(self.seg_u[s]), int(self.seg_v[s])
            self._edge[(min(u, v), max(u, v))] = int(s)
        # one entry per pair of nodes: a sparse matrix adds up duplicates, and an aisle and a transport path
        # along the same stretch would count it twice
        uv = np.array(list(self._edge), dtype=np.int64).reshape(-1, 2)
        lengths = self.seg_len[list(self._edge.values())] if self._edge else np.zeros(0)
        self._graph = coo_matrix((lengths, (uv[:, 0], uv[:, 1])), shape=(n, n)).tocsr()
        self._from: dict[int, np.ndarray] = {}
        self._pred: dict[int, np.ndarray] = {}

    @property
    def empty(self) -> bool:
        return len(self.seg_len) == 0

    def node_of(self, pt: np.ndarray) -> int:
        """The node nearest this point (a waypoint given to the constructor is one exactly)."""
        return int(np.argmin(np.hypot(*(self.coords - pt).T)))

    def distances_from(self, node: int) -> np.ndarray:
        """(V,) shortest distances from ``node`` to every node (inf: not connected)."""
        if node not in self._from:
            self._from[node] = dijkstra(self._graph, directed=False, indices=node)
        return self._from[node]

    def path(self, a: int, b: int) -> list[Piece]:
        """The pieces of a shortest way from node ``a`` to node ``b`` (``("seg", s, t0, t1)``, whole segments)."""
        if b not in self._pred:
            self._from[b], self._pred[b] = dijkstra(self._graph, directed=False, indices=b, return_predecessors=True)
        pred, node = self._pred[b], a
        out: list[Piece] = []
        while node != b and pred[node] >= 0:
            nxt = int(pred[node])
            s = self._edge[(min(node, nxt), max(node, nxt))]
            out.append(("seg", s, 0.0, 1.0) if int(self.seg_u[s]) == node else ("seg", s, 1.0, 0.0))
            node = nxt
        return out

    def nearest(self, pt: np.ndarray) -> tuple[int, float, float]:
        """(segment, fraction t along it, metres from ``pt``) of the nearest point of the network: O(S)."""
        a, b = self.coords[self.seg_u], self.coords[self.seg_v]
        ab = b - a
        t = np.clip(((pt - a) * ab).sum(axis=1) / (self.seg_len**2), 0.0, 1.0)
        off = np.hypot(*(a + t[:, None] * ab - pt).T)
        s = int(np.argmin(off))
        return s, float(t[s]), float(off[s])


def _split_at_crossings(segments: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every segment cut at every point where another one crosses or touches it (vectorised, O(S²))."""
    if not segments:
        return []
    p = np.array([s[0] for s in segments], dtype=float)
    r = np.array([s[1] - s[0] for s in segments], dtype=float)
    qp = p[None, :, :] - p[:, None, :]  # [i, j] = p_j − p_i
    cross_rr = r[:, None, 0] * r[None, :, 1] - r[:, None, 1] * r[None, :, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (qp[..., 0] * r[None, :, 1] - qp[..., 1] * r[None, :, 0]) / cross_rr  # along i
        u = (qp[..., 0] * r[:, None, 1] - qp[..., 1] * r[:, None, 0]) / cross_rr  # along j
    eps = 1e-9
    hit = (np.abs(cross_rr) > eps) & (t > eps) & (t < 1 - eps) & (u >= -eps) & (u <= 1 + eps)
    out: list[tuple[np.ndarray, np.ndarray]] = []
    for i in range(len(segments)):
        ts = np.unique(np.r_[0.0, t[i][hit[i]], 1.0])
        pts = p[i] + ts[:, None] * r[i]
        out.extend((pts[k], pts[k + 1]) for k in range(len(pts) - 1))
    return out


class EffortModel:
    """Transport effort of one factory version, with a fast answer for one machine moved elsewhere.

    Holds a snapshot (a `Factory` is immutable); build a new model for a new version.
    """

    def __init__(self, factory: Factory, follow_transports: bool = False):
        self.factory = factory
        #: Legs with a transport path in their direction are measured along it (machine centre, waypoints,
        #: machine centre), as the simulation carries parts, instead of the shortest way.
        self.follow_transports = follow_transports
        self.ids, self.from_to, self.unknown = from_to_matrix(factory)
        self._index = {mid: i for i, mid in enumerate(self.ids)}
        self._xy = np.array([(m.pose.x_m, m.pose.y_m) for m in factory.machines], dtype=float).reshape(-1, 2)
        polylines = [np.array(a.points, dtype=float) for a in factory.floor.aisles]
        # transport paths: their waypoints are travel ways; their end machines step onto the first/last one
        self._ends: dict[int, list[np.ndarray]] = {}
        self._direct: set[tuple[int, int]] = set()
        for t in factory.transports:
            i, j = self._index.get(t.from_machine), self._index.get(t.to_machine)
            if not t.waypoints:
                if i is not None and j is not None:
                    self._direct.add((min(i, j), max(i, j)))
                continue
            w = np.array(t.waypoints, dtype=float)
            polylines.append(w)
            if i is not None:
                self._ends.setdefault(i, []).append(w[0])
            if j is not None:
                self._ends.setdefault(j, []).append(w[-1])
        self.network = TravelNetwork(polylines, [w for ws in self._ends.values() for w in ws])
        self._end_nodes = {i: [self.network.node_of(w) for w in ws] for i, ws in self._ends.items()}
        self._attach = [self._attach_at(i, self._xy[i]) for i in range(len(self.ids))]
        src, dst = np.nonzero(self.from_to)
        self._src, self._dst = src, dst
        self._rate = self.from_to[src, dst]
        self._legs_of: dict[int, list[int]] = {}
        for k, (i, j) in enumerate(zip(src.tolist(), dst.tolist(), strict=True)):
            self._legs_of.setdefault(i, []).append(k)
            if j != i:
                self._legs_of.setdefault(j, []).append(k)
        # (waypoints (n, 2), metres between them) per leg that follows its transport path
        self._paths: dict[int, tuple[np.ndarray, float]] = {}
        if follow_transports:
            leg_of = {(int(i), int(j)): k for k, (i, j) in enumerate(zip(src, dst, strict=True))}
            for t in factory.transports:  # as the simulation: the last path given for a pair is the one used
                leg = leg_of.get((self._index.get(t.from_machine, -1), self._index.get(t.to_machine, -1)))
                if leg is not None:
                    w = np.array(t.waypoints, dtype=float).reshape(-1, 2)
                    self._paths[leg] = (w, float(np.hypot(*np.diff(w, axis=0).T).sum()) if len(w) > 1 else 0.0)
        dist_routed = [self._leg_distance(k, self._xy) for k in range(len(src))]
        self._dist = np.array([d for d, _ in dist_routed], dtype=float)
        self._routed = np.array([r for _, r in dist_routed], dtype=bool)
        self.total_effort = float((self._rate * self._dist).sum())

    def analysis(self) -> FlowAnalysis:
        """Every leg with its intensity, distance and effort, and the total."""
        legs = tuple(
            FlowLeg(self.ids[i], self.ids[j], float(f), float(d), float(f * d), bool(r))
            for i, j, f, d, r in zip(self._src, self._dst, self._rate, self._dist, self._routed, strict=True)
        )
        has_network = not self.network.empty or bool(self._direct)
        metres = {(leg.from_id, leg.to_id): leg.distance_m for leg in legs}
        parts = tuple(
            (
                f.part,
                3600.0
                / f.interarrival.mean_s
                * sum(metres.get(pair, 0.0) for pair in zip(f.routing[:-1], f.routing[1:], strict=True)),
            )
            for f in self.factory.flows
        )
        return FlowAnalysis(self.ids, self.from_to, legs, self.total_effort, has_network, self.unknown, parts)

    def routes(self) -> list[list[Piece]]:
        """Each leg's route (in ``analysis().legs`` order) as straight pieces: the way its distance is measured.

        Their lengths add up to the leg's distance (``route_points`` turns a route into a polyline)."""
        out: list[list[Piece]] = []
        for k in range(len(self._src)):
            i, j = int(self._src[k]), int(self._dst[k])
            if i == j:
                out.append([])
            elif k in self._paths:
                w = self._paths[k][0]
                pts = [self._xy[i], *w, self._xy[j]]
                out.append([_line(a, b) for a, b in itertools.pairwise(pts)])
            else:
                out.append(self._route(i, j))
        return out

    def _route(self, i: int, j: int) -> list[Piece]:
        """The pieces of the way ``_distance`` measures from machine i to machine j (the same choice)."""
        xy_i, xy_j, att_i, att_j = self._xy[i], self._xy[j], self._attach[i], self._attach[j]
        net = self.network
        best, how = np.inf, None
        for b, (node_j, extra_j) in enumerate(att_j.nodes):
            dist = net.distances_from(node_j)
            for a, (node_i, extra_i) in enumerate(att_i.nodes):
                d = extra_i + float(dist[node_i]) + extra_j
                if d < best:
                    best, how = d, ("nodes", a, b)
        if att_i.segment is not None and att_j.segment is not None and att_i.segment[0] == att_j.segment[0]:
            (s, ti, oi), (_, tj, oj) = att_i.segment, att_j.segment
            d = oi + abs(ti - tj) * float(net.seg_len[s]) + oj
            if d < best:
                best, how = d, ("segment", 0, 0)
        if (min(i, j), max(i, j)) in self._direct and float(np.hypot(*(xy_i - xy_j))) < best:
            return [_line(xy_i, xy_j)]
        if how is None or not np.isfinite(best):  # rectilinear: along x, then along y
            corner = np.array([xy_j[0], xy_i[1]])
            return [p for p in (_line(xy_i, corner), _line(corner, xy_j)) if p[1] != p[2]]
        if how[0] == "segment":
            s, ti, tj = att_i.segment[0], att_i.segment[1], att_j.segment[1]  # type: ignore[index]
            fi, fj = self._foot(att_i), self._foot(att_j)
            return [_line(xy_i, fi), ("seg", s, ti, tj), _line(fj, xy_j)]
        _, a, b = how
        out = self._step_on(xy_i, att_i, a)
        out += net.path(att_i.nodes[a][0], att_j.nodes[b][0])
        back = self._step_on(xy_j, att_j, b)
        out += [_reverse(p) for p in reversed(back)]
        return out

    def _foot(self, att: _Attach) -> np.ndarray:
        s, t, _off = att.segment  # type: ignore[misc]
        a, b = self.network.coords[self.network.seg_u[s]], self.network.coords[self.network.seg_v[s]]
        return a + t * (b - a)

    def _step_on(self, xy: np.ndarray, att: _Attach, a: int) -> list[Piece]:
        """From a machine at ``xy`` onto its ``a``-th attach node: to the foot on its segment and along it to
        the segment's end (the first two nodes), or straight to a transport path's end waypoint."""
        node = att.nodes[a][0]
        if att.segment is not None and a < 2:
            s, t, _off = att.segment
            return [_line(xy, self._foot(att)), ("seg", s, t, 0.0 if a == 0 else 1.0)]
        return [_line(xy, self.network.coords[node])]

    def moved(self, machine_id: str, x_m: float, y_m: float) -> float:
        """Δ total effort (part·m/h) if ``machine_id`` stood at (x_m, y_m) and nothing else changed.

        O(S) for its nearest network point plus O(flows of that machine); nothing is recomputed for others.
        """
        i = self._index[machine_id]
        legs = self._legs_of.get(i, [])
        if not legs:
            return 0.0
        xy = np.array([x_m, y_m], dtype=float)
        attach = self._attach_at(i, xy)
        change = 0.0
        for k in legs:
            a, b = int(self._src[k]), int(self._dst[k])
            other = b if a == i else a
            if k in self._paths:
                d = float(self._path_metres(k, xy if a == i else self._xy[a], xy if b == i else self._xy[b]))
            else:
                d, _ = (0.0, True) if a == b else self._distance(i, other, xy, attach)
            change += self._rate[k] * (d - self._dist[k])
        return float(change)

    def moved_many(self, machine_id: str, xy: np.ndarray) -> np.ndarray:
        """Δ total effort (part·m/h) for each of the points ``xy`` (K, 2) ``machine_id`` could stand at, the
        others where they stand: ``moved`` for K points in a few numpy calls (the layout search's scan)."""
        i = self._index[machine_id]
        pts = np.asarray(xy, dtype=float).reshape(-1, 2)
        change = np.zeros(len(pts))
        legs = self._legs_of.get(i, [])
        if not legs or not len(pts):
            return change
        net = self.network
        seg = None
        if not net.empty:  # every point's nearest point of the network: (K, S) at once
            a, b = net.coords[net.seg_u], net.coords[net.seg_v]
            ab = b - a
            rel = pts[:, None, :] - a[None, :, :]
            t = np.clip((rel * ab[None]).sum(axis=2) / (net.seg_len**2)[None], 0.0, 1.0)
            off_all = np.hypot(*(a[None] + t[..., None] * ab[None] - pts[:, None, :]).transpose(2, 0, 1))
            s = np.argmin(off_all, axis=1)
            rows = np.arange(len(pts))
            seg = (s, t[rows, s], off_all[rows, s], net.seg_len[s])
        ends = [(node, np.hypot(*(pts - w).T)) for node, w in zip(self._end_nodes.get(i, []), self._ends.get(i, []), strict=True)]
        for k in legs:
            a_, b_ = int(self._src[k]), int(self._dst[k])
            if a_ == b_:
                continue
            j = b_ if a_ == i else a_
            if k in self._paths:
                d = self._path_metres(k, pts if a_ == i else self._xy[a_], pts if b_ == i else self._xy[b_])
                change += self._rate[k] * (d - self._dist[k])
                continue
            best = np.full(len(pts), np.inf)
            for node_j, extra_j in self._attach[j].nodes:
                dist = net.distances_from(node_j)
                if seg is not None:
                    s, t, off, length = seg
                    best = np.minimum(best, off + t * length + dist[net.seg_u[s]] + extra_j)
                    best = np.minimum(best, off + (1.0 - t) * length + dist[net.seg_v[s]] + extra_j)
                for node, extra in ends:
                    best = np.minimum(best, extra + dist[node] + extra_j)
            seg_j = self._attach[j].segment
            if seg is not None and seg_j is not None:
                s, t, off, length = seg
                same = s == seg_j[0]
                best = np.where(same, np.minimum(best, off + np.abs(t - seg_j[1]) * length + seg_j[2]), best)
            if (min(i, j), max(i, j)) in self._direct:
                best = np.minimum(best, np.hypot(*(pts - self._xy[j]).T))
            d = np.where(np.isfinite(best), best, np.abs(pts - self._xy[j]).sum(axis=1))
            change += self._rate[k] * (d - self._dist[k])
        return change

    def with_moves(self, moves: Mapping[str, tuple[float, float]]) -> EffortModel:
        """The model of this layout with machines moved (``{id: (x_m, y_m)}``): only the legs of the moved
        machines are measured again; the travel network and its shortest paths are shared."""
        new = copy.copy(self)
        new._xy = self._xy.copy()
        new._attach = list(self._attach)
        touched: set[int] = set()
        for mid, (x, y) in moves.items():
            i = self._index[mid]
            new._xy[i] = (x, y)
            new._attach[i] = new._attach_at(i, new._xy[i])
            touched.update(self._legs_of.get(i, []))
        new._dist = self._dist.copy()
        new._routed = self._routed.copy()
        for k in touched:
            new._dist[k], new._routed[k] = new._leg_distance(k, new._xy)
        new.total_effort = float((new._rate * new._dist).sum())
        return new

    def point_distances(self, points: np.ndarray) -> np.ndarray:
        """(K, K) metres between floor points (candidate slots) as parts would travel between machines
        standing there: along the aisles and transport-path waypoints, rectilinear where not connected."""
        pts = np.asarray(points, dtype=float).reshape(-1, 2)
        out = np.abs(pts[:, None, :] - pts[None, :, :]).sum(axis=2)
        net = self.network
        if net.empty:
            return out
        att = [net.nearest(p) for p in pts]
        best = np.full_like(out, np.inf)
        for q, (s, t, off) in enumerate(att):
            length = float(net.seg_len[s])
            for node, extra in ((int(net.seg_u[s]), off + t * length), (int(net.seg_v[s]), off + (1.0 - t) * length)):
                dist = net.distances_from(node)
                for r, (s2, t2, off2) in enumerate(att):
                    l2 = float(net.seg_len[s2])
                    via = extra + min(dist[net.seg_u[s2]] + off2 + t2 * l2, dist[net.seg_v[s2]] + off2 + (1.0 - t2) * l2)
                    if s2 == s:
                        via = min(via, off + abs(t - t2) * length + off2)
                    best[q, r] = min(best[q, r], via)
        np.fill_diagonal(best, 0.0)
        return np.where(np.isfinite(best), best, out)

    def position(self, machine_id: str) -> tuple[float, float]:
        """Where this model has the machine standing (x_m, y_m)."""
        x, y = self._xy[self._index[machine_id]]
        return float(x), float(y)

    # -- distances ---------------------------------------------------------------------------------------
    def _attach_at(self, i: int, xy: np.ndarray) -> _Attach:
        net = self.network
        nodes: list[tuple[int, float]] = []
        segment = None
        if not net.empty:
            s, t, off = net.nearest(xy)
            length = float(net.seg_len[s])
            nodes += [(int(net.seg_u[s]), off + t * length), (int(net.seg_v[s]), off + (1.0 - t) * length)]
            segment = (s, t, off)
        for node, w in zip(self._end_nodes.get(i, []), self._ends.get(i, []), strict=True):
            nodes.append((node, float(np.hypot(*(w - xy)))))
        return _Attach(tuple(nodes), segment)

    def _path_metres(self, k: int, xy_from: np.ndarray, xy_to: np.ndarray) -> np.ndarray:
        """Metres along leg k's transport path from a machine at ``xy_from`` to one at ``xy_to`` (either may
        be (K, 2) points): straight on when the path has no waypoints."""
        w, inner = self._paths[k]
        if not len(w):
            return np.hypot(*(np.asarray(xy_from) - xy_to).T)
        return np.hypot(*(np.asarray(xy_from) - w[0]).T) + inner + np.hypot(*(np.asarray(xy_to) - w[-1]).T)

    def _leg_distance(self, k: int, xy: np.ndarray) -> tuple[float, bool]:
        """(metres of leg k with machines at ``xy``, measured along the network or its transport path?)."""
        i, j = int(self._src[k]), int(self._dst[k])
        if k in self._paths and i != j:
            return float(self._path_metres(k, xy[i], xy[j])), True
        return self._distance(i, j, xy[i], self._attach[i])

    def _distance(self, i: int, j: int, xy_i: np.ndarray, att_i: _Attach) -> tuple[float, bool]:
        """(metres from machine i standing at xy_i to machine j where it stands, routed along the network?)."""
        if i == j:
            return 0.0, True
        xy_j, att_j = self._xy[j], self._attach[j]
        best = np.inf
        for node_j, extra_j in att_j.nodes:
            dist = self.network.distances_from(node_j)
            for node_i, extra_i in att_i.nodes:
                best = min(best, extra_i + float(dist[node_i]) + extra_j)
        if att_i.segment is not None and att_j.segment is not None and att_i.segment[0] == att_j.segment[0]:
            (s, ti, oi), (_, tj, oj) = att_i.segment, att_j.segment
            best = min(best, oi + abs(ti - tj) * float(self.network.seg_len[s]) + oj)
        if (min(i, j), max(i, j)) in self._direct:
            best = min(best, float(np.hypot(*(xy_i - xy_j))))
        if np.isfinite(best):
            return float(best), True
        return float(np.abs(xy_i - xy_j).sum()), False


def _line(a: np.ndarray, b: np.ndarray) -> Piece:
    return ("line", (float(a[0]), float(a[1])), (float(b[0]), float(b[1])))


def _reverse(piece: Piece) -> Piece:
    kind, p, q = piece[0], piece[-2], piece[-1]
    return (kind, q, p) if kind == "line" else ("seg", piece[1], q, p)


def route_points(route: list[Piece], network: TravelNetwork) -> np.ndarray:
    """A route's pieces as one polyline (K, 2) of floor points (consecutive duplicates dropped)."""
    pts: list[tuple[float, float]] = []
    for piece in route:
        if piece[0] == "line":
            ends = [piece[1], piece[2]]
        else:
            _, s, t0, t1 = piece
            a, b = network.coords[network.seg_u[s]], network.coords[network.seg_v[s]]
            ends = [tuple(map(float, a + t * (b - a))) for t in (t0, t1)]
        for p in ends:
            if not pts or np.hypot(p[0] - pts[-1][0], p[1] - pts[-1][1]) > _SNAP_M:
                pts.append((float(p[0]), float(p[1])))
    return np.array(pts, dtype=float).reshape(-1, 2)
