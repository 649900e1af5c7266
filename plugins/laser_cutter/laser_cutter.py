"""Laser cutter: a machine kind with its own mesh, shipped in this folder (``laser_cutter.stl``)."""

from __future__ import annotations


def register(api) -> None:
    api.add_machine_kind(
        "laser_cutter",
        "Laser cutter",
        (240, 228, 66),  # Okabe–Ito yellow: distinct from the built-in kinds
        "laser_cutter.stl",
        "Flatbed CO₂/fibre laser cutting machine",
    )
