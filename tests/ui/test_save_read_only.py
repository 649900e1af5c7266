"""Save never fails on permissions: a file in a read-only place (the installed demo under /opt, a read-only
share) is saved as a copy where the user can write, starting in the user's documents (issue 14, item 15).

Tests run as root, which ignores permission bits, so a read-only folder is simulated where the window asks
whether it may write (``os.access``) or where the write itself is refused (``PermissionError``)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from PySide6 import QtWidgets

from app.model.io import load_factory
from tests.conftest import DEMO

pytestmark = pytest.mark.gui


@pytest.fixture
def read_only_copy(tmp_path):
    folder = tmp_path / "opt-floortwin"
    folder.mkdir()
    path = folder / "plant.json"
    shutil.copy(DEMO, path)
    return path


def _answer_save_dialog(monkeypatch, answer: Path):
    asked: list[str] = []

    def fake(parent, caption, start, filter_):
        asked.append(start)
        return str(answer), filter_

    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", staticmethod(fake))
    return asked


def test_save_of_a_file_in_a_read_only_folder_offers_save_as_in_documents(make_window, monkeypatch, read_only_copy, tmp_path):
    w = make_window(open_demo=False)
    assert w.files.open_path(read_only_copy)
    before = read_only_copy.read_bytes()
    real_access = os.access
    folder = read_only_copy.parent

    def access(p, mode):
        return False if folder in (Path(p), Path(p).parent) else real_access(p, mode)

    monkeypatch.setattr("app.ui.file_commands.os.access", access)
    docs = tmp_path / "Documents"
    monkeypatch.setattr("app.ui.file_commands.documents_folder", lambda: docs)
    target = docs / "plant.json"
    docs.mkdir()
    asked = _answer_save_dialog(monkeypatch, target)
    assert w.files.save()
    assert asked == [str(docs / "plant.json")]  # starts in the documents, not in the read-only folder
    assert read_only_copy.read_bytes() == before  # the original is untouched
    assert load_factory(target).name == load_factory(read_only_copy).name
    assert w.document.path == target.resolve() or w.document.path == target


def test_a_refused_write_asks_where_to_save_instead_of_failing(make_window, monkeypatch, read_only_copy, tmp_path):
    w = make_window(open_demo=False)
    assert w.files.open_path(read_only_copy)
    refused = {"n": 0}
    real_save = w.document.save

    def save(path):
        if Path(path).parent == read_only_copy.parent:
            refused["n"] += 1
            raise PermissionError(13, "Permission denied", str(path))
        return real_save(path)

    monkeypatch.setattr(w.document, "save", save)
    docs = tmp_path / "Documents"
    docs.mkdir()
    monkeypatch.setattr("app.ui.file_commands.documents_folder", lambda: docs)
    asked = _answer_save_dialog(monkeypatch, docs / "copy.json")
    errors: list[str] = []
    monkeypatch.setattr(w, "show_error", lambda *a: errors.append(a[0]))
    assert w.files.save()
    assert refused["n"] == 1 and not errors
    assert asked == [str(docs / "plant.json")]
    assert json.loads((docs / "copy.json").read_text(encoding="utf-8"))["name"] == load_factory(read_only_copy).name


def test_the_demo_is_saved_as_a_copy_in_documents(make_window, monkeypatch, tmp_path):
    w = make_window()
    docs = tmp_path / "Documents"
    docs.mkdir()
    monkeypatch.setattr("app.ui.file_commands.documents_folder", lambda: docs)
    asked = _answer_save_dialog(monkeypatch, docs / "my-plant.json")
    before = DEMO.read_bytes()
    assert w.files.save()
    assert asked == [str(docs / DEMO.name)]
    assert (docs / "my-plant.json").exists() and DEMO.read_bytes() == before
