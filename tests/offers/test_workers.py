"""Runs on real worker processes (`manage.py offers_worker`), against the test database,
as the runtime role: the same offers as a run in one process, a worker killed in the
middle of a chunk, and workers that outlive a database outage (the embedded server
stopped and started again, as tests/test_faults.py does) or start during one.

The workers run on the machine's clock; the run's start (when consent is judged, what
offers are stamped with) comes from its row, so the test's frozen clock still decides.
"""

import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from io import StringIO
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from infra.database import embedded_url
from offers import engine, tasks
from offers.models import Offer, OfferEvent, OfferRun, OfferRunChunk
from tests.connections import runtime_connection
from tests.processes import stop_all

from . import population
from .conftest import AS_OF
from .population import snapshot

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PAUSE_LOCK = 4_250_713  # the advisory lock the paused chunks wait on
WAIT_SECONDS = 60  # a bound for a run that never ends (a failure), not a measurement
# How a worker says it lost the database, and found it again (offers/worker.py).
UNREACHABLE = re.compile(
    r"database unreachable, attempt (\d+): \w+: .+; worker \S+ waits (\d+\.\d) s"
)
REACHABLE_AGAIN = re.compile(r"database reachable again after (\d+) attempts, \d+\.\d s down")
needs_the_embedded_server = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="stops and starts the embedded PostgreSQL; with DATABASE_URL there is none",
)


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
    """Start `offers_worker` processes (README: Runs and workers); they are stopped after
    the test. Each has its log in `process.log_path`."""
    started = []

    def start(count, *, pause_lock=None, url=None, backoff=("0.2", "1")):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.offers.worker_settings",
            "DATABASE_URL": url or database_url(),
        }
        env.pop("DATABASE_OWNER_URL", None)  # workers never need the owner
        if pause_lock is not None:
            env["OFFERS_TEST_CHUNK_PAUSE_LOCK"] = str(pause_lock)
        for _ in range(count):
            path = tmp_path / f"worker-{len(started)}.log"
            with open(path, "w") as log:
                process = subprocess.Popen(
                    [sys.executable, "manage.py", "offers_worker", "--interval", "0.2",
                     "--no-startup-delay", "--no-reload", "--backoff-initial", backoff[0],
                     "--backoff-max", backoff[1]],
                    cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
                )  # fmt: skip
            process.log_path = path
            started.append(process)
        return started[-count:]

    yield start
    stop_all(started)


@pytest.fixture
def customers_for_every_rule(db, choose):
    return population.customers_for_every_rule(choose)


@contextmanager
def database_down():
    """The test database's server (the embedded PostgreSQL) is stopped for the block, and
    always started again after it."""
    from infra.database import embedded_server

    server = embedded_server()
    connection.close()
    server.stop()
    try:
        yield
    finally:
        server.start()
        connection.close()  # this process's connection died with the server


def attempts_logged(process) -> list[tuple[int, float]]:
    """(attempt, wait) of each "database unreachable" line the worker logged."""
    log = process.log_path.read_text()
    return [(int(n), float(wait)) for n, wait in UNREACHABLE.findall(log)]


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
        " (offers_worker)"
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


@needs_the_embedded_server
def test_a_worker_outlives_a_database_outage_in_the_middle_of_a_chunk_and_the_run_ends_the_same(
    customers_for_every_rule, workers, now
):
    with transaction.atomic():
        engine.generate_offers(as_of=AS_OF, now=now)
        expected = snapshot()
        transaction.set_rollback(True)

    holder = runtime_connection(autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", [PAUSE_LOCK])
    (worker,) = workers(1, pause_lock=PAUSE_LOCK)
    run, _ = tasks.start_run(as_of=AS_OF, now=now, chunk_size=3)
    cut_off = wait_for(
        lambda: run.chunks.filter(status="running").exclude(worker="").first(),
        "a chunk in the middle of its work",
    )
    with database_down():  # the paused chunk's connection goes with the server
        wait_for(lambda: len(attempts_logged(worker)) >= 5, "the worker to try five times")
        assert worker.poll() is None, worker.log_path.read_text()
    holder.close()

    wait_for(
        lambda: OfferRun.objects.get(pk=run.pk).status not in ("queued", "running"),
        "the run to end",
    )
    run.refresh_from_db()
    assert run.status == "finished"
    # Nothing twice: the same offers, one proposal event each, the same data-use rows.
    assert snapshot() == expected
    assert OfferEvent.objects.count() == Offer.objects.count() == len(expected["offers"])
    chunks = list(run.chunks.order_by("number"))
    assert {c.status for c in chunks} == {"done"}
    # The chunk the outage cut off was done again by the stalled-chunk logic, by the same
    # process, which never exited.
    assert OfferRunChunk.objects.get(pk=cut_off.pk).attempts == 2
    assert {c.worker.rsplit(":", 1)[1] for c in chunks} == {str(worker.pid)}
    assert worker.poll() is None
    # The task the outage cut off says so, instead of "running" for ever.
    result = DBTaskResult.objects.get(id=cut_off.task_id)
    assert (result.status, result.exception_class_path) == (
        "FAILED",
        "django.db.utils.OperationalError",
    )
    # One line per failure with its attempt and wait: attempt n waits between half and all
    # of 0.2 s x 2^(n-1), capped at 1 s (logged to a tenth of a second).
    logged = attempts_logged(worker)
    assert [n for n, _ in logged] == list(range(1, len(logged) + 1))
    for attempt, wait in logged:
        ceiling = min(1.0, 0.2 * 2 ** (attempt - 1))
        assert ceiling / 2 - 0.05 <= wait <= ceiling + 0.05, (attempt, wait)
    assert REACHABLE_AGAIN.search(worker.log_path.read_text()).group(1) == str(len(logged))


@needs_the_embedded_server
def test_the_queued_runs_watcher_outlives_a_database_outage_and_reports_the_run(
    customers_for_every_rule, workers, now, tmp_path
):
    """`generate_offers --queue` (a cron line that fails when the run fails) waits for the
    database like the workers do, instead of exiting 1 on a run that goes on."""
    holder = runtime_connection(autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", [PAUSE_LOCK])
    workers(1, pause_lock=PAUSE_LOCK)
    output = tmp_path / "watcher.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.offers.worker_settings",
        "DATABASE_URL": database_url(),
    }
    env.pop("DATABASE_OWNER_URL", None)
    with open(output, "w") as log:
        watcher = subprocess.Popen(
            [sys.executable, "manage.py", "generate_offers", "--queue", "--as-of", str(AS_OF),
             "--chunk-size", "3"],
            cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(lambda: OfferRunChunk.objects.filter(status="running").exists(), "a chunk")
        with database_down():
            wait_for(lambda: "database unreachable" in output.read_text(), "the watcher")
            assert watcher.poll() is None, output.read_text()
        holder.close()
        assert watcher.wait(timeout=WAIT_SECONDS) == 0, output.read_text()
    finally:
        if watcher.poll() is None:
            watcher.kill()
    said = output.read_text()
    assert re.search(r"database reachable again after \d+ attempts; watching run \d+", said)
    assert OfferRun.objects.get().status == "finished"


@needs_the_embedded_server
def test_a_worker_started_while_the_database_is_down_waits_for_it_and_then_does_the_run(
    customers_for_every_rule, workers, now
):
    with transaction.atomic():
        engine.generate_offers(as_of=AS_OF, now=now)
        expected = snapshot()
        transaction.set_rollback(True)

    with database_down():
        (worker,) = workers(1)
        wait_for(lambda: len(attempts_logged(worker)) >= 2, "the worker to try again")
        assert worker.poll() is None, worker.log_path.read_text()

    run, _ = tasks.start_run(as_of=AS_OF, now=now, chunk_size=3)
    wait_for(
        lambda: OfferRun.objects.get(pk=run.pk).status not in ("queued", "running"),
        "the run to end",
    )
    run.refresh_from_db()
    assert run.status == "finished"
    assert snapshot() == expected
    assert {c.worker.rsplit(":", 1)[1] for c in run.chunks.all()} == {str(worker.pid)}
    assert worker.poll() is None
    assert REACHABLE_AGAIN.search(worker.log_path.read_text())


def test_a_worker_waiting_for_the_database_stops_at_once_on_sigterm(workers, tmp_path):
    # No server behind this socket folder: the database is down for this worker.
    nowhere = database_url().split("?host=")[0] + f"?host={quote(str(tmp_path))}"
    (worker,) = workers(1, url=nowhere, backoff=("60", "60"))
    wait_for(lambda: attempts_logged(worker), "the worker's first attempt")
    assert worker.poll() is None  # waiting (at least 30 s), not exited
    worker.send_signal(signal.SIGTERM)
    # Well before its wait would end (a bound for a failure, not a measurement).
    assert worker.wait(timeout=20) == 0
    assert "stopped while waiting for the database (attempt 1)" in worker.log_path.read_text()
