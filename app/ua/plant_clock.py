"""Where floortwin's plant simulator publishes its clock, for the client that reads it (no asyncua needed).

The plant simulator (``app.plant.server``) runs its simulated time ``--speed`` times the wall clock and says
so in ``Objects/Plant/TimeScale`` (simulated seconds per wall second); a client connected to it
(``app.live.client``) reads that variable at every connection and measures the plant's durations and rates in
plant time. Another server has no such variable: the user says its clock speed (1: a real plant).

>>> TIME_SCALE_NODE
'nsu=urn:floortwin:plantsim;s=Plant/TimeScale'
"""

from __future__ import annotations

from typing import Final

#: The plant simulator's namespace URI.
PLANT_NAMESPACE: Final = "urn:floortwin:plantsim"
#: The string node id (in ``PLANT_NAMESPACE``) of the simulator's speed: simulated seconds per wall second.
TIME_SCALE_ID: Final = "Plant/TimeScale"
#: The same node, namespace by URI: whatever index the server gives the namespace.
TIME_SCALE_NODE: Final = f"nsu={PLANT_NAMESPACE};s={TIME_SCALE_ID}"
