"""Machine meshes: loading with trimesh, normalising, caching, and a visible fall-back for broken files.

A normalised asset is in metres, Z up, with its origin at the centre of its footprint on the floor
(bounding-box centre in X/Y, lowest point at Z = 0). Broken, empty or degenerate meshes never raise:
``AssetLibrary.load`` returns a placeholder box with ``placeholder=True`` and a ``warning`` to show.

Examples
--------
>>> from app.assets import AssetLibrary
>>> from app.paths import ASSETS_DIR
>>> a = AssetLibrary().load(ASSETS_DIR / "meshes" / "cnc.glb")
>>> bool(a.placeholder), bool(a.vertices[:, 2].min() == 0.0)
(False, True)
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import trimesh

log = logging.getLogger(__name__)

UNIT_TO_M = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254, "ft": 0.3048}
SUPPORTED_SUFFIXES = (".glb", ".gltf", ".stl", ".obj", ".ply")
#: Meshes above this many triangles are refused for display (decimation is the collision world's job).
MAX_TRIANGLES = 5_000_000
#: Files above this size are not even opened.
MAX_FILE_BYTES = 512 * 1024 * 1024


class AssetError(Exception):
    """A mesh file that cannot be used; the message says why."""


@dataclass(frozen=True, eq=False)
class MeshAsset:
    """A normalised triangle mesh ready to place on the floor.

    Attributes
    ----------
    vertices : (n, 3) float32 array, metres, Z up, origin at the footprint centre on the floor.
    faces : (m, 3) int32 array of vertex indices.
    hull_vertices, hull_faces : the convex hull (level of detail and collision proxy).
    placeholder : True when the file could not be used and this is the fall-back box.
    warning : why the placeholder is shown (None for a good mesh).
    """

    source: str
    vertices: np.ndarray
    faces: np.ndarray
    hull_vertices: np.ndarray
    hull_faces: np.ndarray
    placeholder: bool = False
    warning: str | None = None
    notes: tuple[str, ...] = field(default=())

    @cached_property
    def extents(self) -> np.ndarray:
        """Size along X, Y, Z in metres."""
        return (self.vertices.max(axis=0) - self.vertices.min(axis=0)).astype(float)

    @property
    def n_triangles(self) -> int:
        return len(self.faces)


def _as_arrays(mesh: trimesh.Trimesh) -> tuple[np.ndarray, np.ndarray]:
    return np.ascontiguousarray(mesh.vertices, dtype=np.float32), np.ascontiguousarray(mesh.faces, dtype=np.int32)


def _hull(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    try:
        hull = mesh.convex_hull
        if len(hull.faces) >= 4:
            return hull
    except Exception as e:  # qhull raises several unrelated types on flat or tiny input
        log.debug("convex hull failed: %s", e)
    return trimesh.creation.box(
        extents=np.maximum(mesh.extents, 1e-3), transform=trimesh.transformations.translation_matrix(mesh.bounds.mean(axis=0))
    )


def placeholder_note(asset_of: Mapping[str, MeshAsset]) -> str | None:
    """What to say of the meshes shown as placeholder boxes (None: every mesh loaded).

    >>> placeholder_note({"lathe": placeholder_asset("lathe.stl", "missing")})
    '1 mesh(es) could not be loaded and are shown as magenta boxes: lathe (see Log)'
    """
    broken = [k for k, a in asset_of.items() if a.placeholder]
    if not broken:
        return None
    return f"{len(broken)} mesh(es) could not be loaded and are shown as magenta boxes: {', '.join(broken)} (see Log)"


def placeholder_asset(source: str, warning: str, size_m: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> MeshAsset:
    """A box standing on the floor, flagged as a placeholder, for a mesh that could not be loaded."""
    box = trimesh.creation.box(extents=size_m)
    box.apply_translation([0, 0, size_m[2] / 2])
    v, f = _as_arrays(box)
    return MeshAsset(source, v, f, v, f, placeholder=True, warning=warning)


def load_mesh_file(path: str | os.PathLike[str], units: str = "m", up_axis: str = "auto") -> MeshAsset:
    """Load one mesh file and normalise it.

    Raises
    ------
    AssetError
        When the file is missing, unreadable, not a supported format, empty or degenerate.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise AssetError(f"{p.name}: unsupported mesh format {suffix or '(none)'} (use {', '.join(SUPPORTED_SUFFIXES)})")
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise AssetError(f"{p.name}: file not found ({p})") from None
    if size > MAX_FILE_BYTES:
        raise AssetError(f"{p.name}: file is {size / 1e6:.0f} MB, too large for a machine mesh")
    if size == 0:
        raise AssetError(f"{p.name}: file is empty")
    try:
        loaded = trimesh.load(str(p), force="mesh", process=False)
    except Exception as e:  # trimesh's loaders raise many types for corrupt input; all mean "cannot read"
        raise AssetError(f"{p.name}: cannot read mesh ({type(e).__name__}: {e})") from None
    if not isinstance(loaded, trimesh.Trimesh):
        raise AssetError(f"{p.name}: no triangle mesh in the file")
    return normalise(
        loaded, str(p), units=units, up_axis=("y" if suffix in (".glb", ".gltf") else "z") if up_axis == "auto" else up_axis
    )


def normalise(mesh: trimesh.Trimesh, source: str, units: str = "m", up_axis: str = "z") -> MeshAsset:
    """Metres, Z up, origin at the footprint centre; drop non-finite and degenerate triangles."""
    name = Path(source).name
    notes: list[str] = []
    if len(mesh.faces) == 0 or len(mesh.vertices) == 0:
        raise AssetError(f"{name}: mesh has no triangles")
    if len(mesh.faces) > MAX_TRIANGLES:
        raise AssetError(f"{name}: {len(mesh.faces):,} triangles is more than {MAX_TRIANGLES:,}; decimate it first")
    v = np.asarray(mesh.vertices, dtype=np.float64)
    f = np.asarray(mesh.faces, dtype=np.int64)
    if f.min() < 0 or f.max() >= len(v):
        raise AssetError(f"{name}: faces refer to vertices that do not exist")
    finite = np.asarray(np.isfinite(v).all(axis=1))
    if not finite.all():
        keep = finite[f].all(axis=1)
        notes.append(f"dropped {int((~keep).sum())} triangles with non-finite vertices")
        f = f[keep]
    # Zero-area triangles draw nothing and break normals and hulls.
    if len(f):
        tri = v[f]
        area2 = np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
        good = area2 > 1e-12 * max(1.0, float(np.nanmax(np.abs(v[finite])) ** 2))
        if not good.all():
            notes.append(f"dropped {int((~good).sum())} zero-area triangles")
            f = f[good]
    if len(f) == 0:
        raise AssetError(f"{name}: mesh is degenerate (no triangle with an area)")
    used = np.unique(f)
    remap = np.full(len(v), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    v, f = v[used], remap[f]

    v = v * UNIT_TO_M[units]
    if up_axis == "y":  # Y-up (glTF) → Z-up: (x, y, z) → (x, -z, y)
        v = np.column_stack([v[:, 0], -v[:, 2], v[:, 1]])
    lo, hi = v.min(axis=0), v.max(axis=0)
    ext = hi - lo
    if (ext < 1e-4).sum() >= 2 or ext.max() < 1e-3:
        raise AssetError(f"{name}: mesh is degenerate (extents {ext[0]:.3g} × {ext[1]:.3g} × {ext[2]:.3g} m)")
    if ext.max() > 1000:
        raise AssetError(f"{name}: mesh is {ext.max():.0f} m across; check its units (given: {units})")
    v = v - [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]]
    clean = trimesh.Trimesh(vertices=v, faces=f, process=False)
    hull = _hull(clean)
    cv, cf = _as_arrays(clean)
    hv, hf = _as_arrays(hull)
    return MeshAsset(source, cv, cf, hv, hf, notes=tuple(notes))


class AssetLibrary:
    """Loads meshes once and hands out the cached result; thread-safe (loading can run in a worker).

    The cache key includes the file's size and modification time, so an edited file is reloaded.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int, int, str, str], MeshAsset] = {}
        self._lock = threading.Lock()

    def load(self, path: str | os.PathLike[str], units: str = "m", up_axis: str = "auto") -> MeshAsset:
        """The normalised mesh at ``path``, or a placeholder box with a warning if it cannot be used."""
        p = Path(path)
        try:
            st = p.stat()
            key = (str(p.resolve()), st.st_size, st.st_mtime_ns, units, up_axis)
        except OSError:
            key = (str(p), -1, -1, units, up_axis)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        try:
            asset = load_mesh_file(p, units, up_axis)
            for note in asset.notes:
                log.info("%s: %s", p.name, note)
        except AssetError as e:
            log.warning("%s — showing a placeholder box", str(e))
            asset = placeholder_asset(str(p), str(e))
        with self._lock:
            self._cache[key] = asset
        return asset

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


def load_factory_assets(factory, factory_path: str | os.PathLike[str] | None, library: AssetLibrary) -> dict[str, MeshAsset]:
    """Load every asset a factory defines (asset id → mesh); bad files become placeholders."""
    from app.model.io import resolve_asset_path

    return {
        key: library.load(resolve_asset_path(ref.path, factory_path), ref.units, ref.up_axis)
        for key, ref in factory.assets.items()
    }
