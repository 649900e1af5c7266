"""The scenario store: real scenario files in a folder, listed by factory, updated and deleted whole."""

from __future__ import annotations

import logging

from app.sim.scenario import MachineParam, Scenario, load_scenario
from app.whatif import ScenarioStore, slug
from tests.whatif.conftest import line


def test_scenarios_are_stored_listed_by_factory_updated_and_deleted(tmp_path, caplog):
    store = ScenarioStore(tmp_path / "whatif")
    f = line()
    a = store.add(Scenario(name="Faster A", factory=f))
    b = store.add(Scenario(name="Faster A", factory=f))  # the same name twice: two files
    other = store.add(Scenario(name="x", factory=f.model_copy(update={"name": "elsewhere"})))
    assert a.path != b.path and a.path.parent == tmp_path / "whatif" and a.path.name.startswith("line-Faster_A-")
    (tmp_path / "whatif" / "broken.json").write_text("{not json")
    a.write_window((10.0, 70.0))  # the note of a run is not a scenario

    with caplog.at_level(logging.WARNING, logger="app.whatif.store"):
        listed = store.scenarios_of("line")
    assert sorted(e.path for e in listed) == sorted([a.path, b.path])
    assert "broken.json" in caplog.text  # an unreadable file is left out, and the log says which
    assert [e.path for e in store.scenarios_of("elsewhere")] == [other.path]
    assert store.scenarios_of("line", skip={a.path}) == [e for e in listed if e.path == b.path]

    changed = a.scenario.model_copy(update={"changes": [MachineParam(machine="A", param="cycle_mean_s", value=5.0)]})
    store.update(a, changed)
    assert a.scenario == changed and load_scenario(a.path) == changed
    assert a.window() == (10.0, 70.0) and b.window() is None
    assert not a.running and not a.has_results

    for p in (a.results, a.results.with_name(a.results.name + "-wal"), a.results.with_name(a.results.name + "-shm")):
        p.write_bytes(b"")
    assert a.has_results
    store.delete(a)
    assert not [p for p in (tmp_path / "whatif").iterdir() if p.name.startswith(a.path.stem)]
    assert b.path.exists()


def test_file_names_are_safe():
    assert slug("Faster presses (2×)") == "Faster_presses_2"
    assert slug("///") == "scenario" and len(slug("x" * 100)) == 40
