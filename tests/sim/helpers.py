"""Small factories for simulation tests."""

from __future__ import annotations

from app.model.factory import (
    AssetRef,
    Distribution,
    Factory,
    Floor,
    Footprint,
    Machine,
    MachineSim,
    PartFlow,
    Pose,
    SimulationSettings,
    TransportPath,
)
from app.sim.model import SimModel, compile_model


def exp(mean_s: float) -> Distribution:
    return Distribution(kind="exponential", mean_s=mean_s)


def det(mean_s: float) -> Distribution:
    return Distribution(kind="deterministic", mean_s=mean_s)


def line_factory(
    stations: list[dict],
    interarrival: Distribution,
    *,
    horizon_s: float,
    warmup_s: float,
    replications: int = 10,
    seed: int = 7,
    transports: list[TransportPath] | None = None,
    flows: list[PartFlow] | None = None,
) -> Factory:
    """A serial line S0 → S1 → … fed by one source; each dict holds MachineSim fields."""
    machines = [
        Machine(
            id=f"S{i}",
            name=f"Station {i}",
            kind="cnc",
            asset="a",
            pose=Pose(x_m=10.0 * i + 5, y_m=5.0),
            footprint=Footprint(width_m=2, depth_m=2),
            sim=MachineSim(**kw),
        )
        for i, kw in enumerate(stations)
    ]
    return Factory(
        name="test line",
        floor=Floor(width_m=10.0 * len(stations) + 10, depth_m=10.0),
        assets={"a": AssetRef(path="builtin:meshes/cnc.glb")},
        machines=machines,
        transports=transports or [],
        flows=flows or [PartFlow(part="P", routing=[m.id for m in machines], interarrival=interarrival)],
        simulation=SimulationSettings(horizon_s=horizon_s, warmup_s=warmup_s, replications=replications, seed=seed),
    )


def line(stations: list[dict], interarrival: Distribution, **kw) -> SimModel:
    return compile_model(line_factory(stations, interarrival, **kw))


INFINITE = 1_000_000
#: A source that always has a part ready: the first station never starves.
SATURATED = det(1e-6)


def stored_and_loaded(model: SimModel, results: list, path, name: str = "run") -> list:
    """The replications as written to a results file and read back (``app.sim.results``)."""
    from app.sim.results import ResultsWriter, load_run

    w = ResultsWriter(path)
    w.begin(name, model)
    for r in results:
        w.add(model, r)
    w.end("done")
    w.close()
    return load_run(path)[1]
