"""The undo steps of editing the factory: machines moved, machines added or removed, and signals bound."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from PySide6 import QtGui

from app.model.factory import Factory, Pose


class Applier(Protocol):
    """What the commands change: the editor applies poses and layouts to the document and the views."""

    def apply_poses(self, poses: dict[str, Pose]) -> None: ...

    def apply_layout(self, factory: Factory, changed: list[str]) -> None: ...


def names(ids: Sequence[str]) -> str:
    """Machine ids for an undo step's text: the first three, then an ellipsis.

    >>> names(["A", "B", "C", "D"])
    'A, B, C…'
    """
    return ", ".join(ids[:3]) + ("…" if len(ids) > 3 else "")


class MoveCommand(QtGui.QUndoCommand):
    """Machines from one set of poses to another."""

    def __init__(self, editor: Applier, before: dict[str, Pose], after: dict[str, Pose], text: str):
        super().__init__(text)
        self.editor, self.before, self.after = editor, before, after

    def redo(self) -> None:
        self.editor.apply_poses(self.after)

    def undo(self) -> None:
        self.editor.apply_poses(self.before)


class LayoutCommand(QtGui.QUndoCommand):
    """A structural edit (machines added or removed): the factory before and after."""

    def __init__(self, editor: Applier, before: Factory, after: Factory, changed: list[str], text: str):
        super().__init__(text)
        self.editor, self.before, self.after, self.changed = editor, before, after, changed

    def redo(self) -> None:
        self.editor.apply_layout(self.after, self.changed)

    def undo(self) -> None:
        self.editor.apply_layout(self.before, self.changed)


class Binder(Protocol):
    """What a binding command changes: the live console binds a machine signal to a node (None: unbinds)."""

    def apply_binding(self, machine_id: str, signal: str, node_id: str | None) -> None: ...


class BindCommand(QtGui.QUndoCommand):
    """A machine signal bound to another OPC UA node (or unbound)."""

    def __init__(self, console: Binder, machine_id: str, signal: str, old: str | None, new: str | None, text: str):
        super().__init__(text)
        self.console, self.args = console, (machine_id, signal, old, new)

    def redo(self) -> None:
        machine_id, signal, _old, new = self.args
        self.console.apply_binding(machine_id, signal, new)

    def undo(self) -> None:
        machine_id, signal, old, _new = self.args
        self.console.apply_binding(machine_id, signal, old)
