"""Saves are atomic: a failure at any point leaves the previous file intact and no temporary behind."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from app.model import atomic
from app.model.io import load_factory, save_factory
from tests.conftest import ROOT


def test_failed_write_leaves_the_old_file(tmp_path, demo_path, monkeypatch):
    target = tmp_path / "plant.json"
    original = demo_path.read_bytes()
    target.write_bytes(original)
    f = load_factory(demo_path)
    f = f.model_copy(update={"name": "changed"})

    def broken_replace(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(OSError):
        save_factory(f, target)
    assert target.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["plant.json"]


def test_process_killed_mid_save_leaves_a_complete_file(tmp_path, demo_path):
    """A child process is killed (SIGKILL) while it saves over and over: the file always loads."""
    target = tmp_path / "plant.json"
    target.write_bytes(demo_path.read_bytes())
    script = textwrap.dedent(f"""
        import sys, os
        sys.path.insert(0, {str(ROOT)!r})
        from app.model.io import load_factory, save_factory
        f = load_factory({str(demo_path)!r})
        print("ready", flush=True)
        i = 0
        while True:
            i += 1
            save_factory(f.model_copy(update={{"name": f"rev {{i}}"}}), {str(target)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        import time

        time.sleep(0.6)
    finally:
        proc.kill()
        proc.wait(10)
    loaded = load_factory(target)  # never a torn file
    assert loaded.name.startswith("rev ") or loaded.name == "Demo plant"
    # The killed writer may leave its temporary file; it is hidden and never mistaken for the factory.
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "plant.json"]
    assert all(n.startswith(".plant.json.") and n.endswith(".tmp") for n in leftovers)


def test_permissions_of_an_existing_file_are_kept(tmp_path):
    p = tmp_path / "f.txt"
    p.write_text("old")
    os.chmod(p, 0o600)
    atomic.atomic_write_text(p, "new")
    assert p.read_text() == "new"
    assert (p.stat().st_mode & 0o777) == 0o600
