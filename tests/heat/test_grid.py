"""WIP density grid: mass is conserved, spreading is symmetric in the open and stops at walls."""

from __future__ import annotations

import numpy as np
import pytest

from app.heat.grid import WipSpreader


def test_one_point_in_the_open_spreads_symmetrically_and_conserves_mass():
    s = WipSpreader(20, 10, 0.25, [(10.0, 5.0)], radius_m=2.0)
    g = s.grid([12.0])
    assert g.shape == (40, 80)
    assert g.sum() == pytest.approx(12.0)
    # (10, 5) is a cell corner: the four cells around it get the same share, the most of any.
    assert g[19, 39] == pytest.approx(g[20, 40]) == pytest.approx(g[19, 40]) == pytest.approx(g.max())
    assert np.allclose(g, g[::-1, :], atol=1e-12) and np.allclose(g, g[:, ::-1], atol=1e-12)  # mirror symmetric
    # Nothing beyond the radius.
    ys, xs = np.nonzero(g)
    assert np.all(np.hypot((xs + 0.5) * 0.25 - 10, (ys + 0.5) * 0.25 - 5) <= 2.0)


def test_a_wall_blocks_spreading_and_mass_stays_on_its_side():
    wall = ((10.5, 0.0), (10.5, 10.0))  # a wall half a metre east of the point
    s = WipSpreader(20, 10, 0.25, [(10.0, 5.0)], walls=[wall], radius_m=2.0)
    g = s.grid([8.0])
    assert g.sum() == pytest.approx(8.0)
    assert g[:, 42:].sum() == 0  # cells east of the wall (x > 10.5) get nothing
    open_floor = WipSpreader(20, 10, 0.25, [(10.0, 5.0)], radius_m=2.0).grid([8.0])
    assert g[:, :42].sum() > open_floor[:, :42].sum()  # what could not cross stays on this side


def test_points_at_the_floor_edge_and_many_points_add_up():
    pts = [(0.1, 0.1), (19.9, 9.9), (5, 5), (5, 5)]
    s = WipSpreader(20, 10, 0.5, pts, radius_m=3.0)
    amounts = np.array([3.0, 4.0, 1.0, 2.0])
    g = s.grid(amounts)
    assert g.sum() == pytest.approx(amounts.sum())
    assert g[0, 0] > 0 and g[-1, -1] > 0
    one = WipSpreader(20, 10, 0.5, [(5, 5)], radius_m=3.0).grid([3.0])
    both = WipSpreader(20, 10, 0.5, [(5, 5), (5, 5)], radius_m=3.0).grid([1.0, 2.0])
    assert np.allclose(one, both)  # linear in the amounts


def test_nan_amounts_are_left_out_and_counted():
    s = WipSpreader(10, 10, 0.5, [(2, 2), (8, 8)])
    g = s.grid([np.nan, 5.0])
    assert g.sum() == pytest.approx(5.0) and s.ignored == 1
    with pytest.raises(ValueError, match="expected 2 amounts"):
        s.grid([1.0])


def test_a_point_boxed_in_by_walls_keeps_its_amount_in_its_cell():
    x0, x1, y0, y1 = 4.86, 5.23, 4.79, 5.13  # a small closed room around the point (no corner on a ray)
    box = [((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))]
    s = WipSpreader(10, 10, 1.0, [(5.0, 5.0)], walls=box, radius_m=2.0)
    g = s.grid([3.0])
    assert g.sum() == pytest.approx(3.0) and g[5, 5] == pytest.approx(3.0)


def test_moving_points_recomputes_only_their_kernels_and_matches_a_fresh_build():
    """Issue 14, item 8: a dragged machine moves its own WIP kernel, not the whole plant's."""
    walls = [((10.0, 0.0), (10.0, 8.0))]
    pts = np.array([[3.0, 3.0], [14.0, 6.0], [8.0, 9.0]])
    owners = np.array([0, 1, 1])
    spreader = WipSpreader(20.0, 12.0, 0.25, pts, walls=walls, radius_m=2.0, owners=owners, n_owners=2)
    moved = pts.copy()
    moved[1] = (12.0, 3.0)  # one point of owner 1 moves
    assert spreader.move_points(moved) == 1
    fresh = WipSpreader(20.0, 12.0, 0.25, moved, walls=walls, radius_m=2.0, owners=owners, n_owners=2)
    amounts = np.array([4.0, 6.0])
    assert np.allclose(spreader.grid(amounts), fresh.grid(amounts))
    assert spreader.grid(amounts).sum() == pytest.approx(10.0)
    assert spreader.move_points(moved) == 0  # nothing moved: nothing recomputed
