"""The schedule on top of django.tasks: `tick` queues what is due, `run_scheduled` runs it.

`tick(now=...)` (called by `manage.py run_schedule` every ~20 s on every worker host, all
at once) looks at each job of `config.schedule.JOBS` in its own transaction, holding a
per-job lock so that schedulers take turns, and at the job's newest row:

- none, or ended (succeeded, or failed for good or superseded) for an older slot than the
  current one: the current slot's first attempt is inserted (INSERT … ON CONFLICT DO
  NOTHING on (job, slot, attempt)) and its task queued in the same transaction. Slots
  missed while no scheduler ran are not caught up one by one: only the newest runs, once;
- failed, attempts left, and no newer slot due: once the back-off has passed, the next
  attempt's row and task;
- `running` but nobody holds its lock: the process doing it died (SIGKILL, a lost
  connection); the attempt is recorded as failed, and retried as above;
- `queued` but its task ended without running it, or the worker that took the task died
  on the way: failed likewise;
- queued or running otherwise: nothing (one run per job at a time).

`run_scheduled` (a task on the job's queue) marks the row running and takes the run's
session lock in one transaction, runs the job in autocommit (jobs commit their own work,
retention in many transactions), then records the outcome or the error and lets go.
"""

import datetime as dt
import logging
import os
import socket
import traceback
import zlib
from dataclasses import dataclass

from django.db import DatabaseError, connection, transaction
from django.tasks import TaskResultStatus, task
from django.tasks.exceptions import TaskResultDoesNotExist
from django.utils import timezone

from config import schedule
from offers.worker import CONNECTION_ERRORS

from .jobs import SCHEDULE_QUEUE, Job
from .models import RunStatus, ScheduledRun

log = logging.getLogger("config.scheduler")
# Advisory lock keys (first half of the pair): a scheduler's turn at a job, and the
# process doing a run. Unlike those of offers and retention.
TICK_LOCK = 7_160_231
RUN_LOCK = 7_160_232
# A task a worker took must reach its run's row within this long (as offers.tasks).
CLAIM_GRACE = dt.timedelta(minutes=2)
ENDED = (RunStatus.SUCCEEDED, RunStatus.FAILED)


def job_named(name: str) -> Job | None:
    return next((job for job in schedule.JOBS if job.name == name), None)


def tick(*, now: dt.datetime, jobs: tuple[Job, ...] | None = None) -> list[str]:
    """Queue what is due at `now`. Returns a line per thing done, for the log."""
    done = []
    for job in schedule.JOBS if jobs is None else jobs:
        try:
            with transaction.atomic():
                said = _tick_job(job, now=now)
        except CONNECTION_ERRORS:
            raise  # the caller waits for the database
        except Exception:
            # One job's trouble (a bug, a bad line in the schedule) must not keep the others.
            log.exception("schedule: looking at %s failed", job.name)
            continue
        if said:
            done.append(f"{job.name}: {said}")
    return done


def _tick_job(job: Job, *, now: dt.datetime) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [TICK_LOCK, _key(job.name)])
    # Its row locked: a worker taking it, or recording its end, waits for this look.
    latest = (
        ScheduledRun.objects.select_for_update()
        .filter(job=job.name)
        .order_by("-slot_at", "-attempt")
        .first()
    )
    said = []
    if latest is not None and latest.status == RunStatus.RUNNING and _abandoned(latest):
        _fail(latest, at=now, error="the process doing it stopped before it ended")
        said.append(f"attempt {latest.attempt} of {latest.slot_at:%Y-%m-%d %H:%M} abandoned")
    elif latest is not None and latest.status == RunStatus.QUEUED and _orphaned(latest, now=now):
        _fail(latest, at=now, error="its task ended, or its worker died, before it started")
        said.append(f"attempt {latest.attempt} of {latest.slot_at:%Y-%m-%d %H:%M} lost")
    slot = job.when.slot(now)
    if latest is None or (latest.status in ENDED and latest.slot_at < slot):
        run = _queue(job, slot_at=slot, attempt=1, now=now)
    elif (
        latest.status == RunStatus.FAILED
        and latest.attempt < job.max_attempts
        and latest.finished_at is not None
        and now >= job.retry_at(attempt=latest.attempt, failed_at=latest.finished_at)
    ):
        run = _queue(job, slot_at=latest.slot_at, attempt=latest.attempt + 1, now=now)
    else:
        run = None
    if run is not None:
        said.append(f"queued attempt {run.attempt} of {run.slot_at:%Y-%m-%d %H:%M}")
    return "; ".join(said) or None


def _queue(job: Job, *, slot_at: dt.datetime, attempt: int, now: dt.datetime):
    """The attempt's row and its task, or None when it exists (another scheduler's)."""
    table = ScheduledRun._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (job, slot_at, attempt, status, queued_at, worker, task_id,"
            " outcome, error) VALUES (%s, %s, %s, %s, %s, '', '', '', '')"
            " ON CONFLICT (job, slot_at, attempt) DO NOTHING RETURNING id",
            [job.name, slot_at, attempt, RunStatus.QUEUED, now],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    result = run_scheduled.using(queue_name=job.queue).enqueue(run_id=row[0])
    run = ScheduledRun.objects.get(pk=row[0])
    run.task_id = str(result.id)
    run.save(update_fields=["task_id"])
    return run


def _abandoned(run: ScheduledRun) -> bool:
    """Nobody holds the run's session lock (inside the tick's transaction: a lock this
    takes is held until it ends, so the run cannot be taken meanwhile)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [RUN_LOCK, run.pk])
        return bool(cursor.fetchone()[0])


def _orphaned(run: ScheduledRun, *, now: dt.datetime) -> bool:
    if not run.task_id:
        return True
    try:
        result = run_scheduled.get_result(run.task_id)
    except TaskResultDoesNotExist:
        return True
    if result.status == TaskResultStatus.READY:
        return False
    if result.status == TaskResultStatus.RUNNING:
        return result.last_attempted_at is None or result.last_attempted_at < now - CLAIM_GRACE
    return True


def _fail(run: ScheduledRun, *, at: dt.datetime, error: str) -> None:
    run.status, run.error = RunStatus.FAILED, error
    run.finished_at = max(at, run.started_at) if run.started_at else at
    run.save(update_fields=["status", "error", "finished_at"])


def _key(name: str) -> int:
    return zlib.crc32(name.encode()) - 2**31  # an int4, as the two-key advisory locks take


@task(queue_name=SCHEDULE_QUEUE)
def run_scheduled(*, run_id: int) -> str:
    """Run one attempt of a scheduled job (queued by `tick`, on the job's queue)."""
    return execute(run_id=run_id)


def execute(*, run_id: int) -> str:
    with transaction.atomic():
        run = ScheduledRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != RunStatus.QUEUED:
            return f"not queued ({run.status if run else 'gone'}): left alone"
        job = job_named(run.job)
        if job is None:
            _fail(run, at=timezone.now(), error="no such job in config/schedule.py")
            return "unknown job"
        run.status, run.started_at, run.worker = (
            RunStatus.RUNNING,
            timezone.now(),
            f"{socket.gethostname()}:{os.getpid()}",
        )
        run.save(update_fields=["status", "started_at", "worker"])
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [RUN_LOCK, run.pk])
    try:
        outcome = str(job.run(now=run.started_at))
    except Exception as exc:
        _end(run_id, status=RunStatus.FAILED, error="".join(traceback.format_exception(exc)))
        raise  # the task's result keeps it too
    else:
        _end(run_id, status=RunStatus.SUCCEEDED, outcome=outcome)
        return outcome
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [RUN_LOCK, run_id])
        except DatabaseError:
            pass  # the connection is gone, and the lock with it


def _end(run_id: int, *, status: str, outcome: str = "", error: str = "") -> None:
    # Only while still ours: after a lost connection a scheduler may have failed it since.
    ScheduledRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        status=status, finished_at=timezone.now(), outcome=outcome, error=error
    )


@dataclass(frozen=True)
class JobStatus:
    job: Job
    last: ScheduledRun | None  # the newest attempt
    last_ended: ScheduledRun | None  # the newest attempt that ended
    next_slot_at: dt.datetime


def status(*, now: dt.datetime) -> list[JobStatus]:
    """Each job's newest attempt, newest ended attempt and next slot."""
    rows = []
    for job in schedule.JOBS:
        runs = ScheduledRun.objects.filter(job=job.name).order_by("-slot_at", "-attempt")
        rows.append(
            JobStatus(
                job=job,
                last=runs.first(),
                last_ended=runs.filter(status__in=ENDED).first(),
                next_slot_at=job.when.next_slot(now),
            )
        )
    return rows
