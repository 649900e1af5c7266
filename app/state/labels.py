"""What a machine's label and a signal's unit read, from the state on view. Plain functions, no Qt.

The 3D labels show a machine's id and, while it is current, one value with its unit
(``CNC-01 · 41.2 °C``); the unit is the server's where it gives one (its EngineeringUnits), else
floortwin's own.

Examples
--------
>>> from app.state.store import StateStore, Update
>>> from app.model.signals import LIVE_SIGNALS
>>> store = StateStore(["CNC-01", "CNC-02"], LIVE_SIGNALS)
>>> k = store.bind("CNC-01", "Temperature", "ns=2;s=CNC-01.Temperature")
>>> store.ingest([Update(k, 41.23, 0, 99.0, 100.0)])
>>> _ = store.flush()
>>> label_texts(store, ["CNC-01", "CNC-02"], 101.0, max_age_s=10.0)
['CNC-01 · 41.2 °C', 'CNC-02']
>>> label_texts(store, ["CNC-01", "CNC-02"], 200.0, max_age_s=10.0)  # too old to show
['CNC-01', 'CNC-02']
"""

from __future__ import annotations

from collections.abc import Sequence

from app.model import signals as vocabulary
from app.state.store import StateStore

#: The signal whose value the machine labels show.
LABEL_SIGNAL = "Temperature"


def label_texts(
    store: StateStore, names: Sequence[str], t: float, max_age_s: float, signal: str = LABEL_SIGNAL
) -> list[str]:
    """Machine labels with their ``signal`` value at time ``t``: ``names`` as they are where the value is
    missing or older than ``max_age_s``; beyond the server's EURange the limit is said in words."""
    j = store.signal_index.get(signal)
    if j is None:
        return list(names)
    fresh = store.fresh(signal, t, max_age_s)
    default = vocabulary.unit_of(signal)  # floortwin's unit (a server's EngineeringUnits take precedence)
    out = []
    rows = zip(names, store.values[:, j], fresh, store.units[:, j], store.out_of_range[:, j], strict=True)
    for i, (name, v, ok, unit, outside) in enumerate(rows):
        if not ok:
            out.append(name)
            continue
        unit = default if unit is None else unit  # the server's unit where it gives one
        text = f"{name} · {v:.1f} {unit}".rstrip()
        if outside:  # beyond the server's EURange, said in words (the 3D labels' font has no warning sign)
            text += f" (max {store.eu_high[i, j]:g})" if v > store.eu_high[i, j] else f" (min {store.eu_low[i, j]:g})"
        out.append(text)
    return out


def units_of(store: StateStore, machine_id: str) -> dict[str, str]:
    """The engineering units the server gives for a machine's signals (those it gives)."""
    if machine_id not in store.machine_index:
        return {}
    row = store.units[store.machine_index[machine_id]]
    return {signal: row[j] for signal, j in store.signal_index.items() if row[j]}


def unit_of(store: StateStore, signal: str) -> str:
    """The unit of a signal across machines: the server's (the most common one it gives), else floortwin's."""
    j = store.signal_index.get(signal)
    given = [u for u in store.units[:, j] if u] if j is not None else []
    return max(set(given), key=given.count) if given else vocabulary.unit_of(signal)
