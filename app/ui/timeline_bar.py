"""The replay timeline: live by default; drag back to see the factory as it was, play it forward.

The slider spans the recorded history (first sample to now). Moving it asks for the state at that time
(``time_requested``); "Live" — or playing forward past the present — returns to live values.
"""

from __future__ import annotations

import time

from PySide6 import QtCore, QtGui, QtWidgets

from app.history.recorder import History
from app.history.timeline import SPEEDS, STEPS_PER_S, ReplayWindow, tick_times


class TimeSlider(QtWidgets.QSlider):
    """A horizontal slider over a time span with clock ticks and their labels under the groove."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(QtCore.Qt.Orientation.Horizontal, parent)
        self.t0 = self.t1 = 0.0
        metrics = self.fontMetrics()
        self.setMinimumHeight(super().sizeHint().height() + metrics.height() + 2)

    def set_span(self, t0: float, t1: float) -> None:
        if (t0, t1) != (self.t0, self.t1):
            self.t0, self.t1 = t0, t1
            self.update()

    def ticks(self) -> list[tuple[float, str]]:
        """The clock ticks drawn now: (UNIX time, label)."""
        return tick_times(self.t0, self.t1, self.width(), self.fontMetrics().horizontalAdvance("00:00:00"))

    def sizeHint(self) -> QtCore.QSize:
        hint = super().sizeHint()
        return QtCore.QSize(hint.width(), hint.height() + self.fontMetrics().height() + 2)

    def paintEvent(self, event) -> None:
        # The groove and handle in the upper part, as the style draws them; the clock under them.
        option = QtWidgets.QStyleOptionSlider()
        self.initStyleOption(option)
        metrics = self.fontMetrics()
        groove_h = self.height() - metrics.height() - 2
        option.rect = QtCore.QRect(0, 0, self.width(), groove_h)
        option.subControls = QtWidgets.QStyle.SubControl.SC_SliderGroove | QtWidgets.QStyle.SubControl.SC_SliderHandle
        painter = QtWidgets.QStylePainter(self)
        painter.drawComplexControl(QtWidgets.QStyle.ComplexControl.CC_Slider, option)
        span = self.t1 - self.t0
        if span <= 0:
            return
        handle = self.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_SliderLength, option, self)
        usable = self.width() - handle
        painter.setPen(self.palette().color(QtGui.QPalette.ColorRole.WindowText))
        for t, text in self.ticks():
            x = handle // 2 + round((t - self.t0) / span * usable)
            painter.drawLine(x, groove_h - 4, x, groove_h - 1)
            w = metrics.horizontalAdvance(text)
            left = min(max(x - w // 2, 0), self.width() - w)
            painter.drawText(
                QtCore.QRect(left, groove_h + 1, w + 1, metrics.height()), int(QtCore.Qt.AlignmentFlag.AlignLeft), text
            )


class TimelineBar(QtWidgets.QToolBar):
    """Replay controls over the recorded history (a tool bar along the bottom of the window).

    Signals
    -------
    time_requested(object)
        Show the factory at this UNIX time (float), or live (None).
    """

    time_requested = QtCore.Signal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__("Timeline", parent)
        self.setObjectName("toolbar_timeline")
        self.history: History | None = None
        self.replay = ReplayWindow(time.time())

        body = QtWidgets.QWidget(self)
        row = QtWidgets.QHBoxLayout(body)
        row.setContentsMargins(4, 0, 4, 0)
        row.addWidget(QtWidgets.QLabel("<b>Timeline</b>", body))
        style = self.style()
        self.play_button = QtWidgets.QToolButton(body)
        self.play_button.setCheckable(True)
        self.play_button.setIcon(style.standardIcon(QtWidgets.QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setToolTip("Play the recorded history forward (returns to live at the present)")
        self.play_button.toggled.connect(self._on_play)
        self.slider = TimeSlider(body)
        self.slider.setObjectName("timeline_slider")
        self.slider.setToolTip("Drag back to show the factory as it was recorded at that time")
        self.slider.setPageStep(60 * STEPS_PER_S)
        self.slider.setSingleStep(STEPS_PER_S)
        self.slider.valueChanged.connect(self._on_slider)
        self.label = QtWidgets.QLabel("No history yet", body)
        self.label.setMinimumWidth(230)
        self.speed = QtWidgets.QComboBox(body)
        self.speed.setToolTip("Replay speed")
        for s in SPEEDS:
            self.speed.addItem(f"{s}×", s)
        self.speed.setCurrentIndex(1)
        self.live_button = QtWidgets.QPushButton("● Live", body)
        self.live_button.setCheckable(True)
        self.live_button.setChecked(True)
        self.live_button.setToolTip("Show live values (leave the replay)")
        self.live_button.clicked.connect(lambda: self.go_live())
        for w in (self.play_button, self.slider, self.label, self.speed, self.live_button):
            row.addWidget(w, 1 if w is self.slider else 0)
        self.addWidget(body)

        self._refresh = QtCore.QTimer(self)
        self._refresh.setInterval(1000)
        self._refresh.timeout.connect(self.refresh)
        self._player = QtCore.QTimer(self)
        self._player.setInterval(200)
        self._player.timeout.connect(self._advance)
        self._setting = False
        self.set_history(None)

    # -- public ---------------------------------------------------------------------------------------
    @property
    def t0(self) -> float:
        """The start of the recorded span (UNIX time)."""
        return self.replay.t0

    @property
    def t1(self) -> float:
        """The end of the span: now."""
        return self.replay.t1

    @property
    def time(self) -> float | None:
        """The replayed time (None: live)."""
        return self.replay.time

    def set_history(self, history: History | None) -> None:
        """Replay over ``history`` (None: nothing recorded, the controls are disabled)."""
        self.history = history
        self.go_live(emit=False)
        for w in (self.play_button, self.slider, self.speed, self.live_button):
            w.setEnabled(history is not None)
        if history is None:
            self._refresh.stop()
            self.label.setText("Connect to a server to record a history")
        else:
            self._refresh.start()
            self.refresh()

    def show_time(self, t: float | None) -> None:
        """Move to time ``t`` (clamped to the recorded span) or to live, and ask for it."""
        if t is None:
            self.go_live()
            return
        if self.history is None:
            return
        self.refresh()
        t = self.replay.seek(t)
        self.live_button.setChecked(False)
        self._place(t)
        self.time_requested.emit(t)

    def go_live(self, emit: bool = True) -> None:
        self.replay.seek(None)
        self.play_button.setChecked(False)
        self.live_button.setChecked(True)
        self._place(None)
        if emit:
            self.time_requested.emit(None)

    def refresh(self) -> None:
        """Follow the growing history: the span ends now."""
        if self.history is None:
            return
        self.replay.follow(self.history.span(), time.time())
        self._place(self.time)

    # -- internals ------------------------------------------------------------------------------------
    def _place(self, t: float | None) -> None:
        self._setting = True
        try:
            self.slider.setRange(0, self.replay.steps())
            self.slider.setValue(self.replay.step_of(t))
            recorded = self.history is not None
            self.slider.set_span(self.t0 if recorded else 0.0, self.t1 if recorded else 0.0)
        finally:
            self._setting = False
        if self.history is not None:
            self.label.setText(self.replay.label(time.time()))

    def _on_slider(self, value: int) -> None:
        if self._setting or self.history is None:
            return
        t = self.replay.seek_step(value)
        if t is None:
            self.go_live()
            return
        self.live_button.setChecked(False)
        self.label.setText(self.replay.label(time.time()))
        self.time_requested.emit(t)

    def _on_play(self, on: bool) -> None:
        icon = QtWidgets.QStyle.StandardPixmap.SP_MediaPause if on else QtWidgets.QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        if on and self.time is None:  # playing from live: start a minute back
            self.show_time(self.replay.play_start(time.time(), float(self.speed.currentData())))
        if on:
            self._player.start()
        else:
            self._player.stop()

    def _advance(self) -> None:
        if self.time is None:
            self.play_button.setChecked(False)
            return
        t = self.replay.advanced(self._player.interval() / 1000.0, float(self.speed.currentData()), time.time())
        if t is None:
            self.go_live()
        else:
            self.show_time(t)
