"""A what-if comparison made within the first recorded hour (trial 7): the window begins at the link's
"connected" record, the exit's first PartCount reading is stamped a moment later. The comparison's actual
throughput is what the plant made, not "0 … actual outside the baseline's prediction"."""

from __future__ import annotations

import pytest

from app.compare.diff import OUTSIDE
from app.history.recorder import Recorder, Sample
from app.sim.engine import simulate
from app.sim.model import compile_model
from app.sim.scenario import Scenario
from app.whatif.comparison import Honesty, RunInputs, build_comparison
from tests.sim.helpers import exp, line_factory

SCALE = 120.0  # a plant simulator at 120 × real time
CONNECTED = 1000.0


def test_the_actual_throughput_of_a_window_that_begins_at_connecting_is_what_the_plant_made(tmp_path):
    f = line_factory([{"cycle": exp(20.0)}, {"cycle": exp(20.0)}], exp(60.0), horizon_s=86400, warmup_s=3600, replications=5)
    path = tmp_path / "h.sqlite"
    rec = Recorder(path)
    rows = [Sample(m, "State", f"ns=2;s={m}/State", CONNECTED + 0.1, CONNECTED + 0.15, None, "running", 0) for m in ("S0", "S1")]
    for m, first in (("S0", 7.0), ("S1", 22.0)):  # one part every 0.5 s of clock time: 60 s of plant time
        node = f"ns=2;s={m}/PartCount"
        for k in range(1200):
            t = CONNECTED + 0.23 + 0.5 * k
            rows.append(Sample(m, "PartCount", node, t, t + 0.07, first + k, None, 0))
    rec.record(rows)
    rec.record_link("connected", CONNECTED)
    assert rec.flush()
    rec.close()
    window = (CONNECTED, CONNECTED + 599.73)  # the last reading
    model = compile_model(f, horizon_s=3600 + (window[1] - window[0]) * SCALE, warmup_s=3600, replications=5)
    results = [simulate(model, k) for k in range(model.replications)]
    scenario = Scenario(name="As it is", factory=f, changes=[])
    c = build_comparison(scenario, RunInputs(results, results, model, model), path, window, honesty=Honesty(time_scale=SCALE))
    row = c.comparison.row("throughput_per_h")
    assert row.actual == pytest.approx(60.0, rel=0.01)  # 1199 parts in 599.5 s × 120 (it read 0 parts/h)
    assert row.fit != OUTSIDE
    assert c.comparison.row("output_per_h", "S0").actual == pytest.approx(60.0, rel=0.01)
    # trial 7: the note says the window is the run's own, not the dock's current one
    assert "the window this run was simulated for, not what has been recorded since" in c.notes[0]
