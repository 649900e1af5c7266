"""Optimisation without Qt: material-flow analysis (from-to matrix, transport effort along the travel
network) and the slot-assignment search (the quadratic assignment problem).

The layout and scenario optimisers of issue 17 build on these; ``python -m app.optimise --help`` lists
what runs headless today.
"""
