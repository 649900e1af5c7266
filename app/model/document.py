"""The open factory as an evented document: what is loaded, where it came from, whether it changed.

Views subscribe to its psygnal signals; nobody polls. Edits go through its operations so that undo,
autosave and every view see them.
"""

from __future__ import annotations

import os
from pathlib import Path

from psygnal import Signal

from app.model.factory import Factory, Machine
from app.model.io import load_factory, rebase_assets, save_factory


class FactoryDocument:
    """The factory the user has open.

    Every edit makes a new ``Factory`` version (copy on write): a ``factory`` read once — by a what-if
    scenario, a worker thread, an undo step — stays what it was, whatever is edited afterwards.

    Signals
    -------
    replaced(Factory)
        A different factory was opened (every view rebuilds).
    machines_changed(list[str])
        These machines changed in place (pose, properties).
    layout_changed(list[str])
        Machines were added or removed (the list: the ones added, removed or otherwise changed).
    dirty_changed(bool)
        Unsaved changes appeared or were saved.
    path_changed(object)
        The file the document is saved to changed (``Path`` or None).
    """

    replaced = Signal(object)
    machines_changed = Signal(list)
    layout_changed = Signal(list)
    dirty_changed = Signal(bool)
    path_changed = Signal(object)

    def __init__(self, factory: Factory, path: str | os.PathLike[str] | None = None):
        self._factory = factory
        self._path = Path(path) if path is not None else None
        self._revision = 0
        self._saved = factory  # the version on disk: the document is dirty while its content differs
        self._dirty = False

    @property
    def factory(self) -> Factory:
        return self._factory

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def saved(self) -> Factory:
        """The factory as last saved (or as opened): what "vs saved" figures compare with."""
        return self._saved

    @property
    def revision(self) -> int:
        """Counts changes; equal revisions mean equal content."""
        return self._revision

    @property
    def dirty(self) -> bool:
        """Whether the content differs from the file as saved (undoing back to it makes it clean again)."""
        return self._dirty

    def _changed(self) -> None:
        """Count a change and emit ``dirty_changed`` when the content starts or stops differing from disk."""
        self._revision += 1
        dirty = self._factory is not self._saved and self._factory != self._saved
        if dirty != self._dirty:
            self._dirty = dirty
            self.dirty_changed.emit(dirty)

    def open(self, path: str | os.PathLike[str]) -> None:
        """Load ``path`` and make it the document. On error nothing changes (FactoryFileError is raised)."""
        factory = load_factory(path)  # raises before anything is replaced
        self.replace(factory, path)

    def replace(self, factory: Factory, path: str | os.PathLike[str] | None) -> None:
        """Make ``factory`` the document (saved state: clean)."""
        was_dirty = self.dirty
        self._factory = self._saved = factory
        self._path = Path(path) if path is not None else None
        self._revision = 0
        self._dirty = False
        self.replaced.emit(factory)
        self.path_changed.emit(self._path)
        if was_dirty:
            self.dirty_changed.emit(False)

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Save atomically to ``path`` (default: the current path). Relative asset paths are rebased."""
        target = Path(path) if path is not None else self._path
        if target is None:
            raise ValueError("the document has no file yet: give a path")
        factory = rebase_assets(self._factory, self._path, target) if target != self._path else self._factory
        save_factory(factory, target)
        self._factory = self._saved = factory
        moved = target != self._path
        self._path = target
        was_dirty = self.dirty
        self._dirty = False
        if moved:
            self.path_changed.emit(target)
        if was_dirty:
            self.dirty_changed.emit(False)
        return target

    def set_tag(self, machine_id: str, signal: str, node_id: str | None) -> None:
        """Bind ``signal`` of a machine to an OPC UA node (None removes the binding)."""
        index = self._factory.machine_index()[machine_id]
        m = self._factory.machines[index]
        tags = dict(m.tags)
        if node_id is None:
            tags.pop(signal, None)
        else:
            tags[signal] = node_id
        self._factory = _with_machines(self._factory, {index: m.model_copy(update={"tags": tags})})
        self.touch([machine_id])

    def set_opcua(self, settings) -> None:
        """Remember where the live plant is (endpoint, security, user name; never a password)."""
        if settings != self._factory.opcua:
            self._factory = self._factory.model_copy(update={"opcua": settings})
            self.touch([])

    def set_poses(self, poses) -> None:
        """Move machines (``{id: Pose}``); one change, one ``machines_changed``."""
        if not poses:
            return
        index = self._factory.machine_index()
        machines = self._factory.machines
        self._factory = _with_machines(
            self._factory, {index[mid]: machines[index[mid]].model_copy(update={"pose": pose}) for mid, pose in poses.items()}
        )
        self.touch(list(poses))

    def set_layout(self, factory: Factory, changed: list[str]) -> None:
        """Make ``factory`` (an edit of this one: machines added or removed) the current content."""
        self._factory = factory
        self.layout_changed.emit(list(changed))
        self._changed()

    def set_parameters(self, factory: Factory, machine_ids: list[str]) -> None:
        """Make ``factory`` (this one with simulation parameters of these machines or of the flows they
        receive changed, e.g. recalibrated from the live plant) the current content."""
        self._factory = factory
        self.touch(machine_ids)

    def touch(self, machine_ids: list[str]) -> None:
        """Record that machines changed (called by model operations after making the new version)."""
        self.machines_changed.emit(list(machine_ids))
        self._changed()


def _with_machines(factory: Factory, replaced: dict[int, Machine]) -> Factory:
    """A new version of ``factory`` with the machines at these positions replaced; the old one is untouched.

    ``model_copy`` does not re-validate the other machines (fast for large plants); the new machines were
    made by ``model_copy`` of valid ones with validated fields.
    """
    machines = list(factory.machines)
    for i, machine in replaced.items():
        machines[i] = machine
    return factory.model_copy(update={"machines": machines})
