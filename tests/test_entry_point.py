"""The entry point (main.py, also the packaged launcher's): a session without a locale gets C.UTF-8."""

from __future__ import annotations

import importlib.util

from tests.conftest import ROOT


def _main_module():
    spec = importlib.util.spec_from_file_location("floortwin_main", ROOT / "main.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_locale_gets_a_utf8_default(monkeypatch):
    for var in ("LC_ALL", "LC_CTYPE", "LANG"):
        monkeypatch.delenv(var, raising=False)
    _main_module()._default_locale()
    import os

    assert os.environ["LANG"] == "C.UTF-8"


def test_a_locale_the_user_set_is_kept(monkeypatch):
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    _main_module()._default_locale()
    import os

    assert os.environ["LANG"] == "de_DE.UTF-8"
