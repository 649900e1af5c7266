#!/usr/bin/env python3
"""floortwin entry point: ``python main.py [FACTORY] [--demo] [--screenshot PNG] [--quit-after S]``."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
