"""The Bottlenecks tab of a what-if comparison: sole and shifting bottleneck shares per machine (stacked bars
with their 95% intervals), the timeline of which machine was the bottleneck when, the shares side by side, and
a button that highlights the machines in the 3D view by their share. A thin view over ``app.sim.bottleneck``
(the analysis and every text live there)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from app.sim.bottleneck import (
    BottleneckShares,
    about_text,
    chart_machines,
    share_rows,
    shift_text,
    static_note,
    strip,
    table_note,
    timeline_machines,
    total_estimate,
    whisker_note,
)
from app.ui.theme import colour_plot

#: Okabe–Ito colours per source (as the comparison's chart): actual black, baseline blue, scenario vermillion.
SOURCE_COLOURS = {"actual": (0, 0, 0), "baseline": (0, 114, 178), "scenario": (213, 94, 0)}
#: The charted machines on the timeline: Paul Tol's "muted" qualitative scheme (colour-blind safe); the
#: rest are "other", grey.
MACHINE_COLOURS = (
    (51, 34, 136), (136, 204, 238), (68, 170, 153), (17, 119, 51),
    (153, 153, 51), (221, 204, 119), (204, 102, 119), (136, 34, 85),
)
OTHER_COLOUR = (160, 160, 160)
#: Called with (title, per-machine values 0–1, machine ids) to colour the 3D view, or (None, None, None) to stop.
ShowShare = Callable[[str | None, np.ndarray | None, list[str] | None], None]


class BottleneckView(QtWidgets.QWidget):
    """Shares per source ("baseline", "scenario", and "actual" with a recorded window) of one comparison."""

    def __init__(
        self,
        sources: dict[str, BottleneckShares],
        show_share: ShowShare | None,
        parent: QtWidgets.QWidget | None = None,
        static: dict[str, str] | None = None,
    ):
        super().__init__(parent)
        self.setObjectName("bottleneck_view")
        self.sources, self._show_share = sources, show_share
        self.machines = chart_machines(sources)
        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(0, 4, 0, 0)
        base, scen = sources.get("baseline"), sources.get("scenario")
        self.headline = QtWidgets.QLabel(shift_text(base, scen) if base and scen else "", self)
        self.headline.setObjectName("bottleneck_headline")
        self.headline.setWordWrap(True)
        f = self.headline.font()
        f.setBold(True)
        self.headline.setFont(f)
        box.addWidget(self.headline)
        lines = [about_text(k, s) for k, s in sources.items()] + [static_note(static or {})]
        self.about = QtWidgets.QLabel("\n".join(x for x in lines if x), self)
        self.about.setWordWrap(True)
        self.about.setToolTip(
            "Sole: the machine alone had the longest uninterrupted active period (running, setup or down).\n"
            "Shifting: the bottleneck was passing between it and the next or previous one (their active periods overlap).\n"
            "Roser, Nakano & Tanaka (2002), shifting bottleneck detection."
        )
        box.addWidget(self.about)
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal, self)
        charts = QtWidgets.QWidget(split)
        column = QtWidgets.QVBoxLayout(charts)
        column.setContentsMargins(0, 0, 0, 0)
        self.bars = self._bar_chart(charts)
        self.bars_key = QtWidgets.QLabel(self._bars_key_html(), charts)
        self.bars_key.setObjectName("bottleneck_bars_key")
        self.bars_key.setWordWrap(True)
        self.timeline = self._timeline(charts)
        self.timeline_key = QtWidgets.QLabel(self._key_html(), charts)
        self.timeline_key.setWordWrap(True)
        column.addWidget(self.bars_key)  # the key above the chart, never over its bars
        column.addWidget(self.bars, 3)
        column.addWidget(self.timeline, 1)
        column.addWidget(self.timeline_key)
        header, rows = share_rows(sources)
        self.table = QtWidgets.QTableWidget(len(rows), len(header))
        self.table.setHorizontalHeaderLabels(header)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        for i, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QtWidgets.QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, c, item)
        self.table.resizeColumnsToContents()
        table_box = QtWidgets.QWidget(split)
        table_column = QtWidgets.QVBoxLayout(table_box)
        table_column.setContentsMargins(0, 0, 0, 0)
        table_column.addWidget(self.table, 1)
        self.table_note = QtWidgets.QLabel(table_note(), table_box)
        self.table_note.setWordWrap(True)
        table_column.addWidget(self.table_note)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 1)
        box.addWidget(split, 1)
        row = QtWidgets.QHBoxLayout()
        self.show3d = QtWidgets.QPushButton("&Highlight bottlenecks in 3D", self)
        self.show3d.setCheckable(True)
        self.show3d.setToolTip("Colour machines by their sole + shifting bottleneck share (grey: not analysed)")
        self.show3d_source = QtWidgets.QComboBox(self)
        for key, s in sources.items():
            if s.enough:
                self.show3d_source.addItem(key, key)
        self.show3d_source.setCurrentIndex(max(self.show3d_source.findData("scenario"), 0))
        usable = show_share is not None and self.show3d_source.count() > 0
        self.show3d.setEnabled(usable)
        self.show3d_source.setEnabled(usable)
        self.show3d.toggled.connect(self._on_show3d)
        self.show3d_source.currentIndexChanged.connect(lambda *_: self._on_show3d(self.show3d.isChecked()))
        row.addWidget(self.show3d)
        row.addWidget(self.show3d_source)
        row.addStretch(1)
        box.addLayout(row)
        self._follow_palette()

    # -- the charts --------------------------------------------------------------------------------------------
    def _bar_chart(self, parent: QtWidgets.QWidget) -> pg.PlotWidget:
        """Per machine and source: the sole share (solid) with the shifting share stacked on it (light), and
        the 95% intervals (clipped to 0–100%) of the sole and of the sole + shifting share. A share whose
        interval is too wide to mean anything gets no bar, only the dashed whisker of its sole + shifting range."""
        plot = pg.PlotWidget(parent)
        plot.setObjectName("bottleneck_bars")
        plot.setLabel("left", "share (%)")
        shown = [k for k, s in self.sources.items() if s.enough]
        machines = self.machines
        width = 0.8 / max(len(shown), 1)
        self.bar_items: list[pg.BarGraphItem] = []
        self.whiskers: dict[str, list[tuple[float, float, float]]] = {}  # per source: (x, low %, high %)
        for k, key in enumerate(shown):
            s = self.sources[key]
            colour = SOURCE_COLOURS.get(key, (0, 158, 115))
            x = np.arange(len(machines)) + (k - (len(shown) - 1) / 2) * width
            sole_e = [s.sole.get(m) for m in machines]
            total_e = [total_estimate(s, m) if m in s.sole else None for m in machines]
            known = np.array(
                [a is not None and t is not None and a.enough and s.shifting[m].enough and t.enough
                 for a, t, m in zip(sole_e, total_e, machines, strict=True)]
            )
            sole = np.where(known, [100 * s.sole[m].mean if m in s.sole else 0.0 for m in machines], 0.0)
            shifting = np.where(known, [100 * s.shifting[m].mean if m in s.shifting else 0.0 for m in machines], 0.0)
            solid = pg.BarGraphItem(x=x, height=sole, width=width * 0.9, brush=pg.mkBrush(*colour), pen=pg.mkPen(None))
            light = pg.BarGraphItem(
                x=x, y0=sole, height=shifting, width=width * 0.9, brush=pg.mkBrush(*colour, 90),
                pens=[pg.mkPen(*colour) if k else pg.mkPen(None) for k in known],  # no outline at 0 for a share not shown
            )
            for item in (solid, light):
                plot.addItem(item)
                self.bar_items.append(item)
            if key == "actual":  # measured shares have no interval
                continue
            ends = []
            for i, (a, t) in enumerate(zip(sole_e, total_e, strict=True)):
                for e, drawn in ((a, known[i]), (t, True)):
                    if e is not None and e.n > 1 and math.isfinite(e.half_width) and e.half_width > 0 and drawn:
                        ends.append((float(x[i]), 100 * e.low, 100 * e.high, bool(known[i])))
            self.whiskers[key] = [(xi, lo, hi) for xi, lo, hi, _ in ends]
            for solid_line in (True, False):
                mine = [w for w in ends if w[3] == solid_line]
                if mine:
                    xs, lo, hi = (np.array([w[j] for w in mine]) for j in range(3))
                    pen = pg.mkPen(*colour) if solid_line else pg.mkPen(*colour, style=QtCore.Qt.PenStyle.DashLine)
                    mid = (lo + hi) / 2
                    plot.addItem(pg.ErrorBarItem(x=xs, y=mid, top=hi - mid, bottom=mid - lo, beam=width * 0.3, pen=pen))
        plot.getAxis("bottom").setTicks([list(enumerate(machines))])
        plot.setYRange(0, 100, padding=0.03)  # a share is 0–100%: so is the axis
        plot.getAxis("left").setTicks([[(v, str(v)) for v in range(0, 101, 20)]])
        plot.setXRange(-0.6, max(len(machines), 1) - 0.4)
        plot.setMouseEnabled(x=True, y=False)
        return plot

    def _bars_key_html(self) -> str:
        """The bar chart's key, above it: solid sole and light shifting per source, what a dashed whisker means."""
        items = []
        for key, s in self.sources.items():
            if s.enough:
                r, g, b = SOURCE_COLOURS.get(key, (0, 158, 115))
                items.append(f"<span style='color: rgb({r},{g},{b})'>■</span> {key} sole")
                items.append(f"<span style='color: rgba({r},{g},{b},0.35)'>■</span> {key} shifting")
        return " &nbsp; ".join(items) + " &nbsp; " + whisker_note()

    def _timeline(self, parent: QtWidgets.QWidget) -> pg.PlotWidget:
        """One row per source: which machine was the bottleneck when (light: shifting)."""
        plot = pg.PlotWidget(parent)
        plot.setObjectName("bottleneck_timeline")
        plot.setLabel("bottom", "hours")
        keys = list(self.sources)
        named = {m: MACHINE_COLOURS[k] for k, m in enumerate(timeline_machines(self.sources, len(MACHINE_COLOURS)))}
        self.strips: dict[str, list[tuple[float, float, str, bool]]] = {}
        for k, key in enumerate(keys):
            pieces = strip(self.sources[key])
            self.strips[key] = pieces
            for shifting in (False, True):
                mine = [p for p in pieces if p[3] == shifting]
                if not mine:
                    continue
                brushes = [pg.mkBrush(*named.get(p[2], OTHER_COLOUR)) for p in mine]  # thin, not paler: no unnamed colour
                plot.addItem(
                    pg.BarGraphItem(
                        x0=[p[0] for p in mine], x1=[p[1] for p in mine], y=np.full(len(mine), float(k)),
                        height=0.35 if shifting else 0.7, brushes=brushes, pen=pg.mkPen(None),
                    )
                )
        plot.getAxis("left").setTicks([list(enumerate(keys))])
        plot.setYRange(-0.6, len(keys) - 0.4 + 0.6)
        plot.setMouseEnabled(x=True, y=False)
        drawn = {p[2] for pieces in self.strips.values() for p in pieces}
        self.timeline_colours = {m: c for m, c in named.items() if m in drawn}
        if drawn - set(named):
            self.timeline_colours["other"] = OTHER_COLOUR
        return plot

    def _key_html(self) -> str:
        """The timeline's key: a coloured square per charted machine, grey for the others; thin: shifting."""
        def square(rgb: tuple[int, int, int]) -> str:
            return f"<span style='color: rgb{rgb}'>■</span>"

        items = [f"{square(c)} {m}" for m, c in self.timeline_colours.items()]
        return (
            "Timeline (simulation: replication 1 after the warm-up; actual: connected time, gaps left out; thin bar: shifting): "
            + " &nbsp; ".join(items)
        )

    # -- 3D -----------------------------------------------------------------------------------------------------
    def _on_show3d(self, on: bool) -> None:
        if self._show_share is None:
            return
        key = self.show3d_source.currentData()
        if not on or key is None:
            self._show_share(None, None, None)
            return
        s = self.sources[key]
        values = np.array([s.total(m) for m in s.machines])
        self._show_share(f"Bottleneck share, {key} (sole + shifting)", values, list(s.machines))

    def stop_3d(self) -> None:
        """Put the 3D view back (the dialog closes)."""
        if self.show3d.isChecked():
            self.show3d.setChecked(False)

    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QtCore.QEvent.Type.PaletteChange, QtCore.QEvent.Type.ApplicationPaletteChange):
            self._follow_palette()

    def _follow_palette(self) -> None:
        for plot in (self.bars, self.timeline):
            colour_plot(plot, self.palette())
