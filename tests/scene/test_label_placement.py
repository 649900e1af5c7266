"""Which labels are drawn: inside the view, no overlaps, important first, none for specks."""

from __future__ import annotations

import numpy as np

from app.scene.labels import visible_subset

# An orthographic-like projection: x, y in [-100, 100] m map to clip [-1, 1]; w = 1 everywhere.
PROJ = np.diag([0.01, 0.01, 0.0, 1.0])
VIEW = (2000, 2000)  # 10 px per metre


def test_only_anchors_inside_the_view():
    anchors = np.array([[0, 0, 0], [99, 0, 0], [150, 0, 0], [0, -150, 0]], float)
    got = visible_subset(anchors, np.ones(4), PROJ, 10, VIEW)
    assert sorted(got.tolist()) == [0, 1]


def test_priority_order_and_limit():
    anchors = np.array([[x, 0, 0] for x in range(-50, 50, 10)], float)
    priority = np.arange(10, dtype=float)
    got = visible_subset(anchors, priority, PROJ, 3, VIEW)
    assert got.tolist() == [9, 8, 7]


def test_overlapping_labels_are_skipped_keeping_the_more_important():
    # Anchors 2 m = 20 px apart; labels are 60 px wide: neighbours overlap.
    anchors = np.array([[x, 0, 0] for x in (0, 2, 4, 8, 20)], float)
    priority = np.array([1.0, 5.0, 1.0, 1.0, 1.0])
    widths = np.full(5, 60.0)
    got = visible_subset(anchors, priority, PROJ, 10, VIEW, widths_px=widths)
    assert got[0] == 1  # the important one is placed first
    assert 0 not in got and 2 not in got  # its neighbours would overlap it
    assert 4 in got
    xs = np.sort((anchors[got, 0] + 100) * 10)
    assert (np.diff(xs) >= 60).all()  # no two drawn labels overlap


def test_tiny_machines_get_no_label():
    anchors = np.array([[0, 0, 0], [50, 0, 0]], float)
    sizes = np.array([0.5, 5.0])  # 5 px and 50 px on screen
    got = visible_subset(anchors, np.ones(2), PROJ, 10, VIEW, sizes_m=sizes, min_size_px=12)
    assert got.tolist() == [1]


def test_a_label_that_would_be_cut_at_the_edge_is_not_drawn():
    """"WH-OU" at the right edge of the view: no label rather than half of one (issue 13, item 15)."""
    anchors = np.array([[0, 0, 0], [97, 0, 0], [-99.5, 0, 0]], float)  # centre; 30 px from the right edge; 5 px from the left
    widths = np.full(3, 60.0)
    got = visible_subset(anchors, np.ones(3), PROJ, 10, VIEW, widths_px=widths)
    assert got.tolist() == [0, 2]  # the one 30 px from the right edge would reach past it
