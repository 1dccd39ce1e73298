"""Queue the schedule's due jobs (config/schedule.py) every --interval seconds.

Safe on every worker host at once: a slot is queued once however many schedulers tick
(config/scheduler/runs.py). Like `offers_worker`, it waits out a database outage
(offers/worker.py's back-off: one log line per attempt, one when the database answers
again) instead of exiting, also when started during one; SIGTERM or SIGINT stops it.
"""

import logging
import random
import signal
import threading
import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from config.scheduler.runs import tick
from offers.management.commands.offers_worker import seconds
from offers.worker import CONNECTION_ERRORS, Backoff, close_connections, one_connection, one_line

log = logging.getLogger("config.scheduler")


class Command(BaseCommand):
    help = (
        "Queue the scheduled jobs that are due (config/schedule.py), every --interval"
        " seconds, on any number of hosts at once; --once: one look, then exit."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="look once, then exit")
        parser.add_argument(
            "--interval",
            type=seconds,
            default=20.0,
            help="seconds between looks (default: %(default)s), with up to 10%% jitter",
        )
        parser.add_argument("--backoff-initial", type=seconds, default=1.0)
        parser.add_argument("--backoff-max", type=seconds, default=15.0)

    def handle(self, *, once, interval, backoff_initial, backoff_max, verbosity, **options):
        if once:
            for line in tick(now=timezone.now()):
                self.stdout.write(line)
            return
        log.setLevel(logging.CRITICAL if verbosity == 0 else logging.INFO)
        one_connection()
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        backoff, rng = Backoff(initial=backoff_initial, maximum=backoff_max), random.Random()
        attempts, down_since = 0, 0.0
        log.info("schedule: looking every %.1f s", interval)
        while not stop.is_set():
            try:
                for line in tick(now=timezone.now()):
                    log.info("%s", line)
            except CONNECTION_ERRORS as exc:
                close_connections()
                if not attempts:
                    down_since = time.monotonic()
                attempts += 1
                wait = backoff.wait(attempts, rng)
                log.warning(
                    "database unreachable, attempt %d: %s; scheduler waits %.1f s",
                    attempts,
                    one_line(exc),
                    wait,
                )
                stop.wait(wait)
                continue
            except Exception:
                # A bug in one look must not stop the schedule on this host; the next
                # look tries again (and the other hosts' schedulers go on regardless).
                log.exception("schedule: a look failed")
            if attempts:
                log.info(
                    "database reachable again after %d attempts, %.1f s down",
                    attempts,
                    time.monotonic() - down_since,
                )
                attempts = 0
            stop.wait(interval * (0.9 + rng.random() * 0.1))
        log.info("schedule: stopped")
