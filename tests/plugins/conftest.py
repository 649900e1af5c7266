"""Plugin folders written by the tests, and managers that take back what their plugins added."""

from __future__ import annotations

import json
import textwrap

import pytest

from app.plugins import PluginManager


@pytest.fixture
def write_plugin():
    """``write_plugin(folder, name, code, provides={...}, **manifest)``: a folder plugin, module ``mod``."""

    def write(folder, name, code, provides=None, manifest=None, **fields):
        d = folder / name
        d.mkdir(parents=True)
        data = manifest if manifest is not None else {"name": name, "version": "0.1", "api": "1.0", "module": "mod"}
        if provides is not None:
            data["provides"] = provides
        data.update(fields)
        (d / "plugin.json").write_text(json.dumps(data))
        (d / "mod.py").write_text(textwrap.dedent(code))
        return d

    return write


@pytest.fixture
def manager():
    made: list[PluginManager] = []

    def make(folder=None, trusted_folders=None, **kw) -> PluginManager:
        m = PluginManager()
        made.append(m)
        if folder is not None:
            found = m.discover([folder], entry_points=False)
            m.add(found, trusted_folders=[folder] if trusted_folders is None else trusted_folders, **kw)
        return m

    yield make
    for m in made:
        m.close()
