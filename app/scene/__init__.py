"""Everything VTK: the 3D view of the factory and its layers. The rest of the app uses ``FactoryView``."""
