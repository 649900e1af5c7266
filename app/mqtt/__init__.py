"""MQTT as a data source: Sparkplug B edge nodes and plain JSON topics, fed into the live session like
OPC UA values (no Qt; the client runs paho-mqtt's own thread and reports on the network loop)."""
