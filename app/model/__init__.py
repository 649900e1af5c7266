"""The factory model: file format, validation, load/save and the evented document. No GUI, no 3D."""

from app.model.document import FactoryDocument
from app.model.factory import FORMAT, FORMAT_VERSION, Factory, Floor, Footprint, Machine, Pose
from app.model.io import dumps_factory, load_factory, loads_factory, save_factory
from app.model.problems import FactoryFileError, Problem
from app.model.selection import Selection

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Factory",
    "FactoryDocument",
    "FactoryFileError",
    "Floor",
    "Footprint",
    "Machine",
    "Pose",
    "Problem",
    "Selection",
    "dumps_factory",
    "load_factory",
    "loads_factory",
    "save_factory",
]
