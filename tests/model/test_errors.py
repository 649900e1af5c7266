"""Bad factory files give one clear message: the file, the JSON path, what was expected. Never a traceback."""

from __future__ import annotations

import json

import pytest

from app.model.io import MAX_FILE_BYTES, load_factory
from app.model.problems import FactoryFileError


@pytest.fixture
def demo(demo_text) -> dict:
    return json.loads(demo_text)


def write(tmp_path, doc, name="demo.json") -> str:
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return str(p)


def error_of(path) -> FactoryFileError:
    with pytest.raises(FactoryFileError) as info:
        load_factory(path)
    return info.value


def test_wrong_type_names_file_path_and_expectation(tmp_path, demo):
    demo["machines"][3]["pose"]["yaw_deg"] = "abc"
    e = error_of(write(tmp_path, demo))
    assert str(e) == 'demo.json: machines[3].pose.yaw_deg: expected a number, got "abc"'


def test_not_json(tmp_path):
    e = error_of(write(tmp_path, '{"format": "floortwin-factory", "version": 1,,}'))
    assert str(e).startswith("demo.json: not valid JSON: ") and "line 1, column" in str(e)


def test_empty_and_blank_files(tmp_path):
    assert str(error_of(write(tmp_path, ""))) == "demo.json: file is empty"
    assert str(error_of(write(tmp_path, "  \n\t"))) == "demo.json: file is empty"


def test_wrong_format_and_versions(tmp_path, demo):
    assert "is this a floortwin factory file?" in str(error_of(write(tmp_path, {"hello": 1})))
    demo["version"] = 2
    e = str(error_of(write(tmp_path, demo)))
    assert e.startswith("demo.json: version: this file is format version 2, written by a newer floortwin")
    demo["version"] = "1"
    assert str(error_of(write(tmp_path, demo))) == 'demo.json: version: expected a whole number, got "1"'
    demo["version"] = 0
    assert str(error_of(write(tmp_path, demo))) == "demo.json: version: unsupported format version 0"
    assert "top level" in str(error_of(write(tmp_path, "[1, 2]")))


def test_missing_required_field(tmp_path, demo):
    del demo["machines"][2]["footprint"]
    assert str(error_of(write(tmp_path, demo))) == "demo.json: machines[2].footprint: required field is missing"


def test_unknown_field_is_refused(tmp_path, demo):
    demo["machines"][0]["colour"] = "red"
    assert str(error_of(write(tmp_path, demo))) == "demo.json: machines[0].colour: unknown field (not part of the factory format)"


def test_duplicate_machine_id(tmp_path, demo):
    demo["machines"][5]["id"] = demo["machines"][1]["id"]
    e = error_of(write(tmp_path, demo))
    first = e.problems[0]
    assert first.path == "machines[5].id"
    assert f'duplicate machine id "{demo["machines"][1]["id"]}" (first used by machines[1])' == first.message


def test_reference_to_unknown_machine_or_asset(tmp_path, demo):
    demo["transports"][0]["to_machine"] = "GHOST"
    demo["machines"][4]["asset"] = "teapot"
    demo["flows"][1]["routing"][2] = "NOWHERE"
    e = error_of(write(tmp_path, demo))
    texts = [str(p) for p in e.problems]
    assert any(t.startswith('machines[4].asset: unknown asset "teapot"') for t in texts)
    assert 'transports[0].to_machine: unknown machine "GHOST"' in texts
    assert 'flows[1].routing[2]: unknown machine "NOWHERE"' in texts
    assert str(e).endswith("(and 2 more problems)")
    assert len(e.details().splitlines()) == 3


def test_unknown_kind(tmp_path, demo):
    demo["machines"][0]["kind"] = "teleporter"
    assert 'machines[0].kind: unknown machine kind "teleporter"' in str(error_of(write(tmp_path, demo)))


@pytest.mark.parametrize("token,shown", [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity")])
def test_nan_and_infinities_are_refused(tmp_path, demo_text, token, shown):
    text = demo_text.replace('"x_m": 7.25', f'"x_m": {token}', 1)
    assert text != demo_text
    e = error_of(write(tmp_path, text))
    assert str(e) == f"demo.json: machines[0].pose.x_m: expected a finite number, got {shown}"


def test_absurd_sizes(tmp_path, demo):
    demo["floor"]["width_m"] = 1e7
    assert str(error_of(write(tmp_path, demo))) == "demo.json: floor.width_m: must be ≤ 10000, got 10000000.0"
    demo["floor"]["width_m"] = 80
    demo["machines"][0]["footprint"]["depth_m"] = 0
    assert str(error_of(write(tmp_path, demo))) == "demo.json: machines[0].footprint.depth_m: must be > 0, got 0"
    demo["machines"][0]["footprint"]["depth_m"] = 3
    demo["machines"][0]["sim"]["cycle"]["mean_s"] = -5
    assert str(error_of(write(tmp_path, demo))) == "demo.json: machines[0].sim.cycle.mean_s: must be > 0, got -5"


def test_bad_identifier(tmp_path, demo):
    demo["machines"][0]["id"] = "has space"
    assert "machines[0].id: expected an id of 1–64 letters, digits" in str(error_of(write(tmp_path, demo)))


def test_huge_file_is_refused_without_reading_it(tmp_path):
    p = tmp_path / "huge.json"
    with open(p, "wb") as fh:  # a sparse 200 MB file: no disk used, and never read
        fh.truncate(200 * 1024 * 1024)
    e = str(error_of(p))
    assert e.startswith("huge.json: file is 209.7 MB; factory files are at most")
    assert MAX_FILE_BYTES < 200 * 1024 * 1024


def test_binary_garbage_missing_file_and_folder(tmp_path):
    p = tmp_path / "garbage.json"
    p.write_bytes(bytes(range(256)) * 4)
    assert "not UTF-8 text" in str(error_of(p))
    assert "file not found" in str(error_of(tmp_path / "nope.json"))
    assert "is a folder" in str(error_of(tmp_path))


def test_deeply_nested_json(tmp_path):
    assert "not valid JSON" in str(error_of(write(tmp_path, "[" * 100_000 + "]" * 100_000)))


def test_semantic_checks_on_distributions(tmp_path, demo):
    demo["machines"][1]["sim"]["cycle"] = {"kind": "empirical"}
    demo["machines"][2]["sim"].pop("mttr_s")
    texts = [str(p) for p in error_of(write(tmp_path, demo)).problems]
    assert "machines[1].sim.cycle.samples_s: an empirical distribution needs at least one sample" in texts
    assert "machines[2].sim: mtbf_s and mttr_s must be given together" in texts
