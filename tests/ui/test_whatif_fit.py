"""The What-if dock fits its width at 1366×768: a new-user trial saw "Del", "Comp" and "Save" cut at the dock's
edge and the actuals line under a sideways scroll bar (three columns of buttons were wider than the dock)."""

from __future__ import annotations

import pytest
from PySide6 import QtCore

pytestmark = pytest.mark.gui


def test_the_whatif_dock_needs_no_sideways_scrolling_at_1366x768(make_window, qtbot):
    w = make_window(size=(1366, 768))
    dock = w.whatif_dock
    dock.show()
    dock.raise_()
    qtbot.waitExposed(dock)
    QtCore.QCoreApplication.processEvents()
    scroll = dock.widget()
    assert scroll.horizontalScrollBar().maximum() == 0, scroll.widget().minimumSizeHint()
    for button in (dock.delete_button, dock.compare_button, dock.save_button, dock.deploy_button):
        assert button.width() >= button.sizeHint().width() - 2, button.text()  # its whole text shows
