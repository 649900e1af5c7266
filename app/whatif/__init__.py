"""What-if without Qt: the scenario store, the run policy, comparisons, calibration and drift."""

from app.whatif.comparison import WhatIfComparison, align
from app.whatif.service import MIN_WINDOW_S, DriftModel, WhatIfService, drift_text, status_text
from app.whatif.store import Entry, ScenarioStore, slug, whatif_dir

__all__ = [
    "MIN_WINDOW_S",
    "DriftModel",
    "Entry",
    "ScenarioStore",
    "WhatIfComparison",
    "WhatIfService",
    "align",
    "drift_text",
    "slug",
    "status_text",
    "whatif_dir",
]
