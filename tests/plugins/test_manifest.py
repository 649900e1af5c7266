"""plugin.json: a strict pydantic model; every problem is named, as today's messages are."""

from __future__ import annotations

import json

import pytest

from app.plugins import API_VERSION, Manifest, ManifestError, read_manifest
from app.plugins.manifest import api_compatible
from tests.conftest import ROOT


def _read(tmp_path, text):
    path = tmp_path / "plugin.json"
    path.write_text(text if isinstance(text, str) else json.dumps(text))
    return read_manifest(path)


def test_the_bundled_manifests_are_valid_and_say_what_they_provide():
    kinds = {}
    for folder in sorted((ROOT / "plugins").iterdir()):
        if (folder / "plugin.json").exists():
            m = read_manifest(folder / "plugin.json")
            assert api_compatible(m.api, API_VERSION) and m.module and m.author
            kinds[m.name] = m.provides
    assert kinds["laser-cutter"].machine_kinds == ("laser_cutter",)
    assert kinds["csv-replay"].data_sources == ("csv",)
    assert kinds["energy"].kpis == ("energy_per_part",) and kinds["energy"].panels == ("Energy",)
    assert kinds["energy"].heat_layers == ("Power share",)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "broken plugin.json: not JSON: Expecting property name"),
        ([1, 2], "broken plugin.json: Input should be an object"),
        ({"name": "x", "version": "1", "module": "m"}, "api: Field required"),
        ({"name": "x", "version": "1", "api": 1, "module": "m"}, "api: Input should be a valid string"),
        ({"name": "x", "version": "1", "api": "1.0", "module": "m", "colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"name": "x", "version": "1", "api": "1.0", "provides": {"docks": ["A"]}}, "provides.docks: Extra inputs"),
        ({"name": "x", "version": "1", "api": "1.0", "provides": {"kpis": "k"}}, "provides.kpis: Input should be a valid"),
        ({"name": "", "version": "1", "api": "1.0"}, "name: String should match pattern"),
        ({"name": "x", "version": "1", "api": "one"}, "api: String should match pattern"),
        ({"name": "x", "version": "1", "api": "1.0", "module": "no-such"}, "module: String should match pattern"),
    ],
)
def test_a_broken_manifest_names_each_problem(tmp_path, text, says):
    with pytest.raises(ManifestError) as e:
        _read(tmp_path, text)
    assert str(e.value).startswith("broken plugin.json") and says in str(e.value)


def test_every_problem_is_listed_not_only_the_first(tmp_path):
    with pytest.raises(ManifestError) as e:
        _read(tmp_path, {"name": "x", "api": 2, "extra": 1})
    assert "version: Field required" in str(e.value) and "api: Input should be" in str(e.value) and "extra:" in str(e.value)


def test_a_missing_manifest(tmp_path):
    with pytest.raises(ManifestError, match=r"no plugin\.json manifest in the folder"):
        read_manifest(tmp_path / "plugin.json")


def test_a_good_manifest_and_what_it_describes(tmp_path):
    m = _read(
        tmp_path,
        {
            "name": "power-tools",
            "version": "2.1",
            "api": "1.0",
            "module": "power",
            "author": "ACME",
            "provides": {"machine_kinds": ["saw"], "data_sources": ["mqtt"], "kpis": ["oee"], "panels": ["Power"]},
        },
    )
    assert isinstance(m, Manifest) and m.author == "ACME"
    assert m.provides.describe() == ["machine kind saw", "data source mqtt:", "KPI oee", "panel Power"]


def test_api_versions_are_compatible_within_a_major_version():
    assert api_compatible("1.0", "1.0") and api_compatible("1.0", "1.4")
    assert not api_compatible("1.5", "1.4") and not api_compatible("2.0", "1.0") and not api_compatible("0.9", "1.0")
