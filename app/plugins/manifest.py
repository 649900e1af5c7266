"""A plugin's manifest (``plugin.json``): who it is, which plugin API it needs and what it provides.

The manifest is read at start without importing the plugin's code: the application lists the plugin, asks
the user about it and knows when its code is needed (a machine kind a file uses, a panel being shown, a
KPI in a comparison) from the manifest alone.

>>> m = Manifest.model_validate_json('{"name": "demo", "version": "1.0", "api": "1.0", "module": "demo"}')
>>> m.name, m.provides.kpis
('demo', ())
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

#: The manifest file of a folder plugin (and of an installed plugin's package).
MANIFEST = "plugin.json"


class Provides(BaseModel):
    """What a plugin adds, by name: its code must register exactly these (and may register nothing else)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    machine_kinds: tuple[str, ...] = Field(default=(), description="kind ids (used in factory files)")
    data_sources: tuple[str, ...] = Field(default=(), description="URL schemes (csv for csv:///file.csv)")
    heat_layers: tuple[str, ...] = Field(default=(), description="machine heat-map layer names")
    kpis: tuple[str, ...] = Field(default=(), description="KPI keys")
    panels: tuple[str, ...] = Field(default=(), description="dock panel titles")

    def describe(self) -> list[str]:
        """One line per contribution, as the Plugins dialog and the consent question list them."""
        out = [f"machine kind {k}" for k in self.machine_kinds]
        out += [f"data source {s}:" for s in self.data_sources]
        out += [f"heat map {h}" for h in self.heat_layers]
        out += [f"KPI {k}" for k in self.kpis]
        out += [f"panel {p}" for p in self.panels]
        return out


class Manifest(BaseModel):
    """``plugin.json``. ``api`` is the plugin API version the code was written for (``"1.0"``)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)
    version: str = Field(min_length=1)
    api: str = Field(pattern=r"^[0-9]+\.[0-9]+$")
    module: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    description: str = ""
    author: str = ""
    requires: tuple[str, ...] = ()
    provides: Provides = Provides()


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names the file and every problem in it."""


def read_manifest(path: Path) -> Manifest:
    """The manifest at ``path``, or ManifestError saying what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(f"no {MANIFEST} manifest in the folder") from None
    except OSError as e:
        raise ManifestError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        return Manifest.model_validate_json(text)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            where = ".".join(str(p) for p in err["loc"])
            if err["type"] == "json_invalid":
                problems.append(_json_problem(text))
            else:
                problems.append(f"{where}: {err['msg']}" if where else err["msg"])
        raise ManifestError(f"broken {MANIFEST}: " + "; ".join(problems)) from None


def _json_problem(text: str) -> str:
    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        return f"not JSON: {e.msg} (line {e.lineno}, column {e.colno})"
    return "not JSON"


def api_compatible(needed: str, have: str) -> bool:
    """A plugin written for API ``needed`` runs on ``have``: same major version, no newer minor.

    >>> api_compatible("1.0", "1.2"), api_compatible("1.3", "1.2"), api_compatible("2.0", "1.2")
    (True, False, False)
    """
    n_major, n_minor = (int(x) for x in needed.split("."))
    h_major, h_minor = (int(x) for x in have.split("."))
    return n_major == h_major and n_minor <= h_minor
