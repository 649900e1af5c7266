"""Optimisation without Qt: material-flow analysis (from-to matrix, transport effort along the travel
network), the layout optimiser (`app.optimise.layout`: movable machines, region, slots; a Pareto front of
effort, rearrangement and area; every candidate checked by the layout editor's collision world; the best
validated by simulation), the scenario optimiser (`app.optimise.params`: buffers, servers, release rates,
transport speeds and a WIP cap chosen by simulation with common random numbers, the best proven by the
Kim–Nelson selection in `app.optimise.selection`) and the slot-assignment search (the quadratic assignment
problem).

``python -m app.optimise --help`` lists what runs headless today.
"""
