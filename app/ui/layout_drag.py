"""Dragging and turning machines on the 3D view in edit mode.

While a drag runs only the view follows the mouse; the document changes once, when the machines are
dropped (one undo step). Every step is judged by the layout-edit service: at once when its collision world
is ready; before that the machines are drawn blue ("checking…") and judged as soon as the world answers,
and a drop made meanwhile is decided then — never shown or accepted as clear on a guess.
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6 import QtCore

from app.editing.service import refusal
from app.model.edits import snap
from app.model.factory import Pose
from app.physics.world import Verdict
from app.ui.layout_commands import MoveCommand, names

log = logging.getLogger(__name__)

ROTATE_STEP_DEG = 15.0
SHIFT = QtCore.Qt.KeyboardModifier.ShiftModifier
ALT = QtCore.Qt.KeyboardModifier.AltModifier


class LayoutDrag(QtCore.QObject):
    """The mouse side of a ``LayoutEditor`` (``editor``): its service, undo stack, painter and window.

    ``current`` is the drag in progress (``ids``, ``before`` and ``after`` poses, ``anchor``; ``grab`` and
    ``offset`` for a move, ``centre`` for a turn) or None.
    """

    def __init__(self, editor):
        super().__init__(editor)
        self.editor = editor
        self.current: dict | None = None
        self._waiting: int | None = None  # the background verdict request the placement waits for
        self._dropped: dict | None = None  # a drop made before the world was ready, decided when it is
        view = editor.window.view
        view.drag_started.connect(self._on_drag_started)
        view.drag_moved.connect(self._on_drag_moved)
        view.drag_finished.connect(self._on_drag_finished)
        view.rotate_started.connect(self._on_rotate_started)
        view.rotate_moved.connect(self._on_rotate_moved)
        view.rotate_finished.connect(lambda modifiers: self._on_drag_finished(0.0, 0.0, modifiers))

    @property
    def busy(self) -> bool:
        """A drag runs, or a drop waits for its verdict."""
        return self.current is not None or self._dropped is not None

    def forget(self) -> None:
        """A different factory was opened: no drag, no waiting."""
        self.current = self._dropped = self._waiting = None

    # -- verdicts -------------------------------------------------------------------------------------
    def _judge(self, poses: dict[str, Pose]) -> None:
        """Verdicts for the placement in progress: at once when the world is ready, otherwise "checking…"
        (blue) until the world answers."""
        service = self.editor.service
        if service is None or service.state in ("ready", "failed"):
            self._waiting = None
            self.editor.report(self.editor.verdicts(poses), list(poses))
            return
        self._waiting = service.request_verdicts(poses)
        self.editor.painter.checking(poses)
        self.editor.window.statusBar().showMessage(f"Checking {names(list(poses))}… (preparing collision checks)", 10000)

    def on_verdicts_ready(self, number: int, verdicts: list[Verdict]) -> None:
        """The service's answer to a background request (``verdicts_ready``, queued to the GUI thread)."""
        if number != self._waiting:
            return  # an older question, or one about a placement given up
        self._waiting = None
        if self._dropped is not None:
            self._finish_drop(self._dropped, verdicts)
        elif self.current is not None:
            self.editor.report(verdicts, self.current["ids"])

    def world_failed(self) -> None:
        """No world will answer: a waiting drop is decided unchecked (the status bar says checks are off)."""
        if self._dropped is not None:
            self._finish_drop(self._dropped, [])

    # -- the mouse ------------------------------------------------------------------------------------
    def _begin(self, ids: list[str], anchor: str, **more) -> None:
        if self._dropped is not None:  # a new drag gives up a drop still waiting for its verdict
            self._show_poses(self._dropped["before"])
            self._dropped = self._waiting = None
        by_id = self.editor.machines()
        poses = {i: by_id[i].pose for i in ids}
        self.current = {"anchor": anchor, "ids": ids, "before": poses, "after": dict(poses), **more}

    def _on_drag_started(self, mid: str, x: float, y: float) -> None:
        selection = self.editor.window.selection
        if mid not in selection.ids:
            selection.select([mid])
        pose = self.editor.machines()[mid].pose
        self._begin(list(selection.ids), mid, grab=(x, y), offset=(pose.x_m - x, pose.y_m - y))

    def _on_rotate_started(self, cx: float, cy: float) -> None:
        ids = list(self.editor.window.selection.ids)
        if ids:
            self._begin(ids, ids[0], centre=(cx, cy), turn=True)

    def _on_rotate_moved(self, degrees: float, modifiers) -> None:
        d, service = self.current, self.editor.service
        if d is None or not d.get("turn") or service is None:
            return
        if not (modifiers & ALT):
            degrees = snap(degrees, ROTATE_STEP_DEG)  # 15° steps; Alt turns freely
        d["after"] = service.moved(d["ids"], 0.0, 0.0, degrees, about=d["centre"])
        self._show_poses(d["after"])
        self.editor.dragging.emit(d["after"])
        self._judge(d["after"])
        last = self.editor.last_verdicts
        problem = f" — {last[0].describe()}" if last and self._waiting is None else ""
        self.editor.window.statusBar().showMessage(f"Turn {degrees:+.0f}°{problem}", 4000)

    def _on_drag_moved(self, x: float, y: float, modifiers) -> None:
        d, service = self.current, self.editor.service
        if d is None or d.get("turn") or not np.isfinite([x, y]).all() or service is None:
            return
        anchor = d["before"][d["anchor"]]
        tx, ty = x + d["offset"][0], y + d["offset"][1]
        if self.editor.snap_enabled and not (modifiers & ALT):
            grid = self.editor.window.document.factory.floor.grid_m
            tx, ty = snap(tx, grid), snap(ty, grid)
        # Poses relative to where the drag started (the document still holds those).
        d["after"] = service.moved(d["ids"], tx - anchor.x_m, ty - anchor.y_m)
        self._show_poses(d["after"])
        self.editor.dragging.emit(d["after"])
        self._judge(d["after"])

    def _on_drag_finished(self, _x: float, _y: float, modifiers) -> None:
        d, self.current = self.current, None
        if d is None:
            return
        self.editor.dragging.emit({})
        if all(d["before"][i] == d["after"][i] for i in d["before"]):
            self._waiting = None
            self.editor.restore_colours()
            return
        d["override"] = bool(modifiers & SHIFT)
        service = self.editor.service
        if service is not None and service.state == "preparing":
            # Dropped before the world is ready: shown where it was dropped, decided when the world answers.
            d["revision"] = self.editor.window.document.revision
            self._dropped = d
            self._waiting = service.request_verdicts(d["after"])
            self.editor.window.statusBar().showMessage(f"Checking {names(d['ids'])}… (preparing collision checks)", 10000)
            return
        self._finish_drop(d, self.editor.verdicts(d["after"]))

    def _finish_drop(self, d: dict, verdicts: list[Verdict]) -> None:
        editor, w = self.editor, self.editor.window
        self._dropped = None
        if d.get("revision", w.document.revision) != w.document.revision:
            self._show_poses(d["before"])  # the layout changed while the drop waited: it no longer applies
            editor.restore_colours()
            w.statusBar().showMessage(f"Not placed: the layout changed before {names(d['ids'])} could be checked", 10000)
            return
        override = d["override"]
        blocked = refusal(verdicts, override)
        if blocked is not None:
            self._show_poses(d["before"])
            editor.restore_colours()
            w.statusBar().showMessage(f"Not placed: {blocked.describe()} (hold Shift while dropping to place it anyway)", 10000)
            log.info("drop refused: %s", blocked.describe())
            return
        text = f"{'Turn' if d.get('turn') else 'Move'} {names(d['ids'])}"
        if override and refusal(verdicts) is not None:
            text += " (collision overridden)"
        editor.stack.push(MoveCommand(editor, d["before"], d["after"], text))
        editor.report(verdicts)
        if verdicts:
            w.statusBar().showMessage(("Placed despite: " if override else "") + verdicts[0].describe(), 10000)

    def _show_poses(self, poses: dict[str, Pose]) -> None:
        w, by_id = self.editor.window, self.editor.machines()
        w.view.move_machines([by_id[mid].model_copy(update={"pose": p}) for mid, p in poses.items()], w.asset_of)
