"""The layout optimiser: where should the movable machines stand so that parts travel less?

Objectives (all minimised): **transport effort** (Σ parts/h × metres along the travel network,
`app.optimise.flow.EffortModel`), **rearrangement** (machines moved, and metres moved in total) and the
**floor area** the layout spans (bounding box of every footprint).

Constraints: every candidate reported feasible passes the layout editor's collision and clearance check
(`app.optimise.feasibility.LayoutChecker`: the pybullet world of `app.physics`, the same rules as the
editor: no overlap with machines, walls, keep-out zones or the floor edge; each machine's clearance from
machines, walls and emergency exits; nothing standing in an aisle). Moved machines stay inside the region.

The search (a multi-start local search with a Pareto archive):

1. **Slots** (optional): the assignment of machines to candidate slots is the QAP; `app.optimise.qap.solve`
   places them by the flows between movable machines and the distances between slots (exact when nothing
   pinned has flows with them). The local search below then adds the flows to pinned machines.
2. **Relocation scans**: one unit (a machine, or a group moved as one block) at a time, every point of a
   grid over the region (and small steps around where it stands) is scored at once with
   ``EffortModel.moved_many``; the best-scoring points are checked in the collision world, best first, and
   the first that passes is taken. Then **swaps** of two units, scored exactly with ``with_moves``.
3. Descents use several weightings of the objectives (effort alone, effort with a price on moving, on area)
   from the current layout, then kicks from the best layout found, until the time is up. Every layout
   passed on the way enters an archive of non-dominated (Pareto) layouts.

The rejected moves with the lowest effort are reported as infeasible candidates with the rule they break.

Examples
--------
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> from app.optimise.feasibility import factory_hulls
>>> f = load_factory(DEMO_FACTORY)
>>> r = optimise_layout(f, LayoutRequest(movable=("QA-01", "QA-02"), seconds=1.0, seed=1), factory_hulls(f, DEMO_FACTORY))
>>> best = r.candidate(r.recommended)
>>> best.feasible, best.objectives.effort <= r.baseline.effort
(True, True)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from app.model.factory import Factory, Pose
from app.optimise.feasibility import LayoutChecker, rule_breaks
from app.optimise.flow import EffortModel
from app.optimise.layout_archive import Archive, State
from app.optimise.layout_problem import LayoutInputError, LayoutRequest, Unit, half_extents, prepare_units
from app.optimise.layout_result import Candidate, LayoutResult, MachinePose, Objectives, RuleBreak
from app.optimise.qap import solve as solve_qap

__all__ = ["LayoutInputError", "LayoutProgress", "LayoutRequest", "optimise_layout"]

_GRID_POINTS = 600  # grid points over the region per relocation scan
_CHECKS_PER_SCAN = 25  # best-scoring points checked in the collision world per scan
_WEIGHTS = ((0.0, 0.0), (0.3, 0.0), (0.0, 0.3), (1.0, 0.0), (0.3, 0.3), (0.1, 0.0))  # (moving, area)
_EPS = 1e-9


@dataclass(frozen=True)
class LayoutProgress:
    """What the search reports while it runs."""

    fraction: float
    seconds: float
    evaluations: int
    checks: int
    best_effort: float
    feasible: int
    phase: str


def optimise_layout(
    factory: Factory,
    request: LayoutRequest,
    hulls: Mapping[str, tuple],
    progress: Callable[[LayoutProgress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    factory_path: str | None = None,
) -> LayoutResult:
    """Search layouts of ``factory`` as ``request`` asks; the factory itself is never changed.

    Raises `LayoutInputError` (before searching) for a factory without flows, a region too small,
    unknown machines, or pinned machines that already collide. A cancelled run returns what it found
    with ``stopped_by="cancelled"``.
    """
    units, region = prepare_units(factory, request)
    model = EffortModel(factory, follow_transports=request.follow_transports)
    if not np.any(model.from_to):
        raise LayoutInputError("nothing to optimise: no part flow goes from one machine to another")
    with LayoutChecker(factory, hulls) as checker:
        movable = {mid for u in units for mid in u.members}
        pre = checker.as_it_stands()
        stuck = [
            v.describe()
            for v in pre
            if v.machine not in movable
            and any(c.kind == "collision" and (c.other not in movable) for c in v.contacts)
        ]
        if stuck:
            raise LayoutInputError(
                "pinned machines already collide: " + "; ".join(stuck) + " — let one of them move, or fix the layout first"
            )
        search = _Search(factory, request, units, region, model, checker, progress, cancel)
        search.run()
        return search.result(factory_path)


class _Search:
    def __init__(
        self,
        factory: Factory,
        request: LayoutRequest,
        units: list[Unit],
        region: tuple[float, float, float, float],
        model: EffortModel,
        checker: LayoutChecker,
        progress: Callable[[LayoutProgress], None] | None,
        cancel: Callable[[], bool] | None,
    ):
        self.factory, self.request, self.units, self.region = factory, request, units, region
        self.base, self.model, self.checker = model, model, checker
        self.progress_cb, self.cancel = progress, cancel or (lambda: False)
        self.rng = np.random.default_rng(request.seed)
        self.t0 = time.perf_counter()
        self.stopped_by = "converged"
        self.evaluations = 0
        self.start = np.array([u.start for u in units])
        self.pos = self.start.copy()
        ids = [m.id for m in factory.machines]
        self.row = {mid: k for k, mid in enumerate(ids)}
        self.centres = np.array([(m.pose.x_m, m.pose.y_m) for m in factory.machines])
        self.half = np.array([half_extents(m) for m in factory.machines])
        self._member_rows = np.array([self.row[mid] for u in units for mid in u.members], dtype=np.int64)
        self._member_unit = np.array([k for k, u in enumerate(units) for _ in u.members], dtype=np.int64)
        self._member_offsets = np.concatenate([u.offsets for u in units]).reshape(-1, 2)
        self._sizes = np.array([len(u.members) for u in units])
        self.effort0 = max(model.total_effort, _EPS)
        self.area0 = max(self._area(self.centres), _EPS)
        self.length = math.hypot(factory.floor.width_m, factory.floor.depth_m)
        self.slots = np.array(request.slots, dtype=float).reshape(-1, 2)
        self.grid = self.slots if len(self.slots) else self._grid()
        step = factory.floor.grid_m
        self.steps = np.array([(dx, dy) for dx in (-2, -1, 0, 1, 2) for dy in (-2, -1, 0, 1, 2) if dx or dy]) * step
        self.archive = Archive()
        self.infeasible: list[tuple[float, dict[str, Pose]]] = []
        self.weights = (0.0, 0.0)
        self._last_report = 0.0
        self.notes: list[str] = []

    # -- bookkeeping ------------------------------------------------------------------------------------
    def _grid(self) -> np.ndarray:
        x0, y0, x1, y1 = self.region
        g = self.factory.floor.grid_m
        step = max(g, math.ceil(math.sqrt((x1 - x0) * (y1 - y0) / _GRID_POINTS) / g) * g)
        xs = np.arange(x0 + step / 2, x1, step)
        ys = np.arange(y0 + step / 2, y1, step)
        return np.array([(x, y) for x in xs for y in ys], dtype=float).reshape(-1, 2)

    def _area(self, centres: np.ndarray) -> float:
        lo = (centres - self.half).min(axis=0)
        hi = (centres + self.half).max(axis=0)
        return float(np.prod(hi - lo))

    def _fits(self, u: Unit, refs: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = self.region
        lo = refs[:, None, :] + (u.offsets - u.half)[None]
        hi = refs[:, None, :] + (u.offsets + u.half)[None]
        inside = (lo[..., 0] >= x0 - _EPS) & (lo[..., 1] >= y0 - _EPS) & (hi[..., 0] <= x1 + _EPS) & (hi[..., 1] <= y1 + _EPS)
        return inside.all(axis=1)

    def _poses(self, k: int, ref: np.ndarray) -> dict[str, Pose]:
        u = self.units[k]
        return {
            mid: Pose(x_m=round(float(ref[0] + off[0]), 6), y_m=round(float(ref[1] + off[1]), 6), yaw_deg=yaw)
            for mid, off, yaw in zip(u.members, u.offsets, u.yaws, strict=True)
        }

    def _moves(self, k: int, ref: np.ndarray) -> dict[str, tuple[float, float]]:
        return {mid: (p.x_m, p.y_m) for mid, p in self._poses(k, ref).items()}

    def _objectives(self, pos: np.ndarray, effort: float) -> np.ndarray:
        shift = np.hypot(*(pos - self.start).T)
        sizes = self._sizes
        moved = shift > 1e-6
        return np.array([effort, float(sizes[moved].sum()), float((shift * sizes).sum()), self._area(self._centres(pos))])

    def _centres(self, pos: np.ndarray) -> np.ndarray:
        """Every machine's centre with the units at ``pos`` (one numpy step: it runs once per scan)."""
        c = self.centres.copy()
        c[self._member_rows] = pos[self._member_unit] + self._member_offsets
        return c

    def _score(self, obj: np.ndarray) -> float:
        wm, wa = self.weights
        n = max(1, len(self.units))
        return obj[0] / self.effort0 + wm * (obj[2] / self.length + 0.5 * obj[1] / n) + wa * obj[3] / self.area0

    def _out_of_time(self) -> bool:
        if self.cancel():
            self.stopped_by = "cancelled"
            return True
        if time.perf_counter() - self.t0 >= self.request.seconds:
            self.stopped_by = "time"
            return True
        return False

    def _report(self, phase: str, force: bool = False) -> None:
        now = time.perf_counter() - self.t0
        if self.progress_cb is None or (not force and now - self._last_report < 0.2):
            return
        self._last_report = now
        best = self.archive.best_effort()
        self.progress_cb(
            LayoutProgress(
                min(1.0, now / self.request.seconds), now, self.evaluations, self.checker.checks,
                self.base.total_effort if best is None else best, len(self.archive), phase,
            )
        )

    def _accept(self, k_moves: Mapping[int, np.ndarray]) -> None:
        moves: dict[str, tuple[float, float]] = {}
        poses: dict[str, Pose] = {}
        for k, ref in k_moves.items():
            self.pos[k] = ref
            moves.update(self._moves(k, ref))
            poses.update(self._poses(k, ref))
        self.model = self.model.with_moves(moves)
        self.checker.place(poses)
        if self._on_slots():  # with slots, a layout counts once every machine stands on one
            self.archive.add(State(self._objectives(self.pos, self.model.total_effort), self.pos.copy()))

    def _reject(self, effort: float, poses: dict[str, Pose]) -> None:
        """Keep the rejected layouts with the least effort (reported with the rule they break)."""
        self.infeasible.append((effort, self._all_moved(poses)))
        if len(self.infeasible) > 4 * self.request.max_infeasible:
            self.infeasible.sort(key=lambda e: e[0])
            del self.infeasible[2 * self.request.max_infeasible :]

    def _all_moved(self, extra: dict[str, Pose]) -> dict[str, Pose]:
        out: dict[str, Pose] = {}
        for k in np.flatnonzero(np.hypot(*(self.pos - self.start).T) > 1e-6):
            out.update(self._poses(int(k), self.pos[k]))
        out.update(extra)
        return out

    # -- moves --------------------------------------------------------------------------------------------
    def _free_slots(self, k: int) -> np.ndarray:
        """Slots no other unit stands on (slot mode: a machine moves onto a free slot or swaps)."""
        taken = {tuple(np.round(p, 6)) for j, p in enumerate(self.pos) if j != k}
        return np.array([s for s in self.slots if tuple(np.round(s, 6)) not in taken]).reshape(-1, 2)

    def _on_slots(self) -> bool:
        if not len(self.slots):
            return True
        return all(np.min(np.hypot(*(self.slots - p).T)) < 1e-6 for p in self.pos)

    def _relocate(self, k: int) -> bool:
        u = self.units[k]
        near = np.vstack([self.grid, self.pos[k] + self.steps, self.start[k][None]])
        cand = self._free_slots(k) if len(self.slots) else near
        cand = cand[self._fits(u, cand) & (np.hypot(*(cand - self.pos[k]).T) > 1e-6)]
        if not len(cand):
            return False
        self.evaluations += len(cand)
        d_eff = np.zeros(len(cand))
        for mid, off in zip(u.members, u.offsets, strict=True):
            d_eff += self.model.moved_many(mid, cand + off)
        now_obj = self._objectives(self.pos, self.model.total_effort)
        size = len(u.members)
        shift_old = float(np.hypot(*(self.pos[k] - self.start[k])))
        shift_new = np.hypot(*(cand - self.start[k]).T)
        d_moved = size * ((shift_new > 1e-6).astype(float) - float(shift_old > 1e-6))
        d_metres = size * (shift_new - shift_old)
        others = np.ones(len(self.centres), dtype=bool)
        others[[self.row[m] for m in u.members]] = False
        lo_o = (self._centres(self.pos)[others] - self.half[others]).min(axis=0) if others.any() else np.full(2, np.inf)
        hi_o = (self._centres(self.pos)[others] + self.half[others]).max(axis=0) if others.any() else np.full(2, -np.inf)
        lo = np.minimum(lo_o, cand + (u.offsets - u.half).min(axis=0))
        hi = np.maximum(hi_o, cand + (u.offsets + u.half).max(axis=0))
        d_area = np.prod(hi - lo, axis=1) - now_obj[3]
        wm, wa = self.weights
        n = max(1, len(self.units))
        score = d_eff / self.effort0 + wm * (d_metres / self.length + 0.5 * d_moved / n) + wa * d_area / self.area0
        order = np.argsort(score)[:_CHECKS_PER_SCAN]
        for idx in order:
            if score[idx] >= -_EPS:
                break
            ref = cand[idx]
            if len(u.members) > 1:  # a group's legs between its own members: measure exactly
                exact = self.model.with_moves(self._moves(k, ref)).total_effort - self.model.total_effort
                if (exact - d_eff[idx]) / self.effort0 + score[idx] >= -_EPS:
                    continue
            poses = self._poses(k, ref)
            if self.checker.is_clear(poses):
                self._accept({k: ref})
                return True
            self._reject(self.model.total_effort + float(d_eff[idx]), poses)
        return False

    def _swaps(self) -> bool:
        singles = [k for k, u in enumerate(self.units) if len(u.members) == 1]
        pairs = [(a, b) for i, a in enumerate(singles) for b in singles[i + 1 :]]
        if len(pairs) > 2000:
            pick = self.rng.choice(len(pairs), 2000, replace=False)
            pairs = [pairs[i] for i in pick]
        improved = False
        for a, b in pairs:
            if self._out_of_time():
                return improved
            pa, pb = self.pos[a].copy(), self.pos[b].copy()
            if not (self._fits(self.units[a], pb[None])[0] and self._fits(self.units[b], pa[None])[0]):
                continue
            self.evaluations += 1
            moves = {**self._moves(a, pb), **self._moves(b, pa)}
            trial = self.pos.copy()
            trial[a], trial[b] = pb, pa
            new_obj = self._objectives(trial, self.model.with_moves(moves).total_effort)
            if self._score(new_obj) >= self._score(self._objectives(self.pos, self.model.total_effort)) - _EPS:
                continue
            poses = {**self._poses(a, pb), **self._poses(b, pa)}
            if self.checker.is_clear(poses):
                self._accept({a: pb, b: pa})
                improved = True
            else:
                self._reject(float(new_obj[0]), poses)
        return improved

    def _descend(self, phase: str) -> None:
        while not self._out_of_time():
            improved = False
            for k in self.rng.permutation(len(self.units)):
                if self._out_of_time():
                    return
                improved |= self._relocate(int(k))
                self._report(phase)
            if len(self.units) <= 400:
                improved |= self._swaps()
            if not improved:
                return

    def _restart_from(self, pos: np.ndarray) -> None:
        self.checker.reset()
        self.model = self.base
        self.pos = self.start.copy()
        moved = {k: pos[k] for k in range(len(self.units)) if np.hypot(*(pos[k] - self.start[k])) > 1e-6}
        if moved:
            self._accept(moved)

    def _slot_start(self) -> None:
        """Machines on slots by the QAP over the flows between them and the slot distances."""
        n_u, n_s = len(self.units), len(self.slots)
        unit_of = {mid: k for k, u in enumerate(self.units) for mid in u.members}
        flow = np.zeros((n_s, n_s))
        for (i, j), rate in np.ndenumerate(self.base.from_to):
            a, b = unit_of.get(self.base.ids[i]), unit_of.get(self.base.ids[j])
            if rate and a is not None and b is not None and a != b:
                flow[a, b] += rate
        distance = self.base.point_distances(self.slots)
        qap = solve_qap(flow, distance, seconds=max(0.1, self.request.seconds / 4), seed=self.request.seed)
        refs = {k: self.slots[int(qap.permutation[k])] for k in range(n_u)}
        poses: dict[str, Pose] = {}
        for k, ref in refs.items():
            poses.update(self._poses(k, ref))
        if not self.checker.is_clear(poses):
            self.notes.append(
                "the slot assignment by flows alone breaks a collision or clearance rule: the search went on from it, "
                "moving machines to other free slots"
            )
        self._accept(refs)  # every later move is checked; the final verdict of each candidate is a full check

    def run(self) -> None:
        if len(self.slots):
            self._slot_start()
            slot_start = self.pos.copy()
            for w in _WEIGHTS:
                if self._out_of_time():
                    break
                self.weights = w
                self._restart_from(slot_start)
                self._descend("slots")
        else:
            self.archive.add(State(self._objectives(self.pos, self.model.total_effort), self.pos.copy()))
            for w in _WEIGHTS:
                if self._out_of_time():
                    break
                self.weights = w
                self._restart_from(self.start)
                self._descend("descent")
        self.weights = (0.0, 0.0)
        while not self._out_of_time():  # kicks from the least-effort layout found
            best = self.archive.least_effort()
            self._restart_from(best.pos)
            for k in self.rng.choice(len(self.units), size=min(3, len(self.units)), replace=False):
                self._kick(int(k))
            self._descend("kicks")
        self._report("done", force=True)

    def _kick(self, k: int) -> None:
        grid = self._free_slots(k) if len(self.slots) else self.grid
        cand = grid[self._fits(self.units[k], grid)]
        for idx in self.rng.permutation(len(cand))[:20]:
            poses = self._poses(k, cand[idx])
            if self.checker.is_clear(poses):
                self._accept({k: cand[idx]})
                return

    # -- the result -----------------------------------------------------------------------------------------
    def result(self, factory_path: str | None) -> LayoutResult:
        candidates: list[Candidate] = []
        front = self.archive.spread(self.request.max_candidates)
        for state in front:
            self.pos = state.pos
            poses = self._all_moved({})
            if not poses:
                continue  # the current layout itself
            problems = rule_breaks(self.checker.verdicts(poses))
            candidates.append(self._candidate(len(candidates), state.objectives, poses, problems, pareto=True))
        self.infeasible.sort(key=lambda e: e[0])
        seen: set[tuple] = set()
        for _effort, poses in self.infeasible:
            key = tuple(sorted((m, p.x_m, p.y_m) for m, p in poses.items()))
            if key in seen:
                continue
            seen.add(key)
            problems = rule_breaks(self.checker.verdicts(poses))
            if not problems:
                continue  # rejected only while moving (a group's own check): not an example of a broken rule
            obj = self._objectives_of(poses)
            candidates.append(self._candidate(len(candidates), obj, poses, problems, pareto=False))
            if len(seen) >= self.request.max_infeasible:
                break
        feasible = [c for c in candidates if c.feasible]
        best = min(feasible, key=lambda c: (c.objectives.effort, c.objectives.moved), default=None)
        notes = list(self.notes)
        better = best is not None and best.objectives.effort < self.base.total_effort - _EPS
        if best is not None and not better and len(self.slots):  # asked to use the slots: the best slot layout
            better = True
            notes.append("every slot layout found has more transport effort than the current layout")
        elif not better:
            notes.append("no feasible layout with less transport effort was found: the current layout is kept")
        if self.base.unknown:
            notes.append(f"routing steps naming no machine are left out: {', '.join(self.base.unknown)}")
        return LayoutResult(
            factory=self.factory.name,
            factory_path=factory_path,
            movable=[m for u in self.units for m in u.members],
            follow_transports=self.request.follow_transports,
            region=self.region,
            slots=[(float(x), float(y)) for x, y in self.slots],
            baseline=self._objectives_model(self._objectives(self.start, self.base.total_effort)),
            candidates=candidates,
            recommended=best.id if best is not None and better else None,
            stopped_by=self.stopped_by,
            seconds=round(time.perf_counter() - self.t0, 3),
            evaluations=self.evaluations,
            notes=notes,
        )

    def _objectives_of(self, poses: dict[str, Pose]) -> np.ndarray:
        centres = self.centres.copy()
        metres = 0.0
        for mid, p in poses.items():
            metres += float(np.hypot(p.x_m - centres[self.row[mid]][0], p.y_m - centres[self.row[mid]][1]))
            centres[self.row[mid]] = (p.x_m, p.y_m)
        effort = self.base.with_moves({m: (p.x_m, p.y_m) for m, p in poses.items()}).total_effort
        return np.array([effort, float(len(poses)), metres, self._area(centres)])

    @staticmethod
    def _objectives_model(obj: np.ndarray) -> Objectives:
        effort, moved, metres, area = (float(v) for v in obj)
        return Objectives(effort=round(effort, 3), moved=int(moved), moved_m=round(metres, 3), area_m2=round(area, 3))

    def _candidate(self, cid: int, obj: np.ndarray, poses: dict[str, Pose], problems: list[RuleBreak], pareto: bool) -> Candidate:
        return Candidate(
            id=cid,
            objectives=self._objectives_model(obj),
            poses=[MachinePose(machine=m, x_m=p.x_m, y_m=p.y_m, yaw_deg=p.yaw_deg) for m, p in sorted(poses.items())],
            feasible=not problems,
            problems=problems,
            pareto=pareto and not problems,
        )
