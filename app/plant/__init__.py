"""The plant simulator: an OPC UA server that plays a factory file live (a server, not part of the client)."""
