"""Autosave files: written atomically, found only when newer than the factory file, discarded on save."""

from __future__ import annotations

import os
import shutil
import time

from app.model.autosave import autosave_path, discard_autosave, find_autosave, load_autosave, write_autosave
from app.model.edits import moved_poses, with_poses
from app.model.io import load_factory


def test_autosave_round_trip_and_when_it_counts(tmp_path, demo_path):
    original = tmp_path / "plant.json"
    shutil.copy(demo_path, original)
    os.utime(original, (time.time() - 60, time.time() - 60))
    factory = load_factory(original)
    edited = with_poses(factory, moved_poses(factory, ["CNC-01"], 3.0, 0.0))
    folder = tmp_path / "autosave"
    assert find_autosave(folder, original) is None
    path = write_autosave(folder, edited, original)
    assert path == autosave_path(folder, original, "") and path.parent == folder
    found = find_autosave(folder, original)
    assert found is not None and found.original == original
    assert load_autosave(found).machine("CNC-01").pose == edited.machine("CNC-01").pose
    os.utime(original, None)  # the file was saved after the autosave: nothing to recover
    os.utime(path, (time.time() - 30, time.time() - 30))
    assert find_autosave(folder, original) is None
    discard_autosave(folder, original, factory.name)
    assert not path.exists() and not path.with_suffix(".meta").exists()
    discard_autosave(folder, original, factory.name)  # twice is fine


def test_different_files_have_different_autosaves(tmp_path):
    a = autosave_path(tmp_path, tmp_path / "x" / "plant.json", "")
    b = autosave_path(tmp_path, tmp_path / "y" / "plant.json", "")
    assert a != b and a.name.startswith("plant-")
