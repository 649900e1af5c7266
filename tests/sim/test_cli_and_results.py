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
        "WIP (parts in system",
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
        (["--horizon", "0"], "app.sim: error: --horizon: must be > 0"),
        (["--horizon", "soon"], "expected a duration"),
        (["--warmup", "9d", "--horizon", "7d"], "--warmup: the warm-up (9 days) must be ≥ 0 and shorter than the horizon"),
        (["--replications", "0"], "app.sim: error: --replications: must be ≥ 1, got 0"),
        (["--sample", "0s"], "app.sim: error: --sample: must be > 0, got 0 s"),
    ],
)
def test_bad_run_parameters_exit_2_naming_the_field(demo_path, args, needle):
    r = sim("run", str(demo_path), *args)
    assert r.returncode == 2 and needle in r.stderr and "Traceback" not in r.stderr
    assert "demo.json" not in r.stderr  # the option is at fault, not the file


@pytest.mark.parametrize("horizon", ["2h", "1h", "30m"])
def test_a_short_horizon_blames_the_option_and_suggests_a_warmup(demo_path, horizon):
    r = sim("run", str(demo_path), "--horizon", horizon)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.startswith("app.sim: error: --horizon: the warm-up (8 h) must be ≥ 0 and shorter than the horizon")
    assert "give a shorter warm-up with --warmup" in r.stderr and "demo.json" not in r.stderr


def test_every_problem_is_shown_not_and_n_more(demo_path):
    r = sim("run", str(demo_path), "--replications", "0", "--horizon", "0")
    assert r.returncode == 2 and "more" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines == ["app.sim: error: --horizon: must be > 0, got 0 s", "app.sim: error: --replications: must be ≥ 1, got 0"]


def test_a_bad_worker_count_does_not_hide_the_other_problems(demo_path):
    r = sim("run", str(demo_path), "--workers", "0", "--replications", "0", "--sample", "0s")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        "app.sim: error: --workers: must be ≥ 1, got 0",
        "app.sim: error: --replications: must be ≥ 1, got 0",
        "app.sim: error: --sample: must be > 0, got 0 s",
    ]


def test_out_in_a_missing_folder_is_a_one_line_error(demo_path, tmp_path):
    r = sim("run", str(demo_path), "--horizon", "1d", "--replications", "1", "--out", str(tmp_path / "missing" / "r.sqlite"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    missing = tmp_path / "missing"
    assert r.stderr.strip() == f"app.sim: error: --out {missing / 'r.sqlite'}: folder {missing} does not exist"


def test_output_into_a_closed_pipe_ends_quietly(demo_path):
    cmd = [sys.executable, "-m", "app.sim", "run", str(demo_path), "--horizon", "12h", "--warmup", "1h", "--replications", "1"]
    cmd += ["--workers", "1"]
    producer = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    head = producer.stdout.readline()  # like `| head -1`: read one line, then stop reading
    producer.stdout.close()
    _, err = producer.communicate(timeout=120)
    assert head and producer.returncode == 0
    assert b"BrokenPipeError" not in err and b"Traceback" not in err and b"Exception ignored" not in err


@pytest.mark.parametrize(
    "edit,needle",
    [
        (lambda d: d["machines"][1]["sim"]["cycle"].update(mean_s=-3), "machines[1].sim.cycle.mean_s: must be > 0, got -3"),
        (lambda d: d["machines"][1]["sim"]["cycle"].update(mean_s=0), "machines[1].sim.cycle.mean_s: must be > 0, got 0"),
        (lambda d: d["machines"][2]["sim"].update(servers=0), "machines[2].sim.servers: must be ≥ 1, got 0"),
        (lambda d: d["flows"][0]["routing"].append("NOWHERE"), 'flows[0].routing[{last}]: unknown machine "NOWHERE"'),
    ],
)
def test_bad_factory_values_exit_2_naming_the_field(tmp_path, demo_text, edit, needle):
    doc = json.loads(demo_text)
    edit(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    r = sim("run", str(path), "--horizon", "1d", "--replications", "1")
    assert r.returncode == 2, r.stdout
    needle = needle.replace("{last}", str(len(doc["flows"][0]["routing"]) - 1))  # however long the demo's routing
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


def _run_file(tmp_path, factory, *args):
    path = tmp_path / "f.json"
    save_factory(factory, path)
    return sim("run", str(path), "--workers", "1", *args)


def test_one_replication_says_n_a_and_horizons_read_as_durations(tmp_path):
    f = line_factory([{"cycle": exp(30.0)}], exp(60.0), horizon_s=7200, warmup_s=600, replications=1)
    r = _run_file(tmp_path, f)
    assert r.returncode == 0, r.stderr
    assert "1 replication of 2 h (10 min warm-up): confidence intervals n/a (1 replication)" in r.stdout
    assert "inf" not in r.stdout and "days" not in r.stdout
    f = line_factory([{"cycle": exp(30.0)}], exp(60.0), horizon_s=7 * 86400, warmup_s=8 * 3600, replications=3)
    r = _run_file(tmp_path, f, "--horizon", "1d")
    assert "3 replications of 1 day each (8 h warm-up)" in r.stdout and "1 days" not in r.stdout
    # every ± figure is rounded to the precision of its interval: two significant digits in the half-width
    import re

    for mean, half in re.findall(r"(-?[0-9.]+) ± ([0-9.]+)", r.stdout):
        digits = half.replace(".", "").lstrip("0")
        assert len(digits) <= 2, (mean, half)
        assert len(mean.partition(".")[2]) == len(half.partition(".")[2]), (mean, half)
    assert "Little's law check: WIP = throughput × lead time holds" in r.stdout


def test_a_model_without_randomness_runs_once_and_says_why(tmp_path):
    from tests.sim.helpers import det

    f = line_factory([{"cycle": det(30.0)}], det(60.0), horizon_s=36000, warmup_s=3600, replications=20)
    r = _run_file(tmp_path, f)
    assert r.returncode == 0, r.stderr
    assert "no randomness" in r.stdout and "20 were asked for, one was run" in r.stdout
    assert "replications would be identical, so one is run" in r.stderr
    assert "±" not in r.stdout.split("Little")[0]  # exact figures, no interval of identical replications
    # exact time-averaged WIP: one part half of the time
    assert "WIP (parts in system, time-average): 0.5" in r.stdout


def test_demand_beyond_capacity_is_reported_not_lost(tmp_path):
    # 72 orders an hour into a machine that makes 60: the source's orders wait, and the report says so
    f = line_factory([{"cycle": exp(60.0), "input_buffer": 5}], exp(50.0), horizon_s=3 * 86400, warmup_s=3600, replications=4)
    r = _run_file(tmp_path, f)
    assert r.returncode == 0, r.stderr
    assert "Warning: demand asks 120% of S0's capacity" in r.stdout
    row = next(line for line in r.stdout.splitlines() if line.startswith("total"))
    demand = float(row.split()[1])
    assert 68 < demand < 76  # the orders that arrived: 72/h, not the 59/h that got in
    assert "demand not served:" in r.stdout and "from order min" in r.stdout


def test_backlog_and_order_lead_time_in_the_engine():
    from app.sim.engine import simulate
    from tests.sim.helpers import det

    m = line([{"cycle": det(60.0)}], det(50.0), horizon_s=36000, warmup_s=0, replications=1)
    r = simulate(m)
    h = r.measured_s / 3600
    assert r.orders[0] / h == pytest.approx(72, abs=0.2)  # every order counted, the line full or not
    assert r.total_throughput / h == pytest.approx(60, abs=0.2)
    # 10 h × (72 − 60) orders, less the 11 places of the station (1 server, 10 in its buffer)
    assert r.backlog_end[0] == pytest.approx(72 * 10 - 60 * 10 - 11, abs=2)
    assert r.backlog_area[0] / r.measured_s == pytest.approx(109 / 2, rel=0.1)  # grows about linearly
    lead, from_order = r.lead_time_sum_s[0] / r.throughput[0], r.order_lead_sum_s[0] / r.throughput[0]
    assert lead < 12 * 60 < from_order  # the wait at the source counts from the order, not from the first station


def test_exact_wip_of_a_deterministic_line():
    from app.sim.engine import simulate
    from tests.sim.helpers import det

    # 60 s arrivals into a 30 s machine: one part half of the time, exactly (5-minute samples would see 0)
    m = line([{"cycle": det(30.0)}], det(60.0), horizon_s=36000, warmup_s=3600, replications=1)
    r = simulate(m)
    assert r.wip_area / r.measured_s == pytest.approx(0.5) and r.station_wip_area[0] / r.measured_s == pytest.approx(0.5)
    assert r.series_wip.max() == 0  # what the samples saw


def test_results_keep_the_new_figures_and_read_old_files(tmp_path):
    from tests.sim.helpers import det

    m = line([{"cycle": exp(30.0)}], det(50.0), horizon_s=20000, warmup_s=0, replications=2)
    out = tmp_path / "r.sqlite"
    w = ResultsWriter(out)
    w.begin("x", m)
    rs = run_replications(m, workers=1, on_result=lambda r: w.add(m, r))
    w.end()
    w.close()
    _, back = load_run(out)
    assert back[0].orders == rs[0].orders and back[0].backlog_area == rs[0].backlog_area
    assert back[0].station_wip_area.tolist() == rs[0].station_wip_area.tolist()
    # a file written before these columns existed reads back with NaN for them
    con = sqlite3.connect(out)
    con.execute("UPDATE part_kpis SET orders = NULL")
    con.commit()
    con.close()
    _, back = load_run(out)
    assert all(x != x for x in back[0].orders)


def test_a_source_far_beyond_its_line_counts_its_orders_without_storing_them():
    from app.sim.engine import simulate
    from app.sim.model import overload_warnings
    from tests.sim.helpers import SATURATED, det

    # a billion orders a second, and times too short to move the clock: counted by rate, quickly, no hang
    for interarrival in (SATURATED, det(1e-12)):
        m = line([{"cycle": exp(8.0)}], interarrival, horizon_s=2e4, warmup_s=1e3, replications=1)
        r = simulate(m)
        assert r.total_throughput > 0 and r.backlog_end[0] > 1e9 and r.orders[0] > 1e9
    assert overload_warnings(m)[0].startswith("demand asks 8.0e+12 times S0's capacity")
