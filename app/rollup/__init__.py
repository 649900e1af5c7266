"""KPI roll-up over the plant hierarchy (ISA-95): sums and time-weighted means for every group at once.

Plain numpy over ``app.model.hierarchy.PlantTree``'s index arrays; no Qt. ``LiveRollup`` follows the live
state store, ``roll_up`` does the arithmetic and ``texts`` says it in words for the tree.
"""
