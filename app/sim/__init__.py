"""Discrete-event production simulation: plain Python + numpy, no GUI.

``compile_model`` turns a factory into a ``SimModel``; ``simulate`` runs one replication;
``run_replications`` runs many (across processes) and ``summarise`` gives KPIs with 95% confidence
intervals. ``python -m app.sim run FACTORY`` does all of it from the command line.
"""
