"""Runs as a set of chunks: one open run per date, resuming, attempts, dead
workers' chunks, counts as the sum of the chunks, and starting and watching a run in the
admin. The tasks run here in this process, through the task backend's own worker code;
`test_workers.py` runs them in real `offers_worker` processes."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from ledger.models import Action
from offers import engine, tasks
from offers.models import DataUse, Offer, OfferEvent, OfferRun, OfferRunChunk, OfferStatus
from tests.connections import close_and_wait, runtime_connection

from . import population
from .conftest import AS_OF
from .factories import give_reason_for
from .population import snapshot


@pytest.fixture
def customers_for_every_rule(db, choose):
    return population.customers_for_every_rule(choose)


def work_off_the_queue() -> int:
    """What `db_worker --batch` does, in this process and this test's transaction: take
    each task that is due, in the backend's order, and run it. Returns how many ran."""
    worker = Worker(
        queue_names=[tasks.QUEUE],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )
    ran = 0
    while True:
        with transaction.atomic():
            result = DBTaskResult.objects.ready().filter(queue_name=tasks.QUEUE).get_locked()
            if result is None:
                return ran
            result.claim(worker.worker_id)
        worker.run_task(result)
        ran += 1


def chunk_statuses(run) -> list[str]:
    return list(run.chunks.order_by("number").values_list("status", flat=True))


# --- One open run per date, by the database -------------------------------------------------
def test_the_database_refuses_a_second_open_run_for_the_same_date(db, now):
    OfferRun.objects.create(as_of=AS_OF, started_at=now, status="queued")
    with pytest.raises(IntegrityError), transaction.atomic():
        OfferRun.objects.create(as_of=AS_OF, started_at=now, status="running")
    # Another date, or a finished run for the same date, is no overlap.
    OfferRun.objects.create(as_of=AS_OF + dt.timedelta(days=1), started_at=now, status="running")
    OfferRun.objects.create(as_of=AS_OF, started_at=now, status="finished", finished_at=now)


def test_a_rerun_while_a_run_is_open_resumes_it_instead_of_starting_another(
    customers_for_every_rule, now
):
    run, resumed = engine.open_run(as_of=AS_OF, now=now, chunk_size=3)
    assert (run.status, resumed) == ("queued", False)
    again, resumed = engine.open_run(as_of=AS_OF, now=now + dt.timedelta(hours=1), chunk_size=5)
    assert (again.pk, resumed, again.started_at) == (run.pk, True, now)
    assert again.chunks.count() == 4  # its own chunks, not a new slicing
    assert OfferRun.objects.count() == 1


def test_a_rerun_redoes_only_the_unfinished_chunks_and_expires_nothing_twice(
    customers_for_every_rule, now
):
    # An earlier run's offer to a saver, whose 60 days are over by AS_OF.
    saver = customers_for_every_rule[2]
    engine.generate_offers(as_of=AS_OF - dt.timedelta(days=70), now=now - dt.timedelta(days=20))
    assert Offer.objects.filter(customer=saver, status=OfferStatus.PROPOSED).exists()

    run, _ = engine.open_run(as_of=AS_OF, now=now, chunk_size=3)
    assert run.expired >= 1  # the old offers, past their 60 days: expired once, here
    first, second = run.chunks.order_by("number")[:2]
    engine.execute_chunk(chunk_id=first.pk, worker="a:1", clock=timezone.now)
    # The process doing the second chunk dies: its row says running, nobody holds it.
    OfferRunChunk.objects.filter(pk=second.pk).update(status="running", attempts=1, worker="b:2")

    rerun = engine.generate_offers(as_of=AS_OF, now=now + dt.timedelta(hours=2))
    assert (rerun.pk, rerun.status, rerun.expired) == (run.pk, "finished", run.expired)
    chunks = {c.number: c for c in rerun.chunks.all()}
    assert (chunks[1].attempts, chunks[1].worker) == (1, "a:1")  # not done again
    assert chunks[2].attempts == 1 and chunks[2].worker != "b:2"  # afresh, once
    assert set(chunk_statuses(rerun)) == {"done"}
    expired = OfferEvent.objects.filter(to_state="expired", run=run)
    assert expired.count() == run.expired
    # Offers are stamped with the run's start, whenever a chunk was done.
    assert set(Offer.objects.filter(run=run).values_list("created_at", flat=True)) == {now}


def test_a_rerun_naming_other_rules_does_not_resume_the_unfinished_run(
    customers_for_every_rule, now
):
    run, _ = engine.open_run(as_of=AS_OF, now=now, chunk_size=3)
    with pytest.raises(engine.RunUnfinished) as refused:
        engine.open_run(as_of=AS_OF, now=now, rule_codes=["savings_account"])
    assert refused.value.run == run


def test_run_counts_are_the_sum_of_its_chunks_and_equal_a_single_chunk_run(
    customers_for_every_rule, now
):
    with transaction.atomic():
        whole = engine.generate_offers(as_of=AS_OF, now=now)
        expected = snapshot()
        transaction.set_rollback(True)
    chunked = engine.generate_offers(as_of=AS_OF, now=now, chunk_size=3)
    assert chunked.chunks.count() == 4
    assert chunked.counts == whole.counts
    assert chunked.counts == engine.sum_counts(
        chunked.rules, chunked.chunks.values_list("counts", flat=True)
    )
    assert snapshot() == expected


def test_a_run_without_customers_finishes_at_once(db, now):
    run = engine.generate_offers(as_of=AS_OF, now=now)
    assert (run.status, run.chunks.count()) == ("finished", 0)


# --- Chunks and attempts -----------------------------------------------------------------
def test_a_chunk_found_running_was_left_by_a_dead_process_and_is_done_again(
    customers_for_every_rule, now
):
    run, _ = engine.open_run(as_of=AS_OF, now=now, chunk_size=3)
    chunk = run.chunks.order_by("number").first()
    OfferRunChunk.objects.filter(pk=chunk.pk).update(status="running", attempts=1, worker="x:9")
    done = engine.execute_chunk(chunk_id=chunk.pk, worker="y:7", clock=timezone.now, max_attempts=3)
    assert (done.status, done.attempts, done.worker) == ("done", 2, "y:7")
    # Done is done: another task for it changes nothing.
    again = engine.execute_chunk(chunk_id=chunk.pk, worker="z:5", clock=timezone.now)
    assert (again.attempts, again.worker) == (2, "y:7")


def test_a_chunk_whose_process_died_too_often_fails_and_fails_the_run(
    customers_for_every_rule, now, settings
):
    settings.OFFERS_CHUNK_MAX_ATTEMPTS = 2
    run, _ = tasks.start_run(as_of=AS_OF, now=now, chunk_size=6)
    first, second = run.chunks.order_by("number")
    engine.execute_chunk(chunk_id=first.pk, worker="a:1", clock=timezone.now)
    OfferRunChunk.objects.filter(pk=second.pk).update(status="running", attempts=2, worker="b:2")

    settled = tasks.look_after(run_id=run.pk, at=timezone.now())
    second.refresh_from_db()
    assert (second.status, second.error) == ("failed", "the process doing it stopped, 2 times")
    assert settled.status == "failed"
    # A rerun gives the failed chunk a fresh start, on the workers.
    resumed, was_resumed = tasks.start_run(as_of=AS_OF, now=now + dt.timedelta(hours=1))
    assert (resumed.pk, was_resumed, resumed.status) == (run.pk, True, "queued")
    second.refresh_from_db()
    assert (second.status, second.attempts) == ("queued", 0)
    work_off_the_queue()
    resumed.refresh_from_db()
    assert resumed.status == "finished" and set(chunk_statuses(resumed)) == {"done"}


def test_a_dead_workers_chunk_is_queued_again_with_attempts_left(customers_for_every_rule, now):
    run, _ = tasks.start_run(as_of=AS_OF, now=now, chunk_size=6)
    chunk = run.chunks.order_by("number").first()
    old_task = chunk.task_id
    OfferRunChunk.objects.filter(pk=chunk.pk).update(status="running", attempts=1)
    tasks.look_after(run_id=run.pk, at=timezone.now())
    chunk.refresh_from_db()
    assert (chunk.status, chunk.attempts) == ("queued", 1)
    assert chunk.task_id and chunk.task_id != old_task


def test_a_queued_chunk_whose_task_ended_without_doing_it_is_queued_again(
    customers_for_every_rule, now
):
    run, _ = tasks.start_run(as_of=AS_OF, now=now, chunk_size=6)
    chunk = run.chunks.order_by("number").first()
    DBTaskResult.objects.filter(id=chunk.task_id).update(status="FAILED")
    tasks.look_after(run_id=run.pk, at=timezone.now(), find_orphans=True)
    chunk.refresh_from_db()
    assert chunk.status == "queued"
    assert DBTaskResult.objects.get(id=chunk.task_id).status == "READY"
    # A task that is waiting its turn is left alone.
    before = chunk.task_id
    tasks.look_after(run_id=run.pk, at=timezone.now(), find_orphans=True)
    chunk.refresh_from_db()
    assert chunk.task_id == before


def test_the_supervisor_looks_again_while_the_run_is_open_and_then_stops(
    customers_for_every_rule, now
):
    run, _ = tasks.start_run(as_of=AS_OF, now=now, chunk_size=6)
    supervisors = DBTaskResult.objects.filter(task_path="offers.tasks.supervise_run")
    assert supervisors.count() == 1
    assert tasks.supervise_run.call(run_id=run.pk) == "queued"
    assert supervisors.count() == 2  # the next look, due in OFFERS_RUN_SUPERVISE_SECONDS
    work_off_the_queue()
    assert tasks.supervise_run.call(run_id=run.pk) == "finished"
    assert supervisors.count() == 2


def test_a_supervisor_scheduled_since_replaces_the_one_before(customers_for_every_rule, now):
    tasks.start_run(as_of=AS_OF, now=now, chunk_size=6)
    supervisors = DBTaskResult.objects.filter(task_path="offers.tasks.supervise_run")
    (first,) = supervisors.all()
    # A rerun of the open run schedules its own supervisor: one goes on, not two.
    tasks.start_run(as_of=AS_OF, now=now)
    second = supervisors.exclude(pk=first.pk).get()
    assert tasks.supervise_run.call(**first.args_kwargs["kwargs"]) == "replaced"
    assert supervisors.count() == 2
    assert tasks.supervise_run.call(**second.args_kwargs["kwargs"]) == "queued"
    assert supervisors.count() == 3  # its next look


def test_after_an_outage_a_chunk_whose_worker_lost_it_is_queued_again_with_a_new_supervisor(
    customers_for_every_rule, now
):
    run, _ = tasks.start_run(as_of=AS_OF, now=now, chunk_size=6)
    first = run.chunks.order_by("number").first()
    supervisors = DBTaskResult.objects.filter(task_path="offers.tasks.supervise_run")
    (before,) = supervisors.all()
    # Its worker lost the connection in the middle: the work rolled back, the row says
    # running, and the task the worker had taken says running too.
    OfferRunChunk.objects.filter(pk=first.pk).update(status="running", attempts=1)
    DBTaskResult.objects.filter(id=first.task_id).update(status="RUNNING")
    lost_task = first.task_id

    assert tasks.after_outage(at=timezone.now()) == f"looked after open run(s) {run.pk}"

    first.refresh_from_db()
    assert (first.status, first.attempts) == ("queued", 1)
    assert first.task_id != lost_task
    # The supervisor the outage may have cut off is replaced by a new one.
    after = supervisors.exclude(pk=before.pk).get()
    assert tasks.supervise_run.call(**before.args_kwargs["kwargs"]) == "replaced"
    assert after.run_after > timezone.now()
    work_off_the_queue()
    run.refresh_from_db()
    assert run.status == "finished" and chunk_statuses(run) == ["done", "done"]
    assert OfferRunChunk.objects.get(pk=first.pk).attempts == 2
    assert tasks.after_outage(at=timezone.now()) == "no open run"


@pytest.mark.django_db(transaction=True)
def test_a_chunk_another_process_holds_is_left_to_it(customers_for_every_rule, now):
    run, _ = tasks.start_run(as_of=AS_OF, now=now, chunk_size=6)
    chunk = run.chunks.order_by("number").first()
    OfferRunChunk.objects.filter(pk=chunk.pk).update(status="running", attempts=1)
    with runtime_connection(autocommit=False) as other:
        other.execute("SELECT FROM offers_offerrunchunk WHERE id = %s FOR UPDATE", [chunk.pk])
        assert engine.execute_chunk(chunk_id=chunk.pk, worker="me:1", clock=timezone.now) is None
        tasks.look_after(run_id=run.pk, at=timezone.now())
        chunk.refresh_from_db()
        assert (chunk.status, chunk.attempts) == ("running", 1)  # still the other's


def test_a_chunk_whose_worker_is_between_its_two_transactions_is_not_taken_for_abandoned(
    customers_for_every_rule, now
):
    """A worker has marked its chunk running and committed; before it takes the row's lock
    for the work, the supervisor looks. The row is unlocked, but the worker is alive: its
    chunk is not queued a second time (under load the gap lasted long enough to count an
    attempt too many; enough such and a live chunk would fail)."""
    run, _ = tasks.start_run(as_of=AS_OF, now=now, chunk_size=6)
    chunk = run.chunks.order_by("number").first()
    task = chunk.task_id
    OfferRunChunk.objects.filter(pk=chunk.pk).update(status="running", attempts=1)
    worker = runtime_connection(autocommit=True)
    worker.execute("SELECT pg_advisory_lock(%s, %s)", [engine.CHUNK_WORKER_LOCK, chunk.pk])
    tasks.look_after(run_id=run.pk, at=timezone.now())
    assert engine.execute_chunk(chunk_id=chunk.pk, worker="me:1", clock=timezone.now) is None
    chunk.refresh_from_db()
    assert (chunk.status, chunk.attempts, chunk.task_id) == ("running", 1, task)
    # The worker dies: its chunk is free, and queued again.
    close_and_wait(worker)
    tasks.look_after(run_id=run.pk, at=timezone.now())
    chunk.refresh_from_db()
    assert (chunk.status, chunk.attempts) == ("queued", 1)
    assert chunk.task_id != task


def test_a_chunk_done_later_judges_consent_at_the_runs_start_and_respects_withdrawals(
    customers_for_every_rule, now, choose
):
    traveller, idle = customers_for_every_rule[0], customers_for_every_rule[-1]
    choose(idle, "offers_balance", Action.WITHDRAWN, days_ago=1)  # off when the run starts
    run, _ = tasks.start_run(as_of=AS_OF, now=now, chunk_size=100)
    # After the run started, before a worker gets to the chunk: the traveller withdraws,
    # and a customer whose consent was off consents.
    choose(traveller, "offers_spending", Action.WITHDRAWN, at=timezone.now())
    give_reason_for(idle, "savings_account", as_of=AS_OF)
    choose(idle, "offers_balance", at=timezone.now())
    work_off_the_queue()
    run.refresh_from_db()
    assert run.status == "finished"
    read = set(DataUse.objects.filter(run=run).values_list("customer_id", flat=True))
    assert traveller.pk not in read and idle.pk not in read
    assert not Offer.objects.filter(customer__in=[traveller, idle]).exists()
    assert Offer.objects.filter(run=run).count() == 7  # the other seven with consent


def test_queued_run_through_the_task_backend_makes_the_offers_an_inline_run_makes(
    customers_for_every_rule, now
):
    with transaction.atomic():
        inline = engine.generate_offers(as_of=AS_OF, now=now)
        expected = snapshot()
        transaction.set_rollback(True)
    run, _ = tasks.start_run(as_of=AS_OF, now=now, chunk_size=3)
    queued = DBTaskResult.objects.filter(task_path="offers.tasks.run_offer_chunk", status="READY")
    assert queued.count() == 4
    assert work_off_the_queue() == 4
    run.refresh_from_db()
    assert (run.status, run.counts) == ("finished", inline.counts)
    assert snapshot() == expected


# --- The admin: start a run, watch it, resume it ------------------------------------------
RUNS = "/admin/offers/offerrun/"


def test_a_reviewer_starts_a_run_from_the_admin_and_watches_its_chunks(
    client, reviewer, customers_for_every_rule
):
    client.force_login(reviewer)
    assert f'href="{RUNS}start/"' in client.get(RUNS).content.decode()
    form = client.get(f"{RUNS}start/")
    page = form.content.decode()
    assert form.status_code == 200 and 'name="as_of"' in page
    assert "<style" not in page and "style=" not in page and "<script>" not in page

    response = client.post(f"{RUNS}start/", {"as_of": AS_OF.isoformat()}, follow=True)
    run = OfferRun.objects.get()
    assert (run.status, run.as_of, run.started_by) == ("queued", AS_OF, reviewer)
    assert response.redirect_chain == [(f"{RUNS}{run.pk}/change/", 302)]
    page = response.content.decode()
    assert "De run voor 2 november 2026 staat klaar voor de workers." in page
    assert "0 van 1 delen klaar, 0 bezig, 0 mislukt" in page
    assert f'data-url="{RUNS}{run.pk}/progress/"' in page
    assert 'src="/static/admin-extra/offer-run.js"' in page
    assert "<style" not in page and "style=" not in page and "<script>" not in page

    work_off_the_queue()
    panel = client.get(f"{RUNS}{run.pk}/progress/").content.decode()
    assert 'data-open="false"' in panel
    assert "1 van 1 delen klaar, 0 bezig, 0 mislukt; 8 aanbiedingen voorgesteld" in panel
    assert '<tr id="chunk-1" class="chunk-done">' in panel
    assert "1/1" in client.get(RUNS).content.decode()  # the list's chunks column


def test_privacy_officers_may_start_runs_and_the_contact_centre_may_not(
    client, privacy_officer, contact_centre
):
    client.force_login(privacy_officer)
    assert client.get(f"{RUNS}start/").status_code == 200
    client.force_login(contact_centre)
    assert client.get(f"{RUNS}start/").status_code == 403
    assert client.post(f"{RUNS}start/", {"as_of": AS_OF.isoformat()}).status_code == 403
    assert not OfferRun.objects.exists()


def test_a_reviewer_resumes_a_failed_run_from_its_page(
    client, reviewer, customers_for_every_rule, now
):
    run, _ = tasks.start_run(as_of=AS_OF, now=now, chunk_size=6)
    _first, second = run.chunks.order_by("number")
    OfferRunChunk.objects.filter(pk=second.pk).update(status="failed", attempts=3, error="boom")
    work_off_the_queue()
    run.refresh_from_db()
    assert run.status == "failed"

    client.force_login(reviewer)
    page = client.get(f"{RUNS}{run.pk}/change/").content.decode()
    assert 'id="resume-form"' in page and "boom" in page
    response = client.post(f"{RUNS}{run.pk}/resume/", follow=True)
    assert "wordt hervat" in response.content.decode()
    second.refresh_from_db()
    assert (second.status, second.attempts) == ("queued", 0)
    work_off_the_queue()
    run.refresh_from_db()
    assert run.status == "finished"
    assert 'id="resume-form"' not in client.get(f"{RUNS}{run.pk}/change/").content.decode()


def test_starting_a_run_for_a_date_unfinished_with_other_rules_says_so(
    client, reviewer, customers_for_every_rule, now
):
    run, _ = tasks.start_run(as_of=AS_OF, now=now, rule_codes=["savings_account"])
    client.force_login(reviewer)
    response = client.post(
        f"{RUNS}start/",
        {"as_of": AS_OF.isoformat(), "rules": ["travel_world_cover"]},
        follow=True,
    )
    assert response.redirect_chain == [(f"{RUNS}{run.pk}/change/", 302)]
    assert "nog niet klaar, met andere regels (savings_account)" in response.content.decode()
    # Naming no rules resumes it, with its own.
    response = client.post(f"{RUNS}start/", {"as_of": AS_OF.isoformat()}, follow=True)
    assert "was nog niet klaar en wordt hervat" in response.content.decode()
    assert OfferRun.objects.count() == 1


def test_the_runs_pages_speak_english_too(client, reviewer, customers_for_every_rule, now):
    run, _ = tasks.start_run(as_of=AS_OF, now=now)
    client.force_login(reviewer)
    page = client.get(f"{RUNS}{run.pk}/change/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "0 of 1 chunks done, 0 running, 0 failed; 0 offers proposed. Status: queued." in page
    start = client.get(f"{RUNS}start/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Start an engine run" in start and "None chosen: all rules." in start
