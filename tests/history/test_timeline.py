"""The replay timeline's arithmetic without a display: ticks, the span, seeking, playing forward."""

from __future__ import annotations

import time

from app.history.timeline import STEPS_PER_S, ReplayWindow, describe_time, tick_times


def test_ticks_never_crowd_their_labels():
    start = 1_800_000_000.0
    for span in (30.0, 600.0, 4 * 3600.0, 3 * 86400.0):
        for width in (200, 800, 1800):
            ticks = tick_times(start, start + span, width, 60)
            assert len(ticks) <= max(1, width // 96) + 1
            if len(ticks) > 1:
                gap_px = (ticks[1][0] - ticks[0][0]) / span * width
                assert gap_px >= 60 * 1.5


def test_ticks_fall_on_round_local_minutes_and_read_as_clock_times():
    start = time.mktime((2026, 11, 28, 10, 0, 17, 0, 0, -1))
    ticks = tick_times(start, start + 600, 1200, 60)
    assert [text for _t, text in ticks][:3] == ["10:01", "10:02", "10:03"]
    assert all(start <= t <= start + 600 for t, _text in ticks)
    assert tick_times(start, start, 1200, 60) == [] and tick_times(start, start + 60, 0, 60) == []


def test_the_time_is_described_with_how_long_ago():
    t = time.mktime((2026, 11, 28, 10, 0, 0, 0, 0, -1))
    assert describe_time(t, t + 5) == "10:00:00 (5 s ago)"
    assert describe_time(t, t + 2 * 3600 + 300) == "10:00:00 (2 h 5 min ago)"
    assert describe_time(t, t + 2 * 86400).startswith("2026-11-28 10:00:00")
    assert describe_time(t + 10, t) == "10:00:10 (0 s ago)"  # a clock slightly ahead is not "-10 s ago"


def test_with_nothing_recorded_the_window_is_one_step_with_live_at_the_right():
    w = ReplayWindow()
    w.follow(None, now=1000.0)
    assert (w.t0, w.t1) == (1000.0, 1000.0)
    assert w.steps() == 1 and w.step_of(None) == 1
    assert w.label(1000.0).startswith("Live · recorded since")


def test_seeking_is_clamped_to_the_recorded_span_and_the_far_right_is_live():
    w = ReplayWindow()
    w.follow((100.0, 180.0), now=200.0)
    assert w.steps() == 100 * STEPS_PER_S
    assert w.seek(50.0) == 100.0 and w.seek(500.0) == 200.0
    assert w.step_of(w.seek(150.0)) == 50 * STEPS_PER_S
    assert w.seek_step(25) == 102.5 and w.time == 102.5
    assert w.seek_step(w.steps()) is None and w.time is None
    assert w.seek(None) is None


def test_the_window_follows_the_growing_history_to_now():
    w = ReplayWindow()
    w.follow((100.0, 150.0), now=200.0)
    w.follow((100.0, 290.0), now=300.0)
    assert (w.t0, w.t1) == (100.0, 300.0)
    w.follow((500.0, 500.0), now=400.0)  # a clock behind the last sample: the span never ends before it starts
    assert w.t1 == w.t0 == 500.0


def test_playing_forward_advances_at_its_speed_and_returns_to_live_at_the_present():
    w = ReplayWindow()
    w.follow((0.0, 1000.0), now=1000.0)
    assert w.advanced(0.2, 10, now=1000.0) is None  # live: nothing to advance
    w.seek(ReplayWindow.play_start(1000.0, 10))
    assert w.time == 400.0
    assert w.advanced(0.2, 10, now=1000.0) == 402.0
    w.seek(999.0)
    assert w.advanced(0.2, 10, now=1000.0) is None
