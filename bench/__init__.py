"""`make bench`: the performance figures of README, Benchmarks for the import and the engine."""

import sys
import time


def log(text: str) -> None:
    """A timestamped progress line on stderr (the figures go to stdout)."""
    print(f"  [{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)
