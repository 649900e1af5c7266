"""The drift watchdog: change detection on the plant against its model (Qt-free; see docs/closed-loop.md)."""
