"""Trust-gated deployment of a scenario's changes to the plant: staged OPC UA setpoint writes, each stage
watched against the twin's prediction for the changed plant and rolled back when it falls short."""
