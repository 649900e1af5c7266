"""The undo steps of layout editing: machines moved, and machines added or removed."""

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
