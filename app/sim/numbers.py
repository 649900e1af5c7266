"""Figures as a person reads them: an estimate rounded to the precision its interval supports, durations
in words, and nice tick values for scales. One rule for the command line, the comparison dialog and the
colour bars.

The rule for an estimate: the half-width of its interval keeps two significant digits and the mean is
rounded to the same decimal place (``41.56 ± 49`` → ``42 ± 49``, ``-0.004839 ± 0.13`` → ``0.00 ± 0.13``).
A mean without an interval (one replication) keeps four significant digits and says why it has none; a
mean whose replications all agree (a half-width of 0) is shown alone, as the exact figure it is.

Examples
--------
>>> format_estimate(41.56, 49.0)
'42 ± 49'
>>> format_estimate(-0.004839, 0.13)
'0.00 ± 0.13'
>>> format_estimate(-1.0, 2.9)
'-1.0 ± 2.9'
>>> format_estimate(58.93, float("inf"), "parts/h", n=1)
'58.93 parts/h ± n/a (1 replication)'
>>> format_duration(7200), format_duration(7 * 86400), format_duration(86400), format_duration(1800)
('2 h', '7 days', '1 day', '30 min')
>>> nice_ticks(0.0, 190.0)
[0.0, 50.0, 100.0, 150.0]
>>> format_ticks(nice_ticks(10.01, 20.01))
['12', '14', '16', '18', '20']
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

#: Shown where a figure is unknown.
UNKNOWN = "—"
#: Significant digits of a half-width.
HALF_WIDTH_DIGITS = 2
#: Significant digits of a figure without an interval.
PLAIN_DIGITS = 4


def _decimals_for(step: float) -> int:
    """Decimal places that show a value to the precision ``step`` (0 for steps of 1 and more)."""
    return max(0, -math.floor(math.log10(step))) if step > 0 else 0


def _fixed(x: float, decimals: int) -> str:
    """``x`` rounded to ``decimals`` places (negative: to tens, hundreds…), never "-0"."""
    if decimals < 0:
        x = round(x, decimals)
        decimals = 0
    text = f"{x:.{decimals}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text


def _with_unit(text: str, unit: str) -> str:
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def format_number(x: float | None, unit: str = "", digits: int = PLAIN_DIGITS) -> str:
    """A figure with ``digits`` significant digits, in fixed notation for everyday magnitudes.

    >>> format_number(0.0833333), format_number(1234567.0), format_number(float("nan"))
    ('0.08333', '1235000', '—')
    """
    if x is None or not math.isfinite(x):
        return UNKNOWN
    if x == 0:
        return _with_unit("0", unit)
    exponent = math.floor(math.log10(abs(x)))
    if exponent < -4 or exponent > 9:
        return _with_unit(f"{x:.{digits - 1}e}", unit)
    text = _fixed(x, digits - 1 - exponent)
    if "." in text:  # 5.000 → 5, 0.2500 → 0.25
        text = text.rstrip("0").rstrip(".")
    return _with_unit(text, unit)


def round_to_interval(mean: float, half_width: float) -> tuple[str, str]:
    """The mean and the half-width as text, both to the decimal place the half-width's two significant
    digits reach. A half-width of 0 (identical replications) keeps the mean's four significant digits."""
    if half_width == 0:
        return format_number(mean), "0"
    exponent = math.floor(math.log10(abs(half_width)))
    decimals = HALF_WIDTH_DIGITS - 1 - exponent
    hw = round(half_width, decimals)
    if hw and math.floor(math.log10(hw)) > exponent:  # 0.096 → 0.10: one digit fewer behind the point
        decimals -= 1
    return _fixed(mean, decimals), _fixed(half_width, decimals)


def format_estimate(mean: float, half_width: float, unit: str = "", n: int | None = None) -> str:
    """A mean with its 95% interval, rounded to the precision the interval supports.

    ``n`` is the number of replications (or observations) behind it: with one there is no interval, which
    is said in words rather than printed as "± inf".
    """
    if mean is None or not math.isfinite(mean):
        return UNKNOWN
    if half_width is None or not math.isfinite(half_width):
        why = "1 replication" if n == 1 else "too few replications" if n is not None and n < 2 else "no interval"
        return f"{_with_unit(format_number(mean), unit)} ± n/a ({why})"
    if half_width <= 1e-9 * max(abs(mean), 1.0):  # every replication agreed (to rounding noise): exact
        return _with_unit(format_number(mean), unit)
    m, h = round_to_interval(mean, half_width)
    if unit == "%":
        return f"{m} ± {h}%"
    return _with_unit(f"{m} ± {h}", unit)


def count_of(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` things, the noun in the singular for one: ``1 stage``, ``2 stages`` (``plural``: an irregular one).

    >>> count_of(1, "stage"), count_of(3, "stage"), count_of(0, "replication"), count_of(2, "box", "boxes")
    ('1 stage', '3 stages', '0 replications', '2 boxes')
    """
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def format_duration(seconds: float) -> str:
    """A duration in the largest unit that reads naturally: ``"7 days"``, ``"2 h"``, ``"30 min"``, ``"45 s"``.

    >>> format_duration(5400), format_duration(302400), format_duration(300)
    ('1.5 h', '3.5 days', '5 min')
    """
    if seconds is None or not math.isfinite(seconds):
        return UNKNOWN
    s = abs(seconds)
    for size, one, many in ((86400, "day", "days"), (3600, "h", "h"), (60, "min", "min"), (1, "s", "s")):
        if s >= size or size == 1:
            value = seconds / size
            if size == 86400 and s < 2 * 86400 and (s % 86400) != 0:
                continue  # 1.5 days reads better as 36 h
            text = f"{value:.3g}"
            return f"{text} {one if text == '1' else many}"
    return f"{seconds:g} s"  # pragma: no cover - the loop always returns


def format_span(seconds: float) -> str:
    """A span of clock time as a clock reads it, to the minute: ``"45 s"``, ``"10 min"``, ``"4 h 50 min"``,
    ``"3 days 2 h"`` — for time left, time ago and time into a shift (never ``"9.88 min"``).

    >>> format_span(593), format_span(17400), format_span(21720), format_span(3600), format_span(266400), format_span(42)
    ('10 min', '4 h 50 min', '6 h 2 min', '1 h', '3 days 2 h', '42 s')
    """
    if seconds is None or not math.isfinite(seconds):
        return UNKNOWN
    if abs(seconds) < 60:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    if abs(minutes) < 60:
        return f"{minutes} min"
    if abs(minutes) < 48 * 60:
        h, m = divmod(minutes, 60)
        return f"{h} h {m} min" if m else f"{h} h"
    hours = round(seconds / 3600)
    d, h = divmod(hours, 24)
    return f"{d} days {h} h" if h else f"{d} days"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round values (1, 2, 2.5 or 5 × 10ᵏ apart) inside [low, high], for a scale's labels."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high < low:
        low, high = high, low
    if high == low:
        return [float(low)]
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    k = 0
    while first + k * step <= high + step * 1e-9:
        value = first + k * step
        ticks.append(0.0 if abs(value) < step * 1e-9 else float(round(value, 12)))
        k += 1
    return ticks


def format_ticks(ticks: Sequence[float], unit: str = "") -> list[str]:
    """Labels for tick values, all with the fewest decimals that tell neighbours apart."""
    if not ticks:
        return []
    if len(ticks) == 1:
        return [format_number(ticks[0], unit)]
    step = min(abs(b - a) for a, b in itertools.pairwise(ticks) if b != a) if len(set(ticks)) > 1 else abs(ticks[0]) or 1
    decimals = _decimals_for(step)
    if any(round(t, decimals) != round(t, decimals + 3) for t in ticks):  # 2.5 steps need one more place
        decimals += 1
    return [_with_unit(_fixed(t, decimals), unit) for t in ticks]


def scale_ticks(low: float, high: float, count: int = 5, unit: str = "") -> list[tuple[float, str]]:
    """Round tick values inside [low, high] and their labels, for a colour bar or an axis.

    >>> scale_ticks(47.5, 142.5)
    [(60.0, '60'), (80.0, '80'), (100.0, '100'), (120.0, '120'), (140.0, '140')]
    """
    ticks = nice_ticks(low, high, count)
    return list(zip(ticks, format_ticks(ticks, unit), strict=True))
