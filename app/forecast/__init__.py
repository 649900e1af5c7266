"""Forecasts from the live state: will the plant make its target by the end of the shift?

Qt-free: ``live_state`` reads what the plant says, ``start`` turns it into a simulation's start, ``forecast``
runs the replications and makes the band and the probability, ``service`` runs them in the background.
"""
