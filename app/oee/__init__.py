"""OEE (availability × performance × quality) with its loss tree and downtime reasons, per machine and per
group of the plant hierarchy, from a simulation run or from recorded history with the same definitions
(``losses``); no Qt. ``service.OeeService`` computes it off the GUI thread for the dashboard."""
