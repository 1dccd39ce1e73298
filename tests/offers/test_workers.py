"""Runs on real `db_worker` processes (issue #13), against the test database, as the
runtime role: the same offers as a run in one process, and a worker killed in the middle
of a chunk.

The workers run on the machine's clock; the run's start (when consent is judged, what
offers are stamped with) comes from its row, so the test's frozen clock still decides.
"""

import os
import signal
import subprocess
import sys
import time
from io import StringIO
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from config.database import embedded_url
from offers import engine, tasks
from offers.models import Offer, OfferEvent, OfferRun, OfferRunChunk
from tests.connections import runtime_connection

from . import population
from .conftest import AS_OF
from .population import snapshot

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PAUSE_LOCK = 4_250_713  # the advisory lock the paused chunks wait on
WAIT_SECONDS = 60  # a bound for a run that never ends (a failure), not a measurement


def database_url() -> str:
    """The test database, as the runtime role (the role every worker connects as)."""
    db = settings.DATABASES["default"]
    if db.get("EMBEDDED"):  # with the runtime role's password, from its file
        return embedded_url(db["USER"], db["NAME"])
    user = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    if db["HOST"].startswith("/"):  # a Unix socket folder (the embedded server)
        return f"postgresql://{user}@/{db['NAME']}?host={quote(db['HOST'])}"
    return f"postgresql://{user}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def workers(tmp_path):
    """Start `db_worker --queue-name offers` processes; they are stopped after the test."""
    started = []

    def start(count, *, pause_lock=None):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.offers.worker_settings",
            "DATABASE_URL": database_url(),
        }
        env.pop("DATABASE_OWNER_URL", None)  # workers never need the owner
        if pause_lock is not None:
            env["OFFERS_TEST_CHUNK_PAUSE_LOCK"] = str(pause_lock)
        for _ in range(count):
            log = open(tmp_path / f"worker-{len(started)}.log", "w")  # noqa: SIM115
            started.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "db_worker", "--queue-name", tasks.QUEUE,
                     "--interval", "0.2", "--no-startup-delay", "--no-reload"],
                    cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
            log.close()
        return started[-count:]

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def customers_for_every_rule(db, choose):
    return population.customers_for_every_rule(choose)


def wait_for(condition, what):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"gave up waiting for {what}")


def test_two_workers_make_exactly_the_offers_a_run_in_one_process_makes(
    customers_for_every_rule, workers, now
):
    with transaction.atomic():
        inline = engine.generate_offers(as_of=AS_OF, now=now)
        expected = snapshot()
        transaction.set_rollback(True)
    assert len(expected["offers"]) == 8

    processes = workers(2)
    out = StringIO()
    call_command(
        "generate_offers", "--queue", "--as-of", AS_OF.isoformat(), "--chunk-size", "3", stdout=out
    )

    run = OfferRun.objects.get()
    assert (run.status, run.counts) == ("finished", inline.counts)
    assert snapshot() == expected
    # Stamped with the run's start (the test's clock), not the workers' clocks.
    assert set(Offer.objects.values_list("created_at", flat=True)) == {run.started_at}
    chunks = list(run.chunks.order_by("number"))
    assert [(c.status, c.attempts) for c in chunks] == [("done", 1)] * 4
    pids = {str(p.pid) for p in processes}
    assert {c.worker.rsplit(":", 1)[1] for c in chunks} <= pids
    lines = out.getvalue().splitlines()
    assert lines[0] == f"run {run.pk} as of {AS_OF} queued: 4 of 4 chunks for the workers" + (
        " (db_worker --queue-name offers)"
    )
    assert sorted(line.split(":")[0] for line in lines if line.startswith("chunk ")) == [
        f"chunk {n}/4 done" for n in range(1, 5)
    ]
    assert lines[-4].startswith(f"run {run.pk} as of {AS_OF}: finished")


def test_a_worker_killed_in_the_middle_of_a_chunk_still_ends_in_a_finished_run(
    customers_for_every_rule, workers, now
):
    with transaction.atomic():
        engine.generate_offers(as_of=AS_OF, now=now)
        expected = snapshot()
        transaction.set_rollback(True)

    holder = runtime_connection(autocommit=True)
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", [PAUSE_LOCK])
        processes = {str(p.pid): p for p in workers(2, pause_lock=PAUSE_LOCK)}
        run, _ = tasks.start_run(as_of=AS_OF, now=now, chunk_size=3)
        # Both workers are in the middle of a chunk: marked running, waiting on the lock.
        running = wait_for(
            lambda: (
                list(run.chunks.filter(status="running").exclude(worker=""))
                if run.chunks.filter(status="running").count() == 2
                else None
            ),
            "two chunks in the middle of their work",
        )
        victim = running[0]
        pid = victim.worker.rsplit(":", 1)[1]
        assert pid in processes
        processes[pid].send_signal(signal.SIGKILL)
        processes[pid].wait(timeout=20)
    finally:
        holder.close()  # lets the other worker go on

    wait_for(
        lambda: OfferRun.objects.get(pk=run.pk).status not in ("queued", "running"),
        "the run to end",
    )
    run.refresh_from_db()
    assert run.status == "finished"
    assert set(run.chunks.values_list("status", flat=True)) == {"done"}
    victim = OfferRunChunk.objects.get(pk=victim.pk)
    assert victim.attempts == 2 and victim.worker.rsplit(":", 1)[1] != pid
    # Nothing twice: the same offers, one proposal event each, the same data-use rows.
    assert snapshot() == expected
    assert OfferEvent.objects.count() == Offer.objects.count() == len(expected["offers"])
