"""The replay timeline: live by default; drag back to see the factory as it was, play it forward.

The slider spans the recorded history (first sample to now). Moving it asks for the state at that time
(``time_requested``); "Live" — or playing forward past the present — returns to live values.
"""

from __future__ import annotations

import datetime
import math
import time

from PySide6 import QtCore, QtWidgets

from app.history.recorder import History

STEPS_PER_S = 10  # slider resolution: 0.1 s
SPEEDS = (1, 10, 60, 600)


def describe_time(t: float, now: float) -> str:
    """``06:21:33 (2 min 12 s ago)`` — local clock time and how long ago."""
    clock = datetime.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S" if now - t > 86_400 else "%H:%M:%S")
    ago = max(0.0, now - t)
    if ago < 60:
        rel = f"{ago:.0f} s"
    elif ago < 3600:
        rel = f"{ago // 60:.0f} min {ago % 60:.0f} s"
    else:
        rel = f"{ago // 3600:.0f} h {ago % 3600 // 60:.0f} min"
    return f"{clock} ({rel} ago)"


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
        self.t0 = self.t1 = time.time()
        self.time: float | None = None  # None: live

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
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal, body)
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
        t = min(max(t, self.t0), self.t1)
        self.time = t
        self.live_button.setChecked(False)
        self._place(t)
        self.time_requested.emit(t)

    def go_live(self, emit: bool = True) -> None:
        self.time = None
        self.play_button.setChecked(False)
        self.live_button.setChecked(True)
        self._place(None)
        if emit:
            self.time_requested.emit(None)

    def refresh(self) -> None:
        """Follow the growing history: the span ends now."""
        if self.history is None:
            return
        span = self.history.span()
        now = time.time()
        self.t0 = span[0] if span is not None else now
        self.t1 = max(now, self.t0)
        self._place(self.time)

    # -- internals ------------------------------------------------------------------------------------
    def _place(self, t: float | None) -> None:
        self._setting = True
        try:
            self.slider.setRange(0, math.ceil((self.t1 - self.t0) * STEPS_PER_S))
            self.slider.setValue(self.slider.maximum() if t is None else round((t - self.t0) * STEPS_PER_S))
        finally:
            self._setting = False
        if self.history is None:
            return
        if t is None:
            self.label.setText(f"Live · recorded since {describe_time(self.t0, time.time()).split(' (')[0]}")
        else:
            self.label.setText(describe_time(t, time.time()))

    def _on_slider(self, value: int) -> None:
        if self._setting or self.history is None:
            return
        if value >= self.slider.maximum():
            self.go_live()
            return
        self.time = self.t0 + value / STEPS_PER_S
        self.live_button.setChecked(False)
        self.label.setText(describe_time(self.time, time.time()))
        self.time_requested.emit(self.time)

    def _on_play(self, on: bool) -> None:
        icon = QtWidgets.QStyle.StandardPixmap.SP_MediaPause if on else QtWidgets.QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        if on and self.time is None:  # playing from live: start a minute back
            self.show_time(time.time() - 60 * float(self.speed.currentData()))
        if on:
            self._player.start()
        else:
            self._player.stop()

    def _advance(self) -> None:
        if self.time is None:
            self.play_button.setChecked(False)
            return
        t = self.time + self._player.interval() / 1000.0 * float(self.speed.currentData())
        if t >= time.time():
            self.go_live()
        else:
            self.show_time(t)
