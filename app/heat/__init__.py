"""Heat maps of the floor: numpy only (no Qt, no VTK)."""
