"""A machine's properties as a property editor shows them: sections of (property, value) texts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from app.model.factory import Distribution, Machine, MachineSim
from app.model.kinds import get_kind


class AssetInfo(Protocol):
    """What the properties say of a machine's loaded mesh (``app.assets.MeshAsset`` has it)."""

    @property
    def placeholder(self) -> bool: ...

    @property
    def warning(self) -> str | None: ...

    @property
    def n_triangles(self) -> int: ...


def distribution_text(d: Distribution) -> str:
    """A time distribution in a few words: ``lognormal, mean 42 s, CV 0.1``."""
    if d.kind == "deterministic":
        return f"{d.mean_s:g} s"
    if d.kind == "exponential":
        return f"exponential, mean {d.mean_s:g} s"
    if d.kind == "lognormal":
        return f"lognormal, mean {d.mean_s:g} s, CV {d.cv:g}"
    return f"empirical, {len(d.samples_s)} samples"


def tag_text(m: Machine, signal: str, units: Mapping[str, str]) -> str:
    """A binding as the dock shows it: the node, the server's unit, a state mapping other than auto."""
    text = m.tags[signal]
    if units.get(signal):
        text += f"  [{units[signal]}]"
    mapping = m.states.get(signal)
    if mapping is not None and mapping != "auto":
        text += f"  (states: {mapping if isinstance(mapping, str) else 'table of ' + str(len(mapping))})"
    return text


def machine_properties(
    m: Machine, asset: AssetInfo | None = None, units: Mapping[str, str] | None = None
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The rows a property view shows for a machine: (section, [(property, value)]); ``asset`` is its loaded
    mesh (None: not loaded), ``units`` the engineering units the server gives for its bound signals.

    >>> from app.model.factory import Machine
    >>> m = Machine.model_validate(
    ...     {"id": "CNC-01", "name": "Lathe", "kind": "cnc", "asset": "lathe", "pose": {"x_m": 1, "y_m": 2},
    ...      "footprint": {"width_m": 2, "depth_m": 1}}
    ... )
    >>> dict(dict(machine_properties(m))["Placement"])["Position"]
    'x 1.00 m, y 2.00 m'
    """
    kind = get_kind(m.kind)
    asset_text = m.asset
    if asset is not None and asset.placeholder:
        asset_text += "  ⚠ placeholder: " + (asset.warning or "")
    elif asset is not None:
        asset_text += f"  ({asset.n_triangles:,} triangles)"
    sim = m.sim
    rows = [
        (
            "Identity",
            [
                ("Id", m.id),
                ("Name", m.name),
                ("Kind", kind.label if kind else m.kind),
                *([("Area", m.area)] if m.area else []),
                ("Line", m.line or "—"),
                *([("Cell", m.cell)] if m.cell else []),
                ("Asset", asset_text),
            ],
        ),
        (
            "Placement",
            [
                ("Position", f"x {m.pose.x_m:.2f} m, y {m.pose.y_m:.2f} m"),
                ("Rotation", f"{m.pose.yaw_deg:.1f}°"),
                ("Footprint", f"{m.footprint.width_m:.2f} × {m.footprint.depth_m:.2f} m"),
                ("Clearance", f"{m.clearance_m:.2f} m"),
            ],
        ),
        (
            "Simulation",
            [
                ("Cycle time", distribution_text(sim.cycle)),
                ("Setup", f"{sim.setup_s:g} s"),
                ("MTBF / MTTR", _failures_text(sim)),
                ("Servers", str(sim.servers)),
                *([("Batch", f"{sim.batch} parts per cycle")] if sim.batch > 1 else []),
                ("Input buffer", str(sim.input_buffer)),
                ("Power busy / idle", f"{sim.power_busy_kw:g} / {sim.power_idle_kw:g} kW"),
            ],
        ),
        ("OPC UA tags", [(k, tag_text(m, k, units or {})) for k in sorted(m.tags)] or [("—", "no bindings")]),
    ]
    return rows


def _failures_text(sim: MachineSim) -> str:
    """MTBF / MTTR in a few words, with what a failure stops and what its clock counts when not the default.

    >>> _failures_text(MachineSim(mtbf_s=28800, mttr_s=1800))
    '8.0 h / 30 min'
    >>> _failures_text(MachineSim(mtbf_s=28800, mttr_s=1800, servers=2, failures="per_server", failure_clock="operating"))
    '8.0 h / 30 min, each server on its own, in operating time'
    """
    if not (sim.mtbf_s and sim.mttr_s):
        return "no failures"
    text = f"{sim.mtbf_s / 3600:.1f} h / {sim.mttr_s / 60:.0f} min"
    if sim.failures == "per_server" and sim.servers > 1:
        text += ", each server on its own"
    if sim.failure_clock == "operating":
        text += ", in operating time"
    return text
