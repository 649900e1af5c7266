"""Cancel in the middle of the scenario optimiser's search: the result lists only settings that were
simulated (a batch cut short by Cancel left settings without values, and building the result failed with
"too many indices for array" — Optimise ▸ Parameters… then said the search failed instead of showing what
was found)."""

from __future__ import annotations

from app.model.io import load_factory
from app.optimise.params import optimise_params
from app.optimise.params_problem import ParamsRequest, Variable
from app.optimise.params_runs import InProcessSimulations
from app.paths import DEMO_FACTORY
from app.sim.engine import Cancelled


class CancelledAtBatch(InProcessSimulations):
    """Replications in this thread; Cancel pressed while batch number ``at`` runs."""

    def __init__(self, at: int):
        self.at, self.batches = at, 0

    def run(self, tasks, cancel=None):
        self.batches += 1
        if self.batches == self.at:
            raise Cancelled()
        return super().run(tasks, cancel)


def test_a_search_cancelled_mid_batch_returns_only_simulated_candidates():
    factory = load_factory(DEMO_FACTORY)
    request = ParamsRequest(
        variables=(Variable("input_buffer", "CNC-02", 0, 6),),
        replications=2,
        horizon_s=1800.0,
        warmup_s=0.0,
        max_evaluations=50,
        population=3,
    )
    sims = CancelledAtBatch(at=3)  # the current settings, the first generation, then Cancel
    result = optimise_params(factory, request, sims)
    assert result.stopped_by == "cancelled"
    assert result.recommended is None and result.selection is None
    assert result.candidates and all(c.kpis["throughput"].n == 2 for c in result.candidates)
    assert result.evaluations == len(result.candidates)
