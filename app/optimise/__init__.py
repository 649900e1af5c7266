"""Optimisation without Qt: material-flow analysis (from-to matrix, transport effort along the travel
network), the layout optimiser (`app.optimise.layout`: movable machines, region, slots; a Pareto front of
effort, rearrangement and area; every candidate checked by the layout editor's collision world; the best
validated by simulation) and the slot-assignment search (the quadratic assignment problem).

``python -m app.optimise --help`` lists what runs headless today.
"""
