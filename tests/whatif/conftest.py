"""A what-if service over a small two-machine line, its document, scenario folder and history (no Qt)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.model.document import FactoryDocument
from app.model.factory import Distribution, Factory, Floor, Footprint, Machine, MachineSim, PartFlow, Pose
from app.model.io import load_factory
from app.paths import DEMO_FACTORY
from app.whatif import ScenarioStore, WhatIfService


def line() -> Factory:
    """A (30 s, varying) → B (20 s), one part: a factory small enough that a run takes moments."""
    cycles = {"A": Distribution(kind="lognormal", mean_s=30.0, cv=0.5), "B": Distribution(mean_s=20.0)}
    ms = [
        Machine(
            id=i,
            name=i,
            kind="cnc",
            asset="cnc",
            pose=Pose(x_m=5 + 5 * k, y_m=5),
            footprint=Footprint(width_m=2, depth_m=2),
            sim=MachineSim(cycle=cycles[i]),
        )
        for k, i in enumerate(("A", "B"))
    ]
    assets = {"cnc": load_factory(DEMO_FACTORY).assets["cnc"]}
    flows = [PartFlow(part="p", routing=["A", "B"])]
    return Factory(name="line", floor=Floor(width_m=20, depth_m=10), assets=assets, machines=ms, flows=flows)


class Heard:
    """Every emission of the service's signals: (signal name, arguments, thread)."""

    def __init__(self, service: WhatIfService):
        self.events: list[tuple[str, tuple, threading.Thread]] = []
        names = ("entries_changed", "job_changed", "comparison_ready", "calibration_ready", "drift_checked", "message", "error")
        for name in names:
            getattr(service, name).connect(lambda *args, name=name: self.events.append((name, args, threading.current_thread())))

    def of(self, name: str) -> list[tuple]:
        return [args for n, args, _t in self.events if n == name]

    def threads(self, name: str) -> set[threading.Thread]:
        return {t for n, _args, t in self.events if n == name}


@pytest.fixture
def document(tmp_path) -> FactoryDocument:
    return FactoryDocument(line())


@pytest.fixture
def history_file(tmp_path) -> Path:
    return tmp_path / "history" / "line.sqlite"


@pytest.fixture
def service(tmp_path, document, history_file) -> Iterator[WhatIfService]:
    history_file.parent.mkdir()
    s = WhatIfService(lambda: document, lambda: history_file, ScenarioStore(tmp_path / "whatif"), cores=1)
    yield s
    s.shutdown()
