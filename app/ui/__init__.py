"""The Qt user interface: main window, docks, dialogs and the action table. Wires the layers together."""
