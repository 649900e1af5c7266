"""Where the what-if scenarios of a factory are kept: one scenario file, one SQLite results file and one
small note of the compared window each, in the user's data folder (``whatif/``), so they are listed
again, reopened and exported after a restart.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

from app.paths import user_data_dir
from app.sim.jobs import Job
from app.sim.scenario import Scenario, ScenarioError, load_scenario, save_scenario

log = logging.getLogger(__name__)


def whatif_dir() -> Path:
    """The user's what-if folder (created on demand)."""
    p = user_data_dir() / "whatif"
    p.mkdir(parents=True, exist_ok=True)
    return p


def slug(text: str) -> str:
    """A file-name-safe short form of ``text``.

    >>> slug("Faster presses (2×)")
    'Faster_presses_2'
    """
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:40] or "scenario"


@dataclass
class Entry:
    """A scenario in the list: its file, its results file, its job (while or after it runs here)."""

    scenario: Scenario
    path: Path
    job: Job | None = None

    @property
    def results(self) -> Path:
        return self.path.with_suffix(".sqlite")

    @property
    def note(self) -> Path:
        """The compared window of the last run (JSON: ``{"window": [t0, t1] | null, "time_scale": 1.0,
        "requested_s": 3600.0, "asked_s": 3600.0, "recorded_s": 18.0 | null}``: ``asked_s`` the actuals window
        the user asked for, 0 for none; ``recorded_s`` the connected seconds the history held then, null
        without a history — what a comparison without a window says it lacked)."""
        return self.path.with_suffix(".run.json")

    @property
    def running(self) -> bool:
        return self.job is not None and not self.job.done

    @property
    def has_results(self) -> bool:
        """A finished run to compare: this session's, or one stored earlier (a later run that was cancelled
        or failed leaves the last finished one in the results file)."""
        return (self.job is not None and self.job.status == "done") or self.results.exists()

    def window(self) -> tuple[float, float] | None:
        """The recorded window the last run was made for (None: none, or no note)."""
        note = {}
        with contextlib.suppress(OSError, ValueError):
            note = json.loads(self.note.read_text())
        w = note.get("window") if isinstance(note, dict) else None
        return (float(w[0]), float(w[1])) if w else None

    def requested_s(self) -> float | None:
        """How much history the last run asked for (the window may hold less: gaps); None: not noted."""
        with contextlib.suppress(OSError, ValueError, TypeError):
            note = json.loads(self.note.read_text())
            return float(note["requested_s"]) if isinstance(note, dict) and note.get("requested_s") else None
        return None

    def time_scale(self) -> float:
        """Plant seconds per recorded second of the last run's window (a plant simulator's ``--speed``; 1 when
        not noted)."""
        with contextlib.suppress(OSError, ValueError, TypeError):
            note = json.loads(self.note.read_text())
            scale = float(note.get("time_scale", 1.0)) if isinstance(note, dict) else 1.0
            return scale if scale > 0 else 1.0
        return 1.0

    def noted(self, key: str) -> float | None:
        """A figure of the last run's note (``asked_s``, ``recorded_s``…); None: not noted (an older note)."""
        with contextlib.suppress(OSError, ValueError, TypeError):
            note = json.loads(self.note.read_text())
            value = note.get(key) if isinstance(note, dict) else None
            return float(value) if value is not None else None
        return None

    def write_window(
        self,
        window: tuple[float, float] | None,
        requested_s: float | None = None,
        time_scale: float = 1.0,
        *,
        asked_s: float | None = None,
        recorded_s: float | None = None,
    ) -> None:
        note = {"window": window, "time_scale": time_scale, "requested_s": requested_s, "asked_s": asked_s}
        with contextlib.suppress(OSError):
            self.note.write_text(json.dumps({**note, "recorded_s": recorded_s}))


class ScenarioStore:
    """The scenario files in one folder.

    Parameters
    ----------
    folder
        Where the files are (default: the user's ``whatif/`` folder, looked up when first needed).
    """

    def __init__(self, folder: Path | None = None):
        self._folder = folder

    @property
    def folder(self) -> Path:
        if self._folder is None:
            return whatif_dir()
        self._folder.mkdir(parents=True, exist_ok=True)
        return self._folder

    def scenarios_of(self, factory_name: str, skip: set[Path] = frozenset()) -> list[Entry]:  # type: ignore[assignment]
        """The stored scenarios of the factory called ``factory_name`` (unreadable files are logged and
        left out; ``skip``: paths already listed)."""
        out = []
        for path in sorted(self.folder.glob("*.json")):
            if path.name.endswith(".run.json") or path in skip:
                continue
            try:
                s = load_scenario(path)
            except ScenarioError as e:
                log.warning("skipping what-if scenario %s: %s", path, e)
                continue
            if s.factory.name == factory_name:
                out.append(Entry(s, path))
        return out

    def add(self, scenario: Scenario) -> Entry:
        """Store a new scenario under a fresh file name (raises ``OSError`` when it cannot be written)."""
        stamp = int(time.time() * 1000) % 10**9
        path = self.folder / f"{slug(scenario.factory.name)}-{slug(scenario.name)}-{stamp}.json"
        while path.exists():
            stamp += 1
            path = self.folder / f"{slug(scenario.factory.name)}-{slug(scenario.name)}-{stamp}.json"
        save_scenario(scenario, path)
        return Entry(scenario, path)

    def update(self, entry: Entry, scenario: Scenario) -> None:
        """Replace the entry's scenario, on disk first (the entry changes only when the file was written)."""
        save_scenario(scenario, entry.path)
        entry.scenario = scenario

    def delete(self, entry: Entry) -> None:
        """Remove the entry's scenario, results and note files (those already gone are no error)."""
        results = entry.results
        wal, shm = (results.with_name(results.name + suffix) for suffix in ("-wal", "-shm"))
        for p in (entry.path, results, entry.note, wal, shm):
            with contextlib.suppress(OSError):
                p.unlink()
