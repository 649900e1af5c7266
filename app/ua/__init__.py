"""OPC UA helpers shared by the client (app.live) and the plant simulator (app.plant)."""
