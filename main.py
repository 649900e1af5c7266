#!/usr/bin/env python3
"""floortwin entry point: ``python main.py [FACTORY] [--demo] [--screenshot PNG] [--quit-after S]``."""

import multiprocessing
import os
import sys


def _default_locale() -> None:
    """A session with no locale at all (a bare service, a minimal container, a launcher that clears the
    environment) gets C.UTF-8: Qt otherwise warns that it falls back to it, and file names with accents
    would not round-trip."""
    if not any(os.environ.get(v) for v in ("LC_ALL", "LC_CTYPE", "LANG")):
        os.environ["LANG"] = "C.UTF-8"


if __name__ == "__main__":
    _default_locale()
    multiprocessing.freeze_support()  # simulation workers of a packaged (frozen) build start through here
    if len(sys.argv) > 1 and sys.argv[1] == "--plantsim":  # the embedded plant simulator runs from this entry point too
        from app.plant.server import main as plantsim_main

        sys.exit(plantsim_main(sys.argv[2:]))
    from app.cli import main

    sys.exit(main())
