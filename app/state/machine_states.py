"""Machine states from what a server says: floortwin's own words, OPC UA for Machinery, DI, Booleans, tables.

A binding's state mapping (``Machine.states`` in the factory file) turns each received value into a state
code (0 running, 1 setup, 2 starved / idle, 3 blocked, 4 down) or ``UNKNOWN``: a value the mapping does not
know is shown as "unknown", never squeezed into a neighbouring state.

Examples
--------
>>> state_code("Executing", "auto"), state_code(1, "di-device-health"), state_code(7, "auto")
(0.0, 4.0, -1.0)
>>> state_code(True, "auto"), state_code("FAILURE", {"failure": "down"}), state_name(state_code("x", "auto"))
(0.0, 4.0, 'unknown')
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from app.model.factory import StateMap
from app.model.signals import MACHINE_STATES

#: The code of a value that was received but means no state the mapping knows.
UNKNOWN = -1.0
_CODE = {name: float(k) for k, name in enumerate(MACHINE_STATES)} | {"idle": 2.0, "unknown": UNKNOWN}

#: OPC UA for Machinery (OPC 40001-1), MachineryItemState: state texts and StateNumbers.
MACHINERY_ITEM_STATE = {
    "notavailable": "idle",  # switched off or saving energy: not producing, not broken
    "outofservice": "down",  # not functional (error, blocked)
    "notexecuting": "idle",  # available, waiting for something to start
    "executing": "running",
    "0": "idle",
    "1": "down",
    "2": "idle",
    "3": "running",
}
#: OPC UA for Machinery, MachineryOperationMode: state texts and StateNumbers.
MACHINERY_OPERATION_MODE = {
    "none": "unknown",
    "maintenance": "down",
    "setup": "setup",
    "processing": "running",
    "0": "unknown",
    "1": "down",
    "2": "setup",
    "3": "running",
}
#: DI DeviceHealthEnumeration (OPC 10000-100). The colours follow NAMUR NE107: failure red (down), check
#: function orange (blocked), off spec yellow (idle), maintenance required blue (setup).
DI_DEVICE_HEALTH = {
    "normal": "running",
    "failure": "down",
    "checkfunction": "blocked",
    "offspec": "idle",
    "maintenancerequired": "setup",
    "0": "running",
    "1": "down",
    "2": "blocked",
    "3": "idle",
    "4": "setup",
}
BOOLEAN = {"true": "running", "false": "idle"}
# keys as ``key_of`` makes them: "off_shift" is looked up as "offshift"
FLOORTWIN = {name.replace("_", ""): name for name in (*MACHINE_STATES, "idle")} | {
    str(k): name for k, name in enumerate(MACHINE_STATES)
}
#: ``auto`` understands every text above (they do not clash) but only floortwin's own numbers.
_AUTO_TEXTS = {
    k: v
    for table in (MACHINERY_ITEM_STATE, MACHINERY_OPERATION_MODE, DI_DEVICE_HEALTH)
    for k, v in table.items()
    if not k.isdigit()
}
_AUTO_TEXTS.pop("none")  # "None" as a state text says too little to guess from
AUTO = _AUTO_TEXTS | BOOLEAN | FLOORTWIN
BUILTIN: dict[str, dict[str, str]] = {
    "auto": AUTO,
    "machinery-item-state": MACHINERY_ITEM_STATE,
    "machinery-operation-mode": MACHINERY_OPERATION_MODE,
    "di-device-health": DI_DEVICE_HEALTH,
    "boolean": BOOLEAN,
}
#: Data types whose values say which built-in mapping ``auto`` should use (as portable node ids).
MAPPING_OF_DATA_TYPE = {"nsu=http://opcfoundation.org/UA/DI/;i=6244": "di-device-health"}


def key_of(value: object) -> str | None:
    """The text a mapping looks a value up by: lower case without ``_``, ``-`` or spaces; whole numbers as
    integers; Booleans as ``true``/``false``; a LocalizedText as its text. None for no value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    text = getattr(value, "Text", value)  # an OPC UA LocalizedText
    if not isinstance(text, str):
        text = str(text)
    return "".join(c for c in text.strip().lower() if c not in "_- ")


def table_of(mapping: StateMap | None) -> Mapping[str, str]:
    """The lookup table of a built-in mapping's name or of a user's table (keys normalised as ``key_of``)."""
    if mapping is None:
        return AUTO
    if isinstance(mapping, str):
        return BUILTIN[mapping]
    return {key_of(k) or "": v for k, v in mapping.items()}


def state_code(value: object, mapping: StateMap | None) -> float:
    """The state code of a received value (NaN when there is no value, ``UNKNOWN`` when it means nothing known)."""
    return code_in(value, table_of(mapping))


def code_in(value: object, table: Mapping[str, str]) -> float:
    """``state_code`` with a table made by ``table_of`` (for callers that map many values)."""
    key = key_of(value)
    if key is None:
        return math.nan
    name = table.get(key)
    return _CODE.get(name, UNKNOWN) if name is not None else UNKNOWN


def state_name(code: float) -> str | None:
    """The state a code stands for ("unknown" for ``UNKNOWN``), None for no data."""
    if not math.isfinite(code):
        return None
    k = int(code)
    return MACHINE_STATES[k] if 0 <= k < len(MACHINE_STATES) and k == code else "unknown"
