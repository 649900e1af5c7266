"""The preferences' meaning, without Qt: what a stored value reads as, and what a broken one falls back to."""

from __future__ import annotations

from pathlib import Path

from app.history.recorder import DEFAULT_MAX_BYTES, DEFAULT_RETENTION_S
from app.preferences import MAX_RECENT, MemoryStore, Preferences


def test_recent_files_newest_first_once_and_capped(tmp_path: Path):
    p = Preferences(MemoryStore())
    for i in range(MAX_RECENT + 3):
        p.add_recent_file(tmp_path / f"f{i}.json")
    p.add_recent_file(tmp_path / "f5.json")
    files = p.recent_files()
    assert len(files) == MAX_RECENT
    assert Path(files[0]).name == "f5.json" and files.count(files[0]) == 1
    p.remove_recent_file(files[0])
    assert str(tmp_path / "f5.json") not in p.recent_files()


def test_an_ini_file_gives_one_name_as_a_string_and_none_as_empty():
    p = Preferences(MemoryStore({"recent_files": "/a.json", "plugins/disabled": "", "plugins/trusted": "x @ y"}))
    assert p.recent_files() == ["/a.json"]
    assert p.disabled_plugins == []
    assert p.trusted_plugins == ["x @ y"]


def test_plugin_choices_are_kept_sorted_once():
    p = Preferences(MemoryStore())
    p.disabled_plugins = ["b", "a", "b"]
    assert p.disabled_plugins == ["a", "b"]


def test_an_unknown_theme_reads_as_light():
    assert Preferences(MemoryStore({"theme": "purple"})).theme == "light"


def test_flags_are_stored_as_words_an_ini_file_keeps():
    store = MemoryStore()
    p = Preferences(store)
    assert p.show_welcome is True
    p.show_welcome = False
    assert store.values["welcome/show"] == "false" and p.show_welcome is False
    assert Preferences(MemoryStore({"live/connect_on_open": "True"})).connect_on_open is True


def test_a_typing_error_in_a_history_limit_falls_back_to_the_default():
    for bad in ("ten", "-3", "nan", "inf", None):
        p = Preferences(MemoryStore({"history/retention_days": bad, "history/max_mb": bad}))
        assert p.history_retention_days == DEFAULT_RETENTION_S / 86_400
        assert p.history_max_mb == DEFAULT_MAX_BYTES / 2**20
    p = Preferences(MemoryStore({"history/retention_days": "2.5"}))
    assert p.history_retention_days == 2.5
    p.history_max_mb = 0
    assert p.history_max_mb == 0.0
