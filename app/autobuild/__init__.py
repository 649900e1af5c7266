"""Build a twin from a server's address space: find OPC UA for Machinery machines (``discovery``), say what was
found (``preview``), and place and bind them in a factory (``build``). No Qt."""
