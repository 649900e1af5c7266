"""The layout search's one way to the collision world: the layout editor's own check, no copy of it.

A `LayoutChecker` owns one `app.physics.world.LayoutWorld` (pybullet, DIRECT mode) built and asked on
the thread that runs the search — one owner per pybullet client, as the editor's world has its own thread.
Its questions are the editor's: ``LayoutWorld.check`` per machine, the machines moved together not checked
against each other while they move (``app.editing.service.placed_verdicts`` does the same), and the final
verdict of a candidate is the full check of every machine it moves, nothing ignored. While searching it asks
for that check's yes or no only (`LayoutChecker.is_clear`, through ``LayoutWorld.is_clear_at``: the same
answer, found about twice as fast; ``tests/physics/test_is_clear.py`` holds the two equal).

This module is the only import of ``app.optimise`` that reaches pybullet (declared as the one exception in
the "Domain code" import contract); the search itself sees verdicts, never the engine.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from app.model.factory import Factory, Pose
from app.optimise.layout_result import RuleBreak
from app.physics.world import LayoutWorld, MeshAsset, Verdict, hulls_of, party_name

__all__ = ["LayoutChecker", "factory_hulls", "rule_breaks"]


def factory_hulls(factory: Factory, factory_path: str | os.PathLike[str] | None) -> dict[str, tuple]:
    """Collision shapes of every mesh the factory uses, loaded as the application loads them."""
    from app.assets import AssetLibrary, load_factory_assets

    meshes: Mapping[str, MeshAsset] = load_factory_assets(factory, factory_path, AssetLibrary())  # type: ignore[assignment]
    return hulls_of(meshes)


def rule_breaks(verdicts: Iterable[Verdict]) -> list[RuleBreak]:
    """Every contact of the verdicts as a rule broken, in the words the editor's status bar uses."""
    out = []
    for v in verdicts:
        for c in v.contacts:
            one = Verdict(v.machine, (c,))
            out.append(RuleBreak(machine=v.machine, rule=c.kind, other=party_name(c.other), text=one.describe()))
    return out


class LayoutChecker:
    """Collision and clearance verdicts of a layout being searched (one thread builds, asks and closes it).

    Parameters
    ----------
    factory
        The layout as it stands (every machine at its current pose).
    hulls
        ``{asset: (hull vertices, extents[, convex parts])}`` as `LayoutWorld` takes them.
    """

    def __init__(self, factory: Factory, hulls: Mapping[str, tuple]):
        self.world = LayoutWorld(factory, hulls)
        self._start = dict(self.world.poses)
        self.checks = 0  # machine verdicts asked so far

    def close(self) -> None:
        self.world.close()

    def __enter__(self) -> LayoutChecker:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def as_it_stands(self) -> list[Verdict]:
        """Every machine with a problem in the layout as built."""
        return self.world.check_all()

    def first_problem(self, poses: Mapping[str, Pose]) -> Verdict | None:
        """A verdict with a problem (its first contact) if machines stood at ``poses`` (moved together: not
        checked against each other), or None when all are clear. The world is put back as it was."""
        restore = {mid: self.world.poses[mid] for mid in poses}
        try:
            for mid, p in poses.items():
                self.world.set_pose(mid, p)
            for mid in poses:
                self.checks += 1
                v = self.world.check(mid, ignore=poses.keys(), first_only=True)
                if v.contacts:
                    return v
            return None
        finally:
            for mid, p in restore.items():
                self.world.set_pose(mid, p)

    def is_clear(self, poses: Mapping[str, Pose]) -> bool:
        """Whether machines standing at ``poses`` (moved together: not checked against each other) would all
        be clear: ``first_problem(poses) is None``, asked without moving them (``LayoutWorld.is_clear_at``),
        which is what the search needs thousands of times a second."""
        for mid, p in poses.items():
            self.checks += 1
            if not self.world.is_clear_at(mid, p, ignore=poses.keys()):
                return False
        return True

    def place(self, poses: Mapping[str, Pose]) -> None:
        """Leave machines at ``poses`` (an accepted move: later questions see them there)."""
        for mid, p in poses.items():
            self.world.set_pose(mid, p)

    def reset(self) -> None:
        """Every machine back where the layout had it."""
        self.place({mid: p for mid, p in self._start.items() if self.world.poses[mid] != p})

    def verdicts(self, poses: Mapping[str, Pose]) -> list[Verdict]:
        """The full verdict of every machine in ``poses`` with all of them standing there (nothing ignored;
        machines not in ``poses`` stand where the layout has them). The world is put back as it was."""
        before = dict(self.world.poses)
        self.reset()
        try:
            self.place(poses)
            out = []
            for mid in poses:
                self.checks += 1
                v = self.world.check(mid)
                if v.contacts:
                    out.append(v)
            return out
        finally:
            self.place({mid: p for mid, p in before.items() if self.world.poses[mid] != p})
