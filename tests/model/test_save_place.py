"""Where a save goes, without a display: straight to a writable file, else to a place the user chooses,
starting beside the file or in the documents folder."""

from __future__ import annotations

import os
from pathlib import Path

from app.model.save_place import can_write, must_choose_place, save_as_start


def test_a_writable_file_saves_in_place_and_the_demo_never_does(tmp_path: Path):
    demo = tmp_path / "demo.json"
    demo.write_text("{}")
    own = tmp_path / "mine.json"
    own.write_text("{}")
    assert not must_choose_place(own, demo)
    assert must_choose_place(demo, demo) and must_choose_place(None, demo)
    assert can_write(tmp_path / "new.json")  # a new file in a writable folder


def test_a_read_only_file_asks_and_starts_in_the_documents_folder(tmp_path: Path, monkeypatch):
    # Tests run as root, which ignores permission bits: the read-only folder is where os.access says no.
    folder = tmp_path / "opt"
    folder.mkdir()
    path = folder / "plant.json"
    path.write_text("{}")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if folder in (Path(p), Path(p).parent) else real_access(p, mode))
    docs = tmp_path / "Documents"
    assert must_choose_place(path, tmp_path / "demo.json") and not can_write(folder / "new.json")
    assert save_as_start(path, tmp_path / "demo.json", lambda: docs) == docs / "plant.json"


def test_save_as_starts_beside_the_file_unless_that_folder_just_refused(tmp_path: Path):
    docs = tmp_path / "Documents"
    demo = tmp_path / "assets" / "demo.json"
    own = tmp_path / "work" / "line.json"
    own.parent.mkdir()
    own.write_text("{}")
    assert save_as_start(own, demo, lambda: docs) == own
    assert save_as_start(own, demo, lambda: docs, read_only=own) == docs / "line.json"
    assert save_as_start(None, demo, lambda: docs) == docs / "factory.json"
    demo.parent.mkdir()
    demo.write_text("{}")
    assert save_as_start(demo, demo, lambda: docs) == docs / "demo.json"  # never beside the bundled demo
