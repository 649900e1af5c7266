"""Small machines for the layout optimiser's tests: a unit box mesh and machines standing on it."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.model.factory import Footprint, Machine, Pose

BOX = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (0.0, 1.0)])
HULLS = {"box": (BOX, np.array([1.0, 1.0, 1.0]))}


def machine(
    mid: str, x: float, y: float, w: float = 2.0, d: float = 2.0, clearance: float = 0.5, sim: dict[str, Any] | None = None
) -> Machine:
    """A w × d box machine at (x, y), with its simulation parameters when given."""
    return Machine(
        id=mid,
        name=mid,
        kind="cnc",
        asset="box",
        pose=Pose(x_m=x, y_m=y),
        footprint=Footprint(width_m=w, depth_m=d, height_m=1.0),
        clearance_m=clearance,
        **({"sim": sim} if sim is not None else {}),
    )
