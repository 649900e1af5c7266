"""Readable messages for bad factory files: one line naming the file, the JSON path and what was expected.

Examples
--------
>>> str(FactoryFileError("demo.json", [Problem("machines[3].pose.yaw_deg", 'expected a number, got "abc"')]))
'demo.json: machines[3].pose.yaw_deg: expected a number, got "abc"'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (a JSON path such as ``machines[3].pose``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def duplicate_ids(ids: Iterable[str], where: str, what: str) -> list[Problem]:
    """A problem for each id used again in a list, naming where it was first used.

    >>> [str(p) for p in duplicate_ids(["a", "b", "a"], "machines", "machine")]
    ['machines[2].id: duplicate machine id "a" (first used by machines[0])']
    """
    seen: dict[str, int] = {}
    out = []
    for i, ident in enumerate(ids):
        if ident in seen:
            out.append(Problem(f"{where}[{i}].id", f'duplicate {what} id "{ident}" (first used by {where}[{seen[ident]}])'))
        else:
            seen[ident] = i
    return out


class FactoryFileError(Exception):
    """A factory file that cannot be used. ``str()`` is the message to show a user."""

    def __init__(self, source: str, problems: Sequence[Problem]):
        self.source = source
        self.problems = list(problems) or [Problem("", "unknown problem")]
        super().__init__(self._text())

    def _text(self) -> str:
        first = f"{self.source}: {self.problems[0]}"
        more = len(self.problems) - 1
        return first if more == 0 else f"{first} (and {more} more problem{'s' if more > 1 else ''})"

    def details(self) -> str:
        """Every problem, one per line (for a dialog's details or the log)."""
        return "\n".join(f"{self.source}: {p}" for p in self.problems)


def json_path(loc: Iterable[Any]) -> str:
    """Render a pydantic location tuple as a JSON path: ``('machines', 3, 'pose')`` → ``machines[3].pose``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.isidentifier():
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(str(part))}]"
    return out


def show_value(value: Any, limit: int = 60) -> str:
    """A short JSON rendering of a bad value for a message (NaN and infinities by their names)."""
    if isinstance(value, float) and value != value:
        return "NaN"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_EXPECTED = {
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "bool_type": "expected true or false",
    "string_type": "expected a text string",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "dict_type": "expected an object",
    "model_type": "expected an object",
    "model_attributes_type": "expected an object",
    "finite_number": "expected a finite number",
}
_COMPARE = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", "≥"),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "≤"),
}


def _message(err: dict[str, Any]) -> str:
    kind = err["type"]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if kind in _EXPECTED:
        return f"{_EXPECTED[kind]}, got {show_value(value)}"
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field (not part of the factory format)"
    if kind in _COMPARE:
        key, sign = _COMPARE[kind]
        bound = ctx.get(key)
        return (
            f"must be {sign} {bound:g}, got {show_value(value)}"
            if isinstance(bound, (int, float))
            else f"must be {sign} {bound}, got {show_value(value)}"
        )
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}, got {show_value(value)}"
    if kind == "string_pattern_mismatch":
        return f"expected an id of 1–64 letters, digits, '_', '.' or '-', got {show_value(value)}"
    if kind in ("too_short", "too_long"):
        what = "at least" if kind == "too_short" else "at most"
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        return f"needs {what} {bound} item(s), got {ctx.get('actual_length')}"
    if kind in ("string_too_short", "string_too_long"):
        what = "at least" if kind == "string_too_short" else "at most"
        bound = ctx.get("min_length") if kind == "string_too_short" else ctx.get("max_length")
        return f"needs {what} {bound} character(s)"
    msg = str(err.get("msg", kind))
    return msg[:1].lower() + msg[1:]


def problems_from_validation(exc: ValidationError) -> list[Problem]:
    """Turn a pydantic ValidationError into problems with JSON paths, in document order."""
    return [Problem(json_path(e["loc"]), _message(dict(e))) for e in exc.errors(include_url=False)]
