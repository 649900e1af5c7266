"""Edit-layout mode on the window: keys, menu commands and palette drops turned into undoable layout edits.

A thin adapter over ``app.editing.LayoutEditService``, which owns the collision world (built on its own
thread when edit mode is first entered, then kept in step with the document), the verdicts, the rules of
what may be placed and the new factory versions. Here: the undo commands and the view. Mouse drags are
``app.ui.layout_drag``; the verdict colours ``app.ui.verdict_view``. A command given while the world is
still being prepared waits for it: it is decided on the true layout, never on a guess.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from app.assets import load_factory_assets
from app.editing.catalogue import known_assets
from app.editing.service import CollisionChecksUnavailable, LayoutEditService, refusal
from app.model.factory import AssetRef, Factory, Machine, Pose
from app.model.hierarchy import Place, moved_to
from app.model.kinds import known_kinds
from app.physics.world import Verdict
from app.state.colours import LEGEND as STATE_LEGEND
from app.ui.gui_thread import connect_on_gui
from app.ui.layout_commands import LayoutCommand, MoveCommand, names
from app.ui.layout_drag import LayoutDrag
from app.ui.palette_dock import MIME_ASSET, asset_payload
from app.ui.place_dialog import PlaceDialog
from app.ui.verdict_view import EDIT_LEGEND_LABELS, VerdictPainter

log = logging.getLogger(__name__)

SHIFT = QtCore.Qt.KeyboardModifier.ShiftModifier
PREPARING = "Preparing collision checks…"
HINT = "Edit layout: drag machines; R / Shift+R rotate, Alt+arrows nudge, Del deletes, Ctrl+D duplicates"


class LayoutEditor(QtCore.QObject):
    """Edit-layout behaviour of a main window (``window``: its document, view, selection, status bar).

    ``service`` is the layout-edit service of the open document (a new one per opened factory), ``drag``
    the mouse side, ``painter`` draws verdicts, ``stack`` holds the undo steps.
    """

    verdicts_changed = QtCore.Signal(object)  # list[Verdict] of the machines being placed
    dragging = QtCore.Signal(object)  # {id: Pose} where a drag in progress shows the machines; {} when it ends

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.stack = QtGui.QUndoStack(self)
        self.active = False
        self.snap_enabled = True
        self.service: LayoutEditService | None = None
        self.painter = VerdictPainter(window)
        self.drag = LayoutDrag(self)
        self.last_verdicts: list[Verdict] = []  # of the latest placement judged
        self._prepared_at = 0  # the document's revision when the world was asked for
        self._by_id: tuple[Factory | None, dict[str, Machine]] = (None, {})
        window.view.floor_drop_formats.add(MIME_ASSET)
        window.view.dropped_on_floor.connect(self._on_floor_drop)
        window.tree_dock.move_requested.connect(self.move_to_line)

    # -- mode and lifecycle ---------------------------------------------------------------------------
    def set_active(self, on: bool) -> None:
        """Enter or leave edit-layout mode. Entering returns at once: the collision world is prepared in
        the background the first time ("Preparing collision checks…")."""
        w = self.window
        if on and (w.document is None or self.service is None):
            return
        self.active = on
        w.view.set_edit_mode(on)
        w.view.legend.reserve(EDIT_LEGEND_LABELS if on else ())  # legends switch in edit mode, the width stays
        w.live.paused = on  # while editing, colours show verdicts (live values keep being recorded)
        if not on:  # the legend of what is drawn again: machine states while live, kinds otherwise
            if w.live.store is not None and w.live.heat is None:
                w.view.set_legend(STATE_LEGEND, "Machine state")
            elif w.live.store is None and w.live.replay_store is None:
                w.view.set_legend(w.view.kind_legend(w.document.factory, w.asset_of), "Machine kind")
        if on and self.service is not None:
            if self.service.state == "idle":
                self._prepared_at = w.document.revision
            self.service.prepare()  # the first time: built in the background, the window stays usable
            if self.service.state == "ready":
                self._say_ready(self.service.check_all())
            elif self.service.state == "preparing":
                w.statusBar().showMessage(f"{PREPARING} — {HINT}", 10000)
        self.restore_colours()
        w.refresh_actions()

    def reset(self) -> None:
        """A different factory was opened: a new service for its document, no undo history."""
        self.stack.clear()
        self.drag.forget()
        if self.service is not None:
            self.service.close()
        w = self.window
        self.service = LayoutEditService(w.document, w.asset_of) if w.document is not None else None
        if self.service is not None:
            # Emitted on the service's thread: queued to this one (psygnal's queue, drained by a Qt timer; no
            # Qt object is made on the worker thread).
            connect_on_gui(self.service.ready, self._on_world_ready)
            connect_on_gui(self.service.failed, self._on_world_failed)
            connect_on_gui(self.service.verdicts_ready, self.drag.on_verdicts_ready)
            if self.active:
                self._prepared_at = w.document.revision
                self.service.prepare()

    def recover(self, saved: Factory, recovered: Factory) -> None:
        """Show autosaved edits on top of the file as saved (one undo step back to the file)."""
        changed = sorted({m.id for m in saved.machines} ^ {m.id for m in recovered.machines} | {m.id for m in recovered.machines})
        self.stack.push(LayoutCommand(self, saved, recovered, changed, "Recover unsaved changes"))

    def close(self) -> None:
        self.drag.forget()
        if self.service is not None:
            self.service.close()
            self.service = None

    def _on_world_ready(self, verdicts: list[Verdict]) -> None:
        if self.service is None or self.service.state != "ready":
            return  # closed or replaced meanwhile
        status = self.window.statusBar()
        if self.active and not self.drag.busy and status.currentMessage().startswith(PREPARING):
            # The "preparing" message gives way; the count is of the layout as built, unless edits were
            # made meanwhile (then it is asked again).
            edited = self.service.document.revision != self._prepared_at
            self._say_ready(self.service.check_all() if edited else verdicts)

    def _on_world_failed(self, why: str) -> None:
        if self.service is not None:
            self.window.statusBar().showMessage(f"Collision checks unavailable ({why}): placements are not checked", 15000)
            self.drag.world_failed()

    def _say_ready(self, verdicts: Sequence[Verdict]) -> None:
        n = len(verdicts)
        problems = f" — {n} machine(s) with a problem (Edit ▸ Check Layout)" if n else ""
        self.window.statusBar().showMessage(HINT + problems, 10000)

    # -- verdicts -------------------------------------------------------------------------------------
    def verdicts(self, poses: dict[str, Pose]) -> list[Verdict]:
        """Problems of machines at ``poses`` (waits for the world if it is being prepared; none when the
        world could not be built — the status bar said so)."""
        if self.service is None or self.service.state == "failed":
            return []
        try:
            return self.service.verdicts(poses)
        except CollisionChecksUnavailable:  # the build failed while this waited: ``failed`` tells the user
            return []

    def report(self, verdicts: Sequence[Verdict], moving: Sequence[str] = ()) -> None:
        """Show a placement's verdicts: the machines placed (``moving``: those of a drag in progress) green,
        amber or red, the parties they meet tinted, the worst problem in the status bar. A committed edit
        without problems leaves the colours of the layout as they are."""
        self.last_verdicts = list(verdicts)
        if verdicts or moving:
            self.painter.placement(verdicts, moving or [v.machine for v in verdicts])
        if verdicts:
            self.window.statusBar().showMessage(verdicts[0].describe(), 4000)
        self.verdicts_changed.emit(list(verdicts))

    def refresh_verdicts(self) -> list[Verdict] | None:
        """After an edit, an undo or a redo: every verdict view shows the layout as it now is (the Layout
        Check list, and in edit mode the red and amber machines). None when the world is not ready (it is
        prepared when edit mode or a check first needs it)."""
        w = self.window
        if self.service is None or self.service.state != "ready" or w.document is None:
            return None
        verdicts = self.service.check_all()
        w.layout_check_dock.show_verdicts(verdicts)
        if self.active and self.drag.current is None:
            if verdicts:
                self.show_problems(verdicts)
            else:
                self.restore_colours()
        return verdicts

    def check_layout(self) -> list[Verdict]:
        """Every machine with a problem, as the layout stands (waits for the world if need be; none when it
        could not be built — the status bar says so)."""
        if self.service is None or self.service.state == "failed":
            return []
        try:
            return self.service.check_all()
        except CollisionChecksUnavailable:
            return []

    def show_problems(self, verdicts: Sequence[Verdict]) -> None:
        """Colour every machine with a problem: red in collision, amber too close (edit mode)."""
        if self.active and self.window.document is not None:
            self.painter.problems(verdicts)

    def restore_colours(self) -> None:
        """The colours of the layout as it is: kinds in edit mode (and offline), live states otherwise."""
        self.painter.restore(self.active)

    # -- applying changes (the commands call these; the service's world follows the document) ----------
    def apply_poses(self, poses: dict[str, Pose]) -> None:
        w = self.window
        w.document.set_poses(poses)
        by_id = self.machines()
        w.view.move_machines([by_id[mid] for mid in poses], w.asset_of)
        w.view.refresh_floor(w.document.factory)  # transport routes follow their machines

    def apply_layout(self, factory: Factory, changed: list[str]) -> None:
        w = self.window
        w.document.set_layout(factory, changed)
        w.view.show_factory(factory, w.asset_of, reset_camera=False)
        w.console.resubscribe()  # the live link follows the machines on its running subscription (before any recolour)
        w.tree_dock.set_factory(factory)
        ids = {m.id for m in factory.machines}
        w.selection.select([i for i in w.selection.ids if i in ids])
        w.status_machines.setText(f"{len(factory.machines)} machines")
        self.restore_colours()

    def machines(self) -> dict[str, Machine]:
        """The document's machines by id (one dict per factory version: no scan on every mouse move)."""
        factory = self.window.document.factory
        if self._by_id[0] is not factory:
            self._by_id = (factory, {m.id: m for m in factory.machines})
        return self._by_id[1]

    # -- commands from actions --------------------------------------------------------------------------
    def rotate_selection(self, degrees: float) -> None:
        self._move_selection(0.0, 0.0, degrees, f"Rotate {degrees:+.0f}°")

    def arrange_selection(self, how: str) -> None:
        """Align ("left", "right", "top", "bottom", "centre_x", "centre_y") or distribute ("x", "y") the
        selected machines; one undo step, refused if it would make a collision."""
        w = self.window
        if not self.active or self.service is None:
            return
        after = self.service.arranged(w.selection.ids, how)
        if not after:
            w.statusBar().showMessage("Select two machines to align, three to distribute", 6000)
            return
        text = f"Distribute along {how.upper()}" if how in ("x", "y") else f"Align {how.replace('_', ' ')}"
        self.move_to(after, f"{text} ({len(after)} machines)")

    def nudge_selection(self, dx: float, dy: float) -> None:
        step = self.window.document.factory.floor.grid_m if self.snap_enabled else 0.1
        self._move_selection(dx * step, dy * step, 0.0, "Nudge")

    def _move_selection(self, dx: float, dy: float, dyaw: float, text: str) -> None:
        ids = list(self.window.selection.ids)
        if not self.active or not ids or self.service is None:
            return
        self.move_to(self.service.moved(ids, dx, dy, dyaw), f"{text} {names(ids)}")

    def place_dialog(self) -> None:
        """Type the exact position and rotation of the current machine (Edit ▸ Set Position…)."""
        w = self.window
        mid = w.selection.current
        if not self.active or mid is None or self.service is None:
            return
        dialog = PlaceDialog(w.document.factory, mid, self.service, w)
        if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return
        self.place(mid, dialog.pose(), override=dialog.override.isChecked())

    def place(self, mid: str, pose: Pose, override: bool = False) -> bool:
        """Put machine ``mid`` at ``pose`` (one undo step); refused on a collision unless ``override``."""
        return self.move_to({mid: pose}, f"Place {mid}", override)

    def move_to(self, after: dict[str, Pose], text: str, override: bool = False) -> bool:
        """Move machines to ``after`` as one undo step named ``text``; refused (with the reason in the status
        bar and the verdict colours shown) when it would make a collision, unless ``override``."""
        w = self.window
        by_id = self.machines()
        before = {mid: by_id[mid].pose for mid in after}
        verdicts = self.verdicts(after)
        blocked = refusal(verdicts, override)
        if blocked is not None:
            self.report(verdicts)
            w.statusBar().showMessage(f"Not done ({text}): {blocked.describe()}", 10000)
            return False
        self.stack.push(MoveCommand(self, before, after, text))
        self.report(verdicts)
        return True

    def delete_selection(self) -> None:
        ids = list(self.window.selection.ids)
        if not self.active or not ids or self.service is None:
            return
        before, after = self.window.document.factory, self.service.deleted(ids)
        self.window.selection.clear()
        self.stack.push(LayoutCommand(self, before, after, ids, f"Delete {names(ids)}"))

    def move_to_line(self, ids: list[str], place: Place) -> None:
        """Machines ``ids`` into another line or cell of the hierarchy: one undo step; nothing moves on the floor."""
        before = self.window.document.factory if self.window.document is not None else None
        if before is not None and ids:
            text = f"Move {names(ids)} to {' › '.join(place.titles)}"
            self.stack.push(LayoutCommand(self, before, moved_to(before, ids, place), list(ids), text))

    def duplicate_selection(self) -> None:
        ids = list(self.window.selection.ids)
        if not self.active or not ids or self.service is None:
            return
        before = self.window.document.factory
        after, copies = self.service.duplicated(ids)
        self.stack.push(LayoutCommand(self, before, after, copies, f"Duplicate {names(ids)}"))
        self.window.selection.select(copies)

    # -- adding machines --------------------------------------------------------------------------------
    def add_machine(
        self, kind_id: str, asset_id: str, x: float, y: float, override: bool = False, ref: AssetRef | None = None
    ) -> str | None:
        """Add a machine of ``kind_id`` with mesh ``asset_id`` at floor point (x, y) (snapped); returns its
        id, or None when refused (a collision without ``override``, or a mesh that cannot be used).
        ``ref``: the file of a mesh being imported."""
        w = self.window
        if w.document is None or self.service is None:
            return None
        try:
            factory = self.service.with_asset(asset_id, ref)
        except KeyError:
            w.show_error("Cannot add machine", f"Unknown mesh {asset_id}", "")
            return None
        w.asset_of.update(load_factory_assets(factory, w.document.path, w.assets))
        mesh = w.asset_of[asset_id]
        if mesh.placeholder:
            if ref is not None:
                w.asset_of.pop(asset_id, None)
            w.show_error("Cannot add machine", f"The mesh {asset_id} cannot be used: {mesh.warning}", mesh.warning or "")
            log.error("mesh %s cannot be used: %s", asset_id, mesh.warning)
            return None
        grid = factory.floor.grid_m if self.snap_enabled else 0.0
        try:
            plan = self.service.plan_add(factory, kind_id, asset_id, (x, y), grid, mesh, override)
        except ValueError as e:  # pydantic's ValidationError: the mesh gives an unusable size
            w.show_error("Cannot add machine", f"{asset_id}: {e}", str(e))
            return None
        if not plan.allowed:
            w.statusBar().showMessage(f"Not added: {plan.verdict.describe()} (hold Shift while dropping to add it anyway)", 10000)
            return None
        mid = plan.machine.id
        self.stack.push(LayoutCommand(self, w.document.factory, plan.after, [mid], f"Add {mid}"))
        w.selection.select([mid])
        return mid

    def import_mesh(self, path: str | Path, kind_id: str) -> str | None:
        """Add a machine whose mesh is the file ``path`` (GLB/glTF, STL, OBJ, PLY) in the middle of the view;
        the mesh joins the factory's assets (relative to the factory file when it has one)."""
        w = self.window
        if w.document is None:
            return None
        path = Path(path)
        base = re.sub(r"[^A-Za-z0-9_-]", "_", path.stem)[:40] or "mesh"
        asset_id, k = base, 1
        while asset_id in w.document.factory.assets or asset_id in known_assets():
            k += 1
            asset_id = f"{base}_{k}"
        ref_path = str(path.resolve())
        if w.document.path is not None:
            with contextlib.suppress(ValueError):
                ref_path = os.path.relpath(path.resolve(), w.document.path.resolve().parent)
        return self.add_at_view_centre(kind_id, asset_id, AssetRef(path=ref_path))

    def add_at_view_centre(self, kind_id: str, asset_id: str, ref: AssetRef | None = None) -> str | None:
        """Add a machine where the view's centre meets the floor (a double-click in the palette)."""
        w = self.window
        if w.document is None:
            return None
        if not self.active:
            self.set_active(True)
        size = w.view.renderer.GetSize()
        at = w.view.floor_point(size[0] / 2, size[1] / 2)
        f = w.document.factory
        x, y = at if at is not None else (f.floor.width_m / 2, f.floor.depth_m / 2)
        return self.add_machine(kind_id, asset_id, x, y, ref=ref)

    def _on_floor_drop(self, x: float, y: float, mime, modifiers) -> None:
        payload = asset_payload(mime)
        if payload is None or self.window.document is None:
            return
        if not self.active:
            self.set_active(True)
        self.add_machine(*payload, x, y, override=bool(modifiers & SHIFT))

    def import_dialog(self) -> None:
        """Ask for a mesh file and the kind of machine it is, then add it (Import Mesh…)."""
        w = self.window
        if w.document is None:
            return
        path, _ = QtWidgets.QFileDialog.getOpenFileName(w, "Import machine mesh", "", "Meshes (*.glb *.gltf *.stl *.obj *.ply)")
        if not path:
            return
        kinds = known_kinds()
        labels = [k.label for k in kinds.values()]
        question = f"What kind of machine is {Path(path).name}?"
        label, ok = QtWidgets.QInputDialog.getItem(w, "Machine kind", question, labels, 0, False)
        if ok:
            self.import_mesh(path, next(k.id for k in kinds.values() if k.label == label))
