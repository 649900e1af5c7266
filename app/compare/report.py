"""Exports of a comparison: CSV (one row per KPI) and a self-contained HTML report (tables and an inline
SVG chart; no scripts, styles or images from elsewhere, so it opens anywhere and can be mailed)."""

from __future__ import annotations

import csv
import html
import io
import math
import time
from collections.abc import Sequence

import numpy as np

from app.compare.diff import FITS, NOT_ENOUGH, OUTSIDE, Comparison, Row
from app.compare.trust import MACHINE_TRUST_KPIS, Trust
from app.compare.window import ActualsWindow
from app.sim.bottleneck import BottleneckShares, about_text, chart_machines, share_rows, shift_text
from app.sim.numbers import format_number


def _num(x: float | None, digits: int | None = None) -> str:
    """A figure for a table (the rounding rule of ``app.sim.numbers``), or full ``digits`` for the CSV."""
    if x is None or not math.isfinite(x):
        return ""
    return f"{x:.{digits}g}" if digits else format_number(x)


def verdict(r: Row) -> str:
    """A few words on a row: is the scenario's difference real, does the actual fit the baseline."""
    words = []
    if r.significant is True:
        words.append("significant")
    elif r.significant is False:
        words.append("not significant")
    words += [w for w in [fit_text(r)] if w]
    return "; ".join(words)


def fit_text(r: Row) -> str:
    """Does the actual fit the baseline, with the margin that "fits" claims, or what would be enough to tell.

    >>> from app.compare.diff import Row
    >>> fit_text(Row("wip", "WIP", "parts", None, 0.0, None, None, None, None, (-1.0, 9.0), "not enough data", "≥ 75 min"))
    'not enough data — needs ≥ 75 min (prediction ±125% > ±10%)'
    """
    margin = f"±{r.margin:.0%}"
    if r.fit == FITS:
        return f"actual fits the baseline (within {margin})"
    if r.fit == OUTSIDE:
        return "actual outside the baseline's prediction"
    if r.fit == NOT_ENOUGH:
        if r.predicted is None:
            return f"not enough data — needs {r.needs}"
        lo, hi = r.predicted
        mid = (lo + hi) / 2
        spread = f"±{(hi - lo) / 2 / abs(mid):.0%}" if mid else f"±{format_number((hi - lo) / 2)}"
        return f"not enough data — needs {r.needs} (prediction {spread} > {margin})"
    return ""


def comparison_csv(
    c: Comparison,
    actuals: ActualsWindow | None = None,
    trust: Trust | None = None,
    bottlenecks: dict[str, BottleneckShares] | None = None,
) -> str:
    """Every row of a comparison as CSV (the interval columns are the 95% half-widths), then a row for how
    much recorded data the actuals rest on, one per trust score (``actual``: the share inside, 0…1), and with
    ``bottlenecks`` a sole and a shifting bottleneck share (0…1) per machine that was ever the bottleneck."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "kpi",
            "machine",
            "unit",
            "actual",
            "baseline",
            "baseline_ci95",
            "scenario",
            "scenario_ci95",
            "delta",
            "delta_ci95",
            "prediction_low",
            "prediction_high",
            "fit",
            "fit_margin",
            "verdict",
        ]
    )
    for r in c.rows:
        w.writerow(
            [
                r.label,
                r.machine or "",
                r.unit,
                _num(r.actual, 6),
                _num(r.baseline.mean, 6) if r.baseline else "",
                _num(r.baseline.half_width, 4) if r.baseline else "",
                _num(r.scenario.mean, 6) if r.scenario else "",
                _num(r.scenario.half_width, 4) if r.scenario else "",
                _num(r.delta.mean, 6) if r.delta else "",
                _num(r.delta.half_width, 4) if r.delta else "",
                _num(r.predicted[0], 6) if r.predicted else "",
                _num(r.predicted[1], 6) if r.predicted else "",
                r.fit,
                f"{r.margin:g}" if r.fit else "",
                verdict(r),
            ]
        )
    blank = [""] * 10
    if actuals is not None:
        w.writerow(["Actuals recorded (connected)", "", "min", _num(actuals.connected_s / 60, 6), *blank, actuals.text()])
    if trust is not None:
        scores = [("Trust: throughput", "", trust.line)]
        for m, by in trust.machines.items():
            scores += [(f"Trust: {label}", m, by[key]) for key, label in MACHINE_TRUST_KPIS if key in by]
        for name, machine, score in scores:
            w.writerow([name, machine, "share", _num(score.share, 6), *blank, score.text()])
    for row in _bottleneck_csv_rows(bottlenecks or {}):
        w.writerow(row)
    return buf.getvalue()


def _bottleneck_csv_rows(sources: dict[str, BottleneckShares]) -> list[list[str]]:
    """Rows of the CSV for the shifting-bottleneck shares (empty where a source has not enough data, which
    the verdict column then says). A share lies in 0…1, so where its symmetric half-width would reach past
    either end the verdict column also gives the interval as shown, clipped ("baseline: 16% (0–36%)")."""
    rows = []
    needs = "; ".join(f"{k}: {s.needs}" for k, s in sources.items() if s.needs)
    every = max((len(s.machines) for s in sources.values()), default=0)
    for m in chart_machines(sources, limit=every):
        for kind in ("sole", "shifting"):
            cells, shown = [], []
            for key in ("actual", "baseline", "scenario"):
                s = sources.get(key)
                e = getattr(s, kind).get(m) if s is not None and s.enough else None
                cells += [_num(e.mean, 6) if e else "", _num(e.half_width, 4) if e and key != "actual" else ""]
                if e is not None and key != "actual":
                    shown.append(f"{key}: {e.format('%', 100.0)}")
            actual, _, base, base_ci, scen, scen_ci = cells
            verdict = "; ".join(x for x in ("; ".join(shown), needs) if x)
            rows.append([f"Bottleneck share: {kind}", m, "share", actual, base, base_ci, scen, scen_ci, *[""] * 6, verdict])
    return rows


def _svg_chart(series: dict[str, tuple[np.ndarray, np.ndarray]], width: int = 720, height: int = 260) -> str:
    """Lines (hours → value) with axes, as inline SVG."""
    colours = {"actual": "#000000", "baseline": "#0072b2", "scenario": "#d55e00"}
    pts = [(np.asarray(x, float), np.asarray(y, float)) for x, y in series.values() if len(x)]
    if not pts:
        return ""
    xmax = max(float(x.max()) for x, _ in pts) or 1.0
    ymax = max(float(np.nanmax(y)) for _, y in pts) or 1.0
    m = 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    out.append(f'<rect x="{m}" y="10" width="{width - m - 10}" height="{height - m - 10}" fill="none" stroke="#999"/>')
    for k, (name, (x, y)) in enumerate(series.items()):
        if not len(x):
            continue
        px = m + np.asarray(x) / xmax * (width - m - 10)
        py = height - m - np.nan_to_num(np.asarray(y)) / ymax * (height - m - 20)
        coords = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True))
        colour = colours.get(name, "#009e73")
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{coords}"/>')
        out.append(f'<text x="{m + 10 + 110 * k}" y="{height - 8}" fill="{colour}" font-size="12">{html.escape(name)}</text>')
    out.append(f'<text x="{width - 10}" y="{height - m + 14}" font-size="11" text-anchor="end">{xmax:.3g} h</text>')
    out.append(f'<text x="4" y="20" font-size="11">{ymax:.4g}</text>')
    out.append("</svg>")
    return "".join(out)


def comparison_html(
    title: str,
    c: Comparison,
    changes: Sequence[str],
    series: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
    notes: Sequence[str] = (),
    trust: Trust | None = None,
    bottlenecks: dict[str, BottleneckShares] | None = None,
) -> str:
    """A self-contained HTML report of a comparison (with ``trust``: the trust scores' table; with
    ``bottlenecks``: the shifting-bottleneck shares side by side)."""
    e = html.escape
    head = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
        + e(title)
        + "</title><style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#eee}td:first-child,th:first-child"
        "{text-align:left}.sig{font-weight:bold}.dim{color:#888}</style></head><body>"
    )
    parts = [head, f"<h1>{e(title)}</h1>", f"<p class='dim'>floortwin what-if report, {e(time.strftime('%Y-%m-%d %H:%M'))}</p>"]
    if changes:
        parts.append("<h2>Changes</h2><ul>" + "".join(f"<li>{e(x)}</li>" for x in changes) + "</ul>")
    parts += [f"<p>{e(n)}</p>" for n in notes]
    parts.append("<p>Bottleneck: " + ", ".join(f"{e(k)} {e(v)}" for k, v in c.bottleneck.items() if v) + "</p>")

    from app.compare.table import actual_text  # (table builds on this module's verdicts)

    def table(rows: list[Row], with_machine: bool) -> str:
        cols = (["Machine"] if with_machine else []) + [
            "KPI",
            "Unit",
            "Actual",
            "Baseline",
            "Scenario",
            "Δ scenario − baseline",
            "Verdict",
        ]
        out = ["<table><tr>" + "".join(f"<th>{e(x)}</th>" for x in cols) + "</tr>"]
        for r in rows:
            cells = ([e(r.machine or "")] if with_machine else []) + [
                e(r.label),
                e(r.unit),
                e(actual_text(r)) if math.isfinite(r.actual) else "",  # rounded as in the dialog
                e(str(r.baseline)) if r.baseline else "",
                e(str(r.scenario)) if r.scenario else "",
                e(str(r.delta)) if r.delta else "",
                e(verdict(r)),
            ]
            cls = " class='sig'" if r.significant else ""
            out.append(f"<tr{cls}>" + "".join(f"<td>{x}</td>" for x in cells) + "</tr>")
        return "".join(out) + "</table>"

    parts.append("<h2>Line</h2>" + table([r for r in c.rows if r.machine is None], False))
    if series:
        parts.append("<h2>Parts out over the window</h2>" + _svg_chart(series))
    parts.append("<h2>Machines</h2>" + table([r for r in c.rows if r.machine is not None], True))
    if trust is not None:
        parts.append(f"<h2>Trust</h2><p>{e(trust.summary())}</p><table><tr><th>Machine</th>")
        parts.append("".join(f"<th>{e(label.capitalize())}</th>" for _k, label in MACHINE_TRUST_KPIS) + "</tr>")
        for m, by in trust.machines.items():
            cells = [e(by[k].text()) if k in by else "" for k, _label in MACHINE_TRUST_KPIS]
            parts.append(f"<tr><td>{e(m)}</td>" + "".join(f"<td>{x}</td>" for x in cells) + "</tr>")
        parts.append("</table>")
    if bottlenecks:
        parts.append("<h2>Bottlenecks over time</h2>")
        if "baseline" in bottlenecks and "scenario" in bottlenecks:
            parts.append(f"<p>{e(shift_text(bottlenecks['baseline'], bottlenecks['scenario']))}</p>")
        parts.append("<p class='dim'>" + "<br>".join(e(about_text(k, s)) for k, s in bottlenecks.items()) + "</p>")
        header, rows = share_rows(bottlenecks)
        parts.append("<table><tr>" + "".join(f"<th>{e(x)}</th>" for x in header) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{e(x)}</td>" for x in row) + "</tr>" for row in rows]
        parts.append("</table>")
    margin = next((r.margin for r in c.rows if r.fit), None)
    parts.append(
        "<p class='dim'>Intervals are 95%: of the mean over replications for simulated KPIs, Welch's for differences. "
        "An actual fits when it lies in the baseline's 95% prediction interval for one window and that interval lies "
        + (f"within ±{margin:.0%} of the prediction" if margin is not None else "within the equivalence margin")
        + "; a wider interval is not enough data to tell. Trust is the share of recorded windows whose KPI fell in "
        "the 95% prediction interval of simulated windows of the same length.</p></body></html>"
    )
    return "".join(parts)
