"""For the worker processes tests/test_schedule.py starts: a scheduled job that waits, in
the middle of its run, for an advisory lock the test holds (its key in
SCHEDULE_TEST_PAUSE_LOCK), so that the test can kill the worker right there. Installed in
those processes only (tests/schedule_worker_settings.py)."""

import datetime as dt
import os

from django.apps import AppConfig
from django.db import connection

from config.scheduler.jobs import Every, Job


def paused(*, now):
    with connection.cursor() as cursor:
        key = int(os.environ["SCHEDULE_TEST_PAUSE_LOCK"])
        cursor.execute("SELECT pg_advisory_lock_shared(%s)", [key])
        cursor.execute("SELECT pg_advisory_unlock_shared(%s)", [key])
    return "waited 1 time"


PAUSED_JOB = Job("paused", Every(minutes=60), paused, max_attempts=2, backoff=dt.timedelta(0))


class PausedJobsConfig(AppConfig):
    name = "tests.paused_jobs"
    label = "paused_jobs"

    def ready(self):
        from config import schedule

        if os.environ.get("SCHEDULE_TEST_PAUSE_LOCK"):
            schedule.JOBS = (*schedule.JOBS, PAUSED_JOB)
