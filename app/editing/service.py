"""The layout-edit service: the collision world of the open factory, kept on a thread of its own, and the
rules and new factory versions of layout edits. No Qt.

The world (a pybullet client) is built on the service's worker thread when edit mode is first entered
(``prepare``), and only that thread ever touches it — one owner per pybullet client. Every question
("verdicts for these poses", "every problem", "may this machine go there") is a job on that thread, so
questions and updates are answered in the order they were asked. The world follows the document
incrementally: moved machines move their bodies, added and removed machines add and remove bodies; it is
never rebuilt while the document lives.

Two ways to ask:

- blocking (``verdicts``, ``check_all``, ``probe``, ``run``): the answer is returned; while the world is
  still being built the call waits for it (a command the user gave, e.g. a key press, is decided on the
  true layout, never on a guess);
- in the background (``request_verdicts``): returns a request number at once; ``verdicts_ready`` brings
  the answer (on the worker thread) as soon as the world can give it. Only the latest request is
  answered: a drag asks on every mouse move and older answers are of no use.

Signals emitted on the worker thread are marked *worker*: a GUI connects to them with psygnal's queued
connection (``connect(slot, thread="main")``), which makes no Qt call on the worker thread.

Examples
--------
>>> from app.assets import AssetLibrary, load_factory_assets
>>> from app.model.document import FactoryDocument
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> doc = FactoryDocument(load_factory(DEMO_FACTORY), DEMO_FACTORY)
>>> service = LayoutEditService(doc, load_factory_assets(doc.factory, doc.path, AssetLibrary()))
>>> service.state
'idle'
>>> _ = service.prepare()  # returns at once; the world is built on the service's thread
>>> other = doc.factory.machine("CNC-02").pose
>>> service.verdicts({"CNC-01": other})[0].describe()  # waits for the world, then asks it
'CNC-01 collides with CNC-02'
>>> service.close()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, TypeVar

from psygnal import Signal

from app.editing.catalogue import known_assets, new_machine
from app.model.document import FactoryDocument
from app.model.edits import aligned_poses, distributed_poses, duplicates, moved_poses, with_machines, without
from app.model.factory import AssetRef, Factory, Machine, Pose
from app.physics.world import LayoutWorld, MeshAsset, Verdict, hulls_of

log = logging.getLogger(__name__)

T = TypeVar("T")
State = Literal["idle", "preparing", "ready", "failed"]


def _log_failure(future: Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("collision world job failed", exc_info=future.exception())


class CollisionChecksUnavailable(RuntimeError):
    """The collision world could not be built (the reason is the message)."""


def placed_verdicts(world: LayoutWorld, poses: Mapping[str, Pose]) -> list[Verdict]:
    """Problems of machines if they stood at ``poses`` (the group is not checked against itself), the
    collisions first. The world is put back as it was, whatever the check raises."""
    restore = {mid: world.poses[mid] for mid in poses}
    try:
        for mid, p in poses.items():
            world.set_pose(mid, p)
        out = [world.check(mid, ignore=poses.keys()) for mid in poses]
    finally:
        for mid, p in restore.items():
            world.set_pose(mid, p)
    return sorted((v for v in out if v.contacts), key=lambda v: v.status != "collision")


def refusal(verdicts: Iterable[Verdict], override: bool = False) -> Verdict | None:
    """The verdict that stops a placement: the first one with a collision, unless the user overrides.
    Clearance problems never stop a placement (they are shown, amber).

    >>> from app.physics.world import Contact
    >>> hit = Verdict("A", (Contact("B", "collision", -0.2, 0.0, (0, 0, 0), (0, 0, 0)),))
    >>> refusal([hit]) is hit, refusal([hit], override=True)
    (True, None)
    """
    if override:
        return None
    return next((v for v in verdicts if v.status == "collision"), None)


@dataclass(frozen=True)
class AddPlan:
    """A machine to add: the factory after the edit, the new machine, its verdict where it would stand,
    and whether it may be added (no collision, or the user overrides)."""

    after: Factory
    machine: Machine
    verdict: Verdict
    allowed: bool


class LayoutEditService:
    """Collision checks and layout edits of one document.

    Parameters
    ----------
    document
        The open factory; the world follows its ``machines_changed``, ``layout_changed`` and ``replaced``
        signals.
    meshes
        Loaded meshes by asset id (the application's, which it extends when a mesh is imported); read on
        the calling thread only, when the world is built or a new asset is used.

    Signals
    -------
    preparing()
        The world is being built (``prepare`` was called for the first time).
    ready(list)
        *worker* — the world is built; the argument: every machine with a problem, as the layout stands.
    failed(str)
        *worker* — the world could not be built (why, in words).
    verdicts_ready(int, list)
        *worker* — the answer to ``request_verdicts``: its request number and the verdicts.
    """

    preparing = Signal()
    ready = Signal(list)
    failed = Signal(str)
    verdicts_ready = Signal(int, list)

    def __init__(self, document: FactoryDocument, meshes: Mapping[str, MeshAsset]):
        self.document = document
        self._meshes = meshes
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="layout-world")
        self._world: LayoutWorld | None = None  # touched on the pool's thread only
        self._why_not = ""
        self._built: Future[None] | None = None
        self._state: State = "idle"
        self._lock = threading.Lock()  # guards the state and the latest request number
        self._request = 0
        self._hulled: set[str] = set()  # assets whose hulls were handed to the world
        self._closed = False
        document.machines_changed.connect(self._on_machines_changed)
        document.layout_changed.connect(self._on_layout_changed)
        document.replaced.connect(self._on_layout_changed)  # new content under the same document

    # -- lifecycle --------------------------------------------------------------------------------------
    @property
    def state(self) -> State:
        """"idle" (no world yet), "preparing" (being built), "ready", or "failed"."""
        with self._lock:
            return self._state

    def prepare(self) -> Future[None]:
        """Build the world in the background (the first call; later calls return the same job)."""
        if self._built is None:
            factory = self.document.factory  # a snapshot: later edits reach the world as updates
            meshes = self._new_meshes(factory)
            with self._lock:
                self._state = "preparing"
            self._built = self._pool.submit(self._build, factory, meshes)
            self._built.add_done_callback(_log_failure)
            self.preparing.emit()
        return self._built

    def wait_ready(self, timeout_s: float | None = None) -> bool:
        """Block until the world is built (True) or could not be (False)."""
        self.prepare().result(timeout_s)
        return self.state == "ready"

    def close(self) -> None:
        """Stop answering; the world is closed on its own thread after the jobs already queued."""
        if self._closed:
            return
        self._closed = True
        self.document.machines_changed.disconnect(self._on_machines_changed)
        self.document.layout_changed.disconnect(self._on_layout_changed)
        self.document.replaced.disconnect(self._on_layout_changed)
        for signal in (self.preparing, self.ready, self.failed, self.verdicts_ready):
            signal.disconnect()
        self._pool.submit(self._close_world)
        self._pool.shutdown(wait=False)

    def _build(self, factory: Factory, meshes: Mapping[str, MeshAsset]) -> None:
        try:
            world = LayoutWorld(factory, hulls_of(meshes))
        except Exception as e:  # a broken hull or a pybullet error: say so, the editor keeps working
            why = f"no shape for the mesh {e.args[0]}" if isinstance(e, KeyError) else str(e)
            log.error("collision world could not be built: %s", why)
            with self._lock:
                self._state, self._why_not = "failed", why
            self.failed.emit(why)
            return
        self._world = world
        with self._lock:
            self._state = "ready"
        self.ready.emit(world.check_all())

    def _close_world(self) -> None:
        if self._world is not None:
            self._world.close()
            self._world = None

    def _require_world(self) -> LayoutWorld:
        if self._world is None:
            raise CollisionChecksUnavailable(self._why_not or "the collision world is closed")
        return self._world

    # -- following the document -------------------------------------------------------------------------
    def _new_meshes(self, factory: Factory) -> dict[str, MeshAsset]:
        """Meshes the world does not know yet among those the factory's machines use."""
        used = {m.asset for m in factory.machines} - self._hulled
        new = {a: self._meshes[a] for a in used if a in self._meshes}
        self._hulled |= new.keys()
        return new

    def _in_background(self, job: Callable[..., object], *args: object) -> None:
        """Run ``job`` on the world's thread with nobody waiting for it: a failure is logged, not lost."""
        future = self._pool.submit(job, *args)
        future.add_done_callback(_log_failure)

    def _on_machines_changed(self, ids: list[str]) -> None:
        if self._built is None or not ids:
            return  # no world yet: it is built from the factory as it is then
        factory = self.document.factory
        index = factory.machine_index()
        machines = [factory.machines[index[i]] for i in ids if i in index]
        self._in_background(self._update, machines, self._new_meshes(factory))

    def _on_layout_changed(self, _what: object) -> None:
        if self._built is None:
            return
        factory = self.document.factory
        self._in_background(self._sync, factory, self._new_meshes(factory))

    def _update(self, machines: list[Machine], meshes: Mapping[str, MeshAsset]) -> None:
        if self._world is None:
            return
        if meshes:
            self._world.add_hulls(hulls_of(meshes))
        for m in machines:
            self._world.update_machine(m)

    def _sync(self, factory: Factory, meshes: Mapping[str, MeshAsset]) -> None:
        if self._world is None:
            return
        if meshes:
            self._world.add_hulls(hulls_of(meshes))
        self._world.sync(factory)

    # -- questions ----------------------------------------------------------------------------------------
    def run(self, ask: Callable[[LayoutWorld], T]) -> T:
        """``ask(world)`` on the world's thread, after everything asked before; its answer (or exception)
        is returned here. Waits for the world when it is still being built."""
        self.prepare()
        return self._pool.submit(lambda: ask(self._require_world())).result()

    def verdicts(self, poses: Mapping[str, Pose]) -> list[Verdict]:
        """Problems of machines if they stood at ``poses`` (collisions first; machines without a problem
        are left out)."""
        poses = dict(poses)
        return self.run(lambda world: placed_verdicts(world, poses))

    def check_all(self) -> list[Verdict]:
        """Every machine with a problem, as the layout stands."""
        return self.run(lambda world: world.check_all())

    def request_verdicts(self, poses: Mapping[str, Pose]) -> int:
        """Ask for the verdicts of ``poses`` in the background; ``verdicts_ready`` answers with the returned
        number as soon as the world can (a newer request makes this one go unanswered)."""
        with self._lock:
            self._request += 1
            number = self._request
        self.prepare()
        self._in_background(self._answer, number, dict(poses))
        return number

    def _answer(self, number: int, poses: dict[str, Pose]) -> None:
        with self._lock:
            if number != self._request or self._closed:
                return  # a newer request is queued: answer that one only
        if self._world is None:
            return  # not built: ``failed`` said why
        self.verdicts_ready.emit(number, placed_verdicts(self._world, poses))

    def probe(self, machine: Machine, mesh: MeshAsset | None = None) -> Verdict:
        """The verdict of a machine not in the layout yet, where it would stand (``mesh``: its mesh, when
        the world may not know it yet)."""
        self.prepare()  # the world's own meshes first
        meshes = {machine.asset: mesh} if mesh is not None and machine.asset not in self._hulled else {}
        self._hulled |= meshes.keys()

        def ask(world: LayoutWorld) -> Verdict:
            if meshes:
                world.add_hulls(hulls_of(meshes))
            world.add_machine(machine)
            try:
                return world.check(machine.id)
            finally:
                world.remove_machine(machine.id)

        return self.run(ask)

    # -- edits: new factory versions (nothing is applied here; the caller makes them undoable) -------------
    def moved(
        self, ids: Iterable[str], dx: float, dy: float, dyaw: float = 0.0, about: tuple[float, float] | None = None
    ) -> dict[str, Pose]:
        """Poses of machines ``ids`` moved by (dx, dy) and turned by ``dyaw`` degrees (kept on the floor)."""
        return moved_poses(self.document.factory, list(ids), dx, dy, dyaw, about)

    def arranged(self, ids: Iterable[str], how: str) -> dict[str, Pose]:
        """Poses that align ("left", "right", "top", "bottom", "centre_x", "centre_y") or distribute ("x",
        "y") machines ``ids``; empty when there are too few (two to align, three to distribute)."""
        factory, ids = self.document.factory, list(ids)
        return distributed_poses(factory, ids, how) if how in ("x", "y") else aligned_poses(factory, ids, how)

    def deleted(self, ids: Iterable[str]) -> Factory:
        """The factory without machines ``ids`` (their transport paths and routing steps go with them)."""
        return without(self.document.factory, ids)

    def duplicated(self, ids: Iterable[str]) -> tuple[Factory, list[str]]:
        """The factory with copies of machines ``ids`` two grid steps away, and the copies' ids."""
        factory = self.document.factory
        grid = factory.floor.grid_m
        copies = duplicates(factory, ids, (2 * grid, 2 * grid))
        return with_machines(factory, copies), [c.id for c in copies]

    def with_asset(self, asset_id: str, ref: AssetRef | None = None) -> Factory:
        """The factory with mesh ``asset_id`` among its assets (``ref``: a file being imported; otherwise a
        built-in or plugin mesh). KeyError for a mesh nobody knows."""
        factory = self.document.factory
        if ref is None and asset_id in factory.assets:
            return factory
        if ref is None:
            ref = AssetRef(path=known_assets()[asset_id])
        return factory.model_copy(update={"assets": {**factory.assets, asset_id: ref}})

    def plan_add(
        self,
        factory: Factory,
        kind_id: str,
        asset_id: str,
        at: tuple[float, float],
        grid_m: float,
        mesh: MeshAsset,
        override: bool = False,
    ) -> AddPlan:
        """Adding a machine of ``kind_id`` with ``mesh`` at floor point ``at`` to ``factory`` (the document's
        factory, with the mesh among its assets): the new version, the machine and its verdict.
        ValueError when the mesh gives an unusable size."""
        extents = tuple(float(v) for v in mesh.extents)
        machine = new_machine(factory, kind_id, asset_id, at[0], at[1], grid_m, (extents[0], extents[1], extents[2]))
        verdict = self.probe(machine, mesh)
        return AddPlan(with_machines(factory, [machine]), machine, verdict, refusal([verdict], override) is None)
