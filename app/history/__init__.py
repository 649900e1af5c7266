"""Recorded history of every live value (the actuals): SQLite with WAL, batched writes, queries, replay."""
