"""``python -m app.optimise params``: bad input exits 2 before any simulation with one line why and writes
nothing; a run writes a result file that reopens and ends with one JSON line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from app.model.io import save_factory
from app.optimise.params_result import ParamsResult
from tests.optimise.test_params import line


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "app.optimise", "params", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def factory_file(tmp_path):
    path = tmp_path / "line.json"
    save_factory(line(), path)
    return path


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ([], "no decision variable"),
        (["--var", "CNC-99:input_buffer=1..3"], "no machine 'CNC-99' in the factory"),
        (["--var", "M2:input_buffer=5..1"], "the bounds are reversed (5..1)"),
        (["--var", "M2:input_buffer=nan..3"], "the bounds must be finite numbers"),
        (["--var", "M2:buffer=1..3"], "unknown kind 'buffer'"),
        (["--var", "M2:input_buffer=1-3"], "write ID:KIND=LOW..HIGH[/STEP]"),
        (
            ["--var", "M2:input_buffer=2..3", "--var", "M3:input_buffer=2..3", "--budget", "buffers<=3"],
            "the budget cannot be met",
        ),
        (["--var", "M2:input_buffer=1..3", "--seconds", "nan"], "--seconds must be a finite number"),
        (["--var", "M2:input_buffer=1..3", "--replications", "1"], "replications per candidate must be ≥ 2"),
        (["--var", "M2:input_buffer=1..3", "--horizon", "100", "--warmup", "200"], "warm-up"),
    ],
)
def test_bad_input_exits_2_before_searching_and_writes_nothing(factory_file, tmp_path, options, says):
    out = tmp_path / "r.json"
    done = run(str(factory_file), *options, "--out", str(out), "--quiet", timeout=60)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr and done.stderr.startswith("python -m app.optimise params: ")
    assert done.stdout == "" and not out.exists()


def test_a_missing_factory_file_is_a_bad_argument(tmp_path):
    done = run(str(tmp_path / "none.json"), "--var", "M2:input_buffer=1..3", "--out", str(tmp_path / "r.json"), timeout=60)
    assert done.returncode == 2 and "none.json" in done.stderr


def test_a_run_ends_with_one_json_line_and_a_result_file(factory_file, tmp_path):
    out = tmp_path / "r.json"
    done = run(
        str(factory_file), "--var", "M2:input_buffer=0..2", "--var", "M3:input_buffer=0..2", "--budget", "buffers<=2",
        "--replications", "3", "--horizon", "8000", "--warmup", "500", "--evaluations", "6", "--population", "4",
        "--delta", "0.5", "--max-replications", "20", "--workers", "1", "--out", str(out),
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1  # pymoo prints nothing of its own on standard output
    summary = json.loads(lines[0])
    assert summary["variables"] == ["M2:input_buffer", "M3:input_buffer"] and summary["objectives"] == ["throughput"]
    assert summary["where"] == "1 local worker process" and summary["evaluations"] <= 6
    assert "search:" in done.stderr  # the progress bar
    result = ParamsResult.load(out)
    assert result.selection is not None and summary["selection"] == result.selection.text
    assert all(c.budget_use["buffer_places"] <= 2 for c in result.candidates if c.kpis)
