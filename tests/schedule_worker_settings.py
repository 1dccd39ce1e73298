"""Settings of the `offers_worker` processes tests/test_schedule.py starts: the workers'
test settings with a scheduled job that can be paused in the middle (tests/paused_jobs.py)."""

from tests.offers.worker_settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.paused_jobs.PausedJobsConfig"]  # noqa: F405
