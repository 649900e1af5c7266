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


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_actuals_trust_and_drift_lines_show_without_scrolling_at_1366x768(make_window, qtbot, theme):
    # Trial 7: only the tops of the Actuals line's letters showed under "Run on"; the trust and drift lines
    # were below the fold (a scroll bar on the dock's edge).
    w = make_window(size=(1366, 768))
    w.set_theme(theme)
    dock = w.whatif_dock
    dock.show()
    dock.raise_()
    qtbot.waitExposed(dock)
    qtbot.waitUntil(dock.actuals_label.isVisible)  # the service's line about the recorded history
    # and what a comparison and a drift check add (as long as the trial's)
    trust = (
        "Baseline of “As it is” — Trust (15 min windows): line throughput trust 93% over 14 windows; machine KPIs:"
        " 38 of 40 at ≥ 80% (lowest: CNC-03 cycle time 62%)"
    )
    for label, text in ((dock.trust_label, trust), (dock.drift_label, "CNC-03: cycle time 47% longer than the model")):
        label.setText(text)
        label.setVisible(True)
    try:
        qtbot.wait(50)
        scroll = dock.widget()
        viewport = scroll.viewport()
        assert scroll.verticalScrollBar().value() == 0
        for label in (dock.actuals_label, dock.trust_label, dock.drift_label):
            top_left = label.mapTo(viewport, QtCore.QPoint(0, 0))
            inside = viewport.rect().contains(QtCore.QRect(top_left, label.size()))
            assert inside, (label.text(), top_left.y(), label.height(), viewport.height())
            assert label.height() >= label.heightForWidth(label.width()), label.text()  # no line cut off
        assert dock.list.height() >= dock.list.minimumHeight()  # the list shrank first, to its three rows
    finally:
        w.set_theme("light")
