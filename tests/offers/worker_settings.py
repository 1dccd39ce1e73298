"""Settings of the `offers_worker` processes that tests start (tests/offers/test_workers.py):
the test settings (the same ledger keys as the test process), a run looked after every
second, and chunks that can be paused in the middle (tests/offers/paused_chunks.py)."""

from config.settings.test import *  # noqa: F403

OFFERS_RUN_SUPERVISE_SECONDS = 1
INSTALLED_APPS = [*INSTALLED_APPS, "tests.offers.paused_chunks.PausedChunksConfig"]  # noqa: F405
