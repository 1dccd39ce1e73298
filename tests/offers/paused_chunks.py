"""For the worker processes the tests start (tests/offers/worker_settings.py): a chunk
waits, in the middle of its work, for an advisory lock the test holds (its key in
OFFERS_TEST_CHUNK_PAUSE_LOCK), so that the test can kill the worker or stop the database
right there. Installed in those processes only: the production code has no such hook."""

import functools
import os

from django.apps import AppConfig
from django.db import connection


class PausedChunksConfig(AppConfig):
    name = "tests.offers.paused_chunks"
    label = "paused_chunks"

    def ready(self):
        from offers import engine

        key = os.environ.get("OFFERS_TEST_CHUNK_PAUSE_LOCK")
        if not key:
            return
        run_chunk = engine.run_chunk

        @functools.wraps(run_chunk)
        def paused(**kwargs):
            # Inside the chunk's transaction, with the chunk's row locked and taken.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [int(key)])
            return run_chunk(**kwargs)

        engine.run_chunk = paused
