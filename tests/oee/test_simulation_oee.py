"""OEE from a simulation with a shift calendar, failures and scrap: the branches of the loss tree add up to
the measured time, A × P × Q is OEE, the planned stop is the calendar's, and the scrap is the engine's."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.model.factory import Calendar, Shift
from app.model.signals import MACHINE_STATES
from app.oee.losses import STATE_REASONS, figures, pareto, waterfall
from app.oee.report import simulation_report
from app.oee.simulation import SIM_DOWN_REASON, run_losses, station_scrap
from app.sim.engine import simulate
from app.sim.model import compile_model
from tests.sim.helpers import det, exp, line_factory

DAY = 86_400.0
EARLY = Calendar(shifts={"daily": [Shift(start="06:00", end="14:00")]})


def shifted_line(scrap: tuple[float, float] = (0.0, 0.1)):
    f = line_factory(
        [
            {"cycle": exp(20.0), "mtbf_s": 4 * 3600.0, "mttr_s": 600.0, "scrap": scrap[0]},
            {"cycle": det(25.0), "setup_s": 0.0, "scrap": scrap[1]},
        ],
        exp(30.0),
        horizon_s=4 * DAY,
        warmup_s=DAY,
        replications=3,
    )
    f = f.model_copy(update={"simulation": f.simulation.model_copy(update={"calendar": EARLY})})
    model = compile_model(f)
    return f, model, [simulate(model, k) for k in range(model.replications)]


def test_the_shares_add_up_and_oee_is_a_times_p_times_q():
    f, model, results = shifted_line()
    for t, r in zip(run_losses(f, model, results), results, strict=True):
        assert t.known_s == pytest.approx(np.full(2, r.measured_s), rel=1e-9)
        assert t.planned_stop_s + t.down_total_s + t.run_s == pytest.approx(t.known_s, rel=1e-9)
        assert t.speed_loss_s + t.productive_s + t.scrap_ideal_s == pytest.approx(t.run_s, rel=1e-9)
        # the calendar: one 8-hour shift a day over whole days, the rest is planned stop
        assert t.planned_stop_s / t.known_s == pytest.approx([2 / 3, 2 / 3], rel=1e-9)
        # every second of down is the engine's failure, and only S0 fails
        assert t.downtime_s[SIM_DOWN_REASON][1] == 0.0 and t.downtime_s[SIM_DOWN_REASON][0] > 0
        assert set(t.downtime_s) == {SIM_DOWN_REASON, *STATE_REASONS.values()}
        # the engine's scrap of the one part type, all at S1, the only station that scraps
        assert t.scrap.tolist() == [0.0, float(sum(r.scrap))] and sum(r.scrap) > 0
        fig = figures(t)
        assert fig.oee == pytest.approx(fig.availability * fig.performance * fig.quality, rel=1e-9)
        w = waterfall(t, 1)
        assert w.planned_stop + w.downtime + w.speed + w.scrap + w.productive == pytest.approx(1.0, rel=1e-9)
        # a deterministic station makes parts at exactly its ideal cycle: no speed loss beyond the part in hand
        assert abs(t.speed_loss_s[1]) <= 25.0


def test_quality_is_the_good_share_and_a_group_sums_its_machines():
    f, model, results = shifted_line()
    report = simulation_report(f, model, results, "shifted line")
    q = report.machine_figures.quality
    assert q[0] == 1.0 and 0.85 < q[1] < 0.95  # 10% scrap
    site = 0
    assert report.groups.run_s[site] == pytest.approx(report.machines.run_s.sum())
    assert report.group_figures.oee[site] == pytest.approx(
        report.machines.productive_s.sum() / report.machines.planned_s.sum()
    )
    assert np.isfinite(report.oee_half_width).all()  # three replications: an interval
    assert pareto(report.machines)[0][1] >= pareto(report.machines)[-1][1]
    # parts out per hour against the target: nothing is asked for off shift
    assert len(report.hours) == 72 and (report.target_per_h[report.out_per_h == 0] >= 0).all()
    assert report.target_per_h.max() == pytest.approx(120.0)
    assert report.target_per_h.min() == 0.0


def test_where_two_stations_scrap_one_part_type_their_quality_is_unknown_never_split():
    f, model, results = shifted_line(scrap=(0.05, 0.1))
    assert np.isnan(station_scrap(model, results[0])).all()
    t = run_losses(f, model, results)[0]
    fig = figures(t)
    assert math.isnan(fig.quality[0]) and math.isnan(fig.oee[1])
    assert np.isfinite(fig.availability).all() and np.isfinite(fig.performance).all()


def test_a_station_of_several_servers_is_read_as_its_plant_shows_it():
    f = line_factory([{"cycle": exp(50.0), "servers": 3}], exp(30.0), horizon_s=2 * DAY, warmup_s=3600.0, replications=1)
    model = compile_model(f)
    r = simulate(model, 0)
    t = run_losses(f, model, [r])[0]
    running = MACHINE_STATES.index("running")
    assert t.run_s[0] == pytest.approx(r.shown_state_s[0, running])  # running while any of the 3 runs
    assert t.run_s[0] > r.state_s[0, running]  # more than each server's mean running time
    # utilisation 50 / (3 × 30) = 0.56 per server: the shown run time holds idle servers, which are speed loss
    assert 0.4 < figures(t).performance[0] < 0.8
