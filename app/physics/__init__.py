"""Collision and clearance checks of a layout (pybullet; no Qt, no VTK)."""
