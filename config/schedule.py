"""The schedule: every recurring job, one line each in `JOBS` (README, *The schedule*).

A job runs as a task of django.tasks on its queue, at most once per slot across all
hosts, retried on failure (`config/scheduler/runs.py`); `manage.py run_schedule` queues
them, `offers_worker` processes run them, `manage.py schedule_status` and the admin's
*Geplande runs* show how they went. Each function here takes `now=` and returns what it
did, in numbers; it calls the domain function its management command calls (the
commands stay, for operators). An exception fails the attempt.

Adding a job is one line in `JOBS`: `Job("name", Every(minutes=5), function)`, with
`queue=`, `max_attempts=` and `backoff=` where the defaults (the `schedule` queue, 3
attempts, 1 minute doubling) do not fit.
"""

import datetime as dt

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from api.changes import changes_recorded
from api.changes import record_consent_changes as record_changes
from api.idempotency import prune_idempotency_keys as prune_keys
from api.webhooks import deliver_due, round_said
from consent.advance_notices import send_advance_notices as send_notices
from infra.database import SHARED_CACHE_TABLE
from ledger.checkpoints import write_checkpoint
from lifecycle.retention import enforce_retention as enforce
from offers import tasks as offer_tasks

from .scheduler.jobs import CHECKPOINT_QUEUE, SCHEDULE_QUEUE, Daily, Every, Job
from .scheduler.models import ScheduledRun

# Finished task results and scheduled runs are kept this long (what the nightly prune of
# task results kept before the schedule, `prune_db_task_results --min-age-days`).
TASK_RESULTS_KEPT = dt.timedelta(days=14)
SCHEDULED_RUNS_KEPT = dt.timedelta(days=35)
# Deliveries sent per minute's round; more wait for the next round. A round that outlasts
# its minute (receivers timing out) makes the schedule run the newest slot next, not every
# missed one; for more, run `deliver_webhooks` loops on more hosts.
WEBHOOKS_PER_ROUND = 1000


class CheckpointNotCosigned(Exception):
    """The checkpoint was signed and stored, but a witness did not cosign it."""


def record_consent_changes(*, now: dt.datetime) -> str:
    return changes_recorded(record_changes(now=now))


def checkpoint_ledger(*, now: dt.datetime) -> str:
    written = write_checkpoint(at=now)
    said = (
        f"{written.sequenced} events taken into the log; checkpoint of size"
        f" {written.checkpoint.size} signed, cosigned by {len(written.cosigned_by)} witnesses"
    )
    if written.refused_by:
        raise CheckpointNotCosigned(f"{said}; {len(written.refused_by)} did not cosign")
    return said


def enforce_retention(*, now: dt.datetime) -> str:
    done = enforce(as_of=timezone.localdate(now), now=now)
    removed = {kind: sum(counts.values()) for kind, counts in done.removed.items()}
    kinds = ", ".join(f"{kind} {n}" for kind, n in removed.items() if kind not in done.unstated)
    return f"as of {done.as_of}: {sum(removed.values())} removed or pseudonymised ({kinds})"


def generate_offers(*, now: dt.datetime) -> str:
    """Starts the night's run on the workers (`generate_offers --queue` without watching:
    the run's own supervisor looks after it)."""
    run, resumed = offer_tasks.start_run(as_of=timezone.localdate(now), now=now)
    chunks = run.chunks.count()
    left = run.chunks.exclude(status="done").count()
    verb = "resumed" if resumed else "queued"
    return f"run {run.pk} as of {run.as_of} {verb}: {left} of {chunks} chunks for the workers"


def send_advance_notices(*, now: dt.datetime) -> str:
    """`send_advance_notices`: e-mails to customers whose consent stops counting soon."""
    return str(send_notices(at=now))


def prune_task_results(*, now: dt.datetime) -> str:
    """`prune_db_task_results --queue-name offers,schedule,checkpoint`: finished task
    results older than TASK_RESULTS_KEPT."""
    queues = (offer_tasks.QUEUE, SCHEDULE_QUEUE, CHECKPOINT_QUEUE)
    removed, _ = (
        DBTaskResult.objects.finished()
        .filter(queue_name__in=queues, finished_at__lte=now - TASK_RESULTS_KEPT)
        .delete()
    )
    return f"{removed} task results removed"


def deliver_webhooks(*, now: dt.datetime) -> str:
    """One round of `deliver_webhooks --once`: new feed rows become deliveries, the due
    ones are sent (a delivery's own retries and back-off are in `api.webhooks`)."""
    return round_said(deliver_due(now=now, limit=WEBHOOKS_PER_ROUND))


def prune_idempotency_keys(*, now: dt.datetime) -> str:
    return f"{prune_keys(at=now)} idempotency keys removed"


def prune_shared_cache(*, now: dt.datetime) -> str:
    """The shared cache's expired entries (rate-limit counts: a client's and a user's ids
    with the times of their requests). Django removes them only when read again or when
    the table is full; this keeps none for longer than a day."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SHARED_CACHE_TABLE} WHERE expires < %s", [now])
        return f"{cursor.rowcount} expired cache entries removed"


def prune_scheduled_runs(*, now: dt.datetime) -> str:
    """The schedule's own rows: a job every minute writes 1,440 a day."""
    old = Q(slot_at__lt=now - SCHEDULED_RUNS_KEPT, status__in=["succeeded", "failed"])
    removed, _ = ScheduledRun.objects.filter(old).delete()
    return f"{removed} scheduled runs removed"


# Retention runs before the night's checkpoint (which then signs the day's tombstones)
# and, like it, on the checkpoint host: that is where the ledger's keys are.
JOBS: tuple[Job, ...] = (
    Job("record_consent_changes", Every(minutes=1), record_consent_changes),
    Job("deliver_webhooks", Every(minutes=1), deliver_webhooks),
    Job("checkpoint_ledger", Every(minutes=5), checkpoint_ledger, queue=CHECKPOINT_QUEUE),
    Job("enforce_retention", Daily("02:03"), enforce_retention, queue=CHECKPOINT_QUEUE),
    Job("generate_offers", Daily("02:30"), generate_offers),
    Job("prune_task_results", Daily("04:00"), prune_task_results),
    # In the morning, when a customer reads mail, after the night's retention.
    Job("send_advance_notices", Daily("09:00"), send_advance_notices),
    Job("prune_idempotency_keys", Every(minutes=60), prune_idempotency_keys),
    Job("prune_scheduled_runs", Daily("04:10"), prune_scheduled_runs),
    Job("prune_shared_cache", Daily("04:20"), prune_shared_cache),
)
