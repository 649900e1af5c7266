"""Edit-layout mode: drag, rotate, nudge, duplicate and delete machines, each placement checked live by the
collision world, every change an undoable command.

The editor owns the undo stack and the ``LayoutWorld`` (pybullet). While a drag runs, only the view and
the world follow the mouse; the document changes once, when the machine is dropped (one undo step).
Dropping onto a collision is refused unless Shift is held (an explicit override).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from app.assets import AssetLibrary, load_factory_assets
from app.model.edits import (
    aligned_poses,
    distributed_poses,
    duplicates,
    free_id,
    moved_poses,
    snap,
    with_machines,
    without,
)
from app.model.factory import AssetRef, Factory, Footprint, Machine, Pose
from app.model.io import resolve_asset_path
from app.model.kinds import get_kind, kind_rgb, known_kinds
from app.paths import ASSETS_DIR
from app.physics.world import LayoutWorld, Verdict, hulls_of
from app.state.colours import LEGEND as STATE_LEGEND
from app.ui.thumbnails import mesh_thumbnail
from app.ui.widgets import number_field

log = logging.getLogger(__name__)

MIME_ASSET = "application/x-floortwin-asset"
KIND_PREFIX = {
    "cnc": "CNC",
    "press": "PR",
    "robot_cell": "RC",
    "assembly": "ASM",
    "conveyor": "CV",
    "buffer": "BUF",
    "inspection": "QA",
    "warehouse": "WH",
}
#: The meshes that ship with floortwin: asset id → ``builtin:`` path.
BUILTIN_ASSETS = {p.stem: f"builtin:meshes/{p.name}" for p in sorted((ASSETS_DIR / "meshes").glob("*")) if p.is_file()}


def known_assets() -> dict[str, str]:
    """Meshes a machine can be added with: the built-in ones and those of the plugins' machine kinds."""
    return {**BUILTIN_ASSETS, **{k.default_asset: k.asset_path for k in known_kinds().values() if k.asset_path}}


ROTATE_STEP_DEG = 15.0
OK_RGB = (0, 158, 115)
CLEARANCE_RGB = (230, 159, 0)  # amber
COLLISION_RGB = (213, 30, 30)  # red
CLEAR_RGB = (205, 208, 212)  # machines without a problem while problems are shown
VERDICT_LEGEND = (("collision", COLLISION_RGB), ("too close (clearance)", CLEARANCE_RGB), ("no problem", CLEAR_RGB))
PARTY_RGB = {"collision": (255, 120, 120), "clearance": (255, 205, 120)}


def _names(ids: Sequence[str]) -> str:
    """Machine ids for an undo step's text: the first three, then an ellipsis."""
    return ", ".join(ids[:3]) + ("…" if len(ids) > 3 else "")


class MoveCommand(QtGui.QUndoCommand):
    """Machines from one set of poses to another."""

    def __init__(self, editor: LayoutEditor, before: dict[str, Pose], after: dict[str, Pose], text: str):
        super().__init__(text)
        self.editor, self.before, self.after = editor, before, after

    def redo(self) -> None:
        self.editor.apply_poses(self.after)

    def undo(self) -> None:
        self.editor.apply_poses(self.before)


class LayoutCommand(QtGui.QUndoCommand):
    """A structural edit (machines added or removed): the factory before and after."""

    def __init__(self, editor: LayoutEditor, before: Factory, after: Factory, changed: list[str], text: str):
        super().__init__(text)
        self.editor, self.before, self.after, self.changed = editor, before, after, changed

    def redo(self) -> None:
        self.editor.apply_layout(self.after, self.changed)

    def undo(self) -> None:
        self.editor.apply_layout(self.before, self.changed)


class LayoutEditor(QtCore.QObject):
    """Edit-layout behaviour of a main window (``window``: its document, view, selection, status bar)."""

    verdicts_changed = QtCore.Signal(object)  # list[Verdict] of the machines being placed

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.stack = QtGui.QUndoStack(self)
        self.active = False
        self.snap_enabled = True
        self.world: LayoutWorld | None = None
        self._drag: dict | None = None
        self._last: list[Verdict] = []
        view = window.view
        view.drag_started.connect(self._on_drag_started)
        view.drag_moved.connect(self._on_drag_moved)
        view.drag_finished.connect(self._on_drag_finished)
        view.rotate_started.connect(self._on_rotate_started)
        view.rotate_moved.connect(self._on_rotate_moved)
        view.rotate_finished.connect(lambda modifiers: self._on_drag_finished(0.0, 0.0, modifiers))
        view.floor_drop_formats.add(MIME_ASSET)
        view.dropped_on_floor.connect(self._on_floor_drop)

    # -- mode -------------------------------------------------------------------------------------------
    def set_active(self, on: bool) -> None:
        """Enter or leave edit-layout mode."""
        w = self.window
        if on and w.document is None:
            return
        self.active = on
        w.view.set_edit_mode(on)
        w.live.paused = on  # while editing, colours show verdicts (live values keep being recorded)
        if not on:  # the legend of what is drawn again: machine states while live, kinds otherwise
            if w.live.store is not None and w.live.heat is None:
                w.view.set_legend(STATE_LEGEND, "Machine state")
            elif w.live.store is None and w.live.replay_store is None:
                w.view.set_legend(w.view.kind_legend(w.document.factory, w.asset_of), "Machine kind")
        if on:
            self._ensure_world()
            n = len(self.world.check_all()) if self.world else 0
            hint = "Edit layout: drag machines; R / Shift+R rotate, Alt+arrows nudge, Del deletes, Ctrl+D duplicates"
            problems = f" — {n} machine(s) with a problem (Edit ▸ Check Layout)" if n else ""
            w.statusBar().showMessage(hint + problems, 10000)
        self._restore_colours()
        w.refresh_actions()

    def reset(self) -> None:
        """A different factory was opened: forget the world and the undo history."""
        self.stack.clear()
        if self.world is not None:
            self.world.close()
        self.world = None
        self._drag = None
        if self.active:
            self._ensure_world()

    def recover(self, saved: Factory, recovered: Factory) -> None:
        """Show autosaved edits on top of the file as saved (one undo step back to the file)."""
        changed = sorted({m.id for m in saved.machines} ^ {m.id for m in recovered.machines} | {m.id for m in recovered.machines})
        self.stack.push(LayoutCommand(self, saved, recovered, changed, "Recover unsaved changes"))

    def close(self) -> None:
        if self.world is not None:
            self.world.close()
            self.world = None

    def _ensure_world(self) -> LayoutWorld | None:
        doc = self.window.document
        if self.world is None and doc is not None:
            self.world = LayoutWorld(doc.factory, hulls_of(self.window.asset_of))
        return self.world

    # -- applying changes (the commands call these) -----------------------------------------------------
    def apply_poses(self, poses: dict[str, Pose]) -> None:
        w = self.window
        w.document.set_poses(poses)
        factory = w.document.factory
        by_id = {m.id: m for m in factory.machines}
        if self.world is not None:
            for mid in poses:
                self.world.set_pose(mid, by_id[mid].pose)
        w.view.move_machines([by_id[mid] for mid in poses], w.asset_of)
        w.view.refresh_floor(factory)  # transport routes follow their machines
        w._on_selection_changed(w.selection.ids)  # the properties show the new pose

    def apply_layout(self, factory: Factory, changed: list[str]) -> None:
        w = self.window
        w.document.set_layout(factory, changed)
        w.view.show_factory(factory, w.asset_of, reset_camera=False)
        w.tree_dock.set_factory(factory)
        ids = {m.id for m in factory.machines}
        w.selection.select([i for i in w.selection.ids if i in ids])
        w.status_machines.setText(f"{len(factory.machines)} machines")
        if self.world is not None:
            self.world.add_hulls(hulls_of({m.asset: w.asset_of[m.asset] for m in factory.machines if m.id in set(changed)}))
            self.world.sync(factory)
        self._restore_colours()
        w.console.resubscribe()  # the live store follows the machines

    # -- commands from actions --------------------------------------------------------------------------
    def rotate_selection(self, degrees: float) -> None:
        self._move_selection(0.0, 0.0, degrees, f"Rotate {degrees:+.0f}°")

    def arrange_selection(self, how: str) -> None:
        """Align ("left", "right", "top", "bottom", "centre_x", "centre_y") or distribute ("x", "y") the
        selected machines; one undo step, refused if it would make a collision."""
        w = self.window
        ids = list(w.selection.ids)
        if not self.active or w.document is None:
            return
        factory = w.document.factory
        after = distributed_poses(factory, ids, how) if how in ("x", "y") else aligned_poses(factory, ids, how)
        if not after:
            w.statusBar().showMessage("Select two machines to align, three to distribute", 6000)
            return
        text = f"Distribute along {how.upper()}" if how in ("x", "y") else f"Align {how.replace('_', ' ')}"
        self.move_to(after, f"{text} ({len(after)} machines)")

    def nudge_selection(self, dx: float, dy: float) -> None:
        step = self.window.document.factory.floor.grid_m if self.snap_enabled else 0.1
        self._move_selection(dx * step, dy * step, 0.0, "Nudge")

    def _move_selection(self, dx: float, dy: float, dyaw: float, text: str) -> None:
        w = self.window
        ids = list(w.selection.ids)
        if not self.active or not ids or w.document is None:
            return
        after = moved_poses(w.document.factory, ids, dx, dy, dyaw)
        self.move_to(after, f"{text} {_names(ids)}")

    def place_dialog(self) -> None:
        """Type the exact position and rotation of the current machine (Edit ▸ Set Position…)."""
        w = self.window
        mid = w.selection.current
        if not self.active or mid is None or w.document is None:
            return
        factory = w.document.factory
        dialog = PlaceDialog(factory, mid, self, w)
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
        before = {m.id: m.pose for m in w.document.factory.machines if m.id in after}
        verdicts = self._verdicts(after)
        if any(v.status == "collision" for v in verdicts) and not override:
            self._report(verdicts)
            w.statusBar().showMessage(f"Not done ({text}): {verdicts[0].describe()}", 10000)
            return False
        self.stack.push(MoveCommand(self, before, after, text))
        self._report(verdicts)
        return True

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
        self._pending_asset = (asset_id, AssetRef(path=ref_path))
        try:
            return self.add_at_view_centre(kind_id, asset_id)
        finally:
            self._pending_asset = None

    def add_machine(self, kind_id: str, asset_id: str, x: float, y: float, override: bool = False) -> str | None:
        """Add a machine of ``kind_id`` with mesh ``asset_id`` at floor point (x, y) (snapped); returns its
        id, or None when refused (a collision without ``override``, or a mesh that cannot be used)."""
        w = self.window
        if w.document is None:
            return None
        before = w.document.factory
        factory = before
        pending = getattr(self, "_pending_asset", None)
        if pending is not None and pending[0] == asset_id:  # a mesh being imported
            factory = factory.model_copy(update={"assets": {**factory.assets, asset_id: pending[1]}})
        elif asset_id not in factory.assets:  # a built-in mesh not used by this factory yet
            if asset_id not in known_assets():
                w.show_error("Cannot add machine", f"Unknown mesh {asset_id}", "")
                return None
            factory = factory.model_copy(update={"assets": {**factory.assets, asset_id: AssetRef(path=known_assets()[asset_id])}})
        w.asset_of.update(load_factory_assets(factory, w.document.path, w.assets))
        mesh = w.asset_of[asset_id]
        if mesh.placeholder:
            if pending is not None:
                w.asset_of.pop(asset_id, None)
            w.show_error("Cannot add machine", f"The mesh {asset_id} cannot be used: {mesh.warning}", mesh.warning or "")
            log.error("mesh %s cannot be used: %s", asset_id, mesh.warning)
            return None
        grid = factory.floor.grid_m if self.snap_enabled else 0.0
        kind = get_kind(kind_id)
        prefix = KIND_PREFIX.get(kind_id, kind_id[:3].upper())
        mid = free_id(factory, f"{prefix}-01")
        ex, ey, ez = (min(max(float(v), 0.01), 200.0) for v in mesh.extents)
        try:
            machine = self._new_machine(mid, kind, kind_id, asset_id, x, y, grid, (ex, ey, ez), factory)
        except ValueError as e:  # pydantic's ValidationError: the mesh gives an unusable size
            w.show_error("Cannot add machine", f"{asset_id}: {e}", str(e))
            return None
        world = self._ensure_world()
        if world is not None:
            world.add_hulls(hulls_of({asset_id: mesh}))
            world.add_machine(machine)
            verdict = world.check(mid)
            world.remove_machine(mid)
            if verdict.status == "collision" and not override:
                w.statusBar().showMessage(f"Not added: {verdict.describe()} (hold Shift while dropping to add it anyway)", 10000)
                return None
        after = with_machines(factory, [machine])
        self.stack.push(LayoutCommand(self, before, after, [mid], f"Add {mid}"))
        w.selection.select([mid])
        return mid

    @staticmethod
    def _new_machine(mid, kind, kind_id, asset_id, x, y, grid, extents, factory) -> Machine:
        ex, ey, ez = extents
        return Machine(
            id=mid,
            name=f"{kind.label if kind else kind_id} {mid.split('-')[-1]}",
            kind=kind_id,
            asset=asset_id,
            pose=Pose(
                x_m=min(max(snap(x, grid), 0.0), factory.floor.width_m), y_m=min(max(snap(y, grid), 0.0), factory.floor.depth_m)
            ),
            footprint=Footprint(width_m=round(ex, 3), depth_m=round(ey, 3), height_m=round(ez, 3)),
        )

    def _on_floor_drop(self, x: float, y: float, mime, modifiers) -> None:
        payload = asset_payload(mime)
        if payload is None or self.window.document is None:
            return
        if not self.active:
            self.set_active(True)
        self.add_machine(*payload, x, y, override=bool(modifiers & QtCore.Qt.KeyboardModifier.ShiftModifier))

    def add_at_view_centre(self, kind_id: str, asset_id: str) -> str | None:
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
        return self.add_machine(kind_id, asset_id, x, y)

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

    def delete_selection(self) -> None:
        w = self.window
        ids = list(w.selection.ids)
        if not self.active or not ids or w.document is None:
            return
        before = w.document.factory
        after = without(before, ids)
        w.selection.clear()
        self.stack.push(LayoutCommand(self, before, after, ids, f"Delete {_names(ids)}"))

    def duplicate_selection(self) -> None:
        w = self.window
        ids = list(w.selection.ids)
        if not self.active or not ids or w.document is None:
            return
        before = w.document.factory
        grid = before.floor.grid_m
        copies = duplicates(before, ids, (2 * grid, 2 * grid))
        after = with_machines(before, copies)
        self.stack.push(LayoutCommand(self, before, after, [c.id for c in copies], f"Duplicate {_names(ids)}"))
        w.selection.select([c.id for c in copies])

    def refresh_verdicts(self) -> list[Verdict] | None:
        """After an edit, an undo or a redo: every verdict view shows the layout as it now is (the Layout
        Check list, and in edit mode the red and amber machines). None when there is no world to ask
        (it is built when edit mode or a check first needs it)."""
        w = self.window
        if self.world is None or w.document is None:
            return None
        verdicts = self.world.check_all()
        w.layout_check_dock.show_verdicts(verdicts)
        if self.active and self._drag is None:
            if verdicts:
                self.show_problems(verdicts)
            else:
                self._restore_colours()
        return verdicts

    def check_layout(self) -> list[Verdict]:
        """Every machine with a problem, as the layout stands."""
        world = self._ensure_world()
        return world.check_all() if world is not None else []

    # -- dragging ---------------------------------------------------------------------------------------
    def _on_drag_started(self, mid: str, x: float, y: float) -> None:
        w = self.window
        if mid not in w.selection.ids:
            w.selection.select([mid])
        factory = w.document.factory
        ids = list(w.selection.ids)
        by_id = {m.id: m for m in factory.machines}
        self._drag = {
            "anchor": mid,
            "grab": (x, y),
            "ids": ids,
            "before": {i: by_id[i].pose for i in ids},
            "after": {i: by_id[i].pose for i in ids},
            "offset": (by_id[mid].pose.x_m - x, by_id[mid].pose.y_m - y),
        }

    def _on_rotate_started(self, cx: float, cy: float) -> None:
        w = self.window
        ids = list(w.selection.ids)
        if not ids:
            return
        by_id = {m.id: m for m in w.document.factory.machines}
        poses = {i: by_id[i].pose for i in ids}
        self._drag = {"anchor": ids[0], "ids": ids, "before": poses, "after": dict(poses), "centre": (cx, cy), "turn": True}

    def _on_rotate_moved(self, degrees: float, modifiers) -> None:
        d = self._drag
        if d is None or not d.get("turn"):
            return
        if not (modifiers & QtCore.Qt.KeyboardModifier.AltModifier):
            degrees = snap(degrees, ROTATE_STEP_DEG)  # 15° steps; Alt turns freely
        after = moved_poses(self.window.document.factory, d["ids"], 0.0, 0.0, degrees, about=d["centre"])
        d["after"] = after
        self._show_poses(after)
        self._report(self._verdicts(after))
        problem = f" — {self._last[0].describe()}" if self._last else ""
        self.window.statusBar().showMessage(f"Turn {degrees:+.0f}°{problem}", 4000)

    def _on_drag_moved(self, x: float, y: float, modifiers) -> None:
        d = self._drag
        if d is None or not np.isfinite([x, y]).all():
            return
        w = self.window
        factory = w.document.factory
        anchor = d["before"][d["anchor"]]
        tx, ty = x + d["offset"][0], y + d["offset"][1]
        if self.snap_enabled and not (modifiers & QtCore.Qt.KeyboardModifier.AltModifier):
            grid = factory.floor.grid_m
            tx, ty = snap(tx, grid), snap(ty, grid)
        dx, dy = tx - anchor.x_m, ty - anchor.y_m
        # Poses relative to where the drag started (the document still holds those).
        after = moved_poses(factory, d["ids"], dx, dy)
        d["after"] = after
        self._show_poses(after)
        self._report(self._verdicts(after))

    def _on_drag_finished(self, _x: float, _y: float, modifiers) -> None:
        d, self._drag = self._drag, None
        if d is None:
            return
        w = self.window
        before, after = d["before"], d["after"]
        if all(before[i] == after[i] for i in before):
            self._restore_colours()
            return
        verdicts = self._verdicts(after)
        override = bool(modifiers & QtCore.Qt.KeyboardModifier.ShiftModifier)
        if any(v.status == "collision" for v in verdicts) and not override:
            self._show_poses(before)
            self._restore_colours()
            hint = "hold Shift while dropping to place it anyway"
            w.statusBar().showMessage(f"Not placed: {verdicts[0].describe()} ({hint})", 10000)
            log.info("drop refused: %s", verdicts[0].describe())
            return
        ids = d["ids"]
        text = f"{'Turn' if d.get('turn') else 'Move'} {_names(ids)}"
        if override and any(v.status == "collision" for v in verdicts):
            text += " (collision overridden)"
        self.stack.push(MoveCommand(self, before, after, text))
        self._report(verdicts)
        if verdicts:
            w.statusBar().showMessage(("Placed despite: " if override else "") + verdicts[0].describe(), 10000)

    def _show_poses(self, poses: dict[str, Pose]) -> None:
        w = self.window
        known = self._ensure_world().machines  # by id: no scan of the whole plant on every mouse move
        w.view.move_machines([known[mid].model_copy(update={"pose": p}) for mid, p in poses.items()], w.asset_of)

    # -- verdicts -----------------------------------------------------------------------------------------
    def _verdicts(self, poses: dict[str, Pose]) -> list[Verdict]:
        """Problems of machines at ``poses`` (the group is not checked against itself)."""
        world = self._ensure_world()
        if world is None:
            return []
        restore = {mid: world.poses[mid] for mid in poses}  # the world mirrors the document outside a check
        try:
            for mid, p in poses.items():
                world.set_pose(mid, p)
            out = [world.check(mid, ignore=poses.keys()) for mid in poses]
        finally:  # whatever the check raised, the world goes back to mirroring the document
            for mid, p in restore.items():
                world.set_pose(mid, p)
        return sorted((v for v in out if v.contacts), key=lambda v: v.status != "collision")

    def _report(self, verdicts: Sequence[Verdict]) -> None:
        """Colour the machines being placed (green / amber / red) and the parties they meet."""
        w = self.window
        colours = np.empty((len(w.document.factory.machines), 3), dtype=np.uint8)
        colours[:] = CLEAR_RGB  # the rest fades while placing, so verdict colours never mix with kind colours
        index = w.view.machines.index
        moving = set(self._drag["ids"]) if self._drag else {v.machine for v in verdicts}
        for mid in moving:
            colours[index[mid]] = OK_RGB
        for v in verdicts:
            colours[index[v.machine]] = COLLISION_RGB if v.status == "collision" else CLEARANCE_RGB
            for c in v.contacts:
                if c.other in index:
                    colours[index[c.other]] = PARTY_RGB[c.kind]
        w.view.set_machine_colours(colours)
        self._last = list(verdicts)
        if verdicts:
            w.statusBar().showMessage(verdicts[0].describe(), 4000)
        self.verdicts_changed.emit(list(verdicts))

    def _show_legend(self, problems: bool) -> None:
        """The legend of what edit mode draws: verdict colours while problems are shown, else the kinds."""
        w = self.window
        if not self.active or w.document is None:
            return
        if problems:
            w.view.set_legend(VERDICT_LEGEND, "Layout check")
            return
        w.view.set_legend(w.view.kind_legend(w.document.factory, w.asset_of), "Machine kind")

    def show_problems(self, verdicts: Sequence[Verdict]) -> None:
        """Colour every machine with a problem: red in collision, amber too close (edit mode)."""
        w = self.window
        if not self.active or w.document is None:
            return
        self._show_legend(bool(verdicts))
        colours = np.empty((len(w.document.factory.machines), 3), dtype=np.uint8)
        colours[:] = CLEAR_RGB  # everything fine fades back, so the problems stand out
        index = w.view.machines.index
        for v in sorted(verdicts, key=lambda v: v.status == "collision"):  # red wins
            colours[index[v.machine]] = COLLISION_RGB if v.status == "collision" else CLEARANCE_RGB
        w.view.set_machine_colours(colours)

    def _restore_colours(self) -> None:
        w = self.window
        if w.document is None:
            return
        if w.live.active and not self.active:
            w.live.recolour()
        else:
            w.view.set_machine_colours(w.view.kind_colours(w.document.factory, w.asset_of))
            self._show_legend(False)


class PlaceDialog(QtWidgets.QDialog):
    """Exact position (metres) and rotation (degrees) of one machine, with its verdict as you type.
    The fields take numbers within the floor only: NaN, text or off-floor values cannot be entered."""

    def __init__(self, factory: Factory, mid: str, editor: LayoutEditor, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Set position of {mid}")
        self.editor, self.mid = editor, mid
        pose = factory.machine(mid).pose
        form = QtWidgets.QFormLayout(self)
        self.x = number_field(pose.x_m, 0.0, factory.floor.width_m, " m", 3)
        self.y = number_field(pose.y_m, 0.0, factory.floor.depth_m, " m", 3)
        self.yaw = number_field(pose.yaw_deg % 360, 0.0, 359.99, "°", 3)
        form.addRow("&X", self.x)
        form.addRow("&Y", self.y)
        form.addRow("&Rotation", self.yaw)
        self.verdict = QtWidgets.QLabel("")
        self.verdict.setWordWrap(True)
        form.addRow("", self.verdict)
        self.override = QtWidgets.QCheckBox("Place it even if it collides")
        form.addRow("", self.override)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        for spin in (self.x, self.y, self.yaw):
            spin.valueChanged.connect(self._update_verdict)
        self._update_verdict()

    def pose(self) -> Pose:
        return Pose(x_m=self.x.value(), y_m=self.y.value(), yaw_deg=self.yaw.value())

    def _update_verdict(self) -> None:
        verdicts = self.editor._verdicts({self.mid: self.pose()})
        if not verdicts:
            self.verdict.setText('<span style="color:#009e73">Clear of everything</span>')
        else:
            colour = "#d51e1e" if verdicts[0].status == "collision" else "#aa6e00"
            self.verdict.setText(f'<span style="color:{colour}">{verdicts[0].describe()}</span>')


class PaletteDock(QtWidgets.QDockWidget):
    """Machines to add: one entry per machine kind with its mesh (and the factory's own meshes). Drag an
    entry onto the floor in edit mode, or double-click it to add the machine in the middle of the view."""

    activated = QtCore.Signal(str, str)  # kind id, asset id
    import_requested = QtCore.Signal()

    #: Thumbnail size in pixels (device-independent).
    ICON_PX = 48

    def __init__(self, parent: QtWidgets.QWidget | None = None, library: AssetLibrary | None = None):
        super().__init__("Machine Palette", parent)
        self.setObjectName("dock_palette")
        self.library = library if library is not None else AssetLibrary()
        self.list = _PaletteList(self)
        self.list.setDragEnabled(True)
        self.list.setDragDropMode(QtWidgets.QAbstractItemView.DragDropMode.DragOnly)
        self.list.setIconSize(QtCore.QSize(self.ICON_PX, self.ICON_PX))
        self.list.setSpacing(2)
        self.list.itemActivated.connect(self._on_activated)
        body = QtWidgets.QWidget(self)
        column = QtWidgets.QVBoxLayout(body)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.list)
        self.import_button = QtWidgets.QPushButton("Import Mesh…", body)
        self.import_button.setToolTip("Add a machine from a mesh file (GLB/glTF, STL, OBJ, PLY)")
        self.import_button.clicked.connect(self.import_requested)
        column.addWidget(self.import_button)
        self.setWidget(body)
        self._pending: list[QtWidgets.QListWidgetItem] = []  # entries still without their picture
        self._icon_timer = QtCore.QTimer(self)
        self._icon_timer.setInterval(0)
        self._icon_timer.timeout.connect(self._next_icon)
        self.visibilityChanged.connect(self._on_visible)
        self.set_assets({})

    def set_assets(self, factory_assets: dict[str, str]) -> None:
        """Fill the list: every kind with its default mesh, then the factory's other meshes (id → kind)."""
        self.list.clear()
        entries = [(k.label, k.id, k.default_asset) for k in known_kinds().values() if k.default_asset in known_assets()]
        entries += [(f"{a} (this factory's mesh)", kind, a) for a, kind in sorted(factory_assets.items())]
        for label, kind, asset in entries:
            item = QtWidgets.QListWidgetItem(label)
            item.setData(QtCore.Qt.ItemDataRole.UserRole, (kind, asset))
            item.setToolTip(f"kind {kind}, mesh {asset}: drag onto the floor in edit mode, or double-click")
            self.list.addItem(item)
        self._pending = [self.list.item(k) for k in range(self.list.count())]
        if self.isVisible():
            self._icon_timer.start()

    def _on_visible(self, visible: bool) -> None:
        # Pictures are drawn the first time the palette is seen, one per event-loop turn: start-up and the
        # GUI never wait for them.
        if visible and self._pending:
            self._icon_timer.start()

    def _next_icon(self) -> None:
        if not self._pending:
            self._icon_timer.stop()
            return
        item = self._pending.pop(0)
        try:
            kind_id, asset = item.data(QtCore.Qt.ItemDataRole.UserRole)
        except RuntimeError:  # the list was refilled meanwhile
            return
        ref = known_assets().get(asset)
        if ref is None:
            return
        mesh = self.library.load(resolve_asset_path(ref, None))
        colour = kind_rgb(kind_id, mesh.placeholder)
        ratio = self.devicePixelRatioF()
        image = mesh_thumbnail(mesh.vertices, mesh.faces, colour, round(self.ICON_PX * ratio))
        image.setDevicePixelRatio(ratio)
        item.setIcon(QtGui.QIcon(QtGui.QPixmap.fromImage(image)))

    def icons_ready(self) -> bool:
        """True once every entry shows its picture."""
        return not self._pending

    def _on_activated(self, item: QtWidgets.QListWidgetItem) -> None:
        kind, asset = item.data(QtCore.Qt.ItemDataRole.UserRole)
        self.activated.emit(kind, asset)


class _PaletteList(QtWidgets.QListWidget):
    def mimeData(self, items):  # the drag carries "kind asset"
        mime = QtCore.QMimeData()
        if items:
            kind, asset = items[0].data(QtCore.Qt.ItemDataRole.UserRole)
            mime.setData(MIME_ASSET, f"{kind} {asset}".encode())
        return mime

    def mimeTypes(self):
        return [MIME_ASSET]


def asset_payload(mime) -> tuple[str, str] | None:
    """(kind id, asset id) from a palette drag, or None."""
    if mime is None or not mime.hasFormat(MIME_ASSET):
        return None
    parts = bytes(mime.data(MIME_ASSET)).decode(errors="replace").split()
    return (parts[0], parts[1]) if len(parts) == 2 else None


class LayoutCheckDock(QtWidgets.QDockWidget):
    """The list of layout problems; double-click flies to the machine."""

    machine_activated = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__("Layout Check", parent)
        self.setObjectName("dock_layout_check")
        self.list = QtWidgets.QListWidget(self)
        self.list.itemActivated.connect(lambda item: self.machine_activated.emit(item.data(QtCore.Qt.ItemDataRole.UserRole)))
        self.setWidget(self.list)

    def show_checking(self) -> None:
        """While an opened layout is checked in the background."""
        self.list.clear()
        self.list.addItem("Checking the layout for collisions and clearances…")

    def show_failed(self, why: str) -> None:
        self.list.clear()
        self.list.addItem(f"The layout could not be checked: {why}")

    def show_verdicts(self, verdicts: Sequence[Verdict]) -> None:
        self.list.clear()
        if not verdicts:
            self.list.addItem("No collisions or clearance problems")
            return
        listed: set[frozenset[str]] = set()
        for v in verdicts:
            worst = v.worst
            if worst is not None and ":" not in worst.other:  # between two machines: one row for the pair
                pair = frozenset((v.machine, worst.other))
                if pair in listed:
                    continue
                listed.add(pair)
            item = QtWidgets.QListWidgetItem(("● " if v.status == "collision" else "▲ ") + v.describe())
            item.setData(QtCore.Qt.ItemDataRole.UserRole, v.machine)
            item.setForeground(QtGui.QColor(*(COLLISION_RGB if v.status == "collision" else (170, 110, 0))))
            self.list.addItem(item)
