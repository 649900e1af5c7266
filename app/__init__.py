"""floortwin — a desktop digital twin of a factory floor."""

__version__ = "0.1.0"
