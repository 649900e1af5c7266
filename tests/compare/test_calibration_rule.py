"""The one rule behind "enough data" in calibration, its arithmetic, and that docs/closed-loop.md states it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from scipy import stats

from app.compare.calibrate import ESTIMATE_MARGIN, exponential_mean, exponential_needed, needed, usable
from app.sim.kpis import Estimate, estimate

DOC = Path(__file__).resolve().parents[2] / "docs" / "closed-loop.md"


def _fits(n: int, truncated: bool) -> bool:
    lo = 2 * n / stats.chi2.ppf(0.975, 2 * n + (2 if truncated else 0))
    hi = 2 * n / stats.chi2.ppf(0.025, 2 * n)
    return lo >= 1 - ESTIMATE_MARGIN and hi <= 1 + ESTIMATE_MARGIN


def test_the_failures_an_mtbf_needs_follow_from_the_rule():
    # The χ² interval of an exponential mean from n failures, relative to the mean, depends on n only: the
    # count needed is the first n where both ends are within ±25% (a trial saw "needs ≥ 1686 failures").
    n = exponential_needed()
    assert _fits(n, True) and not _fits(n - 1, True) and n == 87
    assert exponential_needed(truncated=False) == 87  # repairs (complete samples): the same count
    assert usable(exponential_mean(n * 3600.0, n, True)) and not usable(exponential_mean((n - 1) * 3600.0, n - 1, True))
    assert needed(exponential_mean(2 * 3600.0, 2, True), "failures") == "≥ 87 failures for ±25%"


def test_the_cycles_a_mean_needs_follow_from_the_rule():
    # A t interval at the CV seen so far: the first N whose t·CV/√N is within 25% — and at N it is.
    rng = np.random.default_rng(3)
    sample = rng.lognormal(0.0, 0.8, 6)
    e = estimate(sample)
    text = needed(e, "cycles")
    n = int(text.split()[1])
    cv = sample.std(ddof=1) / sample.mean()
    assert stats.t.ppf(0.975, n - 1) * cv / math.sqrt(n) <= ESTIMATE_MARGIN < stats.t.ppf(0.975, n - 2) * cv / math.sqrt(n - 1)
    assert text == f"≥ {n} cycles for ±25%" and needed(Estimate(10.0, 2.0, 12), "cycles") == ""


def test_the_docs_state_the_rule_and_the_number_the_code_uses():
    doc = DOC.read_text(encoding="utf-8")
    assert f"within ±{ESTIMATE_MARGIN:.0%}" in doc and f"{exponential_needed()} failures" in doc
    assert "about 16" not in doc and "1686" not in doc
