"""One rounding rule for every figure: the issue's own examples."""

from __future__ import annotations

import math

from app.sim.kpis import Estimate
from app.sim.numbers import format_duration, format_estimate, format_ticks, nice_ticks, scale_ticks


def test_estimates_round_to_the_precision_of_their_interval():
    assert format_estimate(41.56, 49.0) == "42 ± 49"
    assert format_estimate(-0.004839, 0.13) == "0.00 ± 0.13"
    assert format_estimate(-1.0, 2.9) == "-1.0 ± 2.9"
    assert format_estimate(0.5, 0.096) == "0.500 ± 0.096"
    assert format_estimate(83.24, 1.53, "%") == "83.2 ± 1.5%"
    assert format_estimate(5.0, 0.0) == "5"  # every replication agreed: exact
    assert format_estimate(5.999999999999998, 2e-14) == "6"  # to rounding noise
    assert format_estimate(math.nan, 1.0) == "—"


def test_one_replication_says_n_a_not_inf():
    assert str(Estimate(58.93, math.inf, 1)) == "58.93 ± n/a (1 replication)"
    assert "inf" not in str(Estimate(58.93, math.inf, 1))


def test_horizons_read_as_durations():
    assert [format_duration(s) for s in (7200, 3600, 1800, 86400, 7 * 86400, 0.0833333 * 86400, 129600)] == [
        "2 h",
        "1 h",
        "30 min",
        "1 day",
        "7 days",
        "2 h",
        "36 h",
    ]


def test_scale_ticks_are_round_numbers():
    assert format_ticks(nice_ticks(10.01, 20.01)) == ["12", "14", "16", "18", "20"]  # not 10.01 / 20.01
    assert [label for _, label in scale_ticks(0.0, 190.0)] == ["0", "50", "100", "150"]  # not 47.5 / 142.5
    labels = [label for _, label in scale_ticks(0.0, 1.0, unit="°C")]
    assert labels == ["0.0 °C", "0.2 °C", "0.4 °C", "0.6 °C", "0.8 °C", "1.0 °C"]
