"""Undo back to the file as saved is clean, and every verdict view follows undo and redo (issue 13, item 7)."""

from __future__ import annotations

import pytest
from PySide6 import QtWidgets

from app.ui.verdict_view import COLLISION_RGB
from tests.ui.test_layout_editing import SHIFT, _colour, _drag, _editing

pytestmark = pytest.mark.gui


def _check_texts(w) -> list[str]:
    return [w.layout_check_dock.list.item(i).text() for i in range(w.layout_check_dock.list.count())]


def test_undo_to_the_saved_layout_is_clean_and_verdicts_follow(make_window, qtbot, monkeypatch):
    w = _editing(make_window, qtbot)
    assert not w.document.dirty and not w.isWindowModified()
    other = w.document.factory.machine("CNC-02").pose
    _drag(w, qtbot, "CNC-01", (other.x_m, other.y_m), release_modifiers=SHIFT)  # a collision, overridden
    assert w.document.dirty and w.isWindowModified()
    assert any("CNC-01 collides with CNC-02" in t for t in _check_texts(w))  # the list follows the edit
    assert _colour(w, "CNC-01") == COLLISION_RGB

    w.actions_by_id["edit.undo"].trigger()
    assert not w.document.dirty and not w.isWindowModified()  # back to the file as saved: clean
    assert not any("CNC-01" in t for t in _check_texts(w))  # no stale verdict in Layout Check
    kind = w.view.kind_colours(w.document.factory, w.asset_of)
    for mid in ("CNC-01", "CNC-02"):  # nor on the floor: no problem left, the machines show their kinds again
        assert _colour(w, mid) == tuple(int(c) for c in kind[w.view.machines.index[mid]][:3])
    # Closing asks nothing: there is nothing to save.
    asked = []
    discard = QtWidgets.QMessageBox.StandardButton.Discard
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *a, **k: asked.append(a) or discard)
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning", lambda *a, **k: asked.append(a) or discard)

    w.actions_by_id["edit.redo"].trigger()
    assert w.document.dirty and w.isWindowModified()
    assert any("CNC-01 collides with CNC-02" in t for t in _check_texts(w))
    assert _colour(w, "CNC-01") == COLLISION_RGB
    w.actions_by_id["edit.undo"].trigger()
    assert not w.document.dirty
    assert w.close()
    assert asked == []


def test_edit_mode_shows_the_legend_of_what_it_draws(make_window, qtbot):
    """Kinds while nothing is wrong, verdicts while problems are shown — never "Machine state" (issue 13,
    item 9)."""
    w = _editing(make_window, qtbot)
    assert w.view.legend_title == "Machine kind"
    other = w.document.factory.machine("CNC-02").pose
    _drag(w, qtbot, "CNC-01", (other.x_m, other.y_m), release_modifiers=SHIFT)
    assert w.view.legend_title == "Layout check"
    w.actions_by_id["edit.undo"].trigger()
    assert w.view.legend_title == "Machine kind"
    w.actions_by_id["edit.layout_mode"].trigger()  # leave edit mode: no live data here, so no legend
    assert not w.layout_editor.active and w.view.legend_title == "Machine kind"  # no live data: kinds are drawn


def test_a_failing_verdict_probe_leaves_the_world_as_the_document(make_window, qtbot, monkeypatch):
    """The probe moves bodies to ask about a placement; if the check raises they still go back."""
    w = _editing(make_window, qtbot)
    service = w.layout_editor.service
    before = service.run(lambda world: world.poses["CNC-01"])
    other = w.document.factory.machine("CNC-02").pose

    def broken(*_a, **_k):
        raise RuntimeError("a check that fails")

    service.run(lambda world: monkeypatch.setattr(world, "check", broken))  # on the world's own thread
    with pytest.raises(RuntimeError):
        w.layout_editor.verdicts({"CNC-01": other})
    assert service.run(lambda world: world.poses["CNC-01"]) == before


def test_opening_another_factory_never_loses_unsaved_edits(make_window, qtbot, monkeypatch, tmp_path, demo_path):
    """A new-user trial: File ▸ Open (and Open Recent, Demo) replaced a layout with unsaved edits without a
    word. Now the user saves, discards or cancels first, as when closing."""
    import shutil

    other = tmp_path / "other.json"
    shutil.copy(demo_path, other)
    w = make_window()
    w.layout_editor.set_active(True)
    m = w.document.factory.machine("QA-01")
    assert w.layout_editor.move_to({"QA-01": m.pose.model_copy(update={"y_m": m.pose.y_m + 0.5})}, "Move QA-01")
    assert w.document.dirty
    edited = w.document.factory
    answers = [QtWidgets.QMessageBox.StandardButton.Cancel]
    asked = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or answers.pop(0))
    assert not w.files.open_path(other)  # cancelled: the edits stay open
    assert w.document.factory is edited and w.document.dirty and "before opening another factory" in asked[0]
    answers.append(QtWidgets.QMessageBox.StandardButton.Discard)
    assert w.files.open_path(other)  # discarded on purpose: the other file opens, nothing is offered back
    assert w.document.path == other and not w.document.dirty
    w.layout_editor.set_active(False)
