"""Plugins: discovery (folders and entry points), the bundled examples at work, and failure isolation."""

from __future__ import annotations

import json
import math
import sys
import textwrap
import time

import numpy as np
import pytest

from app.plugins import PluginManager, plugin_folders
from tests.conftest import ROOT

pytestmark = pytest.mark.gui


def _plugin(folder, name, code, manifest=None):
    d = folder / name
    d.mkdir(parents=True)
    (d / "plugin.json").write_text(json.dumps(manifest or {"name": name, "version": "0.1", "module": "mod"}))
    (d / "mod.py").write_text(textwrap.dedent(code))
    return d


def test_the_bundled_plugins_load_and_contribute():
    m = PluginManager()
    m.load_all(m.discover([ROOT / "plugins"], entry_points=False))
    states = {p.name: (p.state, p.version, p.error) for p in m.plugins.values()}
    assert states == {
        "csv-replay": ("loaded", "1.0.0", ""),
        "energy": ("loaded", "1.0.0", ""),
        "laser-cutter": ("loaded", "1.0.0", ""),
    }
    assert set(m.data_sources) == {"csv"} and set(m.heat_layers) == {"Power share"} and set(m.kpis) == {"energy_per_part"}
    assert [d.title for d in m.docks] == ["Energy"] and "laser_cutter" in m.assets
    assert ROOT / "plugins" in plugin_folders()


def test_broken_plugins_are_reported_and_skipped_and_the_rest_load(tmp_path):
    _plugin(tmp_path, "good", "def register(api):\n    api.add_kpi('k', 'K', 'u', lambda o: 1.0)\n")
    bad = tmp_path / "broken"
    bad.mkdir()
    (bad / "plugin.json").write_text("{not json")
    _plugin(
        tmp_path, "needs", "def register(api): pass\n", {"name": "needs", "module": "mod", "requires": ["no_such_package_xyz"]}
    )
    _plugin(
        tmp_path, "raises", "def register(api):\n    api.add_kpi('r', 'R', 'u', lambda o: 1.0)\n    raise RuntimeError('boom')\n"
    )
    _plugin(tmp_path, "z_clash", "def register(api): pass\n", {"name": "good", "module": "mod"})
    _plugin(tmp_path, "noreg", "X = 1\n")
    (tmp_path / "nomanifest").mkdir()
    m = PluginManager()
    m.load_all(m.discover([tmp_path], entry_points=False))
    by = {p.source.rsplit("/", 1)[-1]: p for p in m.plugins.values()}
    assert by["good"].state == "loaded"
    assert by["broken"].state == "failed" and "broken plugin.json" in by["broken"].error
    assert by["needs"].state == "failed" and "missing dependency: no_such_package_xyz" in by["needs"].error
    assert by["raises"].state == "failed" and "RuntimeError: boom" in by["raises"].error and "r" not in m.kpis  # undone
    assert by["z_clash"].state == "skipped" and "name clash" in by["z_clash"].error
    assert by["noreg"].state == "failed" and "register" in by["noreg"].error
    assert by["nomanifest"].state == "failed" and "no plugin.json" in by["nomanifest"].error
    assert set(m.kpis) == {"k"}


def test_disabled_plugins_are_listed_not_loaded(tmp_path):
    _plugin(tmp_path, "quiet", "def register(api):\n    api.add_kpi('q', 'Q', 'u', lambda o: 1.0)\n")
    m = PluginManager()
    m.load_all(m.discover([tmp_path], entry_points=False), disabled=["quiet"])
    assert m.plugins["quiet"].state == "disabled" and not m.kpis


def test_entry_point_plugins_are_found(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "ft_demo_plugin").mkdir(parents=True)
    (site / "ft_demo_plugin" / "__init__.py").write_text(
        "__version__ = '2.0'\ndef register(api):\n    api.add_kpi('ep', 'EP', 'u', lambda o: 2.0)\n"
    )
    info = site / "ft_demo_plugin-2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ft-demo-plugin\nVersion: 2.0\n")
    (info / "entry_points.txt").write_text("[floortwin.plugins]\nft-demo = ft_demo_plugin\n")
    monkeypatch.syspath_prepend(str(site))
    m = PluginManager()
    found = m.discover([], entry_points=True)
    assert any(p.name == "ft-demo" and p.version == "2.0" for p in found)
    m.load_all(found)
    assert m.plugins["ft-demo"].state == "loaded" and "ep" in m.kpis
    sys.modules.pop("ft_demo_plugin", None)


def test_a_plugin_failing_at_run_time_is_disabled_and_the_app_carries_on(make_window, qtbot):
    from app.plugins import manager

    w = make_window()
    assert manager.plugins["energy"].active
    spec = manager.heat_layers["Power share"]
    failures = []
    manager.set_failure_handler(failures.append)
    saved = (dict(manager.heat_layers), dict(manager.kpis), list(manager.docks), dict(manager.data_sources))
    try:
        manager.heat_layers["Power share"] = type(spec)(spec.name, spec.unit, lambda store, f: 1 / 0, spec.plugin)
        assert manager.guard("energy", manager.heat_layers["Power share"].compute, None, None, default="fallback") == "fallback"
        assert failures and failures[0].name == "energy" and "ZeroDivisionError" in manager.plugins["energy"].error
        assert "Power share" not in manager.heat_layers and "energy_per_part" not in manager.kpis  # all of it goes
        assert not any(d.plugin == "energy" for d in manager.docks)
        assert manager.guard("energy", lambda: 1, default="off") == "off"  # a disabled plugin is not called
        assert w.isVisible()
    finally:  # the manager is the application's: put the energy plugin back for the other tests
        manager.plugins["energy"].state, manager.plugins["energy"].error = "loaded", ""
        manager.heat_layers, manager.kpis, manager.docks, manager.data_sources = saved
        manager.set_failure_handler(w._on_plugin_failed)


def test_plugins_at_work_in_the_window(make_window, qtbot, qloop, tmp_path):
    from app.live.client import ConnectionSettings
    from app.plugins import manager

    w = make_window()
    # the panel, the heat layer and the machine kind are in the window
    assert any(d.windowTitle() == "Energy" for d in w.plugin_docks)
    assert w.heat_dock.signal.findData("Power share") >= 0
    palette = [w.palette_dock.list.item(i).data(256) for i in range(w.palette_dock.list.count())]
    assert ("laser_cutter", "laser_cutter") in palette
    # the laser cutter's mesh (a plugin-NAME: asset) loads
    from app.assets import load_factory_assets
    from app.model.factory import AssetRef

    f = w.document.factory.model_copy(
        update={"assets": {**w.document.factory.assets, "laser_cutter": AssetRef(path=manager.assets["laser_cutter"])}}
    )
    mesh = load_factory_assets(f, w.document.path, w.assets)["laser_cutter"]
    assert not mesh.placeholder and mesh.faces.shape[0] > 100, mesh.warning

    # the CSV replay data source feeds the live view like a server would
    machines = w.document.factory.machines[:3]
    rows = ["t,node,value"]
    for k in range(20):
        for m in machines:
            rows.append(f"{k * 0.5},{m.tags['State']},{'running' if k % 2 else 'down'}")
            rows.append(f"{k * 0.5},{m.tags['Power']},{10 + k + machines.index(m)}")
    rows.append("oops,not,a,row")
    csv_file = tmp_path / "values.csv"
    csv_file.write_text("\n".join(rows) + "\n")
    w.connect_live(ConnectionSettings(f"csv://{csv_file}?speed=10"))
    qtbot.waitUntil(lambda: w.live.state.value == "connected", timeout=10000)

    def fed() -> bool:
        w.live.flush()
        return all(np.isfinite(w.live.store.value(m.id, "Power")) for m in machines)

    qtbot.waitUntil(fed, timeout=10000)
    assert "replaying values.csv" in w.status_link.text() or w.live.state.value == "connected"
    # the heat layer computes from the store; the panel shows the plant power
    w.heat_dock.choose("Power share")
    assert w.view.colour_bar_title == "Power share (%)"
    panel = next(d for d in w.plugin_docks if d.windowTitle() == "Energy").widget()
    panel.refresh()
    assert panel.total_label.text().startswith("Plant power:")
    w.heat_dock.choose(None)
    w.disconnect_live()
    # a bad file: the link says why
    w.connect_live(ConnectionSettings(f"csv://{tmp_path / 'missing.csv'}"))
    qtbot.waitUntil(lambda: w.live.state.value == "failed", timeout=10000)
    assert "cannot replay" in w.status_link.text() or "missing.csv" in w.status_link.toolTip() + w.status_link.text()
    w.disconnect_live()


def test_energy_kpi_in_a_comparison():
    from app.compare.diff import compare
    from app.compare.kpis import Observation
    from app.plugins import manager

    obs = [
        Observation(["A"], 3600.0, np.array([[3600.0, 0, 0, 0, 0]]), np.array([10.0]), np.array([5.0 + k]), 2.0, 10.0)
        for k in range(3)
    ]
    c = compare(obs, extra=manager.extra_kpis, extra_labels={k: (s.label, s.unit) for k, s in manager.kpis.items()})
    row = c.row("energy_per_part")
    assert row.baseline.mean == pytest.approx(0.6) and row.unit == "kWh/part"
    assert math.isnan(
        manager.extra_kpis(Observation(["A"], 1.0, np.zeros((1, 5)), np.zeros(1), np.ones(1), 0.0, 0.0))["energy_per_part"]
    )


def test_the_plugins_dialog_lists_states_and_remembers_choices(make_window, qtbot):
    w = make_window()
    w.show_plugins()
    dialog = w.plugins_dialog
    names = [dialog.table.item(i, 1).text() for i in range(dialog.table.rowCount())]
    assert {"csv-replay", "energy", "laser-cutter"} <= set(names)
    row = names.index("energy")
    assert dialog.table.item(row, 3).text() == "loaded" and dialog.table.item(row, 2).text() == "1.0.0"
    assert "KPI Energy per part" in dialog.table.item(row, 4).text()
    dialog.set_enabled("energy", False)
    dialog.close()
    qtbot.waitUntil(lambda: "energy" in w.settings.disabled_plugins, timeout=2000)
    w.settings.disabled_plugins = []
    time.sleep(0)
