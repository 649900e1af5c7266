"""The plugin manager without Qt: listed from manifests, loaded when first needed, asked about when new,
fully unregistered when anything it gave raises."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

from app.model.io import resolve_asset_path
from app.model.kinds import get_kind, known_kinds
from app.plugins import API_VERSION
from tests.conftest import ROOT

KIND = """
    from pathlib import Path
    def register(api):
        (Path(api.folder) / "saw.stl").write_text("solid s\\nendsolid s\\n")
        api.add_machine_kind("saw_{n}", "Saw", (1, 2, 3), "saw.stl")
        api.add_kpi("k_{n}", "K", "u", lambda o: 1.0)
"""


def _imported(prefix: str = "floortwin_plugins.") -> list[str]:
    return sorted(m for m in sys.modules if m.startswith(prefix))


def test_the_bundled_plugins_are_listed_from_their_manifests_and_load_when_needed(manager):
    before = _imported()
    m = manager(ROOT / "plugins")
    states = {p.name: (p.state, p.version, p.error, p.bundled) for p in m.plugins.values()}
    assert states == {
        "csv-replay": ("ready", "1.1.0", "", True),
        "energy": ("ready", "1.1.0", "", True),
        "laser-cutter": ("ready", "1.1.0", "", True),
    }
    assert _imported() == before  # no plugin code ran yet
    # what is listed without importing: heat layers (unit unknown yet) and panels
    assert m.heat_layer_units() == {"Power share": ""} and m.panels() == [("energy", "Energy")]
    # a factory file's kind is needed: only that plugin loads, and its mesh is found
    kind = get_kind("laser_cutter")
    assert kind is not None and m.plugins["laser-cutter"].active and not m.plugins["energy"].active
    assert resolve_asset_path(kind.asset_path, None).is_file()
    # a comparison needs KPIs: energy loads; then its layer's unit is known
    assert set(m.kpis) == {"energy_per_part"} and m.plugins["energy"].active
    assert m.heat_layer_units() == {"Power share": "%"}
    assert not m.plugins["csv-replay"].active
    assert m.data_source("csv").label == "CSV replay" and m.plugins["csv-replay"].active
    assert m.data_source("mqtt") is None


def test_broken_plugins_are_reported_and_the_rest_load(tmp_path, manager, write_plugin):
    write_plugin(tmp_path, "good", "def register(api):\n    api.add_kpi('k', 'K', 'u', lambda o: 1.0)\n", {"kpis": ["k"]})
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "plugin.json").write_text("{not json")
    write_plugin(tmp_path, "needs", "def register(api): pass\n", requires=["no_such_package_xyz"])
    raising = "def register(api):\n    api.add_kpi('r', 'R', 'u', lambda o: 1.0)\n    raise RuntimeError('boom')\n"
    write_plugin(tmp_path, "raises", raising, {"kpis": ["r"]})
    clash = {"name": "good", "version": "1", "api": "1.0", "module": "mod"}
    write_plugin(tmp_path, "z_clash", "def register(api): pass\n", manifest=clash)
    write_plugin(tmp_path, "noreg", "X = 1\n", {"kpis": ["n"]})
    write_plugin(tmp_path, "future", "def register(api): pass\n", api="2.0")
    write_plugin(tmp_path, "sneaky", "def register(api):\n    api.add_kpi('s2', 'S', 'u', lambda o: 1.0)\n", {"kpis": ["s"]})
    write_plugin(tmp_path, "lazy", "def register(api): pass\n", {"panels": ["Lazy"]})
    (tmp_path / "nomanifest").mkdir()
    m = manager(tmp_path)
    failures = []
    m.failed.connect(failures.append)
    kpis = m.kpis  # loads every KPI plugin
    by = {p.source.rsplit("/", 1)[-1]: p for p in m.plugins.values()}
    assert by["good"].state == "loaded" and set(kpis) == {"k"}
    assert by["broken"].state == "failed" and "broken plugin.json: not JSON" in by["broken"].error
    assert by["needs"].state == "failed" and "missing dependency: no_such_package_xyz" in by["needs"].error
    assert by["raises"].state == "failed" and "RuntimeError: boom" in by["raises"].error and "r" not in m.kpis  # undone
    assert by["z_clash"].state == "skipped" and "name clash" in by["z_clash"].error
    assert by["noreg"].state == "failed" and "register(api)" in by["noreg"].error
    assert by["future"].state == "failed"
    needs = f"written for plugin API 2.0; this floortwin has API {API_VERSION} (a plugin for API 1.x is needed)"
    assert by["future"].error == needs
    assert by["sneaky"].state == "failed" and "KPI 's2' is not declared in the manifest's provides.kpis" in by["sneaky"].error
    assert by["nomanifest"].state == "failed" and "no plugin.json" in by["nomanifest"].error
    assert by["lazy"].state == "ready"  # nothing asked for its panel yet
    assert m.make_panel("lazy", "Lazy") is None and by["lazy"].state == "failed"
    assert "the manifest declares panel 'Lazy' but register(api) did not add it" in by["lazy"].error
    assert sorted(p.name for p in failures) == ["lazy", "noreg", "raises", "sneaky"]  # each once


def test_new_plugins_wait_for_the_user_and_choices_are_kept(tmp_path, manager, write_plugin):
    write_plugin(tmp_path, "fresh", "def register(api):\n    api.add_kpi('f', 'F', 'u', lambda o: 1.0)\n", {"kpis": ["f"]})
    write_plugin(tmp_path, "known", "def register(api):\n    api.add_kpi('g', 'G', 'u', lambda o: 2.0)\n", {"kpis": ["g"]})
    write_plugin(tmp_path, "off", "def register(api):\n    api.add_kpi('o', 'O', 'u', lambda o: 3.0)\n", {"kpis": ["o"]})
    probe = manager()
    keys = {p.name: p.trust_key for p in probe.discover([tmp_path], entry_points=False)}
    m = manager(tmp_path, trusted_folders=[], trusted=[keys["known"], keys["off"]], disabled=["off"])
    assert {p.name: p.state for p in m.plugins.values()} == {"fresh": "new", "known": "ready", "off": "disabled"}
    assert [p.name for p in m.new_plugins()] == ["fresh"]
    assert set(m.kpis) == {"g"}  # a new plugin does not run before it is allowed
    m.allow("fresh")
    assert set(m.kpis) == {"f", "g"}
    m.refuse("known")  # only new plugins are refused: an allowed one stays
    assert m.plugins["known"].state == "loaded"
    # the same name somewhere else is another plugin: asked about again
    elsewhere = tmp_path / "elsewhere"
    write_plugin(elsewhere, "known", "def register(api): pass\n")
    other = manager(elsewhere, trusted_folders=[], trusted=[keys["known"]])
    assert other.plugins["known"].state == "new"


def test_a_plugin_failing_at_run_time_is_fully_unregistered(tmp_path, manager, write_plugin):
    code = KIND.format(n="run") + (
        "        api.add_heat_layer('Bad', '%', lambda state, f: 1 / 0)\n"
        "        api.add_data_source('bad', 'Bad', lambda *a: None)\n"
        "        api.add_panel('Bad panel', lambda api: object())\n"
    )
    provides = {
        "machine_kinds": ["saw_run"],
        "kpis": ["k_run"],
        "heat_layers": ["Bad"],
        "data_sources": ["bad"],
        "panels": ["Bad panel"],
    }
    write_plugin(tmp_path, "flaky", code, provides)
    m = manager(tmp_path)
    failures = []
    m.failed.connect(failures.append)
    assert "saw_run" in known_kinds() and m.plugins["flaky"].active
    asset = get_kind("saw_run").asset_path
    assert resolve_asset_path(asset, None) == tmp_path / "flaky" / "saw.stl"
    store = _store()
    values, _unit = m.heat_values("Bad", store, 0.0, None)  # the layer raises: NaN, and the plugin goes
    assert np.isnan(values).all() and len(values) == 2
    assert [p.name for p in failures] == ["flaky"] and "ZeroDivisionError" in m.plugins["flaky"].error
    assert m.plugins["flaky"].error.startswith("failed while running: ZeroDivisionError")
    # all of it goes: kind (and so the palette's entry), asset root, KPI, layer, data source, panel
    assert get_kind("saw_run") is None and "saw_run" not in known_kinds()
    assert resolve_asset_path(asset, None) != tmp_path / "flaky" / "saw.stl"
    assert m.kpis == {} and m.heat_layer_units() == {} and m.data_source("bad") is None and m.panels() == []
    assert m.heat_values("Bad", store, 0.0, None) is None
    assert m.guard("flaky", lambda: 1, default="off") == "off"  # a disabled plugin is not called
    assert len(failures) == 1  # reported once


def test_a_kpi_raising_on_a_worker_thread_is_reported_through_the_signal(tmp_path, manager, write_plugin):
    write_plugin(tmp_path, "kpi", "def register(api):\n    api.add_kpi('bad', 'Bad', 'u', lambda o: 1 / 0)\n", {"kpis": ["bad"]})
    m = manager(tmp_path)
    assert set(m.kpis) == {"bad"}  # loaded where the comparison is asked for
    heard = []
    m.failed.connect(lambda p: heard.append((p.name, threading.current_thread())))
    out = {}
    worker = threading.Thread(target=lambda: out.update(m.extra_kpis(object())))
    worker.start()
    worker.join(10)
    assert out == {} and heard == [("kpi", worker)] and m.kpis == {}
    assert m.plugins["kpi"].state == "failed"


def test_the_facade_reads_the_application_and_relays_its_events(tmp_path, manager, write_plugin, demo_path):

    code = """
        seen = []
        def register(api):
            api.add_kpi("seen", "Seen", "", lambda o: float(len(seen)))
            api.events.document_replaced.connect(lambda f: seen.append(("replaced", f.name)))
            api.events.document_changed.connect(lambda f: seen.append(("changed", len(f.machines))))
            api.events.selection_changed.connect(lambda ids: seen.append(("selected", ids)))
            api.events.live_values.connect(lambda state: seen.append(("values", float(state.column("Power")[0]))))
            global API
            API = api
    """
    write_plugin(tmp_path, "watcher", code, {"kpis": ["seen"]})
    m = manager(tmp_path)
    m.load("watcher")
    module = sys.modules["floortwin_plugins.watcher.mod"]
    api, seen = module.API, module.seen
    assert api.version == API_VERSION and api.factory is None and api.state() is None and api.selection == ()
    doc, sel = _document(demo_path)
    m.host.set_document(doc)
    m.host.set_selection(sel)
    store = _store()
    m.host.set_state_source(lambda: (store, 5.0))
    assert api.factory is doc.factory and seen == [("replaced", doc.factory.name)]
    sel.select(["M1"])
    m.host.publish_live()
    assert seen[-2:] == [("selected", ("M1",)), ("values", 10.0)] and api.selection == ("M1",)
    view = api.state()
    assert view.time == 5.0 and view.machines == ("M1", "M2")
    with pytest.raises(ValueError):
        view.column("Power")[0] = 1.0  # read-only: a plugin cannot change what the application shows
    # a callback that raises disables its plugin; its callbacks are dropped
    api.events.selection_changed.connect(lambda ids: 1 / 0)
    sel.select(["M2"])
    assert m.plugins["watcher"].state == "failed" and "ZeroDivisionError" in m.plugins["watcher"].error
    n = len(seen)
    m.host.publish_live()
    assert len(seen) == n and m.kpis == {}


def test_entry_point_plugins_are_found_with_the_manifest_in_their_package(tmp_path, monkeypatch, manager):
    site = tmp_path / "site"
    pkg = site / "ft_demo_plugin"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("def register(api):\n    api.add_kpi('ep', 'EP', 'u', lambda o: 2.0)\n")
    (pkg / "plugin.json").write_text('{"name": "ft-demo", "version": "2.0", "api": "1.0", "provides": {"kpis": ["ep"]}}')
    info = site / "ft_demo_plugin-2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ft-demo-plugin\nVersion: 2.0\n")
    (info / "entry_points.txt").write_text("[floortwin.plugins]\nft-demo = ft_demo_plugin\n")
    monkeypatch.syspath_prepend(str(site))
    m = manager()
    found = [p for p in m.discover([], entry_points=True) if p.name == "ft-demo"]
    assert found and found[0].version == "2.0" and "ft_demo_plugin" not in sys.modules  # listed, not imported
    keys = [p.trust_key for p in found]
    m.add(found, trusted=keys)
    assert m.plugins["ft-demo"].state == "ready" and "ep" in m.kpis and m.plugins["ft-demo"].active
    sys.modules.pop("ft_demo_plugin", None)


def _store():
    from app.state.store import StateStore, Update

    store = StateStore(["M1", "M2"], ["Power"])
    k = store.bind("M1", "Power", "ns=2;s=P1")
    store.ingest([Update(k, 10.0, received_ts=1.0)])
    store.flush()
    return store


def _document(path):
    from app.model.document import FactoryDocument
    from app.model.io import load_factory
    from app.model.selection import Selection

    return FactoryDocument(load_factory(path), path), Selection()


def test_the_plugin_manager_and_the_bundled_plugins_run_without_qt():
    import ast
    import subprocess

    code = (
        "import sys; from app.plugins import standard_plugins; from app.model.kinds import get_kind;"
        "m = standard_plugins(); assert get_kind('laser_cutter') is not None; assert m.kpis and m.data_source('csv');"
        "print([x for x in ('PySide6', 'vtkmodules', 'pyvista', 'pybullet') if x in sys.modules])"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    assert ast.literal_eval(r.stdout.strip().splitlines()[-1]) == []


def test_floortwin_s_own_panels_register_through_the_same_api_as_a_plugin_s(tmp_path, manager, write_plugin, demo_path):
    """Issue 15, item 4: built-in docks register through the plugin API (a built-in plugin), so the panel
    list is one registry; a plugin's panel and a built-in one are listed the same way."""
    from app.assets import placeholder_asset
    from app.plugins import Provides

    side = "def register(api):\n    api.add_panel('Side', lambda api: None, area='left')\n"
    write_plugin(tmp_path, "side", side, {"panels": ["Side"]})
    write_plugin(tmp_path, "floortwin", "def register(api): pass\n")  # a plugin under the built-in's name
    m = manager(tmp_path)
    seen = []

    def register(api):
        api.add_panel("Props", lambda api: seen.append(api.mesh(api.factory.machines[0].id)) or "widget", area="right")

    assert m.add_builtin("floortwin", register, Provides(panels=("Props",)), "own panels")
    builtin = m.plugins["floortwin"]
    assert builtin.active and builtin.builtin and builtin.source == "built in" and builtin.version
    clash = next(p for p in m.plugins.values() if p.name == "floortwin" and p is not builtin)
    assert clash.state == "skipped" and "built-in" in clash.error
    # one list of panels, the built-in's first; where each goes is what its plugin asked (bottom until loaded)
    assert m.panels() == [("floortwin", "Props"), ("side", "Side")]
    assert m.panel_area("floortwin", "Props") == "right" and m.panel_area("side", "Side") == "bottom"
    m.load("side")
    assert m.panel_area("side", "Side") == "left"
    # a panel reads the application through its api, the loaded meshes included (API 1.1)
    doc, _sel = _document(demo_path)
    mesh = placeholder_asset("x.stl", "missing")
    m.host.set_meshes({doc.factory.machines[0].asset: mesh})
    m.host.set_document(doc)
    assert m.make_panel("floortwin", "Props") == "widget" and seen == [mesh]
    assert m.host.mesh("no-such-machine") is None


def test_a_panel_must_say_a_side_the_window_has(tmp_path, manager, write_plugin):
    top = "def register(api):\n    api.add_panel('Top', lambda api: None, area='top')\n"
    write_plugin(tmp_path, "top", top, {"panels": ["Top"]})
    m = manager(tmp_path)
    assert not m.load("top")
    assert m.plugins["top"].state == "failed" and "area 'top' is not one of left, right, bottom" in m.plugins["top"].error
