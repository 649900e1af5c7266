"""What the twin predicts a stage's window will show: parts through each watched station, as a lower
prediction bound from replications of the plant's model.

A stage is watched on counts (parts through each changed machine, and the line's output: parts through
the last station of every route) over its window. Replications of the model — warmed up, then run for
the window — give each count's mean and spread; the one-sided lower prediction bound for one new window
is ``mean − t(1 − α/K, n − 1) · s · √(1 + 1/n)``, with α split over the stage's K counts (Bonferroni), so a
plant that matches the model falls below any of them in at most α of its stages (1% by default).

A count is whole parts, so its lower bound is too: rounded **down** (a "1.1 parts" bound is 1 part). The
plant's count is tested against that whole number, which keeps the false-rollback rate at most α (a count
below ⌊bound⌋ is below the bound).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import t as student_t

from app.model.factory import Factory
from app.sim.engine import Engine
from app.sim.model import compile_model
from app.sim.numbers import count_of, format_duration, format_number

#: The line's output: parts through the last station of each route.
LINE_OUTPUT = "line output"
#: Replications behind a band when none is asked.
REPLICATIONS = 20


@dataclass(frozen=True)
class Band:
    """A count over the window: the model's mean and the lower bound a plant that matches it stays above."""

    kpi: str
    mean: float
    low: float
    n: int
    sd: float = math.nan  # the counts' standard deviation over the replications (NaN: not kept)

    def text(self) -> str:
        return f"{self.kpi}: ≥ {count_of(whole(self.low), 'part')} (model mean {format_number(self.mean, digits=3)})"


def whole(low: float) -> int:
    """A count's lower bound in whole parts: rounded down, never below 0.

    >>> whole(1.1), whole(169.9), whole(-3.2), whole(6.0)
    (1, 169, 0, 6)
    """
    return max(0, math.floor(low + 1e-9))  # (a bound of 6 computed as 5.9999999 is 6)


def exit_stations(factory: Factory) -> tuple[str, ...]:
    """The last station of every part flow's route, each once."""
    return tuple(dict.fromkeys(f.routing[-1] for f in factory.flows if f.routing))


def kpi_stations(factory: Factory, machines: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The counts a stage watches: each changed machine's throughput and the line output."""
    out: dict[str, tuple[str, ...]] = {f"{m} throughput": (m,) for m in machines}
    out[LINE_OUTPUT] = exit_stations(factory)
    return out


def predict(
    factory: Factory,
    kpis: Mapping[str, tuple[str, ...]],
    window_s: float,
    warmup_s: float = 3600.0,
    replications: int = REPLICATIONS,
    alpha: float = 0.01,
    seed: int = 0,
) -> dict[str, Band]:
    """Each KPI's band over a window of ``window_s`` simulated seconds after ``warmup_s``."""
    model = compile_model(factory, horizon_s=warmup_s + window_s, warmup_s=0.0, replications=replications, seed=seed)
    n = model.replications
    counts = {k: np.zeros(n) for k in kpis}
    for r in range(n):
        eng = Engine(model, r)
        eng.run_until(warmup_s)
        before = eng.snapshot()["operations"]
        eng.run_until(warmup_s + window_s)
        after = eng.snapshot()["operations"]
        for k, stations in kpis.items():
            counts[k][r] = sum(after[model.index[s]] - before[model.index[s]] for s in stations)
    per_kpi = alpha / max(1, len(kpis))
    out = {}
    for k, x in counts.items():
        mean = float(x.mean())
        sd = float(x.std(ddof=1)) if n >= 2 else 0.0
        # (a model without randomness runs once: its one count is exact)
        low = mean if n < 2 else mean - float(student_t.ppf(1.0 - per_kpi, n - 1)) * sd * math.sqrt(1.0 + 1.0 / n)
        out[k] = Band(k, mean, float(whole(low)), n, sd)  # whole parts: the count is tested against this number
    return out


def untestable(predicted: Mapping[str, Band]) -> list[str]:
    """The KPIs whose lower bound is 0 parts: the window is too short for a shortfall to show, so a stage
    cannot fail on them (its window must be longer to test them).

    >>> untestable({"CNC-02": Band("CNC-02", 4.5, -1.2, 20), "line output": Band("line output", 20.1, 6.0, 20)})
    ['CNC-02']
    """
    return [kpi for kpi, band in predicted.items() if whole(band.low) <= 0]


def bands_text(
    predicted: Mapping[str, Band], before: Mapping[str, Band], confidence: float = 0.99, window_s: float | None = None
) -> str:
    """What a stage's window must show: each count's lower bound (``confidence``: the stage's, over all its
    counts) for the plant with the change and for the plant without it, each beside the model's mean — both
    figures are bounds a plant that matches the model stays above, not what it is expected to make, in whole
    parts. A count whose bound is 0 parts cannot fail in ``window_s``: it is named as not tested. When the
    twin's own figures say the change hurts (``harm_text``), that comes first, in words.

    >>> bands_text({"line output": Band("line output", 252.0, 140.2, 20)}, {"line output": Band("line output", 261.0, 150.0, 20)})
    'at least (99% lower bounds): line output 140 parts with the change (mean 252), 150 without it (mean 261)'
    """
    parts = []
    for kpi, band in predicted.items():
        was = before.get(kpi)
        without = f", {whole(was.low)} without it (mean {format_number(was.mean, digits=3)})" if was is not None else ""
        mean = format_number(band.mean, digits=3)
        parts.append(f"{kpi} {count_of(whole(band.low), 'part')} with the change (mean {mean}){without}")
    if not parts:
        return ""
    blind = untestable(predicted)
    warning = f" — {untested_text(blind, window_s)}" if blind else ""
    harm = harm_text(predicted, before, window_s)
    bounds = f"at least ({confidence:.0%} lower bounds): " + "; ".join(parts) + warning
    return f"{harm} {bounds[0].upper()}{bounds[1:]}" if harm else bounds


def lowered(with_change: Band, without: Band) -> bool:
    """The model's mean count with the change is lower than without it, beyond the 95% interval of the
    difference (Welch; both from replications with the same seeds, which only makes this cautious). Where
    the spreads are not known, the old rule: the mean with it below what the plant without it makes at least.

    >>> was = Band("x", 9.8, 1.0, 20, 3.0)
    >>> lowered(Band("x", 4.55, 2.0, 20, 2.1), was), lowered(Band("x", 9.0, 2.0, 20, 3.0), was)
    (True, False)
    """
    if not (math.isfinite(with_change.sd) and math.isfinite(without.sd)) or min(with_change.n, without.n) < 2:
        return with_change.mean < whole(without.low)
    se = math.sqrt(with_change.sd**2 / with_change.n + without.sd**2 / without.n)
    drop = without.mean - with_change.mean
    if se == 0.0:
        return drop > 0.0
    return drop > float(student_t.ppf(0.975, min(with_change.n, without.n) - 1)) * se


def unseen_harm(predicted: Mapping[str, Band], before: Mapping[str, Band]) -> list[str]:
    """The counts the twin predicts the change lowers (``lowered``) but which the stage's window cannot show
    fall: the mean with the change is still above what a plant without it makes at least — the stage passes
    on them whatever happens.

    >>> unseen_harm({"CNC-02": Band("CNC-02", 4.55, 2.0, 20, 2.1)}, {"CNC-02": Band("CNC-02", 9.8, 1.0, 20, 3.0)})
    ['CNC-02']
    """
    return [
        kpi for kpi, b in predicted.items() if kpi in before and lowered(b, before[kpi]) and b.mean >= whole(before[kpi].low)
    ]


def unseen_text(unseen: Sequence[str], window_s: float | None = None) -> str:
    """What a stage that passed could not show.

    >>> print(unseen_text(["CNC-02 throughput"], 3600.0))
    the twin predicts this change lowers CNC-02 throughput, which a 1 h stage cannot show: the change stays on the plant
    """
    where = f"a {format_duration(window_s)} stage" if window_s is not None else "this stage"
    lowers = f"the twin predicts this change lowers {' and '.join(unseen)}"
    return f"{lowers}, which {where} cannot show: the change stays on the plant"


def harm_text(predicted: Mapping[str, Band], before: Mapping[str, Band], window_s: float | None = None) -> str:
    """What the twin's own figures say before anything is written: a count whose mean *with* the change is
    lower than *without* it (``lowered``) is predicted to fall — "" when none is. Where the stage's window is
    too short for that fall to show (the mean with the change still above what a plant without it makes at
    least), it says the stage would pass all the same.

    >>> line = "line output"
    >>> text = harm_text({line: Band(line, 142.0, 71.0, 20, 30.0)}, {line: Band(line, 237.0, 170.0, 20, 28.0)})
    >>> for part in text.split(": ", 1):
    ...     print(part)
    This change is predicted to lower line output
    the model's mean with it is 142 parts against 237 without it.
    >>> text = harm_text({"CNC-02": Band("CNC-02", 4.55, 2.0, 20, 2.1)}, {"CNC-02": Band("CNC-02", 9.8, 1.0, 20, 3.0)}, 3600.0)
    >>> import re
    >>> for part in re.split(r"(?<=[:.,]) (?=the |it |A |and |so )", text):
    ...     print(part)
    This change is predicted to lower CNC-02:
    the model's mean with it is 4.55 parts against 9.8 without it.
    A 1 h stage cannot show this:
    it fails only below what a plant without the change makes at least (1 part),
    and the model expects more than that even with the change,
    so the stage would pass; watch longer to test it.
    """
    hurt = [(kpi, band, before[kpi]) for kpi, band in predicted.items() if kpi in before and lowered(band, before[kpi])]
    if not hurt:
        return ""
    names = " and ".join(kpi for kpi, _b, _w in hurt)
    figures = "; ".join(
        f"{'' if len(hurt) == 1 else kpi + ': '}the model's mean with it is {format_number(b.mean, digits=3)} parts "
        f"against {format_number(w.mean, digits=3)} without it"
        for kpi, b, w in hurt
    )
    blind = [(kpi, w) for kpi, b, w in hurt if b.mean >= whole(w.low)]
    unseen = ""
    if blind:
        where = f"A {format_duration(window_s)} stage" if window_s is not None else "This stage"
        least = "; ".join(f"{'' if len(hurt) == 1 else kpi + ' '}{count_of(whole(w.low), 'part')}" for kpi, w in blind)
        unseen = (
            f" {where} cannot show this: it fails only below what a plant without the change makes at least "
            f"({least}), and the model expects more than that even with the change, so the stage would pass; "
            "watch longer to test it."
        )
    return f"This change is predicted to lower {names}: {figures}.{unseen}"


def untested_text(blind: Sequence[str], window_s: float | None = None) -> str:
    """The counts a stage cannot fail on (a bound of 0 parts), and what to do about it.

    >>> print(untested_text(["CNC-02 throughput"], 1800.0))
    CNC-02 throughput not tested: too few parts in 30 min of plant time for a shortfall to show (bound 0); watch longer to test it
    """
    where = f" in {format_duration(window_s)} of plant time" if window_s is not None else ""
    them = "it" if len(blind) == 1 else "them"
    return (
        f"{', '.join(blind)} not tested: too few parts{where} for a shortfall to show (bound 0); watch longer to test {them}"
    )
