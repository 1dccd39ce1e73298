"""Settings of the `offers_worker` processes that tests start (tests/offers/test_workers.py):
the test settings (the same ledger keys as the test process), a run looked after every
second, and the test's pause lock from the environment."""

import os

from config.settings.test import *  # noqa: F403

OFFERS_RUN_SUPERVISE_SECONDS = 1
_pause = os.environ.get("OFFERS_TEST_CHUNK_PAUSE_LOCK")
OFFERS_TEST_CHUNK_PAUSE_LOCK = int(_pause) if _pause else None
