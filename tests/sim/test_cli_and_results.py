"""``python -m app.sim run``: KPIs printed, bad input refused naming the field, results kept in SQLite."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from app.model.io import save_factory
from app.sim.engine import Cancelled
from app.sim.kpis import summarise
from app.sim.results import ResultsWriter, load_run
from app.sim.runner import run_replications
from tests.conftest import ROOT
from tests.sim.helpers import INFINITE, exp, line, line_factory


def sim(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.sim", *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout)


def test_cli_runs_the_demo_and_prints_kpis_with_confidence_intervals(tmp_path, demo_path):
    out = tmp_path / "r.sqlite"
    r = sim("run", str(demo_path), "--horizon", "2d", "--replications", "4", "--workers", "2", "--out", str(out))
    assert r.returncode == 0, r.stderr
    for text in (
        "throughput /h",
        "lead time min",
        "WIP (parts in system)",
        "Bottleneck:",
        "Energy:",
        "running",
        "starved",
        "blocked",
        "down",
        "setup",
        "housing",
        "CNC-01",
        "Little's law",
        "±",
    ):
        assert text in r.stdout, text
    assert "100.0%" in r.stderr  # the progress bar reached the end
    run, reps = load_run(out)
    assert run["status"] == "done" and run["replications"] == 4 and len(reps) == 4
    assert sorted(x.replication for x in reps) == [0, 1, 2, 3]
    con = sqlite3.connect(out)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT COUNT(*) FROM machine_kpis").fetchone()[0] == 4 * 40


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--horizon", "0"], "simulation.horizon_s: must be > 0"),
        (["--horizon", "soon"], "expected a duration"),
        (["--warmup", "9d", "--horizon", "7d"], "simulation.warmup_s: must be ≥ 0 and shorter than the horizon"),
        (["--replications", "0"], "simulation.replications: must be ≥ 1"),
    ],
)
def test_bad_run_parameters_exit_2_naming_the_field(demo_path, args, needle):
    r = sim("run", str(demo_path), *args)
    assert r.returncode == 2 and needle in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "edit,needle",
    [
        (lambda d: d["machines"][1]["sim"]["cycle"].update(mean_s=-3), "machines[1].sim.cycle.mean_s: must be > 0, got -3"),
        (lambda d: d["machines"][1]["sim"]["cycle"].update(mean_s=0), "machines[1].sim.cycle.mean_s: must be > 0, got 0"),
        (lambda d: d["machines"][2]["sim"].update(servers=0), "machines[2].sim.servers: must be ≥ 1, got 0"),
        (lambda d: d["flows"][0]["routing"].append("NOWHERE"), 'flows[0].routing[10]: unknown machine "NOWHERE"'),
    ],
)
def test_bad_factory_values_exit_2_naming_the_field(tmp_path, demo_text, edit, needle):
    doc = json.loads(demo_text)
    edit(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    r = sim("run", str(path), "--horizon", "1d", "--replications", "1")
    assert r.returncode == 2, r.stdout
    assert needle in r.stderr and "Traceback" not in r.stderr


def test_a_factory_without_flows_is_refused(tmp_path):
    f = line_factory([{"cycle": exp(5.0)}], exp(10.0), horizon_s=100, warmup_s=0)
    path = tmp_path / "noflow.json"
    save_factory(f.model_copy(update={"flows": []}), path)
    r = sim("run", str(path))
    assert r.returncode == 2 and "flows: no part flows" in r.stderr


def test_interrupted_run_keeps_finished_replications(tmp_path):
    m = line([{"cycle": exp(8.0), "input_buffer": INFINITE}], exp(10.0), horizon_s=5e4, warmup_s=0, replications=6)
    out = tmp_path / "r.sqlite"
    w = ResultsWriter(out)
    w.begin("interrupted", m)
    got = []

    def on_result(r):
        w.add(m, r)
        got.append(r)

    with pytest.raises(Cancelled):
        run_replications(m, workers=1, on_result=on_result, cancel=lambda: len(got) >= 2)
    w.end("interrupted")
    w.close()
    run, reps = load_run(out)
    assert run["status"] == "interrupted"
    assert len(reps) == 2 and [r.replication for r in reps] == [0, 1]
    assert reps[0].throughput == got[0].throughput
    assert reps[0].series_wip.shape == got[0].series_wip.shape


def test_parallel_replications_equal_serial_ones():
    m = line(
        [{"cycle": exp(8.0), "input_buffer": INFINITE}, {"cycle": exp(6.0)}], exp(10.0), horizon_s=3e4, warmup_s=0, replications=4
    )
    serial = run_replications(m, workers=1)
    parallel = run_replications(m, workers=2)
    assert [r.throughput for r in serial] == [r.throughput for r in parallel]
    assert [r.wip_area for r in serial] == [r.wip_area for r in parallel]
    assert summarise(m, parallel).throughput_per_h["total"] == summarise(m, serial).throughput_per_h["total"]


def test_time_series_has_the_requested_resolution():
    m = line([{"cycle": exp(8.0), "input_buffer": INFINITE}], exp(10.0), horizon_s=3600, warmup_s=0, replications=1)
    r = run_replications(m, workers=1)[0]
    assert r.series_t.tolist() == [300.0 * k for k in range(12)] or r.series_t.tolist() == [300.0 * k for k in range(13)]
    assert r.series_out.shape == (len(r.series_t), 1) and r.series_queue.shape == (len(r.series_t), 1)
    assert (r.series_out[1:] >= r.series_out[:-1]).all()
