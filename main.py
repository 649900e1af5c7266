#!/usr/bin/env python3
"""floortwin entry point: ``python main.py [FACTORY] [--demo] [--screenshot PNG] [--quit-after S]``."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # simulation workers of a packaged (frozen) build start through here
    if len(sys.argv) > 1 and sys.argv[1] == "--plantsim":  # the embedded plant simulator runs from this entry point too
        from app.live.plantsim import main as plantsim_main

        sys.exit(plantsim_main(sys.argv[2:]))
    from app.cli import main

    sys.exit(main())
