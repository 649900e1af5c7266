"""A machine heat map without any live data: every machine grey and no scale (issue 13, item 12)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from app.heat.colour import NO_DATA_RGB

pytestmark = pytest.mark.gui


def test_heat_map_without_a_plant_is_grey_with_no_scale(make_window):
    w = make_window()  # the demo without its plant simulator: no live data at all
    assert w.live.store is None
    kinds = w.view.kind_colours(w.document.factory, w.asset_of)
    assert w.heat.show(("Temperature",)) == []
    colours = np.asarray(w.view.machines.colours)[: len(kinds), :3]
    assert (colours == np.asarray(NO_DATA_RGB)).all()  # grey, as the dock says, not kind colours
    assert w.view.colour_bar_title is None  # no dummy 0–1 scale
    assert "No live data" in w.heat_dock.hint.text()
    w.heat_dock.choose(None)  # back to "State": kinds again
    colours = np.asarray(w.view.machines.colours)[: len(kinds), :3]
    assert (colours == kinds[:, :3]).all()


def test_colour_bar_labels_are_round_values(make_window):
    from app.heat.colour import lut

    w = make_window()
    w.view.set_colour_bar("Temperature (°C)", 15.71, 25.71, lut("inferno"))
    bar = w.view.legend.item("machines")
    values = [value for value, _text in bar.ticks]
    assert values and all(v == round(v) for v in values)  # 16, 18, … not 15.71
    assert all(15.71 <= v <= 25.71 for v in values) and all("." not in text for _v, text in bar.ticks)


def test_heat_layer_names_are_matched_whatever_their_case(make_window):
    w = make_window()
    assert w.heat.show(("temperature", "WIP")) == []
    assert w.heat_dock.signal.currentData() == "Temperature" and w.heat_dock.wip.isChecked()
    assert w.heat.show(("nope",)) == ["nope"] and "Temperature" in w.heat.layer_names()


def test_wip_without_any_data_shows_no_scale(make_window):
    """No live data: the WIP layer is hatched grey and its legend says so, not a 0–0.8 scale from nowhere."""
    w = make_window()
    w.heat_dock.wip.setChecked(True)
    w.heat_maps.update_now()
    bar = w.view.legend.item("floor")
    assert bar is not None and bar.lo is None and bar.ticks == ()


def test_export_csv_from_the_dock_saves_the_grid_or_says_why_not(make_window, qtbot, monkeypatch, tmp_path):
    from PySide6 import QtWidgets

    w = make_window()
    target = tmp_path / "wip.csv"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", staticmethod(lambda *_a, **_k: (str(target), "")))
    assert not w.heat_dock.export.isEnabled()  # no grid to export before the WIP layer is on
    w.heat.export_csv()  # asked anyway (a script): an error that says what to do, no file
    assert w.last_error is not None and "WIP layer" in w.last_error.text() and not target.exists()
    w.last_error.close()
    w.heat_dock.wip.setChecked(True)
    qtbot.mouseClick(w.heat_dock.export, QtCore.Qt.MouseButton.LeftButton)
    assert target.read_text().startswith("# floortwin WIP density of Demo plant, live")
    assert w.statusBar().currentMessage() == f"WIP grid saved to {target}"
