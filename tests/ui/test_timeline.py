"""The timeline while live: the handle at the present, a clock under the slider (issue 13, item 19)."""

from __future__ import annotations

import time

import pytest

from app.history.recorder import History, Recorder, Sample
from app.ui.timeline_bar import TimelineBar

pytestmark = pytest.mark.gui


def _history(tmp_path, ages_s: list[float]) -> History:
    path = tmp_path / "history.sqlite"
    recorder = Recorder(path)
    now = time.time()
    recorder.record(Sample("CNC-01", "Temperature", "ns=2;s=T", now - a, now - a, 20.0, None, 0) for a in ages_s)
    recorder.close()
    return History(path)


def test_live_with_nothing_recorded_yet_puts_the_handle_at_the_present(qtbot, tmp_path):
    bar = TimelineBar()
    qtbot.addWidget(bar)
    bar.resize(900, 60)
    bar.show()
    bar.set_history(_history(tmp_path, [0.0]))  # one sample: the recorded span is a single instant
    slider = bar.slider
    assert slider.maximum() > slider.minimum() and slider.value() == slider.maximum()
    assert bar.live_button.isChecked() and "Live" in bar.label.text()


def test_the_slider_shows_clock_ticks_over_the_recorded_span(qtbot, tmp_path):
    bar = TimelineBar()
    qtbot.addWidget(bar)
    bar.resize(1200, 60)
    with qtbot.waitExposed(bar):
        bar.show()
    bar.set_history(_history(tmp_path, [600.0, 0.0]))  # ten minutes recorded
    ticks = bar.slider.ticks()
    assert 3 <= len(ticks) <= 12
    assert all(bar.t0 <= t <= bar.t1 for t, _text in ticks)
    assert all(len(text) == 5 and text[2] == ":" for _t, text in ticks)  # HH:MM at round minutes
    assert all(round(t) % 60 == 0 for t, _text in ticks)
    # The labels are drawn: the slider's lower strip is not empty.
    image = bar.slider.grab().toImage()
    bottom = image.height() - bar.slider.fontMetrics().height() // 2
    colours = {image.pixelColor(x, bottom).rgb() for x in range(image.width())}
    assert len(colours) > 2
    # ...and the groove and handle above it: most columns of the upper part are not plain background.
    upper = image.height() - bar.slider.fontMetrics().height() - 2
    background = image.pixelColor(0, 0).rgb()
    drawn = sum(any(image.pixelColor(x, y).rgb() != background for y in range(upper)) for x in range(0, image.width(), 4))
    assert drawn > 0.8 * image.width() / 4
