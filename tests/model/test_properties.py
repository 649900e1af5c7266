"""A machine's properties as the Properties dock shows them, without a display."""

from __future__ import annotations

from dataclasses import dataclass

from app.model.factory import Distribution, Machine
from app.model.io import load_factory
from app.model.properties import distribution_text, machine_properties, tag_text
from app.paths import DEMO_FACTORY


@dataclass(frozen=True)
class _Asset:
    placeholder: bool = False
    warning: str | None = None
    n_triangles: int = 12_345


def _rows(m, asset=None, units=None) -> dict[str, dict[str, str]]:
    return {section: dict(rows) for section, rows in machine_properties(m, asset, units)}


def test_the_sections_of_a_demo_machine():
    m = load_factory(DEMO_FACTORY).machine("CNC-01")
    rows = _rows(m, _Asset())
    assert list(rows) == ["Identity", "Placement", "Simulation", "OPC UA tags"]
    assert rows["Identity"]["Id"] == "CNC-01" and rows["Identity"]["Line"] == "Machining"
    assert rows["Identity"]["Asset"] == f"{m.asset}  (12,345 triangles)"
    assert rows["Placement"]["Rotation"] == f"{m.pose.yaw_deg:.1f}°"
    assert rows["Simulation"]["MTBF / MTTR"] == "8.0 h / 30 min"
    assert rows["Simulation"]["Cycle time"].startswith("lognormal, mean ")
    assert list(rows["OPC UA tags"]) == sorted(m.tags)


def test_a_placeholder_mesh_says_why_and_a_missing_one_says_nothing():
    m = load_factory(DEMO_FACTORY).machine("CNC-01")
    assert _rows(m, _Asset(placeholder=True, warning="file not found"))["Identity"]["Asset"].endswith(
        "⚠ placeholder: file not found"
    )
    assert _rows(m)["Identity"]["Asset"] == m.asset


def test_bindings_show_the_servers_unit_and_a_state_mapping_other_than_auto():
    m = load_factory(DEMO_FACTORY).machine("CNC-01")
    node = m.tags["Power"]
    assert tag_text(m, "Power", {}) == node
    assert tag_text(m, "Power", {"Power": "W"}) == f"{node}  [W]"
    mapped = m.model_copy(update={"states": {"State": {"0": "idle", "1": "running"}}})
    assert tag_text(mapped, "State", {}).endswith("(states: table of 2)")
    named = m.model_copy(update={"states": {"State": "packml"}})
    assert tag_text(named, "State", {}).endswith("(states: packml)")
    unbound = m.model_copy(update={"tags": {}, "sim": m.sim.model_copy(update={"mtbf_s": None})})
    rows = _rows(unbound)
    assert rows["OPC UA tags"] == {"—": "no bindings"} and rows["Simulation"]["MTBF / MTTR"] == "no failures"


def test_distributions_in_a_few_words():
    assert distribution_text(Distribution(kind="deterministic", mean_s=30)) == "30 s"
    assert distribution_text(Distribution(kind="exponential", mean_s=30)) == "exponential, mean 30 s"
    assert distribution_text(Distribution(kind="lognormal", mean_s=30, cv=0.2)) == "lognormal, mean 30 s, CV 0.2"
    assert distribution_text(Distribution(kind="empirical", mean_s=30, samples_s=[29, 30, 31])) == "empirical, 3 samples"


def test_a_machine_placed_in_the_hierarchy_shows_its_area_line_and_cell():
    m = Machine.model_validate(
        {"id": "R1", "name": "Robot", "kind": "robot_cell", "asset": "r", "footprint": {"width_m": 2, "depth_m": 2},
         "area": "body", "line": "L2", "cell": "C1"}
    )
    identity = dict(dict(machine_properties(m))["Identity"])
    assert (identity["Area"], identity["Line"], identity["Cell"]) == ("body", "L2", "C1")
    plain = dict(dict(machine_properties(m.model_copy(update={"area": "", "cell": ""})))["Identity"])
    assert "Area" not in plain and "Cell" not in plain


def test_failures_per_server_operating_time_and_batches_are_shown():
    m = load_factory(DEMO_FACTORY).machine("CNC-01")
    sim = m.sim.model_copy(update={"servers": 3, "failures": "per_server", "failure_clock": "operating", "batch": 4})
    rows = _rows(m.model_copy(update={"sim": sim}))["Simulation"]
    assert rows["MTBF / MTTR"] == "8.0 h / 30 min, each server on its own, in operating time"
    assert rows["Batch"] == "4 parts per cycle"
    assert "Batch" not in _rows(m)["Simulation"]  # one part at a time: no row
