"""Mesh assets: every format loads and is normalised; broken meshes become placeholders, never crashes."""

from __future__ import annotations

import math
import os
import time

import numpy as np
import pytest
import trimesh

from app.assets import AssetError, AssetLibrary, load_factory_assets, load_mesh_file, normalise
from app.model.io import load_factory
from app.paths import ASSETS_DIR


def _box_file(tmp_path, suffix, extents=(2.0, 1.0, 0.5), offset=(10.0, -3.0, 4.0), transform=None):
    mesh = trimesh.creation.box(extents=extents)
    mesh.apply_translation(offset)
    if transform is not None:
        mesh.apply_transform(transform)
    p = tmp_path / f"box{suffix}"
    mesh.export(p)
    return p


@pytest.mark.parametrize("suffix", [".stl", ".obj", ".ply"])
def test_formats_load_normalised(tmp_path, suffix):
    a = load_mesh_file(_box_file(tmp_path, suffix))
    assert not a.placeholder
    np.testing.assert_allclose(a.extents, [2.0, 1.0, 0.5], atol=1e-5)
    lo, hi = a.vertices.min(axis=0), a.vertices.max(axis=0)
    np.testing.assert_allclose((lo[:2] + hi[:2]) / 2, [0, 0], atol=1e-5)  # footprint centre at the origin
    assert lo[2] == pytest.approx(0.0, abs=1e-6)  # standing on the floor
    assert a.faces.dtype == np.int32 and a.vertices.dtype == np.float32
    assert len(a.hull_faces) >= 4


def test_gltf_is_y_up_and_converted(tmp_path):
    # A box tall along Y, as glTF stores "up": after loading, it must be tall along Z.
    p = _box_file(tmp_path, ".glb", extents=(1.0, 3.0, 2.0))
    a = load_mesh_file(p)
    np.testing.assert_allclose(a.extents, [1.0, 2.0, 3.0], atol=1e-5)
    b = load_mesh_file(p, up_axis="z")
    np.testing.assert_allclose(b.extents, [1.0, 3.0, 2.0], atol=1e-5)


def test_units_are_converted_to_metres(tmp_path):
    p = _box_file(tmp_path, ".stl", extents=(2000.0, 1000.0, 500.0), offset=(0, 0, 0))
    np.testing.assert_allclose(load_mesh_file(p, units="mm").extents, [2.0, 1.0, 0.5], rtol=1e-5)
    with pytest.raises(AssetError, match="check its units"):
        load_mesh_file(p, units="m")


def test_bundled_meshes_load(demo_path):
    f = load_factory(demo_path)
    assets = load_factory_assets(f, demo_path, AssetLibrary())
    assert set(assets) == set(f.assets)
    for key, a in assets.items():
        assert not a.placeholder, (key, a.warning)
        assert 100 <= a.n_triangles <= 5000
        assert a.extents[2] > 0.8  # everything stands up: Z is up after normalisation


@pytest.mark.parametrize(
    "content,suffix,reason",
    [
        (b"", ".stl", "file is empty"),
        (b"\x00\x01garbage" * 100, ".stl", "mesh has no triangles"),
        (b"not a mesh", ".ply", "cannot read mesh"),
        (b"v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\n", ".obj", "degenerate"),
        (b"hello", ".fbx", "unsupported mesh format"),
    ],
)
def test_broken_files_become_visible_placeholders(tmp_path, content, suffix, reason, caplog):
    p = tmp_path / f"broken{suffix}"
    p.write_bytes(content)
    a = AssetLibrary().load(p)
    assert a.placeholder
    assert reason in a.warning
    assert a.n_triangles == 12 and a.extents[2] > 0
    assert any("placeholder" in r.getMessage() for r in caplog.records)


def test_missing_file_is_a_placeholder(tmp_path):
    a = AssetLibrary().load(tmp_path / "nope.glb")
    assert a.placeholder and "file not found" in a.warning


def test_non_finite_and_zero_area_triangles_are_dropped():
    box = trimesh.creation.box(extents=(1, 1, 1))
    v = np.vstack([box.vertices, [[np.nan, 0, 0], [5, 5, 5]]])
    n = len(box.vertices)
    f = np.vstack([box.faces, [[0, 1, n]], [[n + 1, n + 1, n + 1]]])
    a = normalise(trimesh.Trimesh(v, f, process=False), "x.stl")
    assert a.n_triangles == 12
    assert any("non-finite" in note for note in a.notes) and any("zero-area" in note for note in a.notes)
    np.testing.assert_allclose(a.extents, [1, 1, 1], atol=1e-6)


def test_library_caches_and_reloads_changed_files(tmp_path):
    lib = AssetLibrary()
    p = _box_file(tmp_path, ".stl")
    a1 = lib.load(p)
    assert lib.load(p) is a1
    time.sleep(0.01)
    trimesh.creation.box(extents=(3, 3, 3)).export(p)
    os.utime(p, ns=(time.time_ns(), time.time_ns() + 10**9))
    a2 = lib.load(p)
    assert a2 is not a1 and math.isclose(a2.extents[0], 3.0, rel_tol=1e-5)


def test_concave_mesh_gets_a_convex_hull():
    l_shape = trimesh.util.concatenate([trimesh.creation.box(extents=(3, 1, 1)), trimesh.creation.box(extents=(1, 3, 1))])
    a = normalise(l_shape, "l.stl")
    hull = trimesh.Trimesh(a.hull_vertices, a.hull_faces)
    assert hull.is_convex
    assert ASSETS_DIR.exists()
