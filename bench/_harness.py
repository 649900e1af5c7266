"""Shared plumbing for benchmarks: timing, worker subprocesses, ratios and the closing JSON line.

Every benchmark measures its baselines in the same run (the machines are shared and noisy), prints a
human-readable table, and ends with exactly one JSON line holding every figure and ratio.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"


def timed(fn: Callable[[], object]) -> float:
    """Wall seconds of one call."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def repeat(fn: Callable[[], object], n: int) -> list[float]:
    return [timed(fn) for _ in range(n)]


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MiB)."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kb / 1024, 1)


def run_worker(script: Path, args: list[str], timeout: float = 900) -> dict:
    """Run ``script --worker ARGS`` in a fresh interpreter and return the JSON dict it prints last."""
    env = dict(os.environ)
    env.setdefault("PYTHONPATH", str(ROOT))
    proc = subprocess.run(
        [sys.executable, str(script), "--worker", *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:300], "returncode": proc.returncode}
    return json.loads(lines[-1])


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 3)


def emit(name: str, figures: dict) -> None:
    """The closing JSON line of a benchmark."""
    print(json.dumps({"bench": name, **figures}, sort_keys=True))
