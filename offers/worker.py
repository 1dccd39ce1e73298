"""The engine's worker: django-tasks-db's worker loop, kept alive while the database is away.

django-tasks-db's `db_worker` exits on the first error that is not a locked table: a
database restart or a network cut ends it, and one started while the database is down
exits at once, so the run's chunks wait for someone to restart the workers. This worker
runs the same loop (`manage.py offers_worker`) and, when the connection fails, waits and
tries again instead:

- each failure is one log line with the attempt number and the wait; the wait doubles
  per attempt up to a cap, drawn from its upper half (jitter: workers that lost the
  database together do not all come back in the same instant);
- when the database answers again, one line says after how many attempts and how long,
  and the worker goes on where it was. A task the outage cut off is recorded as failed
  (its result would say `RUNNING` for ever), and `after_outage` is called: the engine
  looks after its open runs there and then (`offers.tasks.after_outage`), so a chunk
  whose work was lost is done again by the usual stalled-chunk logic. Its transaction
  never committed, so nothing is written twice;
- SIGTERM while waiting stops the worker at once, with exit code 0; while a task runs,
  the worker finishes it first, as django-tasks-db's does.

Only a lost connection is waited out (`CONNECTION_ERRORS`). A task's own errors stay the
task's (it fails, the run's logic retries it), and anything else still stops the worker.
"""

import logging
import random
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from django.db import InterfaceError, OperationalError, connections
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

log = logging.getLogger("offers.worker")

# A connection refused or timed out, a server that went away or is shutting down: psycopg
# raises these as OperationalError, and Django's use of a connection already closed as
# InterfaceError.
CONNECTION_ERRORS = (OperationalError, InterfaceError)


@dataclass(frozen=True)
class Backoff:
    """Capped exponential back-off with jitter: attempt n waits between half and all of
    `initial` x 2^(n-1) seconds, at most `maximum`."""

    initial: float = 1.0
    maximum: float = 15.0

    def wait(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.maximum, self.initial * 2 ** min(attempt - 1, 32))
        return ceiling / 2 + rng.random() * ceiling / 2


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "-"
    return f"{type(exc).__name__}: {text}"


class OffersWorker(Worker):
    def __init__(
        self,
        *,
        backoff: Backoff,
        after_outage: Callable[[], str] | None = None,
        rng: random.Random | None = None,
        **options,
    ):
        super().__init__(**options)
        self.backoff = backoff
        self.after_outage = after_outage
        self.rng = rng or random.Random()
        self.stop_waiting = threading.Event()
        self.waiting = False
        # The task in hand when the connection failed, and what failed it.
        self.cut_off: tuple[DBTaskResult, BaseException] | None = None
        self._in_hand: DBTaskResult | None = None

    def run(self) -> None:
        """django-tasks-db's loop, entered again after each outage."""
        attempts, down_since = 0, 0.0
        while self.running:
            try:
                if attempts:
                    self.probe()
                    log.info(
                        "database reachable again after %d attempts, %.1f s down; worker %s"
                        " goes on",
                        attempts,
                        time.monotonic() - down_since,
                        self.worker_id,
                    )
                    attempts = 0
                    self.recover()
                super().run()
                return
            except CONNECTION_ERRORS as exc:
                # Nothing in hand from here on: SIGTERM stops the wait, not the process.
                self.waiting = True
                try:
                    if self._in_hand is not None:
                        self.cut_off, self._in_hand = (self._in_hand, exc), None
                    close_connections()
                    if not attempts:
                        down_since = time.monotonic()
                    attempts += 1
                    wait = self.backoff.wait(attempts, self.rng)
                    log.warning(
                        "database unreachable, attempt %d: %s; worker %s waits %.1f s",
                        attempts,
                        one_line(exc),
                        self.worker_id,
                        wait,
                    )
                    # The first start's random delay is behind us; the jitter does its job.
                    self.startup_delay = False
                    if not self.running or self.stop_waiting.wait(wait):
                        log.warning(
                            "worker %s stopped while waiting for the database (attempt %d)",
                            self.worker_id,
                            attempts,
                        )
                        return
                finally:
                    self.waiting = False

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        if self.waiting:
            # Nothing in hand while waiting for the database: stop now, cleanly.
            self.running = False
            self.stop_waiting.set()
            return
        super().shutdown(signum, frame)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        self._in_hand = db_task_result
        super().run_task(db_task_result)
        self._in_hand = None

    @staticmethod
    def probe() -> None:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")

    def recover(self) -> None:
        """Once the database answers: the cut-off task's result says so, and the caller's
        `after_outage` picks up what the outage left undone."""
        if self.cut_off is not None:
            result, exc = self.cut_off
            marked = DBTaskResult.objects.filter(
                pk=result.pk, status=TaskResultStatus.RUNNING
            ).update(
                status=TaskResultStatus.FAILED,
                finished_at=timezone.now(),
                exception_class_path=f"{type(exc).__module__}.{type(exc).__qualname__}",
                traceback="".join(traceback.format_exception(exc)),
            )
            self.cut_off = None
            if marked:
                log.info(
                    "task %s (%s) was cut off by the outage: recorded as failed",
                    result.pk,
                    result.task_path,
                )
        if self.after_outage is None:
            return
        try:
            log.info("after the outage: %s", self.after_outage())
        except CONNECTION_ERRORS:
            raise  # gone again: wait for it once more
        except Exception:
            # The supervisor will look after the runs anyway; a bug here must not stop
            # every worker at every outage.
            log.exception("after the outage: looking after the open runs failed")


def close_connections() -> None:
    """Drop this process's connections: the next use opens a new one."""
    for connection in connections.all(initialized_only=True):
        connection.close()


# A cut network must show as an error, not as a wait for ever: a connection attempt gives
# up after 10 s, and over TCP a connection quiet for 30 s is probed (dead after 3 unanswered
# probes 10 s apart). Settings in DATABASE_URL win.
NETWORK_OPTIONS = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}


def one_connection(alias: str = "default") -> None:
    """A worker does one thing at a time: one connection, kept between tasks and checked
    before each use, instead of the pool the production settings give every process (two
    connections at least, whose own retries would hide an outage behind their timeout).
    Before the first connection."""
    settings_dict = connections[alias].settings_dict
    options = {k: v for k, v in settings_dict["OPTIONS"].items() if k != "pool"}
    settings_dict["OPTIONS"] = {**NETWORK_OPTIONS, **options}
    settings_dict["CONN_MAX_AGE"] = None
    settings_dict["CONN_HEALTH_CHECKS"] = True
