"""The demo plant in a real 3D view under Xvfb, seen from the top."""

from __future__ import annotations

import pytest

from app.assets import AssetLibrary, load_factory_assets
from app.model.io import load_factory
from app.scene.view import FactoryView


@pytest.fixture
def view(qtbot, demo_path):
    v = FactoryView()
    qtbot.addWidget(v)
    v.resize(1200, 800)
    with qtbot.waitExposed(v):
        v.show()
    f = load_factory(demo_path)
    v.show_factory(f, load_factory_assets(f, demo_path, AssetLibrary()))
    qtbot.wait(20)  # the kinds' legend takes its margin: let the layout settle before the camera is set
    v.camera_preset("top")
    v.render_now()
    yield v
    v.close_scene()
