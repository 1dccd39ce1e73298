"""Engine runs on workers: each chunk of a run is a `django.tasks` task.

`start_run` opens the run for an as-of date (`engine.open_run`: a new one, or the date's
unfinished run resumed) and queues one `run_offer_chunk` task per chunk still to do,
plus `supervise_run`, in the same transaction: with the database backend, the tasks
exist exactly when the run does. `python manage.py offers_worker` (django-tasks-db's
worker, kept alive through database outages: `offers.worker`), as many processes on as
many machines as share the database, runs them as the runtime role.
The backend is a setting (`TASKS`); nothing here knows which one it is.

What keeps a run going when a worker dies is `look_after`, run by every chunk task when
it ends, by `supervise_run` every `OFFERS_RUN_SUPERVISE_SECONDS` while the run is open,
and by `generate_offers --queue` while it watches:

- a chunk `running` whose row nobody holds locked was left by a process that died (the
  process doing a chunk holds that lock until it commits; a killed process's lock goes
  with its connection): it is queued again, or fails after `OFFERS_CHUNK_MAX_ATTEMPTS`;
- a chunk `failed` with attempts left is queued again;
- (`supervise_run` only) a chunk `queued` whose task ended without doing it, or was
  taken by a worker that died before it reached the chunk, is queued again;
- when no chunk is left to do, the run is finished (or failed).

A run has one supervisor at a time: the run's row names when it is due, and a supervisor
due at another moment stops. A worker that reached the database again after losing it
calls `after_outage`: every open run is looked after at once and gets a new supervisor
(the outage may have cut the last one off before it queued the next look).

A chunk queued twice is harmless: the second task finds it done, or held by the process
doing it, and leaves it. Whoever holds a chunk's lock answers for it: a worker does it,
`look_after` queues it again.

The clock read here stamps when tasks are due and chunks ran; every decision of the
engine uses the run's own start (consent is judged at `run.started_at`, offers are
stamped with it), whichever worker does a chunk, and whenever.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.tasks import TaskResultStatus, task
from django.tasks.exceptions import TaskResultDoesNotExist
from django.utils import timezone

from . import engine
from .models import OPEN_RUN_STATUSES, ChunkStatus, OfferRun, OfferRunChunk

QUEUE = "offers"
# A task a worker took must reach its chunk's row within this long; after that the worker
# is taken to have died on the way (its task result stays "running" for ever).
CLAIM_GRACE = dt.timedelta(minutes=2)


def start_run(
    *,
    as_of: dt.date,
    now: dt.datetime,
    rule_codes=None,
    chunk_size: int | None = None,
    started_by=None,
) -> tuple[OfferRun, bool]:
    """Open the run for `as_of` (new at `now`, or the unfinished one resumed) and queue
    its chunks for the workers. Returns the run and whether it was resumed."""
    with transaction.atomic():
        run, resumed = engine.open_run(
            as_of=as_of,
            now=now,
            rule_codes=rule_codes,
            chunk_size=chunk_size or settings.OFFERS_CHUNK_SIZE,
            started_by=started_by,
        )
        if run.is_open:
            # The queue's own time (when tasks are due, how long ago a worker took one) is
            # the clock's; `now` is the run's start, which a resumed run keeps.
            queued_at = timezone.now()
            waiting = run.chunks.filter(status=ChunkStatus.QUEUED).select_for_update(
                skip_locked=True
            )
            _enqueue([c for c in waiting if _orphaned(c, at=queued_at)], at=queued_at)
            _schedule_supervisor(run=run, at=queued_at)
    return run, resumed


@task(queue_name=QUEUE)
def run_offer_chunk(*, run_id: int, chunk_id: int) -> str:
    """One chunk of a run, then a look after the run (the last chunk finishes it)."""
    try:
        chunk = engine.execute_chunk(
            chunk_id=chunk_id,
            worker=engine.this_process(),
            clock=timezone.now,
            max_attempts=settings.OFFERS_CHUNK_MAX_ATTEMPTS,
        )
    except Exception:
        look_after(run_id=run_id, at=timezone.now())  # queue it again, if it may
        raise  # the task's result keeps the traceback
    look_after(run_id=run_id, at=timezone.now())
    return chunk.status if chunk is not None else "held by another process"


# Before the chunks in the queue when it is due: it is what notices a dead worker.
@task(queue_name=QUEUE, priority=10)
def supervise_run(*, run_id: int, due: str | None = None) -> str:
    """Look after an open run every OFFERS_RUN_SUPERVISE_SECONDS until it ends.

    One supervisor per run: the one due when the run's row says (`supervisor_due_at`).
    A supervisor scheduled for the run since (a rerun, `after_outage`) replaced this
    one, which then stops. (`due` None: called by hand, it always looks.)"""
    at = timezone.now()
    with transaction.atomic():
        run = OfferRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or not run.is_open:
            return run.status if run else "gone"
        if due is not None and run.supervisor_due_at != dt.datetime.fromisoformat(due):
            return "replaced"
        # The next look is queued first, on its own: if this process dies now, it still comes.
        _schedule_supervisor(run=run, at=at)
    return look_after(run_id=run_id, at=at, find_orphans=True).status


def after_outage(*, at: dt.datetime) -> str:
    """A worker reached the database again after losing it (`offers.worker`): every open
    run is looked after now rather than at its supervisor's next look, so a chunk whose
    worker lost its work with the connection is queued again at once, and gets a new
    supervisor: the outage may have cut one off before it queued the next look, and
    then nothing else would. Returns what it did, for the worker's log."""
    open_runs = list(
        OfferRun.objects.filter(status__in=OPEN_RUN_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for run_id in open_runs:
        look_after(run_id=run_id, at=at, find_orphans=True)
        with transaction.atomic():
            run = (
                OfferRun.objects.select_for_update()
                .filter(pk=run_id, status__in=OPEN_RUN_STATUSES)
                .first()
            )
            if run is not None:
                _schedule_supervisor(run=run, at=at)
    if not open_runs:
        return "no open run"
    return "looked after open run(s) " + ", ".join(map(str, open_runs))


def look_after(*, run_id: int, at: dt.datetime, find_orphans: bool = False) -> OfferRun:
    """Queue again what a dead worker or an error left undone, then settle the run."""
    limit = settings.OFFERS_CHUNK_MAX_ATTEMPTS
    with transaction.atomic():
        chunks = OfferRunChunk.objects.filter(run_id=run_id).select_for_update(skip_locked=True)
        again = []
        # Skipping locked rows is the point: a row nobody holds has nobody working on it,
        # unless its worker holds the chunk's session lock (`engine.worker_alive`).
        for chunk in chunks.filter(
            Q(status=ChunkStatus.RUNNING) | Q(status=ChunkStatus.FAILED, attempts__lt=limit)
        ):
            if chunk.status == ChunkStatus.RUNNING and engine.worker_alive(chunk.pk):
                continue  # marked running, and its worker is about to take the row
            if not chunk.give_up_if_abandoned(limit):
                again.append(chunk)
        if find_orphans:
            again += [c for c in chunks.filter(status=ChunkStatus.QUEUED) if _orphaned(c, at=at)]
        _enqueue(again, at=at)
    return engine.settle_run(run_id=run_id, clock=lambda: at)


def _orphaned(chunk: OfferRunChunk, *, at: dt.datetime) -> bool:
    """A queued chunk no task will do: it has none, its task ended (an error before it
    reached the chunk), or the worker that took its task died on the way."""
    if not chunk.task_id:
        return True
    try:
        result = run_offer_chunk.get_result(chunk.task_id)
    except TaskResultDoesNotExist:
        return True
    except NotImplementedError:  # a backend that cannot say: trust it
        return False
    if result.status == TaskResultStatus.READY:
        return False
    if result.status == TaskResultStatus.RUNNING:
        return result.last_attempted_at is None or result.last_attempted_at < at - CLAIM_GRACE
    return True


def _enqueue(chunks: list[OfferRunChunk], *, at: dt.datetime) -> None:
    for chunk in chunks:
        result = run_offer_chunk.enqueue(run_id=chunk.run_id, chunk_id=chunk.pk)
        chunk.status, chunk.task_id, chunk.queued_at = ChunkStatus.QUEUED, result.id, at
    OfferRunChunk.objects.bulk_update(chunks, ["status", "task_id", "queued_at"])


def _schedule_supervisor(*, run: OfferRun, at: dt.datetime) -> None:
    """Queue the run's next look (the caller holds the run's row), replacing any other."""
    due = at + dt.timedelta(seconds=settings.OFFERS_RUN_SUPERVISE_SECONDS)
    supervise_run.using(run_after=due).enqueue(run_id=run.pk, due=due.isoformat())
    run.supervisor_due_at = due
    run.save(update_fields=["supervisor_due_at"])
