"""The state Gantt's bars from a simulation: replication 1 of a run, traced over a window (``app.sim.trace``).

A run is reproducible (same model and replication → the same random streams), so the Gantt runs the
replication again with the trace on instead of every run carrying one: the bars are the states of the very
replication whose figures the run reported. A station of several servers shows one state, as its plant does
(running while any server runs: ``app.sim.trace.shown_code``).
"""

from __future__ import annotations

from collections.abc import Callable

from app.gantt.bars import GanttBars, merged, tree_order
from app.model.factory import Factory
from app.sim.model import SimModel
from app.sim.trace import traced_run


def simulated_bars(
    model: SimModel,
    factory: Factory,
    t0: float,
    t1: float,
    label: str = "simulation",
    cancel: Callable[[], bool] | None = None,
) -> GanttBars:
    """Each machine's simulated states over [t0, t1] (seconds from the run's start) in replication 1 of
    ``model``; machines of ``factory`` the model does not simulate get no row."""
    trace = traced_run(model, 0, t0, t1, cancel)
    shown = trace.all_shown()
    station_of = {s.id: k for k, s in enumerate(model.stations)}
    rows, machines = [], []
    for i in tree_order(factory):
        m = factory.machines[i]
        k = station_of.get(m.id)
        if k is not None:
            rows.append(merged(*shown[k]))
            machines.append(m)
    return GanttBars.build([m.id for m in machines], [m.name for m in machines], rows, trace.window, False, label)
