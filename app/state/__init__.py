"""Live state: the store of latest values, their quality and age, and what colour a machine shows."""
