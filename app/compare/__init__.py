"""Optimise layer: KPIs shared by simulations and history, scenario-vs-baseline-vs-actual diffs, calibration."""
