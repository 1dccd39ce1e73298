"""What a scheduled job is: a name, how often, what it runs, on which queue, how it retries.

A job's *slot* is the moment a run of it is due: for `Every(minutes=n)` each multiple of n
minutes since midnight UTC (n divides a day), for `Daily("02:30")` that time on each local
date in Europe/Amsterdam. A daily slot is a local date: on the night the clocks go forward
02:30 does not exist and the slot is 03:30 summer time (the same instant as 02:30 winter
time); on the night they go back it is the first 02:30. Either way, one slot per date.
"""

import datetime as dt
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")
DAY_MINUTES = 24 * 60

# The queues of django.tasks the jobs run on (settings.TASKS lists them): every worker
# host takes `schedule`; only the checkpoint host, which holds the log's signing key,
# takes `checkpoint`.
SCHEDULE_QUEUE = "schedule"
CHECKPOINT_QUEUE = "checkpoint"


@dataclass(frozen=True)
class Every:
    minutes: int

    def __post_init__(self):
        if not 0 < self.minutes <= DAY_MINUTES or DAY_MINUTES % self.minutes:
            raise ValueError(f"every {self.minutes} minutes: must divide a day")

    def slot(self, now: dt.datetime) -> dt.datetime:
        """The newest slot at or before `now`."""
        midnight = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        passed = (now - midnight) // dt.timedelta(minutes=self.minutes)
        return midnight + passed * dt.timedelta(minutes=self.minutes)

    def next_slot(self, now: dt.datetime) -> dt.datetime:
        return self.slot(now) + dt.timedelta(minutes=self.minutes)

    def __str__(self) -> str:
        return f"every {self.minutes} min"


@dataclass(frozen=True)
class Daily:
    at: str  # "HH:MM", Europe/Amsterdam

    def __post_init__(self):
        dt.time.fromisoformat(self.at)  # refuses a bad time when the registry is read

    def on(self, day: dt.date) -> dt.datetime:
        local = dt.datetime.combine(day, dt.time.fromisoformat(self.at), tzinfo=AMSTERDAM)
        # Through UTC: a time the clocks skip becomes a real instant (fold 0: the offset
        # before the change), and comparisons are between instants.
        return local.astimezone(dt.UTC)

    def slot(self, now: dt.datetime) -> dt.datetime:
        today = now.astimezone(AMSTERDAM).date()
        slot = self.on(today)
        return slot if slot <= now else self.on(today - dt.timedelta(days=1))

    def next_slot(self, now: dt.datetime) -> dt.datetime:
        today = now.astimezone(AMSTERDAM).date()
        slot = self.on(today)
        return slot if slot > now else self.on(today + dt.timedelta(days=1))

    def __str__(self) -> str:
        return f"daily {self.at} Europe/Amsterdam"


@dataclass(frozen=True)
class Job:
    """One line of the schedule. `run(now=...)` does the work and returns what it did, in
    numbers (the run's outcome); an exception fails the attempt, which is tried again
    after `backoff` x 2^(attempt-1), up to `max_attempts` in all."""

    name: str
    when: Every | Daily
    run: Callable[..., object]
    queue: str = SCHEDULE_QUEUE
    max_attempts: int = 3
    backoff: dt.timedelta = dt.timedelta(minutes=1)

    def retry_at(self, *, attempt: int, failed_at: dt.datetime) -> dt.datetime:
        return failed_at + self.backoff * 2 ** (attempt - 1)
