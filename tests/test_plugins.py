"""Plugins in the window: the bundled examples at work, the question before a new plugin runs, and a
failing plugin taken out of the palette, the panels and the comparisons (reported on the GUI thread)."""

from __future__ import annotations

import json
import math
import shutil
import textwrap
import threading

import numpy as np
import pytest
from PySide6 import QtCore

from app.plugins import PluginManager
from tests.conftest import ROOT, comparison_of, run_to_done

pytestmark = pytest.mark.gui

MESH = ROOT / "plugins" / "laser_cutter" / "laser_cutter.stl"


def _plugin(folder, name, code, provides, **fields):
    d = folder / name
    d.mkdir(parents=True)
    manifest = {"name": name, "version": "0.3", "api": "1.0", "module": "mod", "provides": provides, **fields}
    (d / "plugin.json").write_text(json.dumps(manifest))
    (d / "mod.py").write_text(textwrap.dedent(code))
    shutil.copy(MESH, d / "saw.stl")
    return d


@pytest.fixture
def window_with(qtbot, settings):
    """Main windows running the given plugin manager (closed after the test)."""
    from PySide6 import QtCore, QtWidgets

    from app.ui.main_window import MainWindow

    made = []

    def make(manager: PluginManager, ask: bool = True):
        w = MainWindow(settings=settings, plugins=manager, ask_plugins=ask)
        w.resize(1400, 900)
        with qtbot.waitExposed(w):
            w.show()
        made.append(w)
        return w

    yield make
    for w in made:
        if w.document is not None and w.document.dirty:
            w.document.replace(w.document.factory, w.document.path)
        shutil.rmtree(w.files.autosave_folder(), ignore_errors=True)
        w.close()
        w.deleteLater()
    QtWidgets.QApplication.processEvents()
    QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete.value)


def _palette(w) -> list[tuple[str, str]]:
    return [w.palette_dock.list.item(i).data(256) for i in range(w.palette_dock.list.count())]


def _manager(folder, trusted=(), disabled=(), bundled=False) -> PluginManager:
    m = PluginManager()
    found = m.discover([folder], entry_points=False)
    m.add(found, trusted=trusted, disabled=disabled, trusted_folders=[folder] if bundled else [])
    return m


def test_plugins_at_work_in_the_window(make_window, qtbot, qloop, tmp_path):
    from app.live.client import ConnectionSettings

    w = make_window()
    # nothing is imported for a panel nobody looked at; the panel is there, built when shown
    dock = next(d for d in w.plugin_docks if d.windowTitle() == "Energy")
    assert dock.objectName() == "dock_plugin_energy_0"
    # View ▸ Panels lists it as it lists the built-in docks (one registry of docks)
    panels = [a.text() for a in w.panels_menu.actions()]
    assert {"Energy", *(d.windowTitle() for d in w.docks.all())} <= set(panels)
    assert w.heat_dock.signal.findData("Power share") >= 0
    assert ("laser_cutter", "laser_cutter") in _palette(w)
    dock.show()
    dock.raise_()
    qtbot.waitUntil(lambda: hasattr(dock.widget(), "refresh"), timeout=5000)
    panel = dock.widget()
    assert w.plugins.plugins["energy"].active
    # the laser cutter's mesh (a plugin-NAME: asset) loads
    from app.assets import load_factory_assets
    from app.model.factory import AssetRef
    from app.model.kinds import get_kind

    ref = AssetRef(path=get_kind("laser_cutter").asset_path)
    f = w.document.factory.model_copy(update={"assets": {**w.document.factory.assets, "laser_cutter": ref}})
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
    w.console.connect_live(ConnectionSettings(f"csv://{csv_file}?speed=10"))
    qtbot.waitUntil(lambda: w.live.state.value == "connected", timeout=10000)

    def fed() -> bool:
        w.live.flush()
        return all(np.isfinite(w.live.store.value(m.id, "Power")) for m in machines)

    qtbot.waitUntil(fed, timeout=10000)
    # the heat layer computes from the state on view; the panel shows the plant power (it hears live values)
    w.heat_dock.choose("Power share")
    assert w.view.colour_bar_title == "Power share (%)"
    qtbot.waitUntil(lambda: panel.total_label.text().startswith("Plant power:"), timeout=5000)
    w.heat_dock.choose(None)
    w.console.disconnect_live()
    # a bad file: the link says why
    w.console.connect_live(ConnectionSettings(f"csv://{tmp_path / 'missing.csv'}"))
    qtbot.waitUntil(lambda: w.live.state.value == "failed", timeout=10000)
    assert "cannot replay" in w.status_link.text() or "missing.csv" in w.status_link.toolTip() + w.status_link.text()
    w.console.disconnect_live()


def test_the_properties_dock_is_the_built_in_plugins_panel(make_window):
    """Issue 15, item 4: floortwin's own panel registers through the plugin API, and its dock is made as a
    plugin's is; it reads the selection through the API. The built-in plugin cannot be turned off."""
    w = make_window()
    dock, energy = w.plugin_ui.dock_of("floortwin", "Properties"), w.plugin_ui.dock_of("energy", "Energy")
    assert dock is w.properties_dock and energy in w.plugin_docks and dock not in w.plugin_docks
    assert (dock.objectName(), energy.objectName()) == ("dock_plugin_floortwin_0", "dock_plugin_energy_0")
    Area = QtCore.Qt.DockWidgetArea
    assert w.dockWidgetArea(dock) == Area.RightDockWidgetArea and w.dockWidgetArea(energy) == Area.BottomDockWidgetArea
    assert w.plugins.plugins["floortwin"].builtin and type(dock.widget()).__name__ == "PropertiesPanel"  # built at once
    machine = w.document.factory.machines[1]
    w.selection.select([machine.id])
    assert dock.widget().value_of("Id") == machine.id and dock.widget().value_of("Name") == machine.name
    w.show_plugins()
    table = w.plugins_dialog.table
    row = [table.item(i, 1).text() for i in range(table.rowCount())].index("floortwin")
    assert not table.item(row, 0).flags() & QtCore.Qt.ItemFlag.ItemIsUserCheckable
    assert table.item(row, 6).text() == "built in"
    w.plugins_dialog.close()


def test_energy_kpi_in_a_comparison():
    from app.compare.diff import compare
    from app.compare.kpis import Observation

    m = _manager(ROOT / "plugins", bundled=True)
    try:
        obs = [
            Observation(["A"], 3600.0, np.array([[3600.0, 0, 0, 0, 0]]), np.array([10.0]), np.array([5.0 + k]), 2.0, 10.0)
            for k in range(3)
        ]
        c = compare(obs, extra=m.extra_kpis, extra_labels={k: (s.label, s.unit) for k, s in m.kpis.items()})
        row = c.row("energy_per_part")
        assert row.baseline.mean == pytest.approx(0.6) and row.unit == "kWh/part"
        empty = Observation(["A"], 1.0, np.zeros((1, 5)), np.zeros(1), np.ones(1), 0.0, 0.0)
        assert math.isnan(m.extra_kpis(empty)["energy_per_part"])
    finally:
        m.close()


def test_the_plugins_dialog_lists_states_and_remembers_choices(make_window, qtbot):
    w = make_window()
    w.show_plugins()
    dialog = w.plugins_dialog
    names = [dialog.table.item(i, 1).text() for i in range(dialog.table.rowCount())]
    assert {"csv-replay", "energy", "laser-cutter"} <= set(names)
    row = names.index("energy")
    assert dialog.table.item(row, 3).text() == "ready (loads when needed)" and dialog.table.item(row, 2).text() == "1.1.0"
    assert "KPI energy_per_part" in dialog.table.item(row, 4).text()
    assert dialog.table.item(names.index("laser-cutter"), 3).text() == "loaded"  # the palette needed its kind
    dialog.set_enabled("energy", False)
    dialog.close()
    qtbot.waitUntil(lambda: "energy" in w.settings.disabled_plugins, timeout=2000)
    w.settings.disabled_plugins = []


def test_a_new_plugin_asks_before_it_runs_and_the_answer_is_remembered(window_with, qtbot, tmp_path, settings):
    code = "def register(api):\n    api.add_machine_kind('saw', 'Band saw', (10, 20, 30), 'saw.stl')\n"
    folder = tmp_path / "user_plugins"
    _plugin(folder, "saws", code, {"machine_kinds": ["saw"]}, author="ACME tools", description="Saws")
    w = window_with(_manager(folder, trusted=settings.trusted_plugins))
    assert not any(k == "saw" for k, _a in _palette(w))  # it does not run before the user says so
    qtbot.waitUntil(lambda: w.plugin_ui.consent is not None and w.plugin_ui.consent.isVisible(), timeout=5000)
    question = w.plugin_ui.consent
    text = question.text() + question.informativeText()
    for said in ("saws", "0.3", "ACME tools", str(folder / "saws"), "machine kind saw", "runs with your privileges"):
        assert said in text, said
    question.allow_button.click()
    qtbot.waitUntil(lambda: ("saw", "saw") in _palette(w), timeout=5000)  # allowed: its kind is in the palette
    assert w.plugins.plugins["saws"].active
    assert any(key.startswith("saws @ folder: ") for key in settings.trusted_plugins)

    # the next start does not ask again
    again = window_with(_manager(folder, trusted=settings.trusted_plugins, disabled=settings.disabled_plugins))
    qtbot.wait(50)
    assert again.plugin_ui.consent is None and again.plugins.plugins["saws"].state in ("ready", "loaded")


def test_a_refused_plugin_stays_off_and_unattended_runs_never_ask(window_with, qtbot, tmp_path, settings, caplog):
    code = "def register(api):\n    api.add_machine_kind('saw2', 'Saw', (10, 20, 30), 'saw.stl')\n"
    folder = tmp_path / "user_plugins"
    _plugin(folder, "saws2", code, {"machine_kinds": ["saw2"]})
    _plugin(folder, "older", "def register(api): pass\n", {}, api="0.9")
    unattended = window_with(_manager(folder), ask=False)
    said = "Plugin(s) not loaded: older (Help ▸ Plugins says why)"  # a refused API version
    qtbot.waitUntil(lambda: unattended.statusBar().currentMessage() == said, timeout=5000)
    assert unattended.plugin_ui.consent is None and unattended.plugins.plugins["saws2"].state == "new"
    assert "saws2" in caplog.text and "stays off until allowed" in caplog.text
    w = window_with(_manager(folder))
    qtbot.waitUntil(lambda: w.plugin_ui.consent is not None, timeout=5000)
    w.plugin_ui.consent.refuse_button.click()
    qtbot.waitUntil(lambda: "saws2" in settings.disabled_plugins, timeout=2000)
    assert w.plugins.plugins["saws2"].state == "disabled" and ("saw2", "saw2") not in _palette(w)
    assert not settings.trusted_plugins


def test_a_failing_plugin_leaves_the_palette_and_its_panel_goes(window_with, qtbot, tmp_path):
    code = """
        def register(api):
            api.add_machine_kind("saw3", "Saw", (10, 20, 30), "saw.stl")
            api.add_panel("Saw panel", lambda api: 1 / 0)
    """
    folder = tmp_path / "bundled"
    _plugin(folder, "saws3", code, {"machine_kinds": ["saw3"], "panels": ["Saw panel"]})
    w = window_with(_manager(folder, bundled=True))
    assert ("saw3", "saw3") in _palette(w)
    dock = next(d for d in w.plugin_docks if d.windowTitle() == "Saw panel")
    messages = []
    w.statusBar().messageChanged.connect(messages.append)
    dock.show()
    dock.raise_()
    qtbot.waitUntil(lambda: w.plugins.plugins["saws3"].state == "failed", timeout=5000)
    qtbot.waitUntil(lambda: ("saw3", "saw3") not in _palette(w), timeout=5000)  # its kind left the palette
    qtbot.waitUntil(lambda: not any(d.windowTitle() == "Saw panel" for d in w.plugin_docks), timeout=5000)
    panels = [a.text() for a in w.panels_menu.actions()]  # only its panel left View ▸ Panels
    assert w.plugin_ui.dock_of("floortwin", "Properties") is w.properties_dock  # the built-in panel stays
    assert "Saw panel" not in panels and {d.windowTitle() for d in w.docks.all()} <= set(panels)
    assert [m for m in messages if "Plugin saws3 was disabled: failed while running: ZeroDivisionError" in m]
    from app.model.kinds import get_kind

    assert get_kind("saw3") is None
    w.show_plugins()
    table = w.plugins_dialog.table
    row = [table.item(i, 1).text() for i in range(table.rowCount())].index("saws3")
    assert table.item(row, 3).text() == "failed" and "ZeroDivisionError" in table.item(row, 5).text()
    w.plugins_dialog.close()


def test_a_kpi_raising_during_a_comparison_is_reported_on_the_gui_thread(window_with, qtbot, tmp_path):
    code = """
        def register(api):
            api.add_kpi("broken", "Broken", "", lambda observation: 1 / 0)
    """
    folder = tmp_path / "bundled"
    _plugin(folder, "badkpi", code, {"kpis": ["broken"]})
    w = window_with(_manager(folder, bundled=True))
    assert w.files.open_demo()
    messages, threads = [], []

    def heard(message: str) -> None:  # a plain callable: it runs on the thread that changed the status bar
        messages.append(message)
        threads.append(threading.current_thread())

    w.statusBar().messageChanged.connect(heard)
    failed_on = []
    w.plugins.failed.connect(lambda plugin: failed_on.append(threading.current_thread()))
    dock = w.whatif_dock
    dock.window_min.setValue(0)
    entry = dock.service.new_scenario("current", name="Plugin KPI")
    dock.service.update_scenario(entry, entry.scenario.model_copy(update={"horizon_s": 12 * 3600.0, "replications": 2}))
    run_to_done(qtbot, dock.service, entry)
    cmp = comparison_of(qtbot, dock, entry, timeout_ms=30000)
    assert cmp.comparison.rows and not [r for r in cmp.comparison.rows if r.key == "broken"]  # left out
    qtbot.waitUntil(lambda: any("Plugin badkpi was disabled" in m for m in messages), timeout=5000)
    assert failed_on and failed_on[0] is not threading.main_thread()  # the KPI raised on the comparison's worker
    assert set(threads) == {threading.main_thread()}  # yet the status bar was only touched on the GUI thread
    assert w.plugins.plugins["badkpi"].state == "failed" and w.plugins.kpis == {}
    cmp.close()


def test_a_factory_file_using_a_plugins_kind_opens_from_the_command_line(tmp_path):
    from app.cli import _plugins
    from app.model.io import load_factory
    from app.model.problems import FactoryFileError

    f = json.loads((ROOT / "assets" / "factories" / "demo.json").read_text())
    f["machines"][0]["kind"] = "laser_cutter"
    path = tmp_path / "laser.json"
    path.write_text(json.dumps(f))
    with pytest.raises(FactoryFileError, match="unknown machine kind"):
        load_factory(path)  # nobody to ask for the kind: refused, naming it
    m = _plugins()  # what the command line makes before it reads the file
    try:
        assert m.plugins["laser-cutter"].state == "ready"
        assert load_factory(path).machines[0].kind == "laser_cutter"
        assert m.plugins["laser-cutter"].active and not m.plugins["energy"].active  # only what the file needs
    finally:
        m.close()
