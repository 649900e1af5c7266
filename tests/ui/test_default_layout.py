"""The default window layout works from 1366×768 up (issue 13, item 17)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_default_layout_keeps_the_view_large_and_every_column_and_dock_visible(make_window, size):
    w = make_window(size=size)
    tree = w.tree_dock.tree
    header = tree.header()
    widths = sum(header.sectionSize(k) for k in range(header.count()))
    assert widths <= tree.viewport().width() + 1  # Name, Id and Kind all on screen: no sideways scrolling
    assert not header.isSectionHidden(2) and header.sectionSize(2) >= 24
    view = w.view.plotter
    share = view.width() * view.height() / (w.width() * w.height())
    assert share > 0.4, share
    if size[1] < 900:
        # A short screen: Properties is a tab beside Trends instead of being squeezed under it.
        assert w.properties_dock in w.tabifiedDockWidgets(w.trends_dock)
    else:
        assert w.properties_dock.height() >= 150
