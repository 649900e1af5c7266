"""The OEE loss tree: one definition for simulation results and recorded history.

Every source is first turned into ``LossTimes`` — per machine, seconds of the window in each branch of the
tree — and every figure is computed from them by the same functions:

- **planned stop** = time off shift or in planned maintenance (not a loss of the machine: it was not asked
  to work);
- **planned production time** = the known time less the planned stop;
- **downtime** by reason = unplanned stops: ``down`` split by its reason code (breakdown, tool change, …;
  ``unassigned`` when nobody said why), and the other stops while the machine was asked to work: ``setup``,
  ``starved`` (no part to work on), ``blocked`` (nowhere to put a finished part) — ISO 22400's availability
  counts every stop in planned busy time;
- **run time** = time running;
- **speed loss** = run time − the ideal time of the parts made (parts × ideal cycle time ÷ servers);
- **scrap loss** = the ideal time of the parts scrapped;
- **productive time** = the ideal time of the good parts.

so that availability A = run / planned, performance P = ideal / run, quality Q = good ideal / ideal and
OEE = A × P × Q = productive / planned; the branches add up to the known time. A group (line, area, site)
sums its machines' seconds before dividing, so a machine that was planned longer weighs more.

Examples
--------
>>> t = LossTimes.of_machines(["M1"], known_s=[3600.0], planned_stop_s=[600.0], run_s=[2400.0],
...     ideal_s=[2000.0], scrap_ideal_s=[100.0], parts=[200.0], scrap=[10.0], downtime_s={"breakdown": [600.0]})
>>> f = figures(t)
>>> [round(float(x[0]), 3) for x in (f.availability, f.performance, f.quality, f.oee)]
[0.8, 0.833, 0.95, 0.633]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: The reason of downtime nobody gave a reason for (never made up).
UNASSIGNED = "unassigned"
#: The stops while asked to work that are not ``down``, as downtime reasons.
STATE_REASONS = {"setup": "setup", "starved": "starved", "blocked": "blocked"}
#: The per-machine arrays of ``LossTimes`` (besides the downtime by reason).
ARRAYS = ("known_s", "planned_stop_s", "run_s", "ideal_s", "scrap_ideal_s", "parts", "scrap")
#: Least planned production time behind a machine's figures (seconds): below it they are not claimed.
MIN_PLANNED_S = 600.0


@dataclass(frozen=True)
class LossTimes:
    """Per machine (arrays in ``machines`` order), seconds of the window in each branch of the loss tree.

    ``scrap``/``scrap_ideal_s`` are NaN where the scrap is not known (quality then unknown, never assumed
    perfect); ``downtime_s`` maps a reason to its seconds per machine.
    """

    machines: list[str]
    known_s: np.ndarray
    planned_stop_s: np.ndarray
    run_s: np.ndarray
    ideal_s: np.ndarray
    scrap_ideal_s: np.ndarray
    parts: np.ndarray
    scrap: np.ndarray
    downtime_s: dict[str, np.ndarray] = field(default_factory=dict)
    window_s: float = math.nan  # the window's length (plant seconds)
    source: str = ""

    @classmethod
    def of_machines(
        cls, machines: Sequence[str], downtime_s: Mapping[str, Sequence[float]] | None = None, window_s: float = math.nan,
        source: str = "", **arrays: Sequence[float],
    ) -> LossTimes:
        """Build from plain sequences (a test's or a caller's lists), one value per machine each."""
        cols = {k: np.asarray(v, dtype=float) for k, v in arrays.items()}
        for k, v in cols.items():
            if v.shape != (len(machines),):
                raise ValueError(f"{k}: {v.size} values for {len(machines)} machines")
        down = {r: np.asarray(v, dtype=float) for r, v in (downtime_s or {}).items()}
        return cls.of_columns(machines, cols, down, window_s, source)

    @classmethod
    def of_columns(
        cls, machines: Sequence[str], columns: Mapping[str, Any], downtime_s: Mapping[str, np.ndarray],
        window_s: float, source: str,
    ) -> LossTimes:
        """Build from ``ARRAYS`` → array and the downtime by reason."""
        known, stop, run, ideal, scrap_ideal, parts, scrap = (np.asarray(columns[k], dtype=float) for k in ARRAYS)
        return cls(list(machines), known, stop, run, ideal, scrap_ideal, parts, scrap, dict(downtime_s), window_s, source)

    @property
    def planned_s(self) -> np.ndarray:
        """Planned production time: known time less the planned stop."""
        return self.known_s - self.planned_stop_s

    @property
    def down_total_s(self) -> np.ndarray:
        return sum(self.downtime_s.values(), np.zeros(len(self.machines)))

    @property
    def speed_loss_s(self) -> np.ndarray:
        return self.run_s - self.ideal_s

    @property
    def productive_s(self) -> np.ndarray:
        """The ideal time of the good parts (NaN where the scrap is unknown)."""
        return self.ideal_s - self.scrap_ideal_s

    def take(self, index: np.ndarray | Sequence[int]) -> LossTimes:
        """The same times for the machines at ``index`` only."""
        idx = np.asarray(index, dtype=int)
        return LossTimes.of_columns(
            [self.machines[i] for i in idx],
            {k: getattr(self, k)[idx] for k in ARRAYS},
            {r: v[idx] for r, v in self.downtime_s.items()},
            self.window_s,
            self.source,
        )


@dataclass(frozen=True)
class Figures:
    """A, P, Q and OEE (0–1) per row (a machine or a group); NaN where unknown, ``enough`` False where the
    planned production time is below ``MIN_PLANNED_S`` (no figure is claimed then)."""

    availability: np.ndarray
    performance: np.ndarray
    quality: np.ndarray
    oee: np.ndarray
    planned_s: np.ndarray
    enough: np.ndarray


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


def figures(t: LossTimes, min_planned_s: float = MIN_PLANNED_S) -> Figures:
    """A, P, Q and OEE of every machine of ``t``."""
    planned = t.planned_s
    a = _ratio(t.run_s, planned)
    p = _ratio(t.ideal_s, t.run_s)
    q = _ratio(t.productive_s, t.ideal_s)
    oee = _ratio(t.productive_s, planned)
    enough = planned >= min_planned_s
    return Figures(a, p, q, oee, planned, enough)


def group_times(t: LossTimes, members, names: Sequence[str]) -> LossTimes:
    """Times summed per group: ``members`` is the (groups × machines) 0/1 matrix of who is under whom
    (``app.rollup.figures.Membership.members``), one sparse product for every figure. A group's scrap (and
    parts, ideal time) is unknown (NaN) when any member's is."""
    reasons = sorted(t.downtime_s)
    columns = np.column_stack([getattr(t, k) for k in ARRAYS] + [t.downtime_s[r] for r in reasons])
    sums = np.asarray(members @ columns)
    return LossTimes.of_columns(
        names,
        {k: sums[:, j] for j, k in enumerate(ARRAYS)},
        {r: sums[:, len(ARRAYS) + j] for j, r in enumerate(reasons)},
        t.window_s,
        t.source,
    )


@dataclass(frozen=True)
class Waterfall:
    """The loss waterfall of one row, as shares (0–1) of its known time: 100% → planned stop → downtime →
    speed → scrap → productive; ``oee`` is productive over planned production time. ``scrap`` is NaN when
    unknown (then ``productive`` is the time of all parts made, good or not, and ``oee`` is NaN)."""

    planned_stop: float
    downtime: float
    speed: float
    scrap: float
    productive: float
    oee: float
    known_s: float


def waterfall(t: LossTimes, row: int) -> Waterfall:
    """The waterfall of machine (or group) ``row`` of ``t``."""
    known = float(t.known_s[row])
    if not known > 0:
        nan = math.nan
        return Waterfall(nan, nan, nan, nan, nan, nan, 0.0)
    scrap = float(t.scrap_ideal_s[row])
    ideal = float(t.ideal_s[row])
    productive = ideal - scrap if math.isfinite(scrap) else ideal
    planned = float(t.planned_s[row])
    return Waterfall(
        planned_stop=float(t.planned_stop_s[row]) / known,
        downtime=float(t.down_total_s[row]) / known,
        speed=float(t.speed_loss_s[row]) / known,
        scrap=scrap / known,
        productive=productive / known,
        oee=(ideal - scrap) / planned if planned > 0 and math.isfinite(scrap) else math.nan,
        known_s=known,
    )


def pareto(t: LossTimes, rows: np.ndarray | Sequence[int] | None = None) -> list[tuple[str, float]]:
    """Downtime reasons of ``rows`` (all when None) with their seconds, largest first (reasons with none left out)."""
    idx = np.arange(len(t.machines)) if rows is None else np.asarray(rows, dtype=int)
    out = [(r, float(v[idx].sum())) for r, v in t.downtime_s.items()]
    return sorted([(r, s) for r, s in out if s > 0], key=lambda rs: (-rs[1], rs[0]))
