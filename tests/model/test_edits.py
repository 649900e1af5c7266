"""Layout edits as pure functions: moves stay on the floor, removals take their paths along, diffs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app.model.edits import duplicates, free_id, layout_diff, moved_poses, snap, with_machines, with_poses, without
from app.model.factory import Factory
from app.model.io import dumps_factory, load_factory, loads_factory, save_factory
from tests.conftest import ROOT


@pytest.fixture
def demo(demo_path):
    return load_factory(demo_path)


def test_group_moves_and_turns_about_its_centre_and_stays_on_the_floor(demo):
    poses = moved_poses(demo, ["CNC-01", "CNC-02"], 0, 0, 180)
    a, b = demo.machine("CNC-01").pose, demo.machine("CNC-02").pose
    assert poses["CNC-01"].x_m == pytest.approx(b.x_m) and poses["CNC-02"].x_m == pytest.approx(a.x_m)  # swapped
    assert poses["CNC-01"].yaw_deg == pytest.approx((a.yaw_deg + 180) % 360)
    far = moved_poses(demo, ["CNC-01"], 1e6, -1e6)["CNC-01"]
    assert (far.x_m, far.y_m) == (demo.floor.width_m, 0.0)
    assert snap(3.26, 0.5) == 3.5 and snap(3.26, 0) == 3.26


def test_removing_machines_takes_their_transports_and_routing_steps(demo):
    linked = demo.transports[0].from_machine
    after = without(demo, [linked])
    assert linked not in {m.id for m in after.machines}
    assert all(linked not in (t.from_machine, t.to_machine) for t in after.transports)
    assert all(linked not in f.routing for f in after.flows)
    assert loads_factory(dumps_factory(after)).machines == after.machines  # still a valid file


def test_duplicates_get_fresh_ids_and_no_bindings(demo):
    assert free_id(demo, "CNC-01") == "CNC-09" and free_id(demo, "NEW") == "NEW"
    copies = duplicates(demo, ["CNC-01", "CNC-02"], (2.0, 2.0))
    assert [c.id for c in copies] == ["CNC-09", "CNC-10"] and all(c.tags == {} for c in copies)
    after = with_machines(demo, copies)
    assert len({m.id for m in after.machines}) == len(after.machines)


def test_layout_diff_and_the_command_line(demo, tmp_path):
    after = with_poses(demo, moved_poses(demo, ["PR-01"], 2.0, 0.0))
    after = with_poses(after, moved_poses(after, ["PR-02"], 0, 0, 90))
    after = with_machines(without(after, ["QA-02"]), duplicates(after, ["ASM-01"], (1, 1)))
    d = layout_diff(demo, after)
    assert d == {"added": ["ASM-09"], "removed": ["QA-02"], "moved": ["PR-01"], "rotated": ["PR-02"]}
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    save_factory(demo, a)
    save_factory(after, b)

    def diff(x, y):
        cmd = [sys.executable, "main.py", str(x), "--diff", str(y)]
        return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=60)

    r = diff(a, b)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("Layout (") and lines[1].startswith("  moved    PR-01:") and "2.00 m" in lines[1]
    assert "  rotated  PR-02: 0° → 90°" in lines and any(x.startswith("  added    ASM-09") for x in lines)
    assert diff(a, a).stdout.strip() == "no changes"


def test_diff_reports_every_change_grouped(demo, tmp_path):
    # a cycle-time or demand change used to print "no layout changes"
    data = demo.model_dump(mode="json")  # the factory is immutable: edit its data and make a new one
    cnc = next(m for m in data["machines"] if m["id"] == "CNC-01")
    cnc["sim"]["cycle"]["mean_s"] = 200.0
    cnc["tags"]["Temperature"] = "ns=2;s=Other"
    housing = next(fl for fl in data["flows"] if fl["part"] == "housing")
    housing["interarrival"]["mean_s"] = 500.0
    housing["routing"].pop(-2)
    data["transports"][0]["speed_m_s"] = 3.0
    data["simulation"]["replications"] = 20
    data["opcua"]["endpoint"] = "opc.tcp://plant:4840"
    f = Factory.model_validate(data)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    save_factory(demo, a)
    save_factory(f, b)
    cmd = [sys.executable, "main.py", str(a), "--diff", str(b)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    headings = [line for line in out.splitlines() if not line.startswith(" ")]
    assert [h.split(" (")[0] for h in headings] == ["Parameters", "Flows", "Bindings"]
    old_cycle = demo.machine("CNC-01").sim.cycle.mean_s
    assert f"  changed  CNC-01 sim.cycle.mean_s: {old_cycle:g} → 200" in out
    assert f"  changed  simulation.replications: {demo.simulation.replications} → 20" in out
    assert "  changed  flow housing interarrival.mean_s:" in out and "→ 500" in out
    assert "  changed  flow housing routing:" in out
    assert f"  changed  transport {demo.transports[0].id} speed_m_s:" in out
    assert '  changed  CNC-01 tags.Temperature: "' in out and '"ns=2;s=Other"' in out
    assert "  changed  opcua.endpoint:" in out and "no layout changes" not in out


def test_align_and_distribute(demo):
    from app.model.edits import aligned_poses, distributed_poses
    from app.model.geometry import footprint_corners

    ids = ["CNC-01", "PR-01", "QA-01"]
    left = with_poses(demo, aligned_poses(demo, ids, "left"))
    edges = [footprint_corners(left.machine(i)).min(axis=0)[0] for i in ids]
    assert max(edges) - min(edges) == pytest.approx(0, abs=1e-5)
    top = with_poses(demo, aligned_poses(demo, ids, "top"))
    edges = [footprint_corners(top.machine(i)).max(axis=0)[1] for i in ids]
    assert max(edges) - min(edges) == pytest.approx(0, abs=1e-5)
    spread = with_poses(demo, distributed_poses(demo, ids, "x"))
    xs = sorted(spread.machine(i).pose.x_m for i in ids)
    assert xs[1] - xs[0] == pytest.approx(xs[2] - xs[1])
    assert aligned_poses(demo, ["CNC-01"], "left") == {} and distributed_poses(demo, ids[:2], "y") == {}
