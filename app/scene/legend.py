"""The 3D view's legends, in a margin of their own.

Legends drawn inside the 3D frame cover machines, collide with machine labels ("WH-OU19.84C") and are
drawn with fixed pixel fonts that are unreadable on small windows. ``LegendPanel`` is a strip beside the
render window instead: Qt text at a size that follows the window, dark text on a light panel (or the
reverse) well above the WCAG AA contrast of 4.5:1, colour swatches with an outline, and every legend
(machine states or kinds, the machines' colour bar, the floor's and the flows') stacked, never overlapping.
It holds no VTK objects; screenshots paint it with the rest of the window.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from app.sim.numbers import scale_ticks
from app.state.colours import NO_DATA_RGB

#: Panel background and text per theme; the pairs are checked against WCAG contrast in the tests.
PANEL_COLOURS = {
    "light": {"background": (246, 247, 249), "text": (26, 27, 31), "rule": (190, 194, 200)},
    "dark": {"background": (30, 32, 36), "text": (236, 237, 240), "rule": (80, 84, 92)},
}
#: The order legends stack in, top to bottom.
SLOT_ORDER = ("legend", "machines", "floor", "flow", "ribbons")
#: Text size in pixels as a fraction of the view's height, and its bounds.
TEXT_FRACTION = 1 / 46
TEXT_PX = (12, 18)
MAX_WIDTH_EM = 13  # the panel is at most this many text heights wide: the 3D view keeps the room
MIN_TEXT_PX = 10  # what the panel shrinks to when everything shown would not fit its height


def relative_luminance(rgb: Sequence[float]) -> float:
    """WCAG 2 relative luminance of an sRGB colour given as 0–255 components.

    >>> round(relative_luminance((255, 255, 255)), 3), relative_luminance((0, 0, 0))
    (1.0, 0.0)
    """
    channels = []
    for c in rgb:
        s = c / 255
        channels.append(s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """WCAG 2 contrast ratio of two colours (1 … 21).

    >>> round(contrast_ratio((0, 0, 0), (255, 255, 255)))
    21
    """
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@dataclass(frozen=True)
class Entries:
    """A categorical legend: a title and (label, RGB 0–255) rows."""

    title: str
    rows: tuple[tuple[str, tuple[int, int, int]], ...]


@dataclass(frozen=True)
class ColourBar:
    """A continuous legend: values ``lo``…``hi`` coloured with ``table`` ((n, 3) uint8), labelled at round ticks."""

    title: str
    lo: float | None  # None (both): no value yet, a grey "no data yet" bar and no scale
    hi: float | None
    table: np.ndarray
    ticks: tuple[tuple[float, str], ...]


class LegendPanel(QtWidgets.QWidget):
    """The strip of legends at the right of the 3D view; hidden while there is nothing to explain."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._items: dict[str, Entries | ColourBar] = {}
        self._theme = "light"
        self._text_px = TEXT_PX[0]
        self._images: dict[str, QtGui.QImage] = {}
        self._reserved: tuple[str, ...] = ()  # labels the width keeps room for, shown or not
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Fixed, QtWidgets.QSizePolicy.Policy.Expanding)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAccessibleName("Legend")
        self.hide()

    # -- content ------------------------------------------------------------------------------------
    def reserve(self, labels: Sequence[str]) -> None:
        """Keep room for these legend rows whether they are shown or not, so that switching between legends
        (edit mode: kinds while idle, verdicts while a machine is dragged) never changes the panel's width
        and moves the floor under the mouse; the rows shown now keep their room too. () releases the room."""
        shown = self._items.get("legend")
        now = tuple(text for text, _rgb in shown.rows) if isinstance(shown, Entries) and labels else ()
        self._reserved = (*labels, *now)
        self._changed()

    def set_entries(self, title: str, rows: Sequence[tuple[str, Sequence[int]]] | None) -> None:
        """Show a categorical legend (None or no rows: remove it)."""
        if rows:
            self._items["legend"] = Entries(title, tuple((str(t), tuple(int(c) for c in rgb[:3])) for t, rgb in rows))
        else:
            self._items.pop("legend", None)
        self._changed()

    def set_bar(
        self, slot: str, title: str | None, lo: float | None = 0.0, hi: float | None = 1.0, table: np.ndarray | None = None
    ) -> None:
        """Show a colour bar in ``slot`` (``machines``, ``floor`` or ``flow``); a None title removes it, a None
        range shows the title over a grey "no data yet" bar without a scale."""
        if title is None or table is None:
            self._items.pop(slot, None)
            self._images.pop(slot, None)
        else:
            old = self._items.get(slot)
            if not (isinstance(old, ColourBar) and old.table is table):
                rgb = np.ascontiguousarray(np.asarray(table)[:, :3], dtype=np.uint8)[None, :, :]
                self._images[slot] = QtGui.QImage(
                    rgb.data, rgb.shape[1], 1, 3 * rgb.shape[1], QtGui.QImage.Format.Format_RGB888
                ).copy()
            if lo is None or hi is None:
                self._items[slot] = ColourBar(title, None, None, table, ())
            else:
                self._items[slot] = ColourBar(title, float(lo), float(hi), table, tuple(scale_ticks(lo, hi, 5)))
        self._changed()

    def item(self, slot: str) -> Entries | ColourBar | None:
        """What is shown in ``slot`` (``legend`` for the categorical one)."""
        return self._items.get(slot)

    @property
    def has_content(self) -> bool:
        return bool(self._items)

    def set_theme(self, theme: str) -> None:
        self._theme = theme
        self.update()

    def colours(self) -> dict[str, tuple[int, int, int]]:
        """Background, text and rule colours of the current theme (RGB 0–255)."""
        return PANEL_COLOURS[self._theme]

    def set_view_height(self, height_px: int) -> None:
        """Scale the text with the view: about 1/46 of its height, 12–18 px."""
        px = int(min(max(round(height_px * TEXT_FRACTION), TEXT_PX[0]), TEXT_PX[1]))
        if px != self._text_px:
            self._text_px = px
            self._changed()

    @property
    def text_px(self) -> int:
        """The text size the panel draws with now (smaller than the nominal one only when short of room)."""
        return self._fitting_px()

    # -- geometry -------------------------------------------------------------------------------------
    def _changed(self) -> None:
        self.setVisible(bool(self._items))
        self.updateGeometry()
        self.update()

    def _font(self, px: int, bold: bool = False) -> QtGui.QFont:
        font = QtGui.QFont(self.font())
        font.setPixelSize(px)
        font.setBold(bold)
        return font

    def _width_for(self, px: int) -> int:
        metrics = QtGui.QFontMetrics(self._font(px))
        bold = QtGui.QFontMetrics(self._font(px, True))
        widest = 10 * px  # room for a colour bar's five tick labels
        for item in self._items.values():
            # Titles wrap and do not widen the margin: a title that changes ("· grey: still counting" going
            # live, gone in replay) must not make the 3D view jump. A categorical legend's rows set its width.
            widest = max(widest, min(bold.horizontalAdvance(item.title), 10 * px))
            if isinstance(item, Entries):
                for text, _rgb in item.rows:
                    widest = max(widest, 2 * px + metrics.horizontalAdvance(text))
        for text in self._reserved:
            widest = max(widest, 2 * px + metrics.horizontalAdvance(text))
        return int(min(widest, MAX_WIDTH_EM * px) + 2 * self._margin(px))

    @staticmethod
    def _margin(px: int) -> int:
        return max(6, int(0.75 * px))

    def sizeHint(self) -> QtCore.QSize:
        px = self._text_px
        width = self._width_for(px)
        parent = self.parentWidget()
        if parent is not None and parent.width() > 0:
            width = min(width, int(0.3 * parent.width()))
        return QtCore.QSize(width, 100)

    def minimumSizeHint(self) -> QtCore.QSize:
        return self.sizeHint()

    def _blocks(self, px: int, width: int) -> list[tuple[str, int]]:
        """(slot, height in pixels) of every legend, in stacking order, for text size ``px``."""
        metrics = QtGui.QFontMetrics(self._font(px))
        bold = QtGui.QFontMetrics(self._font(px, True))
        inner = width - 2 * self._margin(px)
        line = metrics.height()
        blocks = []
        for slot in SLOT_ORDER:
            item = self._items.get(slot)
            if item is None:
                continue
            title = bold.boundingRect(QtCore.QRect(0, 0, max(inner, 1), 10_000), _WRAP, item.title).height()
            # a row per entry, or the bar with its ticks and their labels
            body = len(item.rows) * int(line * 1.25) if isinstance(item, Entries) else int(px * 1.1) + 4 + line
            blocks.append((slot, title + int(0.35 * px) + body))
        return blocks

    def _fitting_px(self) -> int:
        """The nominal text size, or smaller when all the legends would not fit the panel's height."""
        px = self._text_px
        height = self.height() if self.height() > 0 else 10_000
        while px > MIN_TEXT_PX:
            blocks = self._blocks(px, self.width() or self._width_for(px))
            if sum(h for _slot, h in blocks) + (len(blocks) + 1) * self._margin(px) <= height:
                break
            px -= 1
        return px

    def block_rects(self, px: int | None = None) -> dict[str, QtCore.QRect]:
        """Where each legend is drawn in the panel, by slot (``legend``, ``machines``, ``floor``, ``flow``), at
        text size ``px`` (default: the size that fits)."""
        px = self._fitting_px() if px is None else px
        margin = self._margin(px)
        rects = {}
        y = margin
        for slot, height in self._blocks(px, self.width()):
            rects[slot] = QtCore.QRect(margin, y, self.width() - 2 * margin, height)
            y += height + margin
        return rects

    # -- painting -------------------------------------------------------------------------------------
    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        colours = self.colours()
        painter = QtGui.QPainter(self)
        try:
            painter.fillRect(self.rect(), QtGui.QColor(*colours["background"]))
            painter.setPen(QtGui.QColor(*colours["rule"]))
            painter.drawLine(0, 0, 0, self.height())  # the margin's edge against the 3D view
            px = self._fitting_px()
            text = QtGui.QColor(*colours["text"])
            for slot, rect in self.block_rects(px).items():
                self._paint_item(painter, self._items[slot], slot, px, rect.x(), rect.y(), rect.width(), text)
        finally:
            painter.end()

    def _paint_item(self, p: QtGui.QPainter, item, slot: str, px: int, x: int, y: int, inner: int, text: QtGui.QColor) -> None:
        bold = self._font(px, True)
        plain = self._font(px)
        metrics = QtGui.QFontMetrics(plain)
        p.setPen(text)
        p.setFont(bold)
        title_rect = p.boundingRect(QtCore.QRect(x, y, inner, 10_000), _WRAP, item.title)
        p.drawText(QtCore.QRect(x, y, inner, title_rect.height()), _WRAP, item.title)
        y += title_rect.height() + int(0.35 * px)
        p.setFont(plain)
        if isinstance(item, Entries):
            row = int(metrics.height() * 1.25)
            box = int(px * 0.9)
            for label, rgb in item.rows:
                top = y + (row - box) // 2
                p.fillRect(QtCore.QRect(x, top, box, box), QtGui.QColor(*rgb))
                p.setPen(text)
                p.drawRect(QtCore.QRect(x, top, box - 1, box - 1))  # an outline: pale swatches stay visible
                label_rect = QtCore.QRect(x + box + int(0.6 * px), y, inner - box - int(0.6 * px), row)
                p.drawText(label_rect, _LEFT, metrics.elidedText(label, QtCore.Qt.TextElideMode.ElideRight, label_rect.width()))
                y += row
            return
        bar_h = int(px * 1.1)
        rect = QtCore.QRect(x, y, inner, bar_h)
        if item.lo is None or item.hi is None:
            rect = QtCore.QRect(x, y, inner, max(bar_h, metrics.height() + 2))  # room for the words' descenders
            p.fillRect(rect, QtGui.QColor(*NO_DATA_RGB))
            p.setPen(QtGui.QColor(20, 20, 20))  # dark on the grey: 6:1
            p.drawText(rect.adjusted(int(0.3 * px), 0, 0, 0), _LEFT, "no data yet")
            p.setPen(text)
            p.drawRect(rect.adjusted(0, 0, -1, -1))
            return
        image = self._images.get(slot)
        if image is not None:
            p.drawImage(rect, image)
        p.setPen(text)
        p.drawRect(rect.adjusted(0, 0, -1, -1))
        y += bar_h
        for tx, left, width, label in tick_layout(item, x, inner, metrics):
            p.drawLine(tx, y, tx, y + 3)
            p.drawText(QtCore.QRect(left, y + 4, width + 1, metrics.height()), _LEFT, label)

    def tick_labels(self, slot: str) -> list[tuple[int, int, str]]:
        """The colour bar's tick labels as drawn now: (left, width, text) in panel pixels."""
        item, rect = self._items.get(slot), self.block_rects().get(slot)
        if not isinstance(item, ColourBar) or rect is None:
            return []
        metrics = QtGui.QFontMetrics(self._font(self._fitting_px()))
        return [(left, width, label) for _tx, left, width, label in tick_layout(item, rect.x(), rect.width(), metrics)]


def tick_layout(item: ColourBar, x: int, inner: int, metrics: QtGui.QFontMetrics) -> list[tuple[int, int, int, str]]:
    """(tick x, label left, label width, text) of a colour bar's ticks across ``inner`` pixels from ``x``;
    every second (then fourth...) tick is left out while neighbouring labels would touch."""
    if item.lo is None or item.hi is None or not item.ticks:
        return []
    span = item.hi - item.lo
    placed = []
    for value, label in item.ticks:
        t = (value - item.lo) / span if span > 0 else 0.5
        tx = x + round(t * (inner - 1))
        width = metrics.horizontalAdvance(label)
        left = min(max(tx - width // 2, x), x + inner - width)  # the end labels stay inside the panel
        placed.append((tx, left, width, label))
    gap = metrics.horizontalAdvance("  ")
    step = 1
    while step < len(placed):
        kept = placed[::step]
        if all(a[1] + a[2] + gap <= b[1] for a, b in itertools.pairwise(kept)):
            return kept
        step *= 2
    return placed[:1]


_WRAP = int(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.TextFlag.TextWordWrap)
_LEFT = int(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter)
