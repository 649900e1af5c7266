"""The kinds of random duration the format knows, the parameters each one takes, and their means.

``app.model.factory.Distribution`` validates a duration with these tables and ``app.sim.streams`` draws
from it; both read the parameters from here so that a kind and its fields are declared once.

Examples
--------
>>> natural_mean("triangular", {"min_s": 10.0, "mode_s": 20.0, "max_s": 60.0})
30.0
>>> round(natural_mean("weibull", {"shape": 2.0, "scale_s": 100.0}), 3)  # 100 Γ(1.5)
88.623
"""

from __future__ import annotations

import math
from typing import Final

#: Kind → the parameters it reads (besides ``kind``). ``mean_s`` is the mean for the kinds that take it;
#: the others derive their mean from their parameters (and a ``mean_s`` given with them must be it).
PARAMETERS: Final[dict[str, tuple[str, ...]]] = {
    "deterministic": ("mean_s",),
    "exponential": ("mean_s",),
    "lognormal": ("mean_s", "cv"),
    "gamma": ("mean_s", "cv"),
    "erlang": ("mean_s", "phases"),
    "empirical": ("samples_s",),
    "uniform": ("min_s", "max_s"),
    "triangular": ("min_s", "mode_s", "max_s"),
    "weibull": ("shape", "scale_s"),
}
#: The optional parameters added with the uniform, triangular, Erlang and Weibull kinds (None when not given).
SHAPE_FIELDS: Final = ("min_s", "mode_s", "max_s", "phases", "shape", "scale_s")
#: Kinds whose mean follows from their parameters.
DERIVED_MEAN: Final = frozenset(k for k, p in PARAMETERS.items() if "mean_s" not in p)


def natural_mean(kind: str, p: dict) -> float:
    """The mean of a duration of a kind whose mean follows from its parameters (``DERIVED_MEAN``)."""
    if kind == "uniform":
        return (p["min_s"] + p["max_s"]) / 2
    if kind == "triangular":
        return (p["min_s"] + p["mode_s"] + p["max_s"]) / 3
    if kind == "weibull":
        return p["scale_s"] * math.gamma(1 + 1 / p["shape"])
    if kind == "empirical":
        return sum(p["samples_s"]) / len(p["samples_s"])
    raise ValueError(f"a {kind} time takes its mean from mean_s")


def article(kind: str) -> str:
    """'a' or 'an' before the kind's name (a uniform, an Erlang)."""
    return "an" if kind in ("exponential", "empirical", "erlang") else "a"
