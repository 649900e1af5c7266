"""Batch stations (issue 18): a station that waits for n parts, processes them together in one cycle and
releases all n."""

from __future__ import annotations

import numpy as np
import pytest

from app.model.factory import MachineSim
from app.sim.engine import simulate
from app.sim.kpis import estimate
from app.sim.model import SimInputError, compile_model, offered_load
from tests.sim.helpers import INFINITE, SATURATED, det, exp, line, line_factory
from tests.sim.test_textbook import run


def test_a_saturated_batch_station_makes_n_parts_per_cycle():
    # Batches of n = 4 in a cycle of T = 60 s, never short of parts: 4/T = 240 parts/h, all the same the
    # station's servers run all the time (one operation per batch).
    m = line([{"cycle": det(60.0), "batch": 4, "input_buffer": 8}], SATURATED, horizon_s=1e5, warmup_s=1e3, replications=1)
    s = run(m)  # Little's law checked
    assert s.throughput_per_h["total"].mean == pytest.approx(240.0, rel=1e-3)
    assert s.utilisation["S0"].mean == pytest.approx(1.0, abs=1e-3)
    r = simulate(m, 0)
    assert r.completed_ops[0] * 4 == pytest.approx(r.throughput[0], abs=4)  # one operation per batch of four


def test_a_saturated_batch_station_with_random_cycles_and_two_servers():
    # Exponential cycles of mean 60 s on two servers, batches of 4: 2 × 4/T = 480 parts/h.
    m = line(
        [{"cycle": exp(60.0), "batch": 4, "servers": 2, "input_buffer": 8}],
        SATURATED,
        horizon_s=2e5,
        warmup_s=1e4,
        replications=8,
    )
    s = run(m)
    assert s.throughput_per_h["total"].contains(480.0), s.throughput_per_h["total"]


def test_poisson_arrivals_wait_n_minus_1_over_2_lambda_for_their_batch():
    # Poisson arrivals at λ = 0.1/s into batches of n = 4: the k-th part of a batch waits for the n − k after it,
    # each 1/λ on average, so the mean wait for the batch to form is Σ (n − k)/(nλ) = (n − 1)/(2λ) = 15 s
    # (e.g. Hopp & Spearman, Factory Physics §9.4, "wait-to-batch time"). A cycle of 1 s with 40 s between
    # batches: the oven is free when a batch is complete, so lead time = 15 s + 1 s.
    m = line([{"cycle": det(1.0), "batch": 4, "input_buffer": INFINITE}], exp(10.0), horizon_s=3e5, warmup_s=1e4, replications=12)
    s = run(m)  # Little's law checked
    assert s.lead_time_s["total"].contains((4 - 1) / (2 * 0.1) + 1.0), s.lead_time_s["total"]
    assert s.throughput_per_h["total"].contains(360.0), s.throughput_per_h["total"]
    assert s.wip.contains(0.1 * 16.0), s.wip  # L = λW


def test_a_batch_station_in_a_line_hands_its_parts_on_one_by_one():
    # A batch of 5 every 50 s, then a machine of 8 s per part holding 3 (1 + a buffer of 2). At the batch's end
    # three parts go on at once, the fourth 8 s later, the fifth 16 s later; only then is the oven free for the
    # next batch (blocked 16 s): 5 parts per 66 s = 272.7/h, the oven blocked 16/66 of the time.
    m = line(
        [{"cycle": det(50.0), "batch": 5, "input_buffer": 10}, {"cycle": det(8.0), "input_buffer": 2}],
        SATURATED,
        horizon_s=1e5,
        warmup_s=1e3,
        replications=1,
    )
    s = run(m)  # Little's law checked
    assert s.throughput_per_h["total"].mean == pytest.approx(5 / 66 * 3600, rel=2e-3)
    assert s.states["S0"]["blocked"].mean == pytest.approx(16 / 66, abs=2e-3)
    # with room for the whole batch downstream it is never blocked: 5 per 50 s
    m = line(
        [{"cycle": det(50.0), "batch": 5, "input_buffer": 10}, {"cycle": det(8.0), "input_buffer": 4}],
        SATURATED,
        horizon_s=1e5,
        warmup_s=1e3,
        replications=1,
    )
    s = run(m)
    assert s.throughput_per_h["total"].mean == pytest.approx(360.0, rel=2e-3)
    assert s.states["S0"]["blocked"].mean == 0.0


def test_batch_offered_load_counts_batches():
    m = line([{"cycle": det(30.0), "batch": 4, "input_buffer": 8}], exp(10.0), horizon_s=100.0, warmup_s=0.0)
    assert offered_load(m)["S0"] == pytest.approx(30.0 / 4 / 10.0)


def test_the_default_batch_is_one_part():
    assert MachineSim().batch == 1


def test_a_batch_larger_than_the_buffer_is_refused_with_the_field_named():
    f = line_factory([{"cycle": det(30.0), "batch": 12, "input_buffer": 10}], exp(10.0), horizon_s=100.0, warmup_s=0.0)
    with pytest.raises(SimInputError) as e:
        compile_model(f)
    assert e.value.problems[0].path == "machines[0].sim.input_buffer"
    assert "batch of 12" in str(e.value)


def test_each_part_of_a_batch_has_its_own_quality_check_and_part_type():
    # Two part types share the batches (an oven takes what comes), 90 parts/h of each; a quarter of the parts
    # are scrapped, each on its own: a share 0.75 of the parts through the oven go on, and every order that
    # came in went through (but the few inside at the end), of both types.
    from app.model.factory import PartFlow

    flows = [PartFlow(part=p, routing=["S0"], interarrival=exp(40.0)) for p in ("A", "B")]
    m = line(
        [{"cycle": det(60.0), "batch": 4, "input_buffer": INFINITE, "scrap": 0.25}],
        exp(40.0),
        horizon_s=2e5,
        warmup_s=1e3,
        replications=6,
        flows=flows,
    )
    s = run(m)  # Little's law checked
    results = [simulate(m, k) for k in range(m.replications)]
    good = estimate([sum(r.throughput) / (sum(r.throughput) + sum(r.scrap)) for r in results])
    assert good.contains(0.75), good
    for r in results:
        assert r.scrap[0] > 0 and r.scrap[1] > 0 and r.throughput[0] > 0 and r.throughput[1] > 0
        through = sum(r.throughput) + sum(r.scrap)
        assert abs(through - sum(r.orders)) <= 12  # at most a batch being made, three gathering, and the backlog
        assert through / 4 == pytest.approx(r.completed_ops[0], abs=2)  # one operation per batch of four
    assert s.throughput_per_h["total"].mean == pytest.approx(135.0, rel=0.02)


def test_the_trace_of_a_batch_line_sums_to_the_engines_books():
    from app.sim.trace import traced_run

    m = line(
        [
            {"cycle": exp(50.0), "batch": 5, "servers": 2, "input_buffer": 10, "mtbf_s": 900.0, "mttr_s": 90.0},
            {"cycle": exp(8.0)},
        ],
        exp(9.0),
        horizon_s=2e4,
        warmup_s=1e3,
        replications=1,
    )
    result = simulate(m)
    trace = traced_run(m, t0=m.warmup_s)
    np.testing.assert_allclose(trace.server_seconds(), result.state_s, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("extra", "path", "words"),
    [
        ({"assembly": {"bom": [{"part": "P"}]}}, "machines[0].sim.batch", "does not batch"),
        ({"rework": {"p": 0.1, "to": "S0"}}, "machines[0].sim.rework.to", "not to itself"),
    ],
)
def test_what_a_batch_station_cannot_do_is_refused_with_the_field_named(extra, path, words):
    f = line_factory([{"cycle": det(30.0), "batch": 4, "input_buffer": 8, **extra}], exp(10.0), horizon_s=100.0, warmup_s=0.0)
    with pytest.raises(SimInputError) as e:
        compile_model(f)
    assert [p.path for p in e.value.problems] == [path]
    assert words in str(e.value)


def test_scrap_or_a_branch_makes_replications_differ_even_with_fixed_times():
    # Scrap drawn at random: the replications are not identical, so all asked for are run (not one).
    m = line([{"cycle": det(60.0), "scrap": 0.1}], det(100.0), horizon_s=1e4, warmup_s=0.0, replications=4)
    assert not m.deterministic and m.replications == 4
    assert line([{"cycle": det(60.0)}], det(100.0), horizon_s=1e4, warmup_s=0.0, replications=4).replications == 1


def _two_ovens(room: int):
    oven = {
        "cycle": det(60.0),
        "batch": 4,
        "servers": 2,
        "input_buffer": 8,
        "mtbf_s": 1000.0,
        "mttr_s": 100.0,
        "failures": "per_server",
    }
    return line([oven, {"cycle": exp(3.0), "input_buffer": room}], SATURATED, horizon_s=3e5, warmup_s=1e4, replications=10)


def test_two_batch_servers_failing_each_on_their_own():
    # Two ovens side by side, batches of 4 in 60 s, each failing on its own (MTBF 1000 s, MTTR 100 s), parts
    # always waiting, room behind them for both batches: 2 × A × 4/T = 2 × 10/11 × 240 = 436.4 parts/h.
    s = run(_two_ovens(room=20))  # Little's law checked
    assert s.throughput_per_h["total"].contains(2 * 1000 / 1100 * 240.0), s.throughput_per_h["total"]
    down = s.states["S0"]["down"]
    assert abs(down.mean - 1 / 11) < 3 * down.half_width / 1.96, down
    # With room for two parts behind them an oven hands its batch on over several cycles of the next machine
    # and fails meanwhile too (handing the rest on while down): no part is lost (Little's law), each server is
    # still down 1/11 of its time (calendar-time failures), and the blocking costs output.
    tight = run(_two_ovens(room=1))
    assert tight.states["S0"]["blocked"].mean > 0.02
    down = tight.states["S0"]["down"]
    assert abs(down.mean - 1 / 11) < 3 * down.half_width / 1.96, down
    assert tight.throughput_per_h["total"].mean < s.throughput_per_h["total"].mean - 10
