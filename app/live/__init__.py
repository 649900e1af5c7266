"""Live plant data: the OPC UA plant simulator (``plantsim``) and, later, the OPC UA client side."""
