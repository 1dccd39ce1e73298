"""The schedule (config/schedule.py, config/scheduler/): slots, the tick that queues each
slot once however many schedulers run, retries with back-off, a run whose worker was
killed, and what staff and operators see."""

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from config import schedule
from config.scheduler import runs
from config.scheduler.jobs import AMSTERDAM, CHECKPOINT_QUEUE, Daily, Every, Job
from config.scheduler.models import ScheduledRun
from tests.connections import runtime_connection
from tests.factories import UserFactory
from tests.offers.test_workers import (
    REACHABLE_AGAIN,
    database_down,
    database_url,
    needs_the_embedded_server,
    wait_for,
)
from tests.paused_jobs import PAUSED_JOB
from tests.processes import stop_all

HOUR = dt.timedelta(hours=1)

UTC = dt.UTC


def local(*args, fold=0):
    return dt.datetime(*args, tzinfo=AMSTERDAM, fold=fold)


# --- Slots --------------------------------------------------------------------------------
def test_a_job_every_n_minutes_has_its_slots_on_the_multiples_of_n():
    every5 = Every(minutes=5)
    now = dt.datetime(2026, 11, 2, 10, 34, 59, tzinfo=UTC)
    assert every5.slot(now) == dt.datetime(2026, 11, 2, 10, 30, tzinfo=UTC)
    assert every5.next_slot(now) == dt.datetime(2026, 11, 2, 10, 35, tzinfo=UTC)
    assert every5.slot(dt.datetime(2026, 11, 2, 10, 35, tzinfo=UTC)).minute == 35
    with pytest.raises(ValueError):
        Every(minutes=7)  # does not divide a day


@pytest.mark.parametrize(
    ("now", "slot"),
    [
        # Winter and summer: 02:30 local is 01:30 and 00:30 UTC.
        (local(2026, 11, 2, 10, 0), local(2026, 11, 2, 2, 30)),
        (local(2026, 11, 2, 2, 29), local(2026, 11, 1, 2, 30)),
        (local(2026, 7, 15, 3, 0), local(2026, 7, 15, 2, 30)),
        # The clocks go forward at 02:00 on 29 March: 02:30 does not exist; the date's
        # slot is 03:30 summer time (01:30 UTC), once.
        (local(2026, 3, 29, 3, 29), local(2026, 3, 28, 2, 30)),
        (local(2026, 3, 29, 3, 30), dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        # They go back at 03:00 on 25 October: 02:30 happens twice; the slot is the first
        # (summer time, 00:30 UTC). (An ambiguous local time never equals another zone's.)
        (local(2026, 10, 25, 2, 30, fold=1), dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        (local(2026, 10, 25, 2, 29, fold=1), dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    ],
)
def test_a_daily_slot_is_once_per_local_date_across_clock_changes(now, slot):
    assert Daily("02:30").slot(now) == slot


def test_the_next_daily_slot_is_the_next_local_dates():
    daily = Daily("02:30")
    assert daily.next_slot(local(2026, 3, 28, 12, 0)) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    first = dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert daily.next_slot(first) == local(2026, 10, 26, 2, 30)
    assert daily.next_slot(first - dt.timedelta(seconds=1)) == first
    # The skipped 02:30 ran at 03:30 summer time: the next slot is 23 hours later.
    noon = local(2026, 3, 29, 12, 0)
    assert daily.next_slot(noon) - daily.slot(noon) == dt.timedelta(hours=23)


def test_the_schedule_names_each_job_once_and_only_the_checkpoint_host_s_jobs_there():
    names = [job.name for job in schedule.JOBS]
    assert len(names) == len(set(names))
    assert {job.name for job in schedule.JOBS if job.queue == CHECKPOINT_QUEUE} == {
        "checkpoint_ledger",
        "enforce_retention",
    }
    assert {job.queue for job in schedule.JOBS} <= set(settings.TASKS["default"]["QUEUES"])


# --- The tick -----------------------------------------------------------------------------
def flaky(*, now):
    raise RuntimeError("the bank's mail server said no")


FLAKY = Job("flaky", Daily("02:00"), flaky, max_attempts=3, backoff=dt.timedelta(minutes=1))


def said(*, now):
    return "3 things done"


@pytest.fixture
def only(monkeypatch):
    def only(*jobs):
        monkeypatch.setattr(schedule, "JOBS", jobs)

    return only


def attempts(job):
    return list(ScheduledRun.objects.filter(job=job).order_by("slot_at", "attempt"))


def run_queued(job):
    (run,) = ScheduledRun.objects.filter(job=job, status="queued")
    try:
        return runs.run_scheduled.call(run_id=run.pk)
    except RuntimeError:
        return None


@pytest.mark.django_db
def test_a_slot_is_queued_once_on_its_queue_and_the_run_records_what_the_job_said(only):
    job = Job("said", Every(minutes=15), said, queue=CHECKPOINT_QUEUE)
    only(job)
    now = timezone.now()
    assert runs.tick(now=now) == [f"said: queued attempt 1 of {job.when.slot(now):%Y-%m-%d %H:%M}"]
    assert runs.tick(now=now) == []
    (run,) = attempts("said")
    assert run.status == "queued" and run.slot_at == job.when.slot(now)
    assert DBTaskResult.objects.get(pk=run.task_id).queue_name == CHECKPOINT_QUEUE

    assert run_queued("said") == "3 things done"
    run.refresh_from_db()
    assert run.status == "succeeded" and run.outcome == "3 things done"
    assert run.started_at <= run.finished_at and run.worker.endswith(f":{os.getpid()}")
    assert runs.tick(now=now) == []  # the slot ran: nothing until the next one


@pytest.mark.django_db
def test_a_job_the_tick_cannot_queue_does_not_keep_the_others(only, caplog):
    only(
        Job("misconfigured", Every(minutes=15), said, queue="nowhere"),
        Job("said", Every(minutes=15), said),
    )
    said_lines = runs.tick(now=timezone.now())
    assert [line.split(":")[0] for line in said_lines] == ["said"]
    assert attempts("misconfigured") == []  # its row went with its failed transaction
    assert "schedule: looking at misconfigured failed" in caplog.text


@pytest.mark.django_db
def test_one_run_per_job_at_a_time_and_after_missed_slots_only_the_newest_runs(only):
    job = Job("said", Every(minutes=15), said)
    only(job)
    now = timezone.now()
    runs.tick(now=now)
    later = now + dt.timedelta(minutes=50)  # three slots later, the first still queued
    assert runs.tick(now=later) == []
    run_queued("said")
    assert len(runs.tick(now=later)) == 1
    assert [run.slot_at for run in attempts("said")] == [job.when.slot(now), job.when.slot(later)]


@pytest.mark.django_db
def test_a_failing_job_is_retried_after_its_back_off_up_to_its_attempts_then_shows_failed(
    only, _frozen_clock
):
    only(FLAKY)
    slot = FLAKY.when.slot(timezone.now())
    runs.tick(now=timezone.now())
    waits = []
    for attempt in (1, 2, 3):
        assert run_queued("flaky") is None  # it raised
        failed = attempts("flaky")[-1]
        assert (failed.attempt, failed.status, failed.slot_at) == (attempt, "failed", slot)
        assert "RuntimeError: the bank's mail server said no" in failed.error
        if attempt == 3:
            break
        back_off = FLAKY.backoff * 2 ** (attempt - 1)  # 1, then 2 minutes
        _frozen_clock.shift(back_off - dt.timedelta(seconds=5))
        assert runs.tick(now=timezone.now()) == []  # not yet
        _frozen_clock.shift(dt.timedelta(seconds=5))
        assert runs.tick(now=timezone.now()) == [
            f"flaky: queued attempt {attempt + 1} of {slot:%Y-%m-%d %H:%M}"
        ]
        waits.append(back_off)

    _frozen_clock.shift(dt.timedelta(hours=1))
    assert runs.tick(now=timezone.now()) == []  # no attempts left for this slot
    assert [run.status for run in attempts("flaky")] == ["failed"] * 3
    out = StringIO()
    call_command("schedule_status", stdout=out)
    assert "attempt 3 of 3: failed" in out.getvalue()
    assert "RuntimeError: the bank's mail server said no" in out.getvalue()

    next_day = FLAKY.when.next_slot(timezone.now())
    assert runs.tick(now=next_day) == [f"flaky: queued attempt 1 of {next_day:%Y-%m-%d %H:%M}"]


@pytest.mark.django_db(transaction=True)
def test_schedulers_ticking_the_same_slot_at_once_queue_it_once():
    """Four schedulers, each on its own connection, tick every job at the same instant."""
    now = timezone.now()
    start = threading.Barrier(4)
    errors = []

    def scheduler():
        try:
            start.wait()
            for _ in range(3):
                runs.tick(now=now)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for job in schedule.JOBS:
        (run,) = attempts(job.name)
        assert (run.slot_at, run.attempt, run.status) == (job.when.slot(now), 1, "queued")
    assert DBTaskResult.objects.filter(task_path__endswith="run_scheduled").count() == len(
        schedule.JOBS
    )


@pytest.mark.django_db
def test_every_job_of_the_schedule_runs_and_says_what_it_did_in_numbers():
    runs.tick(now=timezone.now())
    for job in schedule.JOBS:
        (run,) = attempts(job.name)
        outcome = runs.run_scheduled.call(run_id=run.pk)
        run.refresh_from_db()
        assert run.status == "succeeded", run.error
        assert run.outcome == outcome and any(ch.isdigit() for ch in outcome), outcome


@pytest.mark.django_db
def test_an_expiry_reaches_the_feed_within_the_stated_bound_by_the_schedule_alone(
    only, choose, _frozen_clock, settings
):
    """The README and docs/integrators.md promise: a derived change is in the feed at most
    1 min 21 s after it took effect (the next minute's slot, a tick every 20 s, a worker
    that takes it within a second). Here the scheduler ticks every 20 s from the moment
    the consent expires, and the queued job runs at once (a worker took it)."""
    from api.models import ConsentChange
    from consent.validity import end_of_day, last_valid_day
    from tests.factories import CustomerFactory

    only(next(job for job in schedule.JOBS if job.name == "record_consent_changes"))
    customer = CustomerFactory()
    (event,) = choose(customer, "offers_spending", days_ago=settings.CONSENT_MAX_AGE_DAYS).events
    expired_at = end_of_day(last_valid_day(event.occurred_at))
    _frozen_clock.move_to(expired_at)
    for _look in range(30):  # ten minutes of ticks at most
        if ConsentChange.objects.filter(customer=customer, kind="expired").exists():
            break
        runs.tick(now=timezone.now())
        if ScheduledRun.objects.filter(status="queued").exists():
            run_queued("record_consent_changes")
        _frozen_clock.shift(dt.timedelta(seconds=20))
    row = ConsentChange.objects.get(customer=customer, kind="expired")
    assert row.effective_at == expired_at and row.may_use is False
    assert row.recorded_at - row.effective_at <= dt.timedelta(minutes=1, seconds=21)


@pytest.mark.django_db
def test_the_shared_caches_expired_rate_limit_counts_are_removed_and_no_others():
    now = timezone.now()
    with connection.cursor() as cursor:
        for key, expires in (("old", now - dt.timedelta(seconds=1)), ("live", now + HOUR)):
            cursor.execute(
                "INSERT INTO shared_cache (cache_key, value, expires) VALUES (%s, 'x', %s)",
                [key, expires],
            )
    assert schedule.prune_shared_cache(now=now) == "1 expired cache entries removed"
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM shared_cache")
        assert cursor.fetchall() == [("live",)]


# --- A worker killed in the middle of a scheduled run ----------------------------------------
PAUSE_LOCK = 4_250_714


@pytest.fixture
def schedule_workers(tmp_path):
    started = []

    def start():
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.schedule_worker_settings",
            "DATABASE_URL": database_url(),
            "SCHEDULE_TEST_PAUSE_LOCK": str(PAUSE_LOCK),
        }
        env.pop("DATABASE_OWNER_URL", None)
        path = tmp_path / f"worker-{len(started)}.log"
        with open(path, "w") as log:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "offers_worker", "--queue-name", "schedule",
                 "--interval", "0.2", "--no-startup-delay", "--no-reload"],
                cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        process.log_path = path
        started.append(process)
        return process

    yield start
    stop_all(started)


@pytest.mark.slow
@pytest.mark.real_clock
@pytest.mark.django_db(transaction=True)
def test_a_scheduled_run_whose_worker_was_killed_is_retried_by_the_next_tick(
    only, schedule_workers
):
    only(PAUSED_JOB)
    holder = runtime_connection(autocommit=True)
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", [PAUSE_LOCK])
        victim = schedule_workers()
        runs.tick(now=timezone.now())
        running = wait_for(
            lambda: ScheduledRun.objects.filter(job="paused", status="running").first(),
            "the job in the middle of its run",
        )
        assert running.worker.endswith(f":{victim.pid}")
        assert runs.tick(now=timezone.now()) == []  # its worker holds it
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=20)
    finally:
        holder.close()  # the killed worker's backend ends once its wait does

    said = wait_for(lambda: runs.tick(now=timezone.now()), "the tick to see the run abandoned")
    slot = f"{running.slot_at:%Y-%m-%d %H:%M}"
    assert said == [
        f"paused: attempt 1 of {slot} abandoned; queued attempt 2 of {slot}",
    ]
    schedule_workers()
    done = wait_for(
        lambda: ScheduledRun.objects.filter(job="paused", status="succeeded").first(),
        "the second attempt to succeed",
    )
    first, second = attempts("paused")
    assert (first.attempt, first.status) == (1, "failed")
    assert "stopped before it ended" in first.error
    assert (second.pk, second.attempt, second.outcome) == (done.pk, 2, "waited 1 time")
    assert not second.worker.endswith(f":{victim.pid}")


@pytest.mark.slow
@needs_the_embedded_server
@pytest.mark.django_db(transaction=True)
def test_a_scheduler_started_during_a_database_outage_waits_for_it_then_queues_every_job(
    tmp_path,
):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.offers.worker_settings",
        "DATABASE_URL": database_url(),
    }
    env.pop("DATABASE_OWNER_URL", None)
    log_path = tmp_path / "scheduler.log"
    with open(log_path, "w") as log, database_down():
        scheduler = subprocess.Popen(
            [sys.executable, "manage.py", "run_schedule", "--interval", "0.5",
             "--backoff-initial", "0.2", "--backoff-max", "1"],
            cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_for(
                lambda: log_path.read_text().count("database unreachable, attempt") >= 3,
                "the scheduler to try three times",
            )
            assert scheduler.poll() is None, log_path.read_text()
        except BaseException:
            scheduler.kill()
            raise
    try:
        wait_for(
            lambda: ScheduledRun.objects.values("job").distinct().count() == len(schedule.JOBS),
            "every job queued",
        )
    finally:
        scheduler.terminate()
        assert scheduler.wait(timeout=20) == 0
    text = log_path.read_text()
    assert REACHABLE_AGAIN.search(text), text
    assert "scheduler waits" in text
    assert all(len(attempts(job.name)) == 1 for job in schedule.JOBS)


# --- What staff and operators see ------------------------------------------------------------
@pytest.fixture
def ran(db, only):
    only(Job("said", Every(minutes=15), said), FLAKY)
    now = timezone.now()
    runs.tick(now=now)
    run_queued("said")
    run_queued("flaky")
    return now


def staff_in(group):
    user = UserFactory(username=group.split()[0].lower(), is_staff=True)
    user.groups.set([Group.objects.get(name=group)])
    return user


LIST = "/admin/scheduler/scheduledrun/"


def test_privacy_officers_see_each_run_with_its_slot_status_duration_and_outcome(client, ran):
    client.force_login(staff_in("Privacy officers"))
    page = client.get(LIST).content.decode()
    assert "3 things done" in page
    assert "gelukt" in page and "mislukt" in page
    assert page.count(" s</td>") == 2  # the duration of each
    run = ScheduledRun.objects.get(job="said")
    detail = client.get(f"{LIST}{run.pk}/change/")
    assert detail.status_code == 200
    assert client.post(f"{LIST}{run.pk}/delete/").status_code == 403


@pytest.mark.parametrize("group", ["Offer reviewers", "Klantenservice", "Access managers"])
def test_other_staff_do_not_see_the_schedule(client, ran, group):
    client.force_login(staff_in(group))
    assert client.get(LIST).status_code == 403


def test_schedule_status_prints_each_job_s_last_slot_run_duration_outcome_and_next_slot(ran):
    out = StringIO()
    call_command("schedule_status", stdout=out)
    lines = out.getvalue().splitlines()
    said_run = ScheduledRun.objects.get(job="said")
    start = lines.index("said (every 15 min, queue schedule)")
    local_slot = timezone.localtime(said_run.slot_at)
    assert lines[start + 1] == (
        f"  last slot: {local_slot:%Y-%m-%d %H:%M:%S %Z}, attempt 1 of 3: succeeded"
    )
    assert lines[start + 2].startswith("  last run: succeeded at ")
    assert lines[start + 2].endswith(" s: 3 things done")
    next_slot = timezone.localtime(said_run.slot_at + dt.timedelta(minutes=15))
    assert lines[start + 3] == f"  next slot: {next_slot:%Y-%m-%d %H:%M:%S %Z}"
    assert "flaky (daily 02:00 Europe/Amsterdam, queue schedule)" in lines
